package query

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ErrBadCSV marks a delimited text file that is refused before conversion:
// rows with a different number of fields than the header, an unclosed
// quote, a header with empty or duplicate column names, no data rows.
var ErrBadCSV = errors.New("malformed CSV")

// CSVError says why and where (1-based line, 0 for the whole file) a CSV
// file is refused.
type CSVError struct {
	Line int
	Msg  string
}

func (e *CSVError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func (e *CSVError) Is(target error) bool { return target == ErrBadCSV }

// csvShape is what a full scan of a valid file found.
type csvShape struct {
	delim      byte
	header     []string // column names, surrounding blanks removed
	headerLine int
	rows       int64 // data rows (blank lines not counted)
}

// delimFor is the field delimiter a file name implies: .csv ',', .tsv tab,
// .psv '|'. For any other name (.txt) the header line decides: the most
// frequent of , tab | ; outside quotes, ',' when it has none.
func delimFor(path string, firstLine []byte) byte {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return ','
	case ".tsv":
		return '\t'
	case ".psv":
		return '|'
	}
	var counts [256]int
	quoted := false
	for _, c := range firstLine {
		if c == '"' {
			quoted = !quoted
		} else if !quoted {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{',', '\t', '|', ';'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// checkCSV reads the whole file the way DuckDB's CSV reader will be told to
// (header row; delimiter; '"' quotes with "" inside; blanks allowed after a
// closing quote; a quote inside an unquoted field is a plain character) and
// refuses, with the line, what DuckDB would otherwise sniff its way around:
// rows whose field count differs from the header's (DuckDB then reads the
// file as one text column, or takes a later line as the header), unclosed
// quotes, and header names DuckDB would silently rename (empty ones, which
// become column0..., and duplicates ignoring case, which become a_1...).
func checkCSV(ctx context.Context, path string, r io.Reader) (csvShape, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	first, _ := br.Peek(4096)
	if i := bytes.IndexAny(first, "\r\n"); i >= 0 {
		first = first[:i]
	}
	sh := csvShape{delim: delimFor(path, first)}
	sc := csvScanner{br: br, delim: sh.delim, line: 1}
	nfields := -1 // the header's
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return sh, ctx.Err()
		}
		fields, line, err := sc.record(nfields < 0)
		if err != nil {
			return sh, err
		}
		if fields < 0 {
			break // EOF
		}
		if fields == 0 {
			continue // blank line
		}
		if nfields < 0 {
			nfields = fields
			sh.header, sh.headerLine = append([]string(nil), sc.names...), line
			if err := checkNames(line, sh.header); err != nil {
				return sh, err
			}
			continue
		}
		if fields != nfields {
			return sh, &CSVError{Line: line, Msg: fmt.Sprintf("row has %s, the header has %d (delimiter %s)", plural(fields, "field"), nfields, delimName(sh.delim))}
		}
		sh.rows++
	}
	switch {
	case nfields < 0:
		return sh, &CSVError{Msg: "empty file: no header row"}
	case sh.rows == 0:
		return sh, &CSVError{Msg: "no data rows below the header"}
	}
	return sh, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func delimName(d byte) string {
	if d == '\t' {
		return "tab"
	}
	return fmt.Sprintf("%q", d)
}

// checkNames refuses empty and duplicate (ignoring case, as SQL does)
// column names, naming every offender.
func checkNames(line int, names []string) error {
	var empty []string
	seen := map[string][]int{}
	var order []string
	for i, n := range names {
		if n == "" {
			empty = append(empty, fmt.Sprint(i+1))
			continue
		}
		k := strings.ToLower(n)
		if _, ok := seen[k]; !ok {
			order = append(order, k)
		}
		seen[k] = append(seen[k], i)
	}
	var problems []string
	if len(empty) > 0 {
		problems = append(problems, "empty column name in column "+strings.Join(empty, ", "))
	}
	for _, k := range order {
		idx := seen[k]
		if len(idx) < 2 {
			continue
		}
		var parts []string
		for _, i := range idx {
			parts = append(parts, fmt.Sprintf("%q (column %d)", names[i], i+1))
		}
		problems = append(problems, "duplicate column name "+strings.Join(parts, ", "))
	}
	if len(problems) == 0 {
		return nil
	}
	return &CSVError{Line: line, Msg: strings.Join(problems, "; ") + "; column names must be non-empty and unique (ignoring case)"}
}

// csvScanner splits records. It counts fields and keeps only the header's
// text.
type csvScanner struct {
	br    *bufio.Reader
	delim byte
	line  int      // current physical line
	names []string // the header's fields, after record(true)
}

// record reads one record: its field count (0 for a blank line, -1 at EOF)
// and the line it starts on. keep collects the fields into s.names.
func (s *csvScanner) record(keep bool) (fields, line int, err error) {
	const (
		start      = iota // at the start of a field
		unquoted          // inside an unquoted field
		quoted            // inside a quoted field
		quoteQuote        // saw a '"' inside a quoted field
		afterQuote        // blanks after a closing quote
	)
	line = s.line
	state, quoteLine := start, 0
	var field []byte
	s.names = s.names[:0]
	empty := true // nothing read on this record yet
	endField := func() {
		fields++
		if keep {
			s.names = append(s.names, strings.TrimSpace(string(field)))
			field = field[:0]
		}
	}
	for {
		c, rerr := s.br.ReadByte()
		if rerr == io.EOF {
			switch {
			case state == quoted:
				return 0, line, &CSVError{Line: quoteLine, Msg: `a quoted field starting on this line is never closed (unbalanced '"'; write a quote inside a quoted field as "")`}
			case empty:
				return -1, line, nil
			}
			endField()
			return fields, line, nil
		}
		if rerr != nil {
			return 0, line, rerr
		}
		if c == '\r' { // \r\n and a lone \r end a line like \n
			if next, _ := s.br.Peek(1); len(next) == 1 && next[0] == '\n' {
				s.br.ReadByte()
			}
			c = '\n'
		}
		if c == '\n' {
			s.line++
			if state != quoted {
				if empty {
					return 0, line, nil
				}
				endField()
				return fields, line, nil
			}
		}
		empty = false
		switch state {
		case start:
			switch c {
			case '"':
				state, quoteLine = quoted, s.line
			case s.delim:
				endField()
			default:
				state = unquoted
				if keep {
					field = append(field, c)
				}
			}
		case unquoted:
			if c == s.delim {
				endField()
				state = start
			} else if keep {
				field = append(field, c)
			}
		case quoted:
			if c == '"' {
				state = quoteQuote
			} else if keep {
				field = append(field, c)
			}
		case quoteQuote, afterQuote:
			switch {
			case c == '"' && state == quoteQuote:
				state = quoted
				if keep {
					field = append(field, c)
				}
			case c == s.delim:
				endField()
				state = start
			case c == ' ' || c == '\t':
				state = afterQuote
			default:
				return 0, line, &CSVError{Line: s.line, Msg: fmt.Sprintf(`unexpected %q after the closing quote of a field (write a quote inside a quoted field as "")`, rune(c))}
			}
		}
	}
}
