package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// byteSize is a size flag: a number with an optional unit, decimal (kB, MB,
// GB, TB: powers of 1000) or binary (KiB, MiB, GiB, TiB: powers of 1024),
// case-insensitive; a bare number (or B) is bytes. "1.5GiB" works.
type byteSize int64

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	// Longest suffixes first.
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

func parseByteSize(s string) (int64, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	num, mult := in, 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(in, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(in, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 10GiB, 500MB or 0)", s)
	}
	return int64(f * mult), nil
}

func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Type() string { return "size" }
