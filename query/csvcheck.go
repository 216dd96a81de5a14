package query

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// sniffDelim is the field delimiter the header line implies (format txt,
// versions.Format.Delimiter 0): the most frequent of , tab | ; outside
// quotes, ',' when it has none.
func sniffDelim(firstLine []byte) byte {
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
//
// delim is the field delimiter; 0 takes it from the header line.
func checkCSV(ctx context.Context, delim byte, r io.Reader) (csvShape, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	first, _ := br.Peek(4096)
	if i := bytes.IndexAny(first, "\r\n"); i >= 0 {
		first = first[:i]
	}
	if delim == 0 {
		delim = sniffDelim(first)
	}
	sh := csvShape{delim: delim}
	nfields := -1 // the header's
	sc := newCSVScanner(sh.delim, func(fields, line int, names []string) error {
		if nfields < 0 {
			nfields = fields
			sh.header, sh.headerLine = append([]string(nil), names...), line
			return checkNames(line, sh.header)
		}
		if fields != nfields {
			return &CSVError{Line: line, Msg: fmt.Sprintf("row has %s, the header has %d (delimiter %s)", plural(fields, "field"), nfields, delimName(sh.delim))}
		}
		sh.rows++
		return nil
	})
	buf := make([]byte, 1<<16)
	for {
		if err := ctx.Err(); err != nil {
			return sh, err
		}
		n, err := br.Read(buf)
		if n > 0 {
			if err := sc.feed(buf[:n]); err != nil {
				return sh, err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return sh, err
		}
	}
	if err := sc.finish(); err != nil {
		return sh, err
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

// csvScanner splits a file fed in chunks into records, counting their
// fields; it keeps the text of the first record only (the header). Blank
// lines are skipped, as DuckDB does.
type csvScanner struct {
	delim    byte
	onRecord func(fields, line int, names []string) error

	state     int
	line      int  // current physical line
	recLine   int  // line the current record starts on
	quoteLine int  // line of the opening quote of the current field
	fields    int  // fields completed in the current record
	empty     bool // nothing read in the current record yet
	pendingCR bool // the last byte was \r: a \n right after it belongs to it
	keep      bool // collect the fields' text (header only)
	field     []byte
	names     []string
}

const (
	csvStart      = iota // at the start of a field
	csvUnquoted          // inside an unquoted field
	csvQuoted            // inside a quoted field
	csvQuoteQuote        // saw a '"' inside a quoted field
	csvAfterQuote        // blanks after a closing quote
)

func newCSVScanner(delim byte, onRecord func(fields, line int, names []string) error) *csvScanner {
	return &csvScanner{delim: delim, onRecord: onRecord, line: 1, recLine: 1, empty: true, keep: true}
}

func (s *csvScanner) endField() {
	s.fields++
	if s.keep {
		s.names = append(s.names, strings.TrimSpace(string(s.field)))
		s.field = s.field[:0]
	}
}

func (s *csvScanner) endRecord() error {
	if !s.empty {
		s.endField()
		if err := s.onRecord(s.fields, s.recLine, s.names); err != nil {
			return err
		}
		s.keep, s.names = false, nil
	}
	s.state, s.fields, s.empty, s.recLine = csvStart, 0, true, s.line
	return nil
}

// feed scans the next chunk of the file.
func (s *csvScanner) feed(b []byte) error {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if s.pendingCR {
			s.pendingCR = false
			if c == '\n' {
				continue
			}
		}
		// Data rows: skip plain bytes in bulk.
		if !s.keep && (s.state == csvUnquoted || s.state == csvQuoted) {
			j := i
			if s.state == csvUnquoted {
				for j < len(b) && b[j] != s.delim && b[j] != '\n' && b[j] != '\r' {
					j++
				}
			} else {
				for j < len(b) && b[j] != '"' && b[j] != '\n' && b[j] != '\r' {
					j++
				}
			}
			if j == len(b) {
				return nil
			}
			i, c = j, b[j]
		}
		if c == '\r' { // \r\n and a lone \r end a line like \n
			s.pendingCR, c = true, '\n'
		}
		if c == '\n' {
			s.line++
			if s.state != csvQuoted {
				if err := s.endRecord(); err != nil {
					return err
				}
				continue
			}
		}
		s.empty = false
		switch s.state {
		case csvStart:
			switch c {
			case '"':
				s.state, s.quoteLine = csvQuoted, s.line
			case s.delim:
				s.endField()
			default:
				s.state = csvUnquoted
				if s.keep {
					s.field = append(s.field, c)
				}
			}
		case csvUnquoted:
			if c == s.delim {
				s.endField()
				s.state = csvStart
			} else if s.keep {
				s.field = append(s.field, c)
			}
		case csvQuoted:
			if c == '"' {
				s.state = csvQuoteQuote
			} else if s.keep {
				s.field = append(s.field, c)
			}
		case csvQuoteQuote, csvAfterQuote:
			switch {
			case c == '"' && s.state == csvQuoteQuote:
				s.state = csvQuoted
				if s.keep {
					s.field = append(s.field, c)
				}
			case c == s.delim:
				s.endField()
				s.state = csvStart
			case c == ' ' || c == '\t':
				s.state = csvAfterQuote
			default:
				return &CSVError{Line: s.line, Msg: fmt.Sprintf(`unexpected %q after the closing quote of a field (write a quote inside a quoted field as "")`, rune(c))}
			}
		}
	}
	return nil
}

// finish ends the last record at the end of the file.
func (s *csvScanner) finish() error {
	if s.state == csvQuoted {
		return &CSVError{Line: s.quoteLine, Msg: `a quoted field starting on this line is never closed (unbalanced '"'; write a quote inside a quoted field as "")`}
	}
	return s.endRecord()
}
