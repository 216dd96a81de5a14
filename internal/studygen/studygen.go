// Package studygen writes small synthetic clinical study extracts (dm, ae,
// lb, ex) as parquet or CSV, like datom's example data: one row set per data
// cut-off date, deterministic for a seed.
package studygen

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Options shape a generated extract.
type Options struct {
	Subjects int       // number of subjects (default 20)
	Cutoff   time.Time // data cut-off: events after it are not in the extract
	Seed     uint64
}

// Tables are the table names Write produces.
var Tables = []string{"dm", "ex", "lb", "ae"}

var start = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)

type column struct {
	name string
	typ  arrow.DataType
	vals []any // string, int32, float64, time.Time (date or timestamp), bool, or nil
}

// Generate returns the columns of every table for the options.
func generate(o Options) map[string][]column {
	if o.Subjects == 0 {
		o.Subjects = 20
	}
	if o.Cutoff.IsZero() {
		o.Cutoff = time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	}
	day := func(t time.Time) time.Time { return t.Truncate(24 * time.Hour) }
	dm := []column{{name: "USUBJID", typ: arrow.BinaryTypes.String}, {name: "AGE", typ: arrow.PrimitiveTypes.Int32},
		{name: "SEX", typ: arrow.BinaryTypes.String}, {name: "ARM", typ: arrow.BinaryTypes.String}, {name: "RFSTDTC", typ: arrow.FixedWidthTypes.Date32}}
	ex := []column{{name: "USUBJID", typ: arrow.BinaryTypes.String}, {name: "EXTRT", typ: arrow.BinaryTypes.String},
		{name: "EXDOSE", typ: arrow.PrimitiveTypes.Float64}, {name: "EXSTDTC", typ: arrow.FixedWidthTypes.Date32}}
	lb := []column{{name: "USUBJID", typ: arrow.BinaryTypes.String}, {name: "LBTESTCD", typ: arrow.BinaryTypes.String},
		{name: "LBORRES", typ: arrow.PrimitiveTypes.Float64}, {name: "LBDTC", typ: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}}}
	ae := []column{{name: "USUBJID", typ: arrow.BinaryTypes.String}, {name: "AETERM", typ: arrow.BinaryTypes.String},
		{name: "AESEV", typ: arrow.BinaryTypes.String}, {name: "AESER", typ: arrow.FixedWidthTypes.Boolean}, {name: "AESTDTC", typ: arrow.FixedWidthTypes.Date32}}
	add := func(cols []column, vals ...any) {
		for i := range cols {
			cols[i].vals = append(cols[i].vals, vals[i])
		}
	}
	terms := []string{"HEADACHE", "NAUSEA", "FATIGUE", "DIZZINESS", "RASH"}
	tests := []string{"ALT", "AST", "HGB", "GLUC"}
	for s := 1; s <= o.Subjects; s++ {
		// One random stream per subject: a later cut-off only adds visits
		// and subjects, as a real study extract does.
		r := rand.New(rand.NewPCG(o.Seed, uint64(s)))
		id := fmt.Sprintf("STUDY001-%03d", s)
		enrol := day(start.Add(time.Duration(r.IntN(240)) * 24 * time.Hour))
		if enrol.After(o.Cutoff) {
			continue
		}
		arm := []string{"PLACEBO", "DRUG 10MG"}[r.IntN(2)]
		var age any = int32(25 + r.IntN(50))
		if r.IntN(15) == 0 {
			age = nil // missing, as real extracts have
		}
		add(dm, id, age, []string{"F", "M"}[r.IntN(2)], arm, enrol)
		for v := 0; v < 12; v++ {
			visit := enrol.Add(time.Duration(v*28) * 24 * time.Hour)
			if visit.After(o.Cutoff) {
				break
			}
			dose := 0.0
			if arm != "PLACEBO" {
				dose = 10
			}
			add(ex, id, arm, dose, visit)
			for _, tc := range tests {
				add(lb, id, tc, float64(int(r.NormFloat64()*100+400))/10, visit.Add(time.Duration(8+r.IntN(4))*time.Hour))
			}
			if r.IntN(4) == 0 {
				add(ae, id, terms[r.IntN(len(terms))], []string{"MILD", "MODERATE", "SEVERE"}[r.IntN(3)], r.IntN(10) == 0, visit.Add(24*time.Hour))
			}
		}
	}
	return map[string][]column{"dm": dm, "ex": ex, "lb": lb, "ae": ae}
}

// Write writes dm, ex, lb and ae into dir as <table>.<format> (format
// "parquet" or "csv") and returns the paths by table name.
func Write(dir, format string, o Options) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, cols := range generate(o) {
		path := filepath.Join(dir, name+"."+format)
		var err error
		switch format {
		case "parquet":
			err = writeParquet(path, cols)
		case "csv":
			err = writeCSV(path, cols)
		default:
			err = fmt.Errorf("unknown format %q (parquet or csv)", format)
		}
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		out[name] = path
	}
	return out, nil
}

func writeParquet(path string, cols []column) error {
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	mem := memory.DefaultAllocator
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
		b := array.NewBuilder(mem, c.typ)
		for _, v := range c.vals {
			if v == nil {
				b.AppendNull()
				continue
			}
			switch bb := b.(type) {
			case *array.StringBuilder:
				bb.Append(v.(string))
			case *array.Int32Builder:
				bb.Append(v.(int32))
			case *array.Float64Builder:
				bb.Append(v.(float64))
			case *array.BooleanBuilder:
				bb.Append(v.(bool))
			case *array.Date32Builder:
				bb.Append(arrow.Date32FromTime(v.(time.Time)))
			case *array.TimestampBuilder:
				bb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
			}
		}
		arrs[i] = b.NewArray()
		b.Release()
	}
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(schema, arrs, int64(len(cols[0].vals)))
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
	if err := pqarrow.WriteTable(tbl, f, 64*1024, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		f.Close()
		return err
	}
	return nil // WriteTable closes f
}

func writeCSV(path string, cols []column) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = c.name
	}
	w.Write(head)
	for r := range cols[0].vals {
		row := make([]string, len(cols))
		for i, c := range cols {
			switch v := c.vals[r].(type) {
			case nil:
				row[i] = ""
			case string:
				row[i] = v
			case int32:
				row[i] = strconv.Itoa(int(v))
			case float64:
				row[i] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				row[i] = strconv.FormatBool(v)
			case time.Time:
				if _, ok := c.typ.(*arrow.TimestampType); ok {
					row[i] = v.Format("2006-01-02 15:04:05")
				} else {
					row[i] = v.Format("2006-01-02")
				}
			}
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
