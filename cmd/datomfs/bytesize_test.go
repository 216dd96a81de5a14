package main

import (
	"context"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1234", 1234},
		{"10GiB", 10 << 30},
		{"10gib", 10 << 30},
		{"500MB", 500e6},
		{"500 MiB", 500 << 20},
		{"1.5GiB", 3 << 29},
		{"2G", 2 << 30},
		{"64k", 64 << 10},
		{"1TB", 1e12},
		{"7B", 7},
	} {
		got, err := parseByteSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1GiB", "ten", "10XB", "1e30TiB", "NaN"} {
		if got, err := parseByteSize(bad); err == nil {
			t.Errorf("parseByteSize(%q) = %d, want an error", bad, got)
		}
	}
	b := byteSize(10 << 30)
	if b.String() != "10GiB" {
		t.Errorf("String() = %q, want 10GiB", b.String())
	}
}

func TestMountCacheAndPassthroughFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	mnt := t.TempDir()
	var got *mountOptions
	capture := func(_ context.Context, o *mountOptions) error { got = o; return nil }
	if err := runCmd(t, newMountCmd(f, capture), mnt); err != nil {
		t.Fatal(err)
	}
	if got.CacheSize != 10<<30 || !got.Passthrough {
		t.Errorf("defaults: cache-size %d, passthrough %v; want 10GiB, true", got.CacheSize, got.Passthrough)
	}
	if err := runCmd(t, newMountCmd(f, capture), mnt, "--cache-size", "500MB", "--passthrough=false"); err != nil {
		t.Fatal(err)
	}
	if got.CacheSize != 500e6 || got.Passthrough {
		t.Errorf("got cache-size %d, passthrough %v; want 500000000, false", got.CacheSize, got.Passthrough)
	}
	if err := runCmd(t, newMountCmd(f, capture), mnt, "--cache-size", "0"); err != nil {
		t.Fatal(err)
	}
	if got.CacheSize != 0 {
		t.Errorf("--cache-size 0 gave %d", got.CacheSize)
	}
	err := runCmd(t, newMountCmd(f, func(context.Context, *mountOptions) error { t.Fatal("runF called"); return nil }), mnt, "--cache-size", "lots")
	if _, ok := err.(*usageError); !ok && !isCobraUsage(err) {
		t.Errorf("--cache-size lots: want a usage error, got %v", err)
	}
}
