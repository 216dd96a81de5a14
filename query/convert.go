package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2" // also registers the "duckdb" driver

	"github.com/datomfs/datomfs/versions"
)

// Converter converts between CSV and parquet through DuckDB. It satisfies
// versions.Converter.
type Converter struct{}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// CSVToParquet converts a delimited text file with a header row to parquet
// with DuckDB's type detection. The delimiter is the format's (csv ',', tsv
// tab, psv '|'; for txt the header line decides), whatever the file's
// name. A file checkCSV refuses, or one DuckDB cannot read, fails with a
// *CSVError (ErrBadCSV) that gives the line. The parquet's column names
// are exactly the header's (blanks around them removed): DuckDB never
// renames one.
func (Converter) CSVToParquet(ctx context.Context, csvPath string, format versions.Format, parquetPath string) error {
	if !format.Delimited() {
		return fmt.Errorf("%s: %q is not a delimited text format", csvPath, format)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	sh, err := checkCSV(ctx, format.Delimiter(), f)
	f.Close()
	if err != nil {
		return err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	// Nothing is sniffed but the column types: no comment lines, no
	// skipped rows, no padding, no dropped rows.
	read := fmt.Sprintf(`read_csv(%s, header = true, delim = %s, quote = '"', escape = '"', `+
		`skip = 0, comment = '', strict_mode = true, null_padding = false, ignore_errors = false`,
		sqlString(csvPath), sqlString(string(sh.delim)))
	copyTo := func(opts string) error {
		_, err := db.ExecContext(ctx, fmt.Sprintf("COPY (SELECT * FROM %s%s)) TO %s (FORMAT parquet)", read, opts, sqlString(parquetPath)))
		return err
	}
	err = copyTo("")
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type == duckdb.ErrorTypeConversion {
		// A value past the sampled rows does not fit the detected type:
		// detect the types from every row.
		err = copyTo(", sample_size = -1")
	}
	if err != nil {
		return csvDuckErr(err)
	}
	names, err := parquetColumnNames(ctx, db, parquetPath)
	if err != nil {
		return err
	}
	if !slices.Equal(names, sh.header) {
		os.Remove(parquetPath)
		return &CSVError{Line: sh.headerLine, Msg: fmt.Sprintf("the header's column names %q were read as %q", sh.header, names)}
	}
	return nil
}

func parquetColumnNames(ctx context.Context, db *sql.DB, path string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet("+sqlString(path)+"))")
	if err != nil {
		return nil, cleanDuckErr(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

var csvErrLine = regexp.MustCompile(`CSV Error on Line: (\d+)`)

// csvDuckErr turns DuckDB's multi-line CSV error into a *CSVError with the
// line and the reason (the line after "Original Line: ..."); other errors
// keep their first line.
func csvDuckErr(err error) error {
	msg := err.Error()
	m := csvErrLine.FindStringSubmatch(msg)
	if m == nil {
		return cleanDuckErr(err)
	}
	line, _ := strconv.Atoi(m[1])
	reason := ""
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Original Line:") && i+1 < len(lines) {
			reason = strings.TrimSpace(lines[i+1])
			break
		}
	}
	if reason == "" {
		reason = strings.TrimSpace(lines[0])
	}
	return &CSVError{Line: line, Msg: reason}
}

// ParquetToCSV writes a parquet file as CSV with a header row; missing values
// are written as NA so that R's read.csv reads them as NA. Times are
// written as the query output writes them (formatTime): ISO 8601 with a
// "T", an instant (TIMESTAMPTZ) in UTC with "Z", fractions without
// trailing zeros; DuckDB's own CSV form ("2026-01-15 09:00:00+00", in the
// session's time zone) would be a second way of printing time.
func (Converter) ParquetToCSV(ctx context.Context, parquetPath, csvPath string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	src := fmt.Sprintf("read_parquet(%s)", sqlString(parquetPath))
	cols, err := describe(ctx, db, src)
	if err != nil {
		return err
	}
	list := make([]string, len(cols))
	for i, c := range cols {
		list[i] = csvColumn(c.name, c.typ)
	}
	_, err = db.ExecContext(ctx, fmt.Sprintf("COPY (SELECT %s FROM %s) TO %s (FORMAT csv, HEADER, NULLSTR 'NA')",
		strings.Join(list, ", "), src, sqlString(csvPath)))
	if err != nil {
		return cleanDuckErr(err)
	}
	return nil
}

type column struct{ name, typ string }

// describe lists the columns of a relation with their DuckDB types.
func describe(ctx context.Context, db *sql.DB, relation string) ([]column, error) {
	rows, err := db.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+relation+")")
	if err != nil {
		return nil, cleanDuckErr(err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// csvColumn is the select-list item that writes one column for CSV: times
// as formatTime prints them, everything else as DuckDB does.
func csvColumn(name, typ string) string {
	q := quoteIdent(name)
	// strftime's %f is microseconds; trailing zeros (and a bare ".") go.
	trim := func(expr string) string {
		return fmt.Sprintf(`regexp_replace(%s, '\.?0+$', '')`, expr)
	}
	switch {
	case typ == "TIMESTAMP WITH TIME ZONE":
		return fmt.Sprintf(`%s || 'Z' AS %s`, trim(fmt.Sprintf(`strftime(timezone('UTC', %s), '%%Y-%%m-%%dT%%H:%%M:%%S.%%f')`, q)), q)
	case typ == "TIMESTAMP" || typ == "TIMESTAMP_MS" || typ == "TIMESTAMP_S" || typ == "TIMESTAMP_NS":
		return fmt.Sprintf(`%s AS %s`, trim(fmt.Sprintf(`strftime(%s::TIMESTAMP, '%%Y-%%m-%%dT%%H:%%M:%%S.%%f')`, q)), q)
	}
	return q
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

// quoteIdent quotes a column name for DuckDB.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
