package rds

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ---- a reader of what the encoder writes (the subset of R's format) ----

// robj is one decoded item.
type robj struct {
	typ    int32
	object bool
	ints   []int32  // LGLSXP, INTSXP
	reals  []uint64 // REALSXP bits
	strs   []*string
	elems  []*robj // VECSXP
	attrs  map[string]*robj
	order  []string // attribute names in order
}

type decoder struct {
	r    io.Reader
	syms []string
	t    *testing.T
}

func (d *decoder) int32() int32 {
	var b [4]byte
	if _, err := io.ReadFull(d.r, b[:]); err != nil {
		d.t.Fatalf("truncated: %v", err)
	}
	return int32(binary.BigEndian.Uint32(b[:]))
}

func (d *decoder) length() int64 {
	n := d.int32()
	if n != -1 {
		return int64(n)
	}
	hi, lo := d.int32(), d.int32()
	return int64(uint32(hi))<<32 | int64(uint32(lo))
}

func (d *decoder) charsxp() *string {
	f := d.int32()
	if f&0xff != charSXP {
		d.t.Fatalf("want CHARSXP, got flags %#x", f)
	}
	n := d.int32()
	if n == -1 {
		return nil
	}
	b := make([]byte, n)
	io.ReadFull(d.r, b)
	s := string(b)
	levels := f >> 12
	ascii := !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 })
	if ascii && levels != asciiLevel || !ascii && levels != utf8Level {
		d.t.Errorf("CHARSXP %q has levels %#x", s, levels)
	}
	return &s
}

func (d *decoder) symbol() string {
	f := d.int32()
	switch {
	case f&0xff == refSXP:
		return d.syms[f>>8-1]
	case f&0xff == symSXP:
		s := d.charsxp()
		d.syms = append(d.syms, *s)
		return *s
	}
	d.t.Fatalf("want a symbol, got flags %#x", f)
	return ""
}

func (d *decoder) item() *robj {
	f := d.int32()
	o := &robj{typ: f & 0xff, object: f&isObjectBit != 0}
	switch o.typ {
	case lglSXP, intSXP:
		n := d.length()
		for range n {
			o.ints = append(o.ints, d.int32())
		}
	case realSXP:
		n := d.length()
		for range n {
			hi, lo := d.int32(), d.int32()
			o.reals = append(o.reals, uint64(uint32(hi))<<32|uint64(uint32(lo)))
		}
	case strSXP:
		n := d.length()
		for range n {
			o.strs = append(o.strs, d.charsxp())
		}
	case vecSXP:
		n := d.length()
		for range n {
			o.elems = append(o.elems, d.item())
		}
	default:
		d.t.Fatalf("unexpected item type %d (flags %#x)", o.typ, f)
	}
	if f&hasAttrBit != 0 {
		o.attrs = map[string]*robj{}
		for {
			nf := d.int32()
			if nf&0xff == nilValue {
				break
			}
			if nf&0xff != listSXP || nf&hasTagBit == 0 {
				d.t.Fatalf("attribute node flags %#x", nf)
			}
			name := d.symbol()
			o.attrs[name] = d.item()
			o.order = append(o.order, name)
		}
	}
	return o
}

// decodeRDS reads a whole .rds stream and checks its header.
func decodeRDS(t *testing.T, body []byte) *robj {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("X\n")) {
		t.Fatalf("no XDR magic: %q", raw[:min(len(raw), 8)])
	}
	d := &decoder{r: bytes.NewReader(raw[2:]), t: t}
	if v := d.int32(); v != 3 {
		t.Fatalf("format version %d", v)
	}
	d.int32()
	if v := d.int32(); v != rVersion(3, 5, 0) {
		t.Fatalf("min reader version %#x", v)
	}
	n := d.int32()
	enc := make([]byte, n)
	io.ReadFull(d.r, enc)
	if string(enc) != "UTF-8" {
		t.Fatalf("native encoding %q", enc)
	}
	o := d.item()
	if rest, _ := io.ReadAll(d.r); len(rest) != 0 {
		t.Fatalf("%d bytes after the object", len(rest))
	}
	return o
}

func (o *robj) classes() []string { return o.strAttr("class") }

func (o *robj) strAttr(name string) []string {
	a := o.attrs[name]
	if a == nil {
		return nil
	}
	out := make([]string, len(a.strs))
	for i, s := range a.strs {
		if s == nil {
			out[i] = "<NA>"
		} else {
			out[i] = *s
		}
	}
	return out
}

// ---- parquet inputs ----

type col struct {
	name string
	arr  arrow.Array
}

func writeParquet(t *testing.T, cols []col, rowGroup int64) string {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.arr.DataType(), Nullable: true}
		arrs[i] = c.arr
	}
	sc := arrow.NewSchema(fields, nil)
	nrow := int64(arrs[0].Len())
	rec := array.NewRecordBatch(sc, arrs, nrow)
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	if rowGroup <= 0 {
		rowGroup = nrow
	}
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, rowGroup, parquet.NewWriterProperties(parquet.WithDictionaryDefault(false)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		t.Fatalf("write parquet: %v", err)
	}
	p := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fromJSON(t *testing.T, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	a, _, err := array.FromJSON(memory.DefaultAllocator, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("build %s from %s: %v", dt, js, err)
	}
	return a
}

func render(t *testing.T, path string, opts Options) ([]byte, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	err = Write(context.Background(), f, &out, opts)
	return out.Bytes(), err
}

func bitsOf(v float64) uint64 { return math.Float64bits(v) }

func str(s string) *string { return &s }

// ---- tests ----

func TestColumnTypes(t *testing.T) {
	na := int32(naInteger)
	naR := uint64(naRealBits)
	dict := func(ordered bool) arrow.DataType {
		return &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String, Ordered: ordered}
	}
	tests := []struct {
		name    string
		arr     func(t *testing.T) arrow.Array
		typ     int32
		classes []string
		attrs   map[string][]string // other character attributes
		ints    []int32
		reals   []uint64
		strs    []*string
	}{
		{"bool", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.FixedWidthTypes.Boolean, `[true,false,null]`) },
			lglSXP, nil, nil, []int32{1, 0, na}, nil, nil},
		{"int8", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.PrimitiveTypes.Int8, `[-128,127,null]`) },
			intSXP, nil, nil, []int32{-128, 127, na}, nil, nil},
		{"uint16", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.PrimitiveTypes.Uint16, `[0,65535,null]`) },
			intSXP, nil, nil, []int32{0, 65535, na}, nil, nil},
		{"int32 min is NA", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.PrimitiveTypes.Int32, `[-2147483648,2147483647,null]`)
		}, intSXP, nil, nil, []int32{na, math.MaxInt32, na}, nil, nil},
		{"uint32 fits", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.PrimitiveTypes.Uint32, `[0,2147483647,null]`) },
			intSXP, nil, nil, []int32{0, math.MaxInt32, na}, nil, nil},
		{"uint32 beyond", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.PrimitiveTypes.Uint32, `[1,4294967295,null]`) },
			realSXP, nil, nil, nil, []uint64{bitsOf(1), bitsOf(4294967295), naR}, nil},
		{"int64 downcast", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.PrimitiveTypes.Int64, `[-2147483648,2147483647,null]`)
		}, intSXP, nil, nil, []int32{na, math.MaxInt32, na}, nil, nil},
		{"int64 integer64", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.PrimitiveTypes.Int64, `[-1,2147483648,null]`)
		}, realSXP, []string{"integer64"}, nil, nil, []uint64{math.MaxUint64, 2147483648, 1 << 63}, nil},
		{"uint64", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.PrimitiveTypes.Uint64, `[1,18446744073709551615,null]`)
		}, realSXP, nil, nil, nil, []uint64{bitsOf(1), bitsOf(18446744073709551615), naR}, nil},
		{"float32", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.PrimitiveTypes.Float32, `[0.5,-2,null]`) },
			realSXP, nil, nil, nil, []uint64{bitsOf(0.5), bitsOf(-2), naR}, nil},
		{"float64 bits kept", func(t *testing.T) arrow.Array {
			b := array.NewFloat64Builder(memory.DefaultAllocator)
			b.AppendValues([]float64{math.Copysign(0, -1), math.Float64frombits(0x7FF80000000007A2), math.Inf(-1)}, nil)
			b.AppendNull()
			return b.NewArray()
		}, realSXP, nil, nil, nil, []uint64{1 << 63, 0x7FF80000000007A2, bitsOf(math.Inf(-1)), naR}, nil},
		{"decimal128", func(t *testing.T) arrow.Array {
			return fromJSON(t, &arrow.Decimal128Type{Precision: 10, Scale: 2}, `["-5.25","0.10",null]`)
		}, realSXP, nil, nil, nil, []uint64{bitsOf(-5.25), bitsOf(0.1), naR}, nil},
		{"utf8", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.BinaryTypes.String, `["a","é",null,""]`) },
			strSXP, nil, nil, nil, nil, []*string{str("a"), str("é"), nil, str("")}},
		{"large utf8", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.BinaryTypes.LargeString, `["x",null]`) },
			strSXP, nil, nil, nil, nil, []*string{str("x"), nil}},
		{"factor", func(t *testing.T) arrow.Array {
			return fromJSON(t, dict(false), `["y","x",null,"y"]`)
		}, intSXP, []string{"factor"}, map[string][]string{"levels": {"y", "x"}}, []int32{1, 2, na, 1}, nil, nil},
		{"ordered factor", func(t *testing.T) arrow.Array {
			return fromJSON(t, dict(true), `["lo","hi"]`)
		}, intSXP, []string{"ordered", "factor"}, map[string][]string{"levels": {"lo", "hi"}}, []int32{1, 2}, nil, nil},
		{"date32", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.FixedWidthTypes.Date32, `[20454,-1,null]`) },
			realSXP, []string{"Date"}, nil, nil, []uint64{bitsOf(20454), bitsOf(-1), naR}, nil},
		// Parquet stores a date64 as DATE (days): it reads back as date32.
		{"date64 stored as days", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.FixedWidthTypes.Date64, `[86400000,null]`)
		}, realSXP, []string{"Date"}, nil, nil, []uint64{bitsOf(1), naR}, nil},
		{"timestamp ms UTC", func(t *testing.T) arrow.Array {
			return fromJSON(t, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, `[1500,null]`)
		}, realSXP, []string{"POSIXct", "POSIXt"}, map[string][]string{"tzone": {"UTC"}}, nil, []uint64{bitsOf(1.5), naR}, nil},
		{"timestamp us Paris", func(t *testing.T) arrow.Array {
			return fromJSON(t, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Europe/Paris"}, `[1000001]`)
		}, realSXP, []string{"POSIXct", "POSIXt"}, map[string][]string{"tzone": {"Europe/Paris"}}, nil, []uint64{bitsOf(1000001.0 / 1e6)}, nil},
		{"timestamp no zone", func(t *testing.T) arrow.Array {
			return fromJSON(t, &arrow.TimestampType{Unit: arrow.Second}, `[7]`)
		}, realSXP, []string{"POSIXct", "POSIXt"}, map[string][]string{"tzone": nil}, nil, []uint64{bitsOf(7)}, nil},
		{"time32 ms", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.FixedWidthTypes.Time32ms, `[3723500,null]`)
		}, realSXP, []string{"hms", "difftime"}, map[string][]string{"units": {"secs"}}, nil, []uint64{bitsOf(3723.5), naR}, nil},
		{"time64 ns", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.FixedWidthTypes.Time64ns, `[1000000001]`)
		}, realSXP, []string{"hms", "difftime"}, map[string][]string{"units": {"secs"}}, nil, []uint64{bitsOf(1000000001 / 1e9)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			arr := tc.arr(t)
			body, err := render(t, writeParquet(t, []col{{"v", arr}}, 0), Options{})
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			df := decodeRDS(t, body)
			if len(df.elems) != 1 {
				t.Fatalf("%d columns", len(df.elems))
			}
			c := df.elems[0]
			if c.typ != tc.typ {
				t.Fatalf("SEXP type %d, want %d", c.typ, tc.typ)
			}
			if got := c.classes(); !slices.Equal(got, tc.classes) {
				t.Errorf("class %q, want %q", got, tc.classes)
			}
			if c.object != (tc.classes != nil) {
				t.Errorf("object bit %v with class %q", c.object, tc.classes)
			}
			for name, want := range tc.attrs {
				if got := c.strAttr(name); !slices.Equal(got, want) {
					t.Errorf("attribute %s = %q, want %q", name, got, want)
				}
			}
			if !slices.Equal(c.ints, tc.ints) {
				t.Errorf("ints %v, want %v", c.ints, tc.ints)
			}
			if !slices.Equal(c.reals, tc.reals) {
				t.Errorf("reals %x, want %x", c.reals, tc.reals)
			}
			if fmt.Sprint(derefs(c.strs)) != fmt.Sprint(derefs(tc.strs)) {
				t.Errorf("strings %v, want %v", derefs(c.strs), derefs(tc.strs))
			}
		})
	}
}

// Arrays a parquet file written by arrow-go cannot hold (durations, date64
// as such: arrow C++ files can) are converted as arrow's R package does.
func TestValuesOfArrays(t *testing.T) {
	naR := uint64(naRealBits)
	tests := []struct {
		name string
		c    column
		arr  arrow.Array
		want []uint64
	}{
		{"date64 truncates to whole seconds", column{r: rPOSIXct, div: 1},
			fromJSON(t, arrow.FixedWidthTypes.Date64, `[86400000,-1500,null]`), []uint64{bitsOf(86400), bitsOf(-1), naR}},
		{"duration ms", column{r: rDifftime, div: 1e3},
			fromJSON(t, arrow.FixedWidthTypes.Duration_ms, `[60500,null]`), []uint64{bitsOf(60.5), naR}},
		{"duration ns", column{r: rDifftime, div: 1e9},
			fromJSON(t, arrow.FixedWidthTypes.Duration_ns, `[1]`), []uint64{bitsOf(1 / 1e9)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b batch
			if err := values(&b, &tc.c, tc.arr); err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for i := 0; i+8 <= len(b.b); i += 8 {
				got = append(got, binary.BigEndian.Uint64(b.b[i:]))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %x, want %x", got, tc.want)
			}
		})
	}
	if got := columnAttrs(&column{r: rDifftime}); len(got) != 2 || got[0].name != "class" || got[1].name != "units" {
		t.Errorf("difftime attributes %v", got)
	}
}

func derefs(ss []*string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if s == nil {
			out[i] = "<NA>"
		} else {
			out[i] = "'" + *s + "'"
		}
	}
	return out
}

// The data.frame: names, class, compact row names; symbols after their
// first use are references.
func TestDataFrame(t *testing.T) {
	path := writeParquet(t, []col{
		{"id", fromJSON(t, arrow.PrimitiveTypes.Int32, `[1,2,3]`)},
		{"when", fromJSON(t, arrow.FixedWidthTypes.Date32, `[1,2,3]`)},
		{"day", fromJSON(t, arrow.FixedWidthTypes.Date32, `[1,2,null]`)},
		{"naïve", fromJSON(t, arrow.BinaryTypes.String, `["a","b","c"]`)},
	}, 2)
	body, err := render(t, path, Options{BatchRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	df := decodeRDS(t, body)
	if df.typ != vecSXP || !df.object {
		t.Fatalf("top level is type %d object %v", df.typ, df.object)
	}
	if got := df.strAttr("names"); !slices.Equal(got, []string{"id", "when", "day", "naïve"}) {
		t.Errorf("names %q", got)
	}
	if got := df.classes(); !slices.Equal(got, []string{"data.frame"}) {
		t.Errorf("class %q", got)
	}
	rn := df.attrs["row.names"]
	if rn == nil || rn.typ != intSXP || !slices.Equal(rn.ints, []int32{naInteger, -3}) {
		t.Errorf("row.names %+v, want c(NA, -3L)", rn)
	}
	if !slices.Equal(df.order, []string{"names", "class", "row.names"}) {
		t.Errorf("attribute order %q", df.order)
	}
	for i, c := range df.elems {
		if n := max(len(c.ints), len(c.reals), len(c.strs)); n != 3 {
			t.Errorf("column %d has %d values", i, n)
		}
	}
}

// A factor whose row groups have different dictionaries gets the union
// of levels, first dictionary first, as arrow's DictionaryUnifier gives.
func TestFactorUnifiesDictionaries(t *testing.T) {
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	path := writeParquet(t, []col{{"f", fromJSON(t, dt, `["b","a","c","a","d","b"]`)}}, 2)
	body, err := render(t, path, Options{BatchRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := decodeRDS(t, body).elems[0]
	levels := c.strAttr("levels")
	got := make([]string, len(c.ints))
	for i, code := range c.ints {
		got[i] = levels[code-1]
	}
	if want := []string{"b", "a", "c", "a", "d", "b"}; !slices.Equal(got, want) {
		t.Fatalf("values %q (levels %q, codes %v), want %q", got, levels, c.ints, want)
	}
	if levels[0] != "b" || levels[1] != "a" || len(levels) != 4 {
		t.Errorf("levels %q: want b, a first and 4 in all", levels)
	}
	if !slices.Equal(c.order, []string{"levels", "class"}) {
		t.Errorf("attribute order %q", c.order)
	}
}

// An int64 column's type depends on every row group: one value out of
// range in the last group makes the whole column integer64.
func TestInt64RangeOverWholeColumn(t *testing.T) {
	path := writeParquet(t, []col{{"n", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1,2,3,4,5,9007199254740993]`)}}, 2)
	body, err := render(t, path, Options{BatchRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := decodeRDS(t, body).elems[0]
	if c.typ != realSXP || !slices.Equal(c.classes(), []string{"integer64"}) {
		t.Fatalf("type %d class %q, want integer64", c.typ, c.classes())
	}
	if c.reals[5] != 9007199254740993 || c.reals[0] != 1 {
		t.Errorf("int64 bits %v", c.reals)
	}
}

func TestRefusals(t *testing.T) {
	f16 := array.NewFloat16Builder(memory.DefaultAllocator)
	f16.Append(float16.New(1))
	tests := []struct {
		name   string
		arr    func(t *testing.T) arrow.Array
		reason string
	}{
		{"binary", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.BinaryTypes.Binary, `["AA=="]`) }, "arrow_binary"},
		{"list", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.ListOf(arrow.PrimitiveTypes.Int32), `[[1,2]]`)
		}, "list column"},
		{"struct", func(t *testing.T) arrow.Array {
			return fromJSON(t, arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}), `[{"a":1}]`)
		}, "data-frame column"},
		{"float16", func(t *testing.T) arrow.Array { return f16.NewArray() }, "float16"},
		{"NUL in text", func(t *testing.T) arrow.Array { return fromJSON(t, arrow.BinaryTypes.String, `["a\u0000b"]`) }, "NUL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeParquet(t, []col{{"ok", fromJSON(t, arrow.PrimitiveTypes.Int32, `[1]`)}, {"bad col", tc.arr(t)}}, 0)
			_, err := render(t, path, Options{})
			var ue *UnsupportedError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want an UnsupportedError", err)
			}
			if len(ue.Refusals) != 1 || ue.Refusals[0].Column != "bad col" {
				t.Fatalf("refusals %+v, want only column \"bad col\"", ue.Refusals)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"bad col"`) || !strings.Contains(msg, tc.reason) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line naming the column and %q", msg, tc.reason)
			}
		})
	}
}

// ParquetToRDS leaves no file behind when it refuses.
func TestConverterLeavesNothingOnRefusal(t *testing.T) {
	path := writeParquet(t, []col{{"s", fromJSON(t, arrow.BinaryTypes.String, `["ok","a\u0000b"]`)}}, 0)
	dir := t.TempDir()
	dst := filepath.Join(dir, "x.rds")
	err := Converter{}.ParquetToRDS(context.Background(), path, dst)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	good := writeParquet(t, []col{{"s", fromJSON(t, arrow.BinaryTypes.String, `["ok"]`)}}, 0)
	if err := (Converter{}).ParquetToRDS(context.Background(), good, dst); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(dst)
	if c := decodeRDS(t, body).elems[0]; len(c.strs) != 1 || *c.strs[0] != "ok" {
		t.Fatalf("rendition %+v", c)
	}
}

// Lengths beyond 2^31-1 take R's long form: -1, then the upper and lower
// 32 bits.
func TestEncoderLength(t *testing.T) {
	tests := []struct {
		n    int64
		want []int32
	}{
		{0, []int32{0}},
		{5, []int32{5}},
		{math.MaxInt32, []int32{math.MaxInt32}},
		{math.MaxInt32 + 1, []int32{-1, 0, math.MinInt32}},
		{1<<40 + 3, []int32{-1, 1 << 8, 3}},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		e := newEncoder(&buf)
		e.length(tc.n)
		if err := e.flush(); err != nil {
			t.Fatal(err)
		}
		var got []int32
		for i := 0; i+4 <= buf.Len(); i += 4 {
			got = append(got, int32(binary.BigEndian.Uint32(buf.Bytes()[i:])))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("length(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

// Symbols are written once; later uses are references to their place in
// the stream's reference table.
func TestEncoderSymbolReferences(t *testing.T) {
	var buf bytes.Buffer
	e := newEncoder(&buf)
	e.symbol("class")
	e.symbol("names")
	e.symbol("class")
	e.symbol("names")
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	tail := b[len(b)-8:]
	if got := []int32{int32(binary.BigEndian.Uint32(tail)), int32(binary.BigEndian.Uint32(tail[4:]))}; !slices.Equal(got, []int32{1<<8 | refSXP, 2<<8 | refSXP}) {
		t.Errorf("references %#x, want class → 1, names → 2", got)
	}
	// SYMSXP + CHARSXP header + length + "class", then the same for "names".
	if want := 2*(4+4+4) + 5 + 5 + 8; len(b) != want {
		t.Errorf("%d bytes, want %d", len(b), want)
	}
}

// A table without rows is a data.frame of empty vectors whose row names
// are integer(0), as R makes it.
func TestNoRows(t *testing.T) {
	path := writeParquet(t, []col{{"a", fromJSON(t, arrow.PrimitiveTypes.Int32, `[]`)}}, 0)
	body, err := render(t, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	df := decodeRDS(t, body)
	if len(df.elems) != 1 || df.elems[0].typ != intSXP || len(df.elems[0].ints) != 0 {
		t.Fatalf("columns %+v", df.elems)
	}
	if rn := df.attrs["row.names"]; rn == nil || rn.typ != intSXP || len(rn.ints) != 0 {
		t.Errorf("row.names %+v, want integer(0)", rn)
	}
}
