// Package query is the embedded DuckDB layer over a versions project: SQL
// over every version, CSV conversions and diffs.
package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// Converter converts between CSV and parquet through DuckDB. It satisfies
// versions.Converter.
type Converter struct{}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// CSVToParquet reads a delimited text file with DuckDB's type detection and
// writes it as parquet.
func (Converter) CSVToParquet(ctx context.Context, csvPath, parquetPath string) error {
	return runOnce(ctx, fmt.Sprintf(
		"COPY (SELECT * FROM read_csv(%s, header = true)) TO %s (FORMAT parquet)",
		sqlString(csvPath), sqlString(parquetPath)))
}

// ParquetToCSV writes a parquet file as CSV with a header row; missing values
// are written as NA so that R's read.csv reads them as NA.
func (Converter) ParquetToCSV(ctx context.Context, parquetPath, csvPath string) error {
	return runOnce(ctx, fmt.Sprintf(
		"COPY (SELECT * FROM read_parquet(%s)) TO %s (FORMAT csv, HEADER, NULLSTR 'NA')",
		sqlString(parquetPath), sqlString(csvPath)))
}

func runOnce(ctx context.Context, stmt string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return cleanDuckErr(err)
	}
	return nil
}

// cleanDuckErr keeps the first line of a DuckDB error: the reason, without
// the multi-line context DuckDB appends.
func cleanDuckErr(err error) error {
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return &sqlError{msg: msg}
}
