package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/versions/identity"
)

// Parquet files written by DuckDB (the writer behind CSV input and query
// output) must hash to the contract's golden data_sha: DuckDB's parquet types
// as Arrow reads them (contract 5) must land on the same cv1 kinds and
// values as the R data frames of the goldens.

type golden struct {
	DataSHA []struct {
		ID       string `json:"id"`
		Expected string `json:"expected_data_sha"`
	} `json:"data_sha"`
}

func goldenSHA(t *testing.T, id string) identity.DataSHA {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "shared", "spec", "golden.json"))
	if err != nil {
		t.Fatalf("read golden vectors: %v", err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	for _, v := range g.DataSHA {
		if v.ID == id {
			return identity.DataSHA(v.Expected)
		}
	}
	t.Fatalf("golden %s not found", id)
	return ""
}

func duckExec(t *testing.T, db *sql.DB, stmt string, args ...any) {
	t.Helper()
	if _, err := db.Exec(stmt, args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func hashFile(t *testing.T, path string) identity.TableHash {
	t.Helper()
	th, err := identity.HashParquetFile(context.Background(), path, identity.HashOptions{})
	if err != nil {
		t.Fatalf("hash %s: %v", path, err)
	}
	return th
}

func openDuck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// goldenADoubles are golden (a)'s 14 values in order; nil is R's NA.
func goldenADoubles() []any {
	return []any{
		0.0, math.Copysign(0, -1), 1.0, -1.0, 0.1, 1.0 / 3, math.Ldexp(1, 999), -math.Ldexp(1, -999),
		math.MaxFloat64, -math.Ldexp(1, -1022), math.Inf(1), math.Inf(-1), nil, math.NaN(),
	}
}

func TestDuckDBParquetHashesToGoldenNumeric(t *testing.T) {
	db := openDuck(t)
	path := filepath.Join(t.TempDir(), "a.parquet")
	duckExec(t, db, "CREATE TABLE a (i INTEGER, x DOUBLE)")
	for i, v := range goldenADoubles() {
		duckExec(t, db, "INSERT INTO a VALUES (?, ?)", i, v)
	}
	// -0 and NaN must reach the file bit for bit.
	var negZero float64
	if err := db.QueryRow("SELECT x FROM a WHERE i = 1").Scan(&negZero); err != nil || !math.Signbit(negZero) {
		t.Fatalf("-0 did not survive the insert: %v %v", negZero, err)
	}
	duckExec(t, db, "COPY (SELECT x FROM a ORDER BY i) TO '"+path+"' (FORMAT parquet)")
	th := hashFile(t, path)
	if want := goldenSHA(t, "a_numeric"); th.DataSHA != want {
		t.Fatalf("data_sha of DuckDB's golden (a) = %s, want %s (columns %+v)", th.DataSHA, want, th.Columns)
	}
	if th.NRow != 14 || th.NCol != 1 || th.Columns[0].Kind != identity.Kind("num") {
		t.Fatalf("shape/kind: %+v", th)
	}
}

func TestDuckDBParquetHashesToGoldenMixed(t *testing.T) {
	want := goldenSHA(t, "b_mixed")
	// Golden (b): n integer (1, NA, 3), s character ("a", NA, ""), f factor
	// (x, y, x), d Date (2026-01-01, NA, 2026-12-31), t POSIXct UTC
	// (2026-01-02 03:04:05, NA, 1999-12-31 23:59:59). DuckDB types that Arrow
	// reads as the same cv1 kinds: INTEGER -> int32 (num), VARCHAR and ENUM ->
	// utf8 (chr; a factor hashes its labels), DATE -> date32 (date),
	// TIMESTAMP and TIMESTAMPTZ -> timestamp(us[, UTC]) (time).
	cases := []struct{ name, f, t string }{
		{"varchar+timestamp", "VARCHAR", "TIMESTAMP"},
		{"enum+timestamptz", "ENUM('x', 'y')", "TIMESTAMPTZ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := openDuck(t)
			duckExec(t, db, "SET TimeZone = 'UTC'")
			path := filepath.Join(t.TempDir(), "b.parquet")
			duckExec(t, db, "COPY (SELECT n, s, f::"+c.f+" AS f, d, t::"+c.t+` AS t FROM (VALUES
				(1, 1::INTEGER, 'a', 'x', DATE '2026-01-01', TIMESTAMP '2026-01-02 03:04:05'),
				(2, NULL, NULL, 'y', NULL, NULL),
				(3, 3, '', 'x', DATE '2026-12-31', TIMESTAMP '1999-12-31 23:59:59')
			) v(i, n, s, f, d, t) ORDER BY i) TO '`+path+"' (FORMAT parquet)")
			th := hashFile(t, path)
			if th.DataSHA != want {
				t.Fatalf("data_sha = %s, want %s (columns %+v)", th.DataSHA, want, th.Columns)
			}
			kinds := []string{}
			for _, col := range th.Columns {
				kinds = append(kinds, col.Name+":"+string(col.Kind))
			}
			if got := strings.Join(kinds, " "); got != "n:num s:chr f:chr d:date t:time" {
				t.Fatalf("kinds = %s", got)
			}
		})
	}
}

func TestConverterCSVHashesToGolden(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	// Golden (c): one factor column x = x, y, x; from CSV it is text.
	csvC := filepath.Join(dir, "c.csv")
	if err := os.WriteFile(csvC, []byte("x\nx\ny\nx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pqC := filepath.Join(dir, "c.parquet")
	if err := (Converter{}).CSVToParquet(ctx, csvC, formatOf(t, csvC), pqC); err != nil {
		t.Fatal(err)
	}
	if got, want := hashFile(t, pqC).DataSHA, goldenSHA(t, "c_factor"); got != want {
		t.Fatalf("CSV golden (c): data_sha %s, want %s", got, want)
	}

	// Golden (a) as CSV text: shortest round-trip decimals, inf/nan, and
	// an empty field for NA.
	var sb strings.Builder
	sb.WriteString("x\n")
	for _, v := range goldenADoubles() {
		switch f, _ := v.(float64); {
		case v == nil:
			sb.WriteString("\n")
		case math.IsNaN(f):
			sb.WriteString("nan\n")
		case math.IsInf(f, 1):
			sb.WriteString("inf\n")
		case math.IsInf(f, -1):
			sb.WriteString("-inf\n")
		default:
			sb.WriteString(strconv.FormatFloat(f, 'g', -1, 64) + "\n")
		}
	}
	csvA := filepath.Join(dir, "a.csv")
	if err := os.WriteFile(csvA, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	pqA := filepath.Join(dir, "a.parquet")
	if err := (Converter{}).CSVToParquet(ctx, csvA, formatOf(t, csvA), pqA); err != nil {
		t.Fatal(err)
	}
	if got, want := hashFile(t, pqA).DataSHA, goldenSHA(t, "a_numeric"); got != want {
		t.Fatalf("CSV golden (a): data_sha %s, want %s (%+v)", got, want, hashFile(t, pqA).Columns)
	}

	// And back: ParquetToCSV writes NA for nulls.
	back := filepath.Join(dir, "back.csv")
	if err := (Converter{}).ParquetToCSV(ctx, pqA, back); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 15 || lines[0] != "x" || lines[13] != "NA" {
		t.Fatalf("ParquetToCSV:\n%s", raw)
	}
}
