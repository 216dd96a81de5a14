package query

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CSV renditions print time one way, the query output's: ISO 8601 with
// "T", instants in UTC with "Z" whatever the session's or the column's
// time zone, fractions without trailing zeros, NA for missing; a naive
// timestamp gets no zone; a column name with a quote survives.
func TestParquetToCSVTimes(t *testing.T) {
	t.Setenv("TZ", "America/New_York") // DuckDB's default session zone is the machine's
	ctx := context.Background()
	db := openDuck(t)
	dir := t.TempDir()
	pq := filepath.Join(dir, "t.parquet")
	duckExec(t, db, `SET TimeZone = 'Europe/Paris'`)
	duckExec(t, db, `COPY (SELECT * FROM (VALUES
		(TIMESTAMPTZ '2026-01-15 10:00:00+01', TIMESTAMP '2026-01-15 09:00:00', DATE '2026-01-15', TIME '09:30:00', 'a'),
		(TIMESTAMPTZ '2026-07-01 02:00:10.5+02', TIMESTAMP '2026-01-15 10:00:00.12', DATE '2026-01-16', TIME '23:59:59.25', 'b'),
		(NULL, NULL, NULL, NULL, NULL)
	) v("at", "naive", "day", "clock", "say ""hi""")) TO '`+pq+`' (FORMAT parquet)`)
	out := filepath.Join(dir, "t.csv")
	if err := (Converter{}).ParquetToCSV(ctx, pq, out); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		`at,naive,day,clock,"say ""hi"""`,
		`2026-01-15T09:00:00Z,2026-01-15T09:00:00,2026-01-15,09:30:00,a`,
		`2026-07-01T00:00:10.5Z,2026-01-15T10:00:00.12,2026-01-16,23:59:59.25,b`,
		`NA,NA,NA,NA,NA`,
	}, "\n") + "\n"
	if string(raw) != want {
		t.Fatalf("CSV:\n%s\nwant:\n%s", raw, want)
	}
}
