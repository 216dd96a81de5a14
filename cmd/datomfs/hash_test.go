package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeHashInput writes a small table whose kinds come from four different
// contract rows, int64 both ways.
func writeHashInput(t *testing.T) string {
	t.Helper()
	col := func(dt arrow.DataType, js string) arrow.Array {
		a, _, err := array.FromJSON(memory.DefaultAllocator, dt, strings.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	arrs := []arrow.Array{
		col(arrow.PrimitiveTypes.Int64, `[1, null, 3]`),
		col(arrow.PrimitiveTypes.Int64, `[1, null, 4294967296]`),
		col(arrow.BinaryTypes.String, `["a", null, ""]`),
		col(&arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, `[1500, null, 0]`),
	}
	names := []string{"small", "big", "s", "t"}
	fields := make([]arrow.Field, len(arrs))
	for i, a := range arrs {
		fields[i] = arrow.Field{Name: names[i], Type: a.DataType(), Nullable: true}
	}
	sc := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(sc, arrs, 3)
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 3, parquet.NewWriterProperties(),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var wantRules = map[string]string{
	"small": "§5.1 int64, every value within ±2147483647 → integer (int64 downcast) → num",
	"big":   "§5.1 int64, a value beyond ±2147483647 → integer64 → i64",
	"s":     "§5.1 utf8, large_utf8 → character → chr",
	"t":     "§5.1 timestamp → POSIXct → time",
}

func TestHashExplainNamesContractRows(t *testing.T) {
	path := writeHashInput(t)
	for _, tty := range []bool{false, true} {
		io, _, out, _ := TestIO()
		io.StdoutTTY = tty
		if err := hashRun(context.Background(), &hashOptions{IO: io, File: path, Explain: true}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 7 || len(lines[0]) != 64 || !strings.Contains(lines[1], "ARROW:schema") {
			t.Fatalf("tty %v: output\n%s", tty, out)
		}
		for _, l := range lines[3:] {
			var f []string
			if tty {
				f = strings.Fields(l)
			} else {
				f = strings.Split(l, "\t")
			}
			if !strings.Contains(l, wantRules[f[0]]) {
				t.Errorf("tty %v: line %q lacks the rule %q", tty, l, wantRules[f[0]])
			}
		}
		if !tty && lines[3] != "small\tnum\tint64\t"+wantRules["small"]+"\t"+strings.Split(lines[3], "\t")[4] {
			t.Errorf("piped line %q", lines[3])
		}
	}
}

func TestHashJSONNamesContractRows(t *testing.T) {
	path := writeHashInput(t)
	io, _, out, _ := TestIO()
	if err := hashRun(context.Background(), &hashOptions{IO: io, File: path, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var got hashJSONOutput
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(got.DataSHA) != 64 || got.NRow != 3 || got.NCol != 4 || !got.ArrowSchema || len(got.Columns) != 4 {
		t.Fatalf("%+v", got)
	}
	kinds := map[string]string{"small": "num", "big": "i64", "s": "chr", "t": "time"}
	for _, c := range got.Columns {
		if c.Rule != wantRules[c.Name] || c.Kind != kinds[c.Name] || c.Class == "" || len(c.SHA) != 64 {
			t.Errorf("column %+v", c)
		}
	}
	for _, field := range []string{`"data_sha"`, `"columns"`, `"rule"`, `"class"`, `"arrow_schema"`} {
		if !strings.Contains(out.String(), field) {
			t.Errorf("--json lacks %s", field)
		}
	}
}
