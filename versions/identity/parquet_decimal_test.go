package identity

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// decimalGolden is testdata/decimal_golden.json, written by
// decimal_golden.py from the contract's rules (expected doubles are
// Python's correctly rounded float() of the exact decimal).
type decimalGolden struct {
	Vectors []struct {
		Title        string    `json:"title"`
		Precision    int32     `json:"precision"`
		Scale        int32     `json:"scale"`
		Unscaled     []*string `json:"unscaled"`
		DoublesLE    []*string `json:"doubles_le"`
		ColumnDigest string    `json:"column_digest"`
		DataSHA      string    `json:"data_sha"`
	} `json:"vectors"`
}

// decimalStorage is one way parquet stores a decimal's unscaled integer.
type decimalStorage struct {
	name  string
	phys  parquet.Type
	width int  // FIXED_LEN_BYTE_ARRAY width
	pad   bool // BYTE_ARRAY: sign-extend every value to 32 or 16 bytes
}

// decimalBytes is the shortest width that holds every decimal of precision
// p in two's complement (what pyarrow and DuckDB write).
func decimalBytes(p int32) int {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	for n := 1; ; n++ {
		if new(big.Int).Lsh(big.NewInt(1), uint(8*n-1)).Cmp(limit) >= 0 {
			return n
		}
	}
}

// twosComplement is v in big-endian two's complement, n bytes (n = 0: the
// shortest form).
func twosComplement(v *big.Int, n int) []byte {
	if n == 0 {
		n = 1
		for {
			lim := new(big.Int).Lsh(big.NewInt(1), uint(8*n-1))
			if v.Cmp(lim) < 0 && v.Cmp(new(big.Int).Neg(lim)) >= 0 {
				break
			}
			n++
		}
	}
	x := new(big.Int).Set(v)
	if x.Sign() < 0 {
		x.Add(x, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	return x.FillBytes(make([]byte, n))
}

// writeDecimalParquet writes one optional decimal column x in the given
// storage with arrow-go's low-level writer (no ARROW:schema), so that every
// physical storage parquet allows can be tested, including BYTE_ARRAY,
// which the Arrow writers never produce.
func writeDecimalParquet(t *testing.T, prec, scale int32, st decimalStorage, vals []*big.Int, o writeOpts) string {
	t.Helper()
	typeLen := -1
	if st.phys == parquet.Types.FixedLenByteArray {
		typeLen = st.width
	}
	node, err := schema.NewPrimitiveNodeLogical("x", parquet.Repetitions.Optional,
		schema.NewDecimalLogicalType(prec, scale), st.phys, typeLen, -1)
	if err != nil {
		t.Fatal(err)
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, schema.FieldList{node}, -1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(o.dict), parquet.WithCompression(o.compression),
		parquet.WithStats(!o.noStats))
	w := file.NewParquetWriter(&buf, root, file.WithWriterProps(props))
	rg := int(o.rowGroup)
	if rg <= 0 {
		rg = len(vals)
	}
	for start := 0; start < len(vals); start += rg {
		part := vals[start:min(start+rg, len(vals))]
		defs := make([]int16, len(part))
		var i32 []int32
		var i64 []int64
		var ba []parquet.ByteArray
		var fl []parquet.FixedLenByteArray
		for i, v := range part {
			if v == nil {
				continue
			}
			defs[i] = 1
			switch st.phys {
			case parquet.Types.Int32:
				i32 = append(i32, int32(v.Int64()))
			case parquet.Types.Int64:
				i64 = append(i64, v.Int64())
			case parquet.Types.FixedLenByteArray:
				fl = append(fl, twosComplement(v, st.width))
			case parquet.Types.ByteArray:
				n := 0
				if st.pad {
					n = maxDecimalBytes(prec)
				}
				ba = append(ba, twosComplement(v, n))
			}
		}
		rgw := w.AppendRowGroup()
		cw, err := rgw.NextColumn()
		if err != nil {
			t.Fatal(err)
		}
		switch c := cw.(type) {
		case *file.Int32ColumnChunkWriter:
			_, err = c.WriteBatch(i32, defs, nil)
		case *file.Int64ColumnChunkWriter:
			_, err = c.WriteBatch(i64, defs, nil)
		case *file.FixedLenByteArrayColumnChunkWriter:
			_, err = c.WriteBatch(fl, defs, nil)
		case *file.ByteArrayColumnChunkWriter:
			_, err = c.WriteBatch(ba, defs, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := cw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := rgw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := t.TempDir() + "/dec.parquet"
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// storagesFor lists every storage parquet allows for a precision.
func storagesFor(prec int32) []decimalStorage {
	var out []decimalStorage
	if prec <= 9 {
		out = append(out, decimalStorage{name: "INT32", phys: parquet.Types.Int32})
	}
	if prec <= 18 {
		out = append(out, decimalStorage{name: "INT64", phys: parquet.Types.Int64})
	}
	n := decimalBytes(prec)
	out = append(out,
		decimalStorage{name: fmt.Sprintf("FIXED_LEN_BYTE_ARRAY(%d)", n), phys: parquet.Types.FixedLenByteArray, width: n},
		decimalStorage{name: "BYTE_ARRAY shortest", phys: parquet.Types.ByteArray},
		decimalStorage{name: "BYTE_ARRAY sign-extended", phys: parquet.Types.ByteArray, pad: true})
	if w := maxDecimalBytes(prec); w != n {
		out = append(out, decimalStorage{name: fmt.Sprintf("FIXED_LEN_BYTE_ARRAY(%d)", w), phys: parquet.Types.FixedLenByteArray, width: w})
	}
	return out
}

// TestParquetDecimalGolden: decimals of every precision, negative, zero,
// at the precision's limits and where rounding matters, in every physical
// storage, hash to the vectors of testdata/decimal_golden.json.
func TestParquetDecimalGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/decimal_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g decimalGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Vectors) < 10 {
		t.Fatalf("only %d decimal vectors", len(g.Vectors))
	}
	for _, v := range g.Vectors {
		vals := make([]*big.Int, len(v.Unscaled))
		doubles := make([]float64, len(v.Unscaled))
		for i, u := range v.Unscaled {
			if u == nil {
				doubles[i] = NA()
				continue
			}
			b, ok := new(big.Int).SetString(*u, 10)
			if !ok {
				t.Fatalf("%s: unscaled %q", v.Title, *u)
			}
			vals[i] = b
			le, err := hex.DecodeString(*v.DoublesLE[i])
			if err != nil || len(le) != 8 {
				t.Fatalf("%s: double %q", v.Title, *v.DoublesLE[i])
			}
			doubles[i] = math.Float64frombits(binary.LittleEndian.Uint64(le))
		}
		// The vectors agree with the in-memory encoder and table digest.
		if got := numSHA(t, KindNum, "x", "", doubles...); got != v.ColumnDigest {
			t.Fatalf("%s: golden column digest %s, encoder %s", v.Title, v.ColumnDigest, got)
		}
		if got := TableDigest(int64(len(vals)), 1, []string{v.ColumnDigest}); string(got) != v.DataSHA {
			t.Fatalf("%s: golden data_sha %s, TableDigest %s", v.Title, v.DataSHA, got)
		}
		for _, st := range storagesFor(v.Precision) {
			t.Run(fmt.Sprintf("%s/%s", v.Title, st.name), func(t *testing.T) {
				for _, o := range []writeOpts{{}, {dict: true, rowGroup: 2}} {
					th := hashFile(t, writeDecimalParquet(t, v.Precision, v.Scale, st, vals, o), HashOptions{})
					c := th.Columns[0]
					if string(th.DataSHA) != v.DataSHA || c.Kind != KindNum || c.Rule != ruleDecimal {
						t.Fatalf("dict %v: data_sha %s (column %+v), want %s", o.dict, th.DataSHA, c, v.DataSHA)
					}
				}
			})
		}
	}
}

func TestDecimalConv(t *testing.T) {
	cases := []struct {
		in    []byte
		scale int32
		want  float64
	}{
		{[]byte{0xfb}, 0, -5},
		{[]byte{0xff, 0x9c}, 0, -100},
		{[]byte{0xff, 0xff, 0xff, 0x9c}, 0, -100},
		{[]byte{0x00, 0x80}, 0, 128},
		{[]byte{0x80}, 0, -128},
		{[]byte{0xff}, 2, -0.01},
		{[]byte{0}, 3, 0},
		{bytes.Repeat([]byte{0xff}, 32), 0, -1},
		{append([]byte{0xff}, bytes.Repeat([]byte{0}, 8)...), 0, -18446744073709551616},
	}
	for _, c := range cases {
		d := decimalConv{scale: c.scale, maxBytes: 32}
		got, err := d.fromBigEndian(c.in)
		if err != nil || got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("% x scale %d: %v, %v; want %v", c.in, c.scale, got, err, c.want)
		}
	}
	d := decimalConv{scale: 0, maxBytes: 16}
	var re *valueRefusal
	if _, err := d.fromBigEndian(make([]byte, 17)); !errors.As(err, &re) {
		t.Errorf("17-byte decimal(≤38): err %v, want a refusal (Arrow C++ reads at most 16)", err)
	}
	if _, err := d.fromBigEndian(nil); !errors.As(err, &re) {
		t.Errorf("empty decimal: err %v, want a refusal", err)
	}
	// int64 values beyond 2^53 and scales beyond 22 take the exact path.
	for _, c := range []struct {
		v     int64
		scale int32
	}{{1<<53 + 1, 0}, {-(1<<53 + 3), 1}, {math.MaxInt64, 18}, {math.MinInt64, 0}, {12345, 30}, {7, -3}} {
		d := decimalConv{scale: c.scale, maxBytes: 16}
		got, err := d.fromInt64(c.v)
		want, _ := DecimalToFloat64(fmt.Sprint(c.v), c.scale)
		if err != nil || got != want {
			t.Errorf("fromInt64(%d, scale %d) = %v, %v; want %v", c.v, c.scale, got, err, want)
		}
	}
}

// TestParquetDecimalRefusals: decimals Arrow C++ cannot read make R's read
// fail, so they are refused.
func TestParquetDecimalRefusals(t *testing.T) {
	one := []*big.Int{big.NewInt(1)}
	wide := writeDecimalParquet(t, 10, 0, decimalStorage{phys: parquet.Types.FixedLenByteArray, width: 17}, one, writeOpts{})
	_, err := HashParquetFile(context.Background(), wide, HashOptions{})
	var re *RefusedError
	if !errors.As(err, &re) || re.Refusals[0].Category != RefuseText || re.Refusals[0].Rule != ruleDecimal {
		t.Fatalf("decimal(10) in FIXED_LEN_BYTE_ARRAY(17): err %v, want a refusal", err)
	}
	long := writeDecimalParquet(t, 20, 0, decimalStorage{phys: parquet.Types.ByteArray, pad: true},
		[]*big.Int{big.NewInt(1)}, writeOpts{})
	if _, err := HashParquetFile(context.Background(), long, HashOptions{}); err != nil {
		t.Fatalf("decimal(20) in 16-byte BYTE_ARRAY values: %v", err)
	}
}
