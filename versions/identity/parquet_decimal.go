package identity

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/parquet"
)

// Decimals are decoded here from the parquet values, not through Arrow's
// decimal arrays: arrow-go v18.5.1 decoded negative decimal256 values
// wrongly (−5 in decimal256(1,0) became −1), so the hash depends on no
// library's decimal conversion. Parquet stores the unscaled integer as
// INT32, INT64, or big-endian two's complement in a FIXED_LEN_BYTE_ARRAY
// or BYTE_ARRAY; the value is unscaled × 10^−scale and R holds the double
// nearest to it (contract 5.1).

// scanDecimal feeds decimal column p to h.
func (t *table) scanDecimal(ctx context.Context, p colPlan, h *NumHasher) error {
	conv := decimalConv{scale: p.scale, maxBytes: maxDecimalBytes(p.precision)}
	add := func(v float64, err error) error {
		if err != nil {
			return err
		}
		h.AddFloat64(v)
		return nil
	}
	switch p.phys {
	case parquet.Types.Int32:
		return scanRaw[int32, int32Leaf](ctx, t, p, func(b rawBatch[int32]) error {
			return b.each(func(v int32) error { return add(conv.fromInt64(int64(v))) }, h.AddNA)
		})
	case parquet.Types.Int64:
		return scanRaw[int64, int64Leaf](ctx, t, p, func(b rawBatch[int64]) error {
			return b.each(func(v int64) error { return add(conv.fromInt64(v)) }, h.AddNA)
		})
	case parquet.Types.FixedLenByteArray:
		return scanRaw[parquet.FixedLenByteArray, fixedLeaf](ctx, t, p, func(b rawBatch[parquet.FixedLenByteArray]) error {
			return b.each(func(v parquet.FixedLenByteArray) error { return add(conv.fromBigEndian(v)) }, h.AddNA)
		})
	case parquet.Types.ByteArray:
		return scanRaw[parquet.ByteArray, bytesLeaf](ctx, t, p, func(b rawBatch[parquet.ByteArray]) error {
			return b.each(func(v parquet.ByteArray) error { return add(conv.fromBigEndian(v)) }, h.AddNA)
		})
	}
	return fmt.Errorf("%w: %s: decimal stored as %s", ErrCorrupt, p, p.phys)
}

// decimalConv turns unscaled decimal integers of one scale into doubles.
type decimalConv struct {
	scale    int32
	maxBytes int // longest big-endian value R's reader accepts
	big, one big.Int
	text     []byte
}

// pow10 holds the powers of ten that are exact doubles.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fromInt64 converts an unscaled value that fits an int64.
func (d *decimalConv) fromInt64(v int64) (float64, error) {
	// Both operands exact: one IEEE division is correctly rounded.
	if v >= -1<<53 && v <= 1<<53 && d.scale >= 0 && int(d.scale) < len(pow10) {
		return float64(v) / pow10[d.scale], nil
	}
	d.text = strconv.AppendInt(d.text[:0], v, 10)
	return d.parse()
}

// fromBigEndian converts a big-endian two's complement unscaled value.
func (d *decimalConv) fromBigEndian(b []byte) (float64, error) {
	switch {
	case len(b) == 0:
		return 0, &valueRefusal{detail: "R's arrow cannot read an empty decimal value"}
	case len(b) > d.maxBytes:
		return 0, &valueRefusal{detail: fmt.Sprintf("R's arrow cannot read a %d-byte decimal value (at most %d)", len(b), d.maxBytes)}
	case len(b) <= 8:
		var w [8]byte
		if b[0]&0x80 != 0 {
			w = [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		copy(w[8-len(b):], b)
		return d.fromInt64(int64(binary.BigEndian.Uint64(w[:])))
	}
	d.big.SetBytes(b)
	if b[0]&0x80 != 0 {
		d.one.SetInt64(1)
		d.big.Sub(&d.big, d.one.Lsh(&d.one, uint(8*len(b))))
	}
	d.text = d.big.Append(d.text[:0], 10)
	return d.parse()
}

// parse reads d.text (the unscaled digits) as digits × 10^−scale,
// correctly rounded.
func (d *decimalConv) parse() (float64, error) {
	d.text = append(d.text, 'e')
	d.text = strconv.AppendInt(d.text, -int64(d.scale), 10)
	v, err := strconv.ParseFloat(string(d.text), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, &valueRefusal{detail: fmt.Sprintf("decimal %s is outside the double range", d.text)}
	}
	return v, nil
}

// DecimalToFloat64 returns the double nearest to the decimal whose unscaled
// integer is digits (base-10 text, optional sign) and whose scale is scale,
// i.e. digits × 10^-scale, correctly rounded. Values beyond the double range
// are an error (R's read fails on them).
func DecimalToFloat64(digits string, scale int32) (float64, error) {
	v, err := strconv.ParseFloat(digits+"e"+strconv.FormatInt(-int64(scale), 10), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("decimal %se%d is outside the double range", digits, -scale)
	}
	return v, nil
}
