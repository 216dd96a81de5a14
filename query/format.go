package query

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Format is an output format of query results.
type Format string

const (
	// FormatTable is an aligned table for people (NULL shown as NULL).
	FormatTable Format = "table"
	// FormatCSV is RFC 4180 CSV with a header row (NULL as an empty field).
	FormatCSV Format = "csv"
	// FormatJSON is one JSON array of objects, keys in column order.
	FormatJSON Format = "json"
	// FormatLine is one "column = value" line per field and a blank line
	// between rows (DuckDB's .mode line), for wide rows on a terminal.
	FormatLine Format = "line"
	// FormatParquet is a parquet file written by DuckDB.
	FormatParquet Format = "parquet"
)

// Formats lists the formats, for flag help.
var Formats = []Format{FormatTable, FormatCSV, FormatJSON, FormatLine, FormatParquet}

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == strings.ToLower(s) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q (want table, csv, json, line or parquet)", s)
}

// Write runs one statement and writes its result to w in format f. It
// returns the number of rows written.
func (e *Engine) Write(ctx context.Context, w io.Writer, query string, f Format) (int64, error) {
	if f == FormatParquet {
		return e.writeParquet(ctx, w, query)
	}
	rows, err := e.Query(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	return WriteRows(w, rows, f)
}

// WriteRows writes a result in a text format (table, csv, json or line).
func WriteRows(w io.Writer, rows *Rows, f Format) (int64, error) {
	switch f {
	case FormatTable:
		return WriteTable(w, rows, 0)
	case FormatCSV:
		return writeCSV(w, rows)
	case FormatJSON:
		return writeJSON(w, rows)
	case FormatLine:
		return writeLines(w, rows)
	}
	return 0, fmt.Errorf("format %q cannot be streamed", f)
}

// writeParquet has DuckDB write the result to a temporary parquet file,
// then copies it to w.
func (e *Engine) writeParquet(ctx context.Context, w io.Writer, query string) (int64, error) {
	dir, err := os.MkdirTemp("", "datomfs-query-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "result.parquet")
	n, err := e.CopyParquet(ctx, query, tmp)
	if err != nil {
		return 0, err
	}
	fh, err := os.Open(tmp)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	if _, err := io.Copy(w, fh); err != nil {
		return 0, fmt.Errorf("write parquet result: %w", err)
	}
	return n, nil
}

// CopyParquet writes the result of one query to a parquet file at path
// (replaced only when the query succeeds) and returns the row count.
func (e *Engine) CopyParquet(ctx context.Context, query, path string) (int64, error) {
	query = trimStatement(query)
	if query == "" {
		return 0, &sqlError{msg: "empty query"}
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+strconv.Itoa(os.Getpid()))
	defer os.Remove(tmp)
	e.begin(ctx)
	res, err := e.conn.ExecContext(ctx, fmt.Sprintf("COPY (%s\n) TO %s (FORMAT parquet)", query, sqlString(tmp)))
	if err != nil {
		err = e.failure(err)
		e.end()
		return 0, err
	}
	e.end()
	n, _ := res.RowsAffected()
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return n, nil
}

// trimStatement drops surrounding space and trailing semicolons.
func trimStatement(q string) string {
	q = strings.TrimSpace(q)
	for strings.HasSuffix(q, ";") {
		q = strings.TrimSpace(strings.TrimSuffix(q, ";"))
	}
	return q
}

// WriteFileAtomic creates path through a temporary file in the same folder:
// path appears, complete, only when write succeeds. Its mode is what the
// umask makes of 0666, like any file a command creates.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	tmp, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<16)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// createTemp is os.CreateTemp with mode 0666 instead of 0600: the kernel
// applies the umask (and a folder's default ACL), as for the final file.
func createTemp(dir, prefix string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create a temporary file in %s: too many name collisions", dir)
}

// isNumeric reports whether a DuckDB type is shown right-aligned.
func isNumeric(typ string) bool {
	switch {
	case strings.HasPrefix(typ, "DECIMAL"):
		return true
	}
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
		"UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE":
		return true
	}
	return false
}

// WriteTable writes rows as an aligned table. With maxWidth > 0 (a
// terminal's width) the widest columns are narrowed until a line fits, and
// longer cells are shortened with "…"; 0 keeps every cell whole.
func WriteTable(w io.Writer, rows *Rows, maxWidth int) (int64, error) {
	cols := rows.Columns()
	if len(cols) == 0 {
		for rows.Next() {
		}
		return 0, rows.Err()
	}
	cells := [][]string{}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.Name
	}
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return 0, err
		}
		line := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				line[i] = "NULL"
				continue
			}
			line[i] = oneLine(textValue(v, cols[i].Type, true))
		}
		cells = append(cells, line)
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	width := make([]int, len(cols))
	for i, h := range header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, line := range cells {
		for i, c := range line {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	if maxWidth > 0 {
		width = FitWidths(width, 2, maxWidth)
		for _, line := range append([][]string{header}, cells...) {
			for i := range line {
				line[i] = Shorten(line[i], width[i])
			}
		}
	}
	bw := bufio.NewWriter(w)
	put := func(line []string) {
		for i, c := range line {
			if i > 0 {
				bw.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case isNumeric(cols[i].Type):
				bw.WriteString(pad + c)
			case i == len(line)-1:
				bw.WriteString(c)
			default:
				bw.WriteString(c + pad)
			}
		}
		bw.WriteString("\n")
	}
	put(header)
	rule := make([]string, len(cols))
	for i := range rule {
		rule[i] = strings.Repeat("-", width[i])
	}
	put(rule)
	for _, line := range cells {
		put(line)
	}
	if n == 1 {
		bw.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(bw, "(%d rows)\n", n)
	}
	return n, bw.Flush()
}

// minColumn is the narrowest a column is made to fit a terminal.
const minColumn = 6

// FitWidths narrows column widths so that the columns and the sep spaces
// between them fit in maxWidth: every column keeps its width up to a common cap,
// the widest are cut to it (never below minColumn, so very many columns may
// still overflow).
func FitWidths(width []int, sep, maxWidth int) []int {
	out := append([]int(nil), width...)
	if len(width) == 0 {
		return out
	}
	avail := maxWidth - sep*(len(width)-1)
	sum := func(limit int) (n int) {
		for _, w := range width {
			n += min(w, limit)
		}
		return n
	}
	widest := slices.Max(width)
	if sum(widest) <= avail {
		return out
	}
	limit := minColumn
	for limit < widest && sum(limit+1) <= avail {
		limit++
	}
	extra := avail - sum(limit)
	for i, w := range width {
		out[i] = min(w, limit)
		if w > limit && extra > 0 {
			out[i]++
			extra--
		}
	}
	return out
}

// Shorten cuts s to width runes, ending with "…" when it was longer.
func Shorten(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	if width < 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// writeLines writes each row as "column = value" lines (names aligned) and
// a blank line between rows.
func writeLines(w io.Writer, rows *Rows) (int64, error) {
	cols := rows.Columns()
	nameWidth := 0
	for _, c := range cols {
		nameWidth = max(nameWidth, utf8.RuneCountInString(c.Name))
	}
	bw := bufio.NewWriter(w)
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return n, err
		}
		if n > 0 {
			bw.WriteString("\n")
		}
		for i, v := range vals {
			text := "NULL"
			if v != nil {
				text = textValue(v, cols[i].Type, true)
			}
			pad := strings.Repeat(" ", nameWidth-utf8.RuneCountInString(cols[i].Name))
			fmt.Fprintf(bw, "%s%s = %s\n", pad, cols[i].Name, text)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// oneLine keeps a table cell on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r\t") {
		return s
	}
	return strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
}

func writeCSV(w io.Writer, rows *Rows) (int64, error) {
	cols := rows.Columns()
	cw := csv.NewWriter(w)
	if len(cols) == 0 {
		for rows.Next() {
		}
		return 0, rows.Err()
	}
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return 0, err
	}
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return n, err
		}
		for i, v := range vals {
			rec[i] = ""
			if v != nil {
				rec[i] = textValue(v, cols[i].Type, false)
			}
		}
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	cw.Flush()
	return n, cw.Error()
}

func writeJSON(w io.Writer, rows *Rows) (int64, error) {
	cols := rows.Columns()
	bw := bufio.NewWriter(w)
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		keys[i], _ = marshalJSON(c.Name)
	}
	bw.WriteString("[")
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return n, err
		}
		if n > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  {")
		for i, v := range vals {
			if i > 0 {
				bw.WriteString(", ")
			}
			bw.Write(keys[i])
			bw.WriteString(": ")
			bw.Write(jsonValue(v, cols[i].Type))
		}
		bw.WriteString("}")
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	if n > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return n, bw.Flush()
}

// textValue renders a non-NULL value for the table and csv formats. Times
// are ISO 8601 (RFC 3339 with a zone for TIMESTAMPTZ); human uses a space
// between date and time.
func textValue(v any, typ string, human bool) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x)
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return x.String()
	case time.Time:
		return formatTime(x, typ, human)
	case []byte:
		if typ == "UUID" && len(x) == 16 {
			u := duckdb.UUID(x)
			return u.String()
		}
		return blobText(x)
	case duckdb.UUID:
		return x.String()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d microseconds", x.Months, x.Days, x.Micros)
	}
	return string(jsonValue(v, typ))
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

func formatTime(t time.Time, typ string, human bool) string {
	sep := "T"
	if human {
		sep = " "
	}
	switch {
	case typ == "DATE":
		return t.Format("2006-01-02")
	case strings.HasPrefix(typ, "TIME") && !strings.HasPrefix(typ, "TIMESTAMP"):
		if strings.Contains(typ, "TZ") || strings.Contains(typ, "ZONE") {
			return t.Format("15:04:05.999999Z07:00")
		}
		return t.Format("15:04:05.999999")
	case strings.Contains(typ, "TZ") || strings.Contains(typ, "ZONE"):
		return t.UTC().Format("2006-01-02" + sep + "15:04:05.999999999Z07:00")
	}
	return t.Format("2006-01-02" + sep + "15:04:05.999999999")
}

// blobText renders bytes as DuckDB does: printable ASCII as is, others \xNN.
func blobText(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, `\x%02X`, c)
		}
	}
	return sb.String()
}

// jsonValue renders a value as JSON. Numbers stay numbers (NaN and ±Inf,
// which JSON cannot hold, become null); times are ISO 8601 strings; lists
// and structs nest; BLOBs are base64.
func jsonValue(v any, typ string) []byte {
	switch x := v.(type) {
	case nil:
		return []byte("null")
	case float32:
		return jsonFloat(float64(x), 32)
	case float64:
		return jsonFloat(x, 64)
	case *big.Int:
		return []byte(x.String())
	case duckdb.Decimal:
		return []byte(x.String())
	case time.Time:
		b, _ := marshalJSON(formatTime(x, typ, false))
		return b
	case []byte:
		if typ == "UUID" && len(x) == 16 {
			u := duckdb.UUID(x)
			b, _ := marshalJSON(u.String())
			return b
		}
		b, _ := marshalJSON(base64.StdEncoding.EncodeToString(x))
		return b
	case duckdb.UUID:
		b, _ := marshalJSON(x.String())
		return b
	case duckdb.Interval:
		b, _ := marshalJSON(textValue(x, typ, false))
		return b
	case []any:
		elem := listElemType(typ)
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = string(jsonValue(e, elem))
		}
		return []byte("[" + strings.Join(parts, ", ") + "]")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			kb, _ := marshalJSON(k)
			parts[i] = string(kb) + ": " + string(jsonValue(x[k], ""))
		}
		return []byte("{" + strings.Join(parts, ", ") + "}")
	case duckdb.Map:
		keys := make([]string, 0, len(x))
		byKey := map[string]any{}
		for k, val := range x {
			ks := fmt.Sprint(k)
			keys = append(keys, ks)
			byKey[ks] = val
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			kb, _ := marshalJSON(k)
			parts[i] = string(kb) + ": " + string(jsonValue(byKey[k], ""))
		}
		return []byte("{" + strings.Join(parts, ", ") + "}")
	}
	b, err := marshalJSON(v)
	if err != nil {
		b, _ = marshalJSON(fmt.Sprint(v))
	}
	return b
}

func jsonFloat(f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null")
	}
	return []byte(strconv.FormatFloat(f, 'g', -1, bits))
}

// listElemType is the element type of a LIST type name ("DATE[]" -> "DATE").
func listElemType(typ string) string {
	return strings.TrimSuffix(typ, "[]")
}

// marshalJSON is json.Marshal without HTML escaping: '<', '>' and '&' stay
// as they are, as in every JSON datomfs prints.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
