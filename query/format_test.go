package query

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const formatQuery = `SELECT id, val, name, flag, val / 8 AS ratio,
	DATE '2026-01-01' + id::INTEGER AS day,
	TIMESTAMP '2026-01-02 03:04:05' + to_hours(id) AS ts,
	CASE WHEN id = 3 THEN NULL ELSE 'a,"b"' || name END AS maybe
FROM lb ORDER BY id`

func testFormats(t *testing.T, s *study) {
	ctx := context.Background()
	e := newTestEngine(t, s.p)
	dir := t.TempDir()

	// Parquet is DuckDB's own rendering: the reference for the others.
	pq := filepath.Join(dir, "out.parquet")
	var buf bytes.Buffer
	n, err := e.Write(ctx, &buf, formatQuery, FormatParquet)
	if err != nil || n != 6 {
		t.Fatalf("parquet: %d rows, %v", n, err)
	}
	if err := os.WriteFile(pq, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := s.duckInt(t, "SELECT count(*) FROM read_parquet("+sqlString(pq)+") WHERE maybe IS NULL"); got != 1 {
		t.Errorf("parquet NULLs: %d", got)
	}

	t.Run("csv", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := e.Write(ctx, &out, formatQuery, FormatCSV); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
		if err != nil {
			t.Fatalf("parse csv: %v\n%s", err, out.String())
		}
		if len(recs) != 7 || strings.Join(recs[0], ",") != "id,val,name,flag,ratio,day,ts,maybe" {
			t.Fatalf("csv:\n%s", out.String())
		}
		if r := recs[1]; r[0] != "1" || r[3] != "false" || r[4] != "1.25" || r[5] != "2026-01-02" || r[6] != "2026-01-02T04:04:05" || r[7] != `a,"b"n1` {
			t.Errorf("csv row 1: %q", r)
		}
		if recs[2][7] != "" {
			t.Errorf("csv NULL: %q", recs[2][7])
		}
		// DuckDB reads it back to the same table as the parquet output.
		p := filepath.Join(dir, "out.csv")
		os.WriteFile(p, out.Bytes(), 0o644)
		if d := s.duckInt(t, symmetricDiff("read_csv("+sqlString(p)+")", "read_parquet("+sqlString(pq)+")")); d != 0 {
			t.Errorf("csv and parquet differ in %d rows", d)
		}
	})

	t.Run("json", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := e.Write(ctx, &out, formatQuery, FormatJSON); err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
			t.Fatalf("parse json: %v\n%s", err, out.String())
		}
		if len(rows) != 6 {
			t.Fatalf("json rows: %d", len(rows))
		}
		r := rows[0]
		if r["id"] != 1.0 || r["val"] != 10.0 || r["flag"] != false || r["ratio"] != 1.25 || r["day"] != "2026-01-02" ||
			r["ts"] != "2026-01-02T04:04:05" || r["maybe"] != `a,"b"n1` {
			t.Errorf("json row 1: %v", r)
		}
		if v, ok := rows[1]["maybe"]; !ok || v != nil {
			t.Errorf("json NULL: %v %v", v, ok)
		}
		// Keys keep column order.
		first := out.String()[:strings.Index(out.String(), "}")]
		if strings.Index(first, `"id"`) > strings.Index(first, `"val"`) || strings.Index(first, `"ts"`) > strings.Index(first, `"maybe"`) {
			t.Errorf("json key order: %s", first)
		}
		// An empty result is an empty array.
		out.Reset()
		if _, err := e.Write(ctx, &out, "SELECT * FROM lb WHERE false", FormatJSON); err != nil || strings.TrimSpace(out.String()) != "[]" {
			t.Errorf("empty json: %q %v", out.String(), err)
		}
	})

	t.Run("table", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := e.Write(ctx, &out, formatQuery, FormatTable); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if len(lines) != 9 || lines[8] != "(6 rows)" {
			t.Fatalf("table:\n%s", out.String())
		}
		if f := strings.Fields(lines[0]); strings.Join(f, ",") != "id,val,name,flag,ratio,day,ts,maybe" {
			t.Errorf("header: %q", lines[0])
		}
		// Columns line up: the last column starts at the same offset on
		// every line, and the NULL is shown.
		col := strings.Index(lines[0], "maybe")
		for _, l := range lines[1:8] {
			if len(l) < col || strings.TrimSpace(l[col-2:col]) != "" || l[col] == ' ' {
				t.Errorf("misaligned: %q (maybe at %d)", l, col)
			}
		}
		if !strings.Contains(lines[3], "NULL") {
			t.Errorf("NULL not shown: %q", lines[3])
		}
		// Numbers are right-aligned: "999" ends where "val" ends.
		if end := strings.Index(lines[0], "val") + 3; lines[3][end-3:end] != "999" {
			t.Errorf("right alignment: %q / %q", lines[0], lines[3])
		}
	})

	t.Run("atomic file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "res.csv")
		err := WriteFileAtomic(path, func(w io.Writer) error {
			_, err := e.Write(ctx, w, "SELECT * FROM nosuch", FormatCSV)
			return err
		})
		if err == nil {
			t.Fatal("no error")
		}
		if n := countFiles(t, filepath.Dir(path)); n != 0 {
			t.Errorf("failed write left %d files", n)
		}
		if err := WriteFileAtomic(path, func(w io.Writer) error {
			_, err := e.Write(ctx, w, "SELECT 1 AS one", FormatCSV)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != "one\n1\n" {
			t.Errorf("file: %q", b)
		}
	})

	t.Run("parse", func(t *testing.T) {
		for _, f := range []string{"table", "CSV", "json", "parquet"} {
			if _, err := ParseFormat(f); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		if _, err := ParseFormat("xml"); err == nil {
			t.Error("xml accepted")
		}
	})
}

// symmetricDiff counts rows in one relation but not the other.
func symmetricDiff(a, b string) string {
	return "SELECT count(*) FROM ((SELECT * FROM " + a + " EXCEPT ALL SELECT * FROM " + b +
		") UNION ALL (SELECT * FROM " + b + " EXCEPT ALL SELECT * FROM " + a + "))"
}

func (tp *testProject) duckInt(t *testing.T, q string) int64 {
	t.Helper()
	var n int64
	if err := tp.duck.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
