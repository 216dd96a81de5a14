package identity

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// col is one column of a test table.
type col struct {
	name string
	arr  arrow.Array
}

// writeOpts shapes the parquet file a test writes.
type writeOpts struct {
	rowGroup    int64 // rows per row group (0: one group)
	dict        bool  // dictionary-encode on disk
	noStats     bool
	noSchema    bool              // no ARROW:schema (Arrow R and pyarrow always store it)
	meta        map[string]string // Arrow schema metadata (stored as key-value)
	compression compress.Compression
}

// writeParquet writes cols as a parquet file with arrow-go and returns its path.
func writeParquet(t testing.TB, cols []col, o writeOpts) string {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.arr.DataType(), Nullable: true}
		arrs[i] = c.arr
	}
	var md *arrow.Metadata
	if o.meta != nil {
		m := arrow.MetadataFrom(o.meta)
		md = &m
	}
	sc := arrow.NewSchema(fields, md)
	nrow := int64(0)
	if len(arrs) > 0 {
		nrow = int64(arrs[0].Len())
	}
	rec := array.NewRecordBatch(sc, arrs, nrow)
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()

	props := []parquet.WriterProperty{
		parquet.WithDictionaryDefault(o.dict),
		parquet.WithStats(!o.noStats),
		parquet.WithCompression(o.compression),
	}
	var aprops []pqarrow.WriterOption
	if !o.noSchema {
		aprops = append(aprops, pqarrow.WithStoreSchema())
	}
	rg := o.rowGroup
	if rg <= 0 {
		rg = max(nrow, 1)
	}
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, rg, parquet.NewWriterProperties(props...),
		pqarrow.NewArrowWriterProperties(aprops...)); err != nil {
		t.Fatalf("write parquet: %v", err)
	}
	p := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fromJSON(t testing.TB, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	a, _, err := array.FromJSON(memory.DefaultAllocator, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("build %s from %s: %v", dt, js, err)
	}
	return a
}

func hashFile(t testing.TB, path string, opts HashOptions) TableHash {
	t.Helper()
	th, err := HashParquetFile(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("hash %s: %v", path, err)
	}
	return th
}

// goldenB returns golden (b)'s columns built from Arrow types, with overrides.
func goldenB(t testing.TB, over map[string]arrow.Array) []col {
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	cols := []col{
		{"n", fromJSON(t, arrow.PrimitiveTypes.Int32, `[1, null, 3]`)},
		{"s", fromJSON(t, arrow.BinaryTypes.String, `["a", null, ""]`)},
		{"f", fromJSON(t, dictType, `["x", "y", "x"]`)},
		{"d", fromJSON(t, arrow.FixedWidthTypes.Date32, `[20454, null, 20818]`)},
		{"t", fromJSON(t, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, `[1767323045, null, 946684799]`)},
	}
	for i, c := range cols {
		if a, ok := over[c.name]; ok {
			cols[i].arr = a
		}
	}
	return cols
}

const (
	goldenASHA = "050d620ab1e57453b32da5d458994eb25e8c77bba6c0eb58893a7cea3960dec3"
	goldenBSHA = "47c94f30e2214c7917cfca976960a475825afd710dd12e6cb003cff82fb41db2"
	goldenCSHA = "6abf705c3eb90ba047825cdad70d71f849d4ebdd5c90dc70de5bba408ba57d19"
)

func TestParquetGoldenVectors(t *testing.T) {
	g := loadGolden(t)
	want := map[string]string{}
	for _, tab := range g.DataSHA {
		want[tab.ID] = tab.Expected
	}
	if want["a_numeric"] != goldenASHA || want["b_mixed"] != goldenBSHA || want["c_factor"] != goldenCSHA {
		t.Fatalf("golden.json changed: %v", want)
	}

	// (a): the 14 doubles, stored with their exact bits.
	var bits []float64
	for _, v := range g.DataSHA[0].Columns[0].nums(t) {
		bits = append(bits, math.Float64frombits(leBits(t, v.InBits)))
	}
	fb := array.NewFloat64Builder(memory.DefaultAllocator)
	fb.AppendValues(bits, nil)
	xa := fb.NewArray()

	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	ts := func(u arrow.TimeUnit, tz, js string) arrow.Array {
		return fromJSON(t, &arrow.TimestampType{Unit: u, TimeZone: tz}, js)
	}
	cases := []struct {
		name string
		cols []col
		o    writeOpts
		want string
	}{
		{"a plain", []col{{"x", xa}}, writeOpts{}, goldenASHA},
		{"a snappy", []col{{"x", xa}}, writeOpts{compression: compress.Codecs.Snappy}, goldenASHA},
		{"a row groups of 3", []col{{"x", xa}}, writeOpts{rowGroup: 3}, goldenASHA},
		{"b", goldenB(t, nil), writeOpts{}, goldenBSHA},
		{"b dictionary-encoded", goldenB(t, nil), writeOpts{dict: true}, goldenBSHA},
		{"b without stats", goldenB(t, nil), writeOpts{noStats: true}, goldenBSHA},
		{"b one row per group", goldenB(t, nil), writeOpts{rowGroup: 1, dict: true}, goldenBSHA},
		{"b zstd", goldenB(t, nil), writeOpts{compression: compress.Codecs.Zstd}, goldenBSHA},
		{"b factor as plain text", goldenB(t, map[string]arrow.Array{
			"f": fromJSON(t, arrow.BinaryTypes.String, `["x", "y", "x"]`)}), writeOpts{}, goldenBSHA},
		{"b text as factor", goldenB(t, map[string]arrow.Array{
			"s": fromJSON(t, dictType, `["a", null, ""]`)}), writeOpts{}, goldenBSHA},
		{"b large_utf8", goldenB(t, map[string]arrow.Array{
			"s": fromJSON(t, arrow.BinaryTypes.LargeString, `["a", null, ""]`)}), writeOpts{}, goldenBSHA},
		{"b n as int64", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, null, 3]`)}), writeOpts{}, goldenBSHA},
		{"b n as int64 without stats", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, null, 3]`)}), writeOpts{noStats: true}, goldenBSHA},
		{"b n as int8", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, arrow.PrimitiveTypes.Int8, `[1, null, 3]`)}), writeOpts{}, goldenBSHA},
		{"b n as uint16", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, arrow.PrimitiveTypes.Uint16, `[1, null, 3]`)}), writeOpts{}, goldenBSHA},
		{"b n as uint32", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, arrow.PrimitiveTypes.Uint32, `[1, null, 3]`)}), writeOpts{}, goldenBSHA},
		{"b n as uint64", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, arrow.PrimitiveTypes.Uint64, `[1, null, 3]`)}), writeOpts{}, goldenBSHA},
		{"b n as double", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, arrow.PrimitiveTypes.Float64, `[1, null, 3]`)}), writeOpts{}, goldenBSHA},
		{"b n as float", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, arrow.PrimitiveTypes.Float32, `[1, null, 3]`)}), writeOpts{}, goldenBSHA},
		{"b n as decimal(9,2)", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, &arrow.Decimal128Type{Precision: 9, Scale: 2}, `["1.00", null, "3.00"]`)}), writeOpts{}, goldenBSHA},
		{"b n as decimal256(60,10)", goldenB(t, map[string]arrow.Array{
			"n": fromJSON(t, &arrow.Decimal256Type{Precision: 60, Scale: 10}, `["1", null, "3"]`)}), writeOpts{}, goldenBSHA},
		{"b t in ms", goldenB(t, map[string]arrow.Array{
			"t": ts(arrow.Millisecond, "UTC", `[1767323045000, null, 946684799000]`)}), writeOpts{}, goldenBSHA},
		{"b t in us, no time zone", goldenB(t, map[string]arrow.Array{
			"t": ts(arrow.Microsecond, "", `[1767323045000000, null, 946684799000000]`)}), writeOpts{}, goldenBSHA},
		{"b t in ns, New York", goldenB(t, map[string]arrow.Array{
			"t": ts(arrow.Nanosecond, "America/New_York", `[1767323045000000000, null, 946684799000000000]`)}), writeOpts{}, goldenBSHA},
		{"b t in ns, no ARROW:schema", goldenB(t, map[string]arrow.Array{
			"t": ts(arrow.Nanosecond, "UTC", `[1767323045000000000, null, 946684799000000000]`)}), writeOpts{noSchema: true}, goldenBSHA},
		{"c", []col{{"x", fromJSON(t, dictType, `["x", "y", "x"]`)}}, writeOpts{}, goldenCSHA},
		{"c dictionary-encoded text", []col{{"x", fromJSON(t, arrow.BinaryTypes.String, `["x", "y", "x"]`)}}, writeOpts{dict: true}, goldenCSHA},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			th := hashFile(t, writeParquet(t, c.cols, c.o), HashOptions{})
			if string(th.DataSHA) != c.want {
				t.Fatalf("data_sha %s, want %s (columns %+v)", th.DataSHA, c.want, th.Columns)
			}
			if th.NRow != int64(c.cols[0].arr.Len()) || th.NCol != int64(len(c.cols)) || th.RMetadata {
				t.Fatalf("nrow %d ncol %d r %v", th.NRow, th.NCol, th.RMetadata)
			}
		})
	}
}

func TestParquetGoldenBKinds(t *testing.T) {
	th := hashFile(t, writeParquet(t, goldenB(t, nil), writeOpts{}), HashOptions{})
	want := []Kind{KindNum, KindChr, KindChr, KindDate, KindTime}
	for i, c := range th.Columns {
		if c.Kind != want[i] || c.Name != []string{"n", "s", "f", "d", "t"}[i] || len(c.SHA) != 64 {
			t.Errorf("column %d: %+v, want kind %s", i, c, want[i])
		}
	}
	g := loadGolden(t)
	for i, gc := range g.DataSHA[1].Columns {
		if th.Columns[i].SHA != gc.ColumnDigest {
			t.Errorf("column %s digest %s, want %s", gc.Name, th.Columns[i].SHA, gc.ColumnDigest)
		}
	}
}

// numSHA is the expected digest of a numeric column, from the in-memory encoder.
func numSHA(t testing.TB, kind Kind, name, units string, vals ...float64) string {
	t.Helper()
	s, err := NumColumnSHA(kind, name, units, vals)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParquetColumnKinds(t *testing.T) {
	na := NA()
	negZero := math.Copysign(0, -1)
	ts := func(u arrow.TimeUnit) arrow.DataType { return &arrow.TimestampType{Unit: u} }
	f32 := array.NewFloat32Builder(memory.DefaultAllocator)
	f32.AppendValues([]float32{1.5, float32(math.NaN()), 0, float32(negZero)}, []bool{true, true, false, true})
	jsonType, err := extensions.NewJSONType(arrow.BinaryTypes.String)
	if err != nil {
		t.Fatal(err)
	}
	jb := array.NewExtensionBuilder(memory.DefaultAllocator, jsonType)
	jb.StorageBuilder().(*array.StringBuilder).AppendValues([]string{`{"a":1}`, "", "[]"}, []bool{true, false, true})
	jsonArr := jb.NewArray()
	u64 := array.NewUint64Builder(memory.DefaultAllocator)
	u64.AppendValues([]uint64{1<<53 + 1, math.MaxUint64}, nil)
	sp := func(s string) *string { return &s }
	jsonSHA, _ := ChrColumnSHA("c", []*string{sp(`{"a":1}`), nil, sp("[]")})

	cases := []struct {
		name string
		arr  arrow.Array
		o    writeOpts
		kind Kind
		want string
	}{
		{"bool", fromJSON(t, arrow.FixedWidthTypes.Boolean, `[true, false, null]`), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", 1, 0, na)},
		{"int32 MIN is NA", fromJSON(t, arrow.PrimitiveTypes.Int32, `[-2147483648, 5, null, 2147483647]`), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", na, 5, na, 2147483647)},
		{"int64 within R integer", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, -2147483648, null, 2147483647]`), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", 1, na, na, 2147483647)},
		{"int64 within R integer, no stats", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, -2147483648, null, 2147483647]`), writeOpts{noStats: true},
			KindNum, numSHA(t, KindNum, "c", "", 1, na, na, 2147483647)},
		{"int64 above R integer", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, -2147483648, null, 2147483648]`), writeOpts{},
			KindI64, I64ColumnSHA("c", []int64{1, -2147483648, I64NA, 2147483648})},
		{"int64 above R integer, no stats", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, -2147483648, null, 2147483648]`), writeOpts{noStats: true},
			KindI64, I64ColumnSHA("c", []int64{1, -2147483648, I64NA, 2147483648})},
		{"int64 below R integer in a later row group", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, 2, 3, 4, -2147483649]`), writeOpts{rowGroup: 2},
			KindI64, I64ColumnSHA("c", []int64{1, 2, 3, 4, -2147483649})},
		{"int64 all null", fromJSON(t, arrow.PrimitiveTypes.Int64, `[null, null]`), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", na, na)},
		{"uint32 above int32", fromJSON(t, arrow.PrimitiveTypes.Uint32, `[4294967295, null, 0]`), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", 4294967295, na, 0)},
		{"uint64 rounds to nearest double", u64.NewArray(), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", 9007199254740992, 18446744073709551616)},
		{"float32 NaN NA -0", f32.NewArray(), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", 1.5, math.NaN(), na, 0)},
		{"double NaN NA -0 plain", fromJSON(t, arrow.PrimitiveTypes.Float64, `[0.5, null, -0.0]`), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", 0.5, na, 0)},
		{"decimal correctly rounded", fromJSON(t, &arrow.Decimal128Type{Precision: 38, Scale: 2}, `["123.45", null, "-0.01", "999999999999999999999999999999999999.99"]`), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", 123.45, na, -0.01, 999999999999999999999999999999999999.99)},
		{"dictionary of integers reads as plain integers (as Arrow C++ does)", fromJSON(t, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Int64}, `[5, null, 6]`), writeOpts{},
			KindNum, numSHA(t, KindNum, "c", "", 5, na, 6)},
		{"date32", fromJSON(t, arrow.FixedWidthTypes.Date32, `[-1, 0, null]`), writeOpts{},
			KindDate, numSHA(t, KindDate, "c", "", -1, 0, na)},
		{"timestamp ms fractional", fromJSON(t, ts(arrow.Millisecond), `[1500, -1500, null]`), writeOpts{},
			KindTime, numSHA(t, KindTime, "c", "", 1.5, -1.5, na)},
		{"timestamp us fractional", fromJSON(t, ts(arrow.Microsecond), `[1, 1500000]`), writeOpts{},
			KindTime, numSHA(t, KindTime, "c", "", 1e-6, 1.5)},
		{"timestamp ns above 2^53", fromJSON(t, ts(arrow.Nanosecond), `[9007199254740993]`), writeOpts{},
			KindTime, numSHA(t, KindTime, "c", "", float64(9007199254740992)/1e9)},
		{"time32 s", fromJSON(t, arrow.FixedWidthTypes.Time32s, `[3661, null]`), writeOpts{},
			KindDrtn, numSHA(t, KindDrtn, "c", "secs", 3661, na)},
		{"time32 ms", fromJSON(t, arrow.FixedWidthTypes.Time32ms, `[3661500]`), writeOpts{},
			KindDrtn, numSHA(t, KindDrtn, "c", "secs", 3661.5)},
		{"time64 us", fromJSON(t, arrow.FixedWidthTypes.Time64us, `[3661000001]`), writeOpts{},
			KindDrtn, numSHA(t, KindDrtn, "c", "secs", float64(3661000001)/1e6)},
		{"time64 ns", fromJSON(t, arrow.FixedWidthTypes.Time64ns, `[3661000000001]`), writeOpts{},
			KindDrtn, numSHA(t, KindDrtn, "c", "secs", float64(3661000000001)/1e9)},
		{"JSON-annotated text without ARROW:schema reads as text", jsonArr, writeOpts{noSchema: true},
			KindChr, jsonSHA},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			th := hashFile(t, writeParquet(t, []col{{"c", c.arr}}, c.o), HashOptions{})
			got := th.Columns[0]
			if got.Kind != c.kind || got.SHA != c.want {
				t.Fatalf("column %+v, want kind %s sha %s", got, c.kind, c.want)
			}
			wantUnits := ""
			if c.kind == KindDrtn {
				wantUnits = "secs"
			}
			if got.Units != wantUnits {
				t.Fatalf("units %q, want %q", got.Units, wantUnits)
			}
			if string(th.DataSHA) != string(TableDigest(th.NRow, 1, []string{c.want})) {
				t.Fatal("data_sha does not combine the column digest")
			}
		})
	}
}

// TestParquetDurations: arrow-go cannot write durations, Arrow C++ (R,
// pyarrow) writes them as plain INT64 plus an ARROW:schema saying duration,
// and reads them back as durations. Such files are crafted here.
func TestParquetDurations(t *testing.T) {
	na := NA()
	cases := []struct {
		unit arrow.TimeUnit
		js   string
		want []float64
	}{
		{arrow.Second, `[60, null, -5]`, []float64{60, na, -5}},
		{arrow.Millisecond, `[60000, null, 1500]`, []float64{60, na, 1.5}},
		{arrow.Microsecond, `[60000000, 1]`, []float64{60, 1e-6}},
		{arrow.Nanosecond, `[60000000000, 1]`, []float64{60, 1e-9}},
	}
	for _, c := range cases {
		t.Run(c.unit.String(), func(t *testing.T) {
			orig := arrow.NewSchema([]arrow.Field{
				{Name: "other", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
				{Name: "c", Type: &arrow.DurationType{Unit: c.unit}, Nullable: true},
			}, nil)
			ser := base64.StdEncoding.EncodeToString(flight.SerializeSchema(orig, memory.DefaultAllocator))
			vals := fromJSON(t, arrow.PrimitiveTypes.Int64, c.js)
			path := writeParquet(t, []col{{"other", vals}, {"c", vals}},
				writeOpts{noSchema: true, meta: map[string]string{"ARROW:schema": ser}})
			th := hashFile(t, path, HashOptions{})
			got := th.Columns[1]
			want := numSHA(t, KindDrtn, "c", "secs", c.want...)
			if got.Kind != KindDrtn || got.Units != "secs" || got.SHA != want {
				t.Fatalf("column %+v, want drtn secs %s", got, want)
			}
			if th.Columns[0].Kind == KindDrtn {
				t.Fatalf("plain int64 beside it: %+v", th.Columns[0])
			}
		})
	}
	// fed directly, Arrow duration arrays give the same values
	for _, c := range cases {
		h := NewDrtnHasher("c", "secs")
		arr := fromJSON(t, &arrow.DurationType{Unit: c.unit}, c.js)
		if err := feedNum(h, arr, colPlan{name: "c", kind: KindDrtn, div: unitDiv(c.unit)}); err != nil {
			t.Fatal(err)
		}
		if got, want := h.Sum(), numSHA(t, KindDrtn, "c", "secs", c.want...); got != want {
			t.Errorf("duration[%s] array: %s, want %s", c.unit, got, want)
		}
	}
}

// TestParquetSameDataSameSHA: how the bytes are laid out (row groups, pages,
// batches, encodings, workers) never changes the data_sha.
func TestParquetSameDataSameSHA(t *testing.T) {
	const n = 5000
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	db := array.NewFloat64Builder(memory.DefaultAllocator)
	wide := array.NewInt64Builder(memory.DefaultAllocator)
	for i := 0; i < n; i++ {
		ib.Append(int64(i * 7))
		wide.Append(int64(i) << 20)
		if i%13 == 0 {
			sb.AppendNull()
			db.AppendNull()
		} else {
			sb.Append(strings.Repeat("v", i%17))
			db.Append(float64(i) / 3)
		}
	}
	cols := []col{{"i", ib.NewArray()}, {"s", sb.NewArray()}, {"d", db.NewArray()}, {"w", wide.NewArray()}}
	base := hashFile(t, writeParquet(t, cols, writeOpts{}), HashOptions{})
	if base.Columns[0].Kind != KindNum || base.Columns[3].Kind != KindI64 {
		t.Fatalf("kinds %+v", base.Columns)
	}
	variants := []struct {
		name string
		o    writeOpts
		h    HashOptions
	}{
		{"row groups of 333", writeOpts{rowGroup: 333}, HashOptions{}},
		{"row groups of 1000, dictionary", writeOpts{rowGroup: 1000, dict: true}, HashOptions{}},
		{"no stats, snappy", writeOpts{noStats: true, compression: compress.Codecs.Snappy}, HashOptions{}},
		{"batches of 7 rows, 1 worker", writeOpts{rowGroup: 500}, HashOptions{BatchRows: 7, Workers: 1}},
		{"4 workers", writeOpts{rowGroup: 100}, HashOptions{Workers: 4, BatchRows: 64}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			th := hashFile(t, writeParquet(t, cols, v.o), v.h)
			if th.DataSHA != base.DataSHA {
				t.Fatalf("data_sha %s, want %s", th.DataSHA, base.DataSHA)
			}
		})
	}
	// And the digest agrees with the in-memory encoders.
	var want []string
	wi, wf, ww := make([]float64, n), make([]float64, n), make([]int64, n)
	ws := make([]*string, n)
	for i := 0; i < n; i++ {
		wi[i] = float64(i * 7)
		ww[i] = int64(i) << 20
		if i%13 == 0 {
			wf[i] = NA()
		} else {
			s := strings.Repeat("v", i%17)
			ws[i] = &s
			wf[i] = float64(i) / 3
		}
	}
	cs, _ := ChrColumnSHA("s", ws)
	want = append(want, numSHA(t, KindNum, "i", "", wi...), cs, numSHA(t, KindNum, "d", "", wf...), I64ColumnSHA("w", ww))
	if got := TableDigest(n, 4, want); got != base.DataSHA {
		t.Fatalf("parquet data_sha %s, in-memory %s", base.DataSHA, got)
	}
}

// TestParquetWrongHints: statistics are only hints; when they lie the column
// is read again and the digest is the same.
func TestParquetWrongHints(t *testing.T) {
	cols := []col{
		{"in", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, null, -2147483648]`)},
		{"out", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, null, 4294967296]`)},
		{"s", fromJSON(t, arrow.BinaryTypes.String, `["a", null, "b"]`)},
		{"ls", fromJSON(t, arrow.BinaryTypes.LargeString, `["a", null, "b"]`)},
		{"f", fromJSON(t, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, `["x", null, "x"]`)},
	}
	path := writeParquet(t, cols, writeOpts{rowGroup: 2})
	want := hashFile(t, path, HashOptions{})
	sp := func(s string) *string { return &s }
	s, _ := ChrColumnSHA("s", []*string{sp("a"), nil, sp("b")})
	ls, _ := ChrColumnSHA("ls", []*string{sp("a"), nil, sp("b")})
	f, _ := ChrColumnSHA("f", []*string{sp("x"), nil, sp("x")})
	if got := want.ColumnSHAs()[2:]; got[0] != s || got[1] != ls || got[2] != f {
		t.Fatalf("chr digests %v, want %v", got, []string{s, ls, f})
	}
	for _, hint := range []int{hintUnknown, hintInRange, hintOutOfRange} {
		for _, noNulls := range []bool{false, true} {
			for _, arrowChr := range []bool{false, true} {
				fh, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				st, _ := fh.Stat()
				tb, err := openTable(fh, st.Size(), HashOptions{Workers: 2, BatchRows: 1, MaxAlloc: defaultMaxAlloc})
				if err != nil {
					t.Fatal(err)
				}
				for i := range tb.plans {
					tb.plans[i].hint = hint
					tb.plans[i].noNulls = noNulls
					if arrowChr {
						// the Arrow-array path, used when values are not BYTE_ARRAY
						tb.plans[i].rawLeaf = false
					}
				}
				got, err := tb.hash(context.Background())
				fh.Close()
				if err != nil || got.DataSHA != want.DataSHA {
					t.Errorf("hint %d noNulls %v arrowChr %v: %s, %v; want %s", hint, noNulls, arrowChr, got.DataSHA, err, want.DataSHA)
				}
			}
		}
	}
}

func TestParquetRefusals(t *testing.T) {
	mem := memory.DefaultAllocator
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int32)
	lb.Append(true)
	lb.ValueBuilder().(*array.Int32Builder).Append(1)
	lb.Append(false)
	listArr := lb.NewArray()

	ls := array.NewListBuilder(mem, arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}))
	ls.Append(true)
	lsb := ls.ValueBuilder().(*array.StructBuilder)
	lsb.Append(true)
	lsb.FieldBuilder(0).(*array.Int32Builder).Append(1)
	ls.Append(true)
	listStructArr := ls.NewArray()

	stb := array.NewStructBuilder(mem, arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}))
	stb.Append(true)
	stb.FieldBuilder(0).(*array.Int32Builder).Append(1)
	stb.Append(true)
	stb.FieldBuilder(0).(*array.Int32Builder).Append(2)
	structArr := stb.NewArray()

	mb := array.NewMapBuilder(mem, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32, false)
	mb.Append(true)
	mb.KeyBuilder().(*array.StringBuilder).Append("k")
	mb.ItemBuilder().(*array.Int32Builder).Append(1)
	mb.Append(true)
	mapArr := mb.NewArray()

	hb := array.NewFloat16Builder(mem)
	hb.AppendValues([]float16.Num{float16.New(1), float16.New(2)}, nil)

	cols := []col{
		{"ok", fromJSON(t, arrow.PrimitiveTypes.Int32, `[1, 2]`)},
		{"lst", listArr},
		{"dict_int", fromJSON(t, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Int64}, `[5, 6]`)},
		{"st", structArr},
		{"bin", fromJSON(t, arrow.BinaryTypes.Binary, `["AA==", null]`)},
		{"mp", mapArr},
		{"nested", listStructArr},
		{"half", hb.NewArray()},
		{"fsb", fromJSON(t, &arrow.FixedSizeBinaryType{ByteWidth: 2}, `["AAA=", "AQE="]`)},
		{"dict_bin", fromJSON(t, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.Binary}, `["AA==", "AQ=="]`)},
		{"ok2", fromJSON(t, arrow.BinaryTypes.String, `["a", "b"]`)},
	}
	_, err := HashParquetFile(context.Background(), writeParquet(t, cols, writeOpts{}), HashOptions{})
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("err %v, want *RefusedError", err)
	}
	want := []struct {
		col string
		cat RefusalCategory
	}{
		{"lst", RefuseListBlob}, {"st", RefuseOther}, {"bin", RefuseListBlob}, {"mp", RefuseNestedTable},
		{"nested", RefuseNestedTable}, {"half", RefuseOther}, {"fsb", RefuseListBlob}, {"dict_bin", RefuseOther},
	}
	if len(re.Refusals) != len(want) {
		t.Fatalf("refusals %+v, want %d", re.Refusals, len(want))
	}
	for i, w := range want {
		r := re.Refusals[i]
		if r.Column != w.col || r.Category != w.cat || r.Advice == "" || r.Class == "" {
			t.Errorf("refusal %d: %+v, want column %s category %d", i, r, w.col, w.cat)
		}
	}
	msg := re.Error()
	if !strings.HasPrefix(msg, "cannot compute data_sha: 8 column(s) not hashable\n") ||
		strings.Count(msg, "\n") != 8 || !strings.Contains(msg, `column "mp"`) {
		t.Fatalf("message:\n%s", msg)
	}
}

func TestParquetNULInTextRefused(t *testing.T) {
	cols := []col{
		{"a", fromJSON(t, arrow.BinaryTypes.String, `["x", "y\u0000z", null]`)},
		{"b", fromJSON(t, arrow.BinaryTypes.String, `["x", "y", "z"]`)},
		{"c", fromJSON(t, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, `["\u0000", "y", "z"]`)},
	}
	_, err := HashParquetFile(context.Background(), writeParquet(t, cols, writeOpts{}), HashOptions{})
	var re *RefusedError
	if !errors.As(err, &re) || len(re.Refusals) != 2 || re.Refusals[0].Column != "a" ||
		re.Refusals[1].Column != "c" || re.Refusals[0].Category != RefuseText {
		t.Fatalf("err %v, want refusals of a and c", err)
	}
}

func TestParquetRMetadataFlag(t *testing.T) {
	cols := []col{{"x", fromJSON(t, arrow.PrimitiveTypes.Int32, `[1]`)}}
	th := hashFile(t, writeParquet(t, cols, writeOpts{meta: map[string]string{"r": "A\n3\n"}}), HashOptions{})
	if !th.RMetadata {
		t.Fatal("RMetadata false for a file with an r entry")
	}
	plain := hashFile(t, writeParquet(t, cols, writeOpts{meta: map[string]string{"other": "1"}}), HashOptions{})
	if plain.RMetadata || plain.DataSHA != th.DataSHA {
		t.Fatalf("r entry changed the hash or flag leaked: %+v vs %+v", plain, th)
	}
}

func TestParquetEmptyTable(t *testing.T) {
	cols := []col{{"x", fromJSON(t, arrow.PrimitiveTypes.Int32, `[]`)}}
	_, err := HashParquetFile(context.Background(), writeParquet(t, cols, writeOpts{}), HashOptions{})
	if !errors.Is(err, ErrEmptyTable) {
		t.Fatalf("zero rows: err %v, want ErrEmptyTable", err)
	}
	_, err = HashParquetFile(context.Background(), writeParquet(t, nil, writeOpts{}), HashOptions{})
	if !errors.Is(err, ErrEmptyTable) {
		t.Fatalf("zero columns: err %v, want ErrEmptyTable", err)
	}
}

func TestParquetBadInput(t *testing.T) {
	valid, err := os.ReadFile(writeParquet(t, goldenB(t, nil), writeOpts{compression: compress.Codecs.Snappy}))
	if err != nil {
		t.Fatal(err)
	}
	footerLen := int(uint32(valid[len(valid)-8]) | uint32(valid[len(valid)-7])<<8 | uint32(valid[len(valid)-6])<<16)
	dataEnd := len(valid) - 8 - footerLen
	// garbage in the data pages, footer intact
	smashed := append([]byte(nil), valid...)
	for i := 4; i < dataEnd; i++ {
		smashed[i] = 0xFF
	}
	// footer intact but pointing at shifted data
	shifted := append(append([]byte("PAR1"), make([]byte, 3)...), valid[4:]...)
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotParquet},
		{"text", []byte("id,name\n1,a\n2,b\n"), ErrNotParquet},
		{"csv longer", bytes.Repeat([]byte("a,b\n"), 100), ErrNotParquet},
		{"truncated", valid[:len(valid)-100], ErrCorrupt},
		{"truncated to half", valid[:len(valid)/2], ErrCorrupt},
		{"footer only magic", append([]byte("PAR1"), []byte("xxxxxxxxPAR1")...), ErrCorrupt},
		{"smashed pages", smashed, ErrCorrupt},
		{"shifted pages", shifted, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := HashParquet(context.Background(), bytes.NewReader(c.data), HashOptions{})
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
	if _, err := HashParquetFile(context.Background(), filepath.Join(t.TempDir(), "missing.parquet"), HashOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err %v", err)
	}
}

func TestParquetCancelAndProgress(t *testing.T) {
	path := writeParquet(t, goldenB(t, nil), writeOpts{rowGroup: 1})
	var last, total int64
	calls := 0
	th := hashFile(t, path, HashOptions{BatchRows: 1, Progress: func(d, tot int64) {
		if d < last {
			t.Errorf("progress went back: %d after %d", d, last)
		}
		last, total = d, tot
		calls++
	}})
	if total != th.NRow*th.NCol || last != total || calls < 5 {
		t.Fatalf("progress ended at %d/%d after %d calls", last, total, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := HashParquetFile(ctx, path, HashOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err %v", err)
	}
}

// TestFeedDirect covers arrays arrow-go's writer cannot produce in a parquet
// file (it writes date64 as date32), fed straight to the converters.
func TestFeedDirect(t *testing.T) {
	d64 := fromJSON(t, arrow.FixedWidthTypes.Date64, `[1767323045999, null, -1500]`)
	h, _ := NewNumHasher(KindTime, "x")
	if err := feedNum(h, d64, colPlan{name: "x", kind: KindTime, div: 1}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Sum(), numSHA(t, KindTime, "x", "", 1767323045, NA(), -1); got != want {
		t.Fatalf("date64 digest %s, want %s", got, want)
	}
	// a wrong array type is reported, not hashed
	h, _ = NewNumHasher(KindNum, "x")
	if err := feedNum(h, fromJSON(t, arrow.BinaryTypes.String, `["a"]`), colPlan{name: "x"}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("string array in a numeric column: err %v", err)
	}
}

// TestParquetLargeIncompressiblePages: pages over 1 MiB that snappy cannot
// shrink (arrow-go v18.5.1's buffered stream corrupted these).
func TestParquetLargeIncompressiblePages(t *testing.T) {
	const n = 400000
	vals := make([]int64, n)
	x := uint64(88172645463325252)
	for i := range vals {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		vals[i] = int64(x)
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues(vals, nil)
	path := writeParquet(t, []col{{"r", b.NewArray()}}, writeOpts{compression: compress.Codecs.Snappy})
	th := hashFile(t, path, HashOptions{})
	if want := I64ColumnSHA("r", vals); th.Columns[0].Kind != KindI64 || th.Columns[0].SHA != want {
		t.Fatalf("column %+v, want i64 %s", th.Columns[0], want)
	}
}

// TestParquetViewTypesRefused: Arrow C++ restores view types from
// ARROW:schema (pyarrow writes them), R's arrow cannot read them, so the
// contract refuses them (5.1, last row) with 4.2's advice for what they
// hold; pqarrow reads them as the plain types, which must not be hashed.
func TestParquetViewTypesRefused(t *testing.T) {
	mem := memory.DefaultAllocator
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int32)
	lb.Append(true)
	lb.ValueBuilder().(*array.Int32Builder).Append(1)
	lb.Append(false)
	elem := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	ls := array.NewListBuilder(mem, elem)
	ls.Append(true)
	ls.ValueBuilder().(*array.StructBuilder).Append(true)
	ls.ValueBuilder().(*array.StructBuilder).FieldBuilder(0).(*array.Int32Builder).Append(1)
	ls.Append(true)
	cols := []col{
		{"ok", fromJSON(t, arrow.BinaryTypes.String, `["a", "b"]`)},
		{"sv", fromJSON(t, arrow.BinaryTypes.String, `["a", null]`)},
		{"bv", fromJSON(t, arrow.BinaryTypes.Binary, `["AA==", null]`)},
		{"lv", lb.NewArray()},
		{"llv", ls.NewArray()},
		{"dsv", fromJSON(t, arrow.BinaryTypes.String, `["x", "y"]`)},
	}
	orig := arrow.NewSchema([]arrow.Field{
		{Name: "ok", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "sv", Type: arrow.BinaryTypes.StringView, Nullable: true},
		{Name: "bv", Type: arrow.BinaryTypes.BinaryView, Nullable: true},
		{Name: "lv", Type: arrow.ListViewOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "llv", Type: arrow.LargeListViewOf(elem), Nullable: true},
		{Name: "dsv", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.StringView}, Nullable: true},
	}, nil)
	ser := base64.StdEncoding.EncodeToString(flight.SerializeSchema(orig, mem))
	path := writeParquet(t, cols, writeOpts{noSchema: true, meta: map[string]string{"ARROW:schema": ser}})
	_, err := HashParquetFile(context.Background(), path, HashOptions{})
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("err %v, want *RefusedError", err)
	}
	want := []struct {
		col, class string
		cat        RefusalCategory
	}{
		{"sv", "string_view", RefuseOther},
		{"bv", "binary_view", RefuseListBlob},
		{"lv", "list_view", RefuseListBlob},
		{"llv", "large_list_view", RefuseNestedTable},
		{"dsv", "dictionary<values=string_view", RefuseOther},
	}
	if len(re.Refusals) != len(want) {
		t.Fatalf("refusals %+v, want %d", re.Refusals, len(want))
	}
	for i, w := range want {
		r := re.Refusals[i]
		if r.Column != w.col || r.Category != w.cat || !strings.HasPrefix(r.Class, w.class) ||
			r.Rule != ruleViews || !strings.Contains(r.Advice, r.Category.Advice()) {
			t.Errorf("refusal %d: %+v, want column %s class %s category %d", i, r, w.col, w.class, w.cat)
		}
	}
	if !strings.Contains(re.Error(), "write the column as string (utf8)") {
		t.Errorf("string_view advice missing:\n%s", re.Error())
	}
}

// maxReadAt records the largest single read from a file.
type maxReadAt struct {
	*os.File
	max int
}

func (m *maxReadAt) ReadAt(p []byte, off int64) (int, error) {
	m.max = max(m.max, len(p))
	return m.File.ReadAt(p, off)
}

// TestParquetChunkStreamed: column chunks are streamed page by page, so
// memory follows the page and the batch, not the column chunk. (Before
// arrow-go v18.8.0 every chunk was read whole in one read.)
func TestParquetChunkStreamed(t *testing.T) {
	const n = 1 << 20 // 8 MiB of incompressible int64 in one chunk, 1 MiB pages
	vals := make([]int64, n)
	x := uint64(88172645463325252)
	for i := range vals {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		vals[i] = int64(x)
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues(vals, nil)
	path := writeParquet(t, []col{{"r", b.NewArray()}}, writeOpts{compression: compress.Codecs.Snappy})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &maxReadAt{File: f}
	th, err := HashParquet(context.Background(), r, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := I64ColumnSHA("r", vals); th.Columns[0].SHA != want {
		t.Fatalf("column %+v, want i64 %s", th.Columns[0], want)
	}
	if r.max > 2<<20 {
		t.Fatalf("largest read %d bytes: the 8 MiB column chunk was not streamed", r.max)
	}
}
