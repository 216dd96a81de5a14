package query

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/versions"
)

func manyRows(n int, last string) string {
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := 0; i < n; i++ {
		b.WriteString("1,2\n")
	}
	b.WriteString(last)
	return b.String()
}

func TestCSVToParquetAccepts(t *testing.T) {
	cases := []struct {
		name  string
		file  string // name with extension
		body  string
		cols  []string
		nrow  int
		check string // optional SQL over t returning 'ok'
	}{
		{"plain", "x.csv", "a,b,c\n1,2,3\n4,5,6\n", []string{"a", "b", "c"}, 2, ""},
		{"no final newline", "x.csv", "a,b\n1,2", []string{"a", "b"}, 1, ""},
		{"crlf", "x.csv", "a,b\r\n1,2\r\n3,4\r\n", []string{"a", "b"}, 2, ""},
		{"bom", "x.csv", "\ufeffa,b\n1,2\n", []string{"a", "b"}, 1, ""},
		{"bom crlf quoted header", "x.csv", "\ufeff\"a\",\"b\"\r\n1,2\r\n", []string{"a", "b"}, 1, ""},
		{"quoted delimiter", "x.csv", "id,name\n1,\"Smith, J\"\n", []string{"id", "name"}, 1, "SELECT CASE WHEN name = 'Smith, J' THEN 'ok' END FROM t"},
		{"doubled quote", "x.csv", "a,b\n\"say \"\"hi\"\"\",2\n", []string{"a", "b"}, 1, `SELECT CASE WHEN a = 'say "hi"' THEN 'ok' END FROM t`},
		{"multi-line field", "x.csv", "a,b\n\"two\nlines\",2\n3,4\n", []string{"a", "b"}, 2, ""},
		{"quote inside unquoted field", "x.csv", "a,b\n5\"3,4\n", []string{"a", "b"}, 1, `SELECT CASE WHEN a = '5"3' THEN 'ok' END FROM t`},
		{"blank after closing quote", "x.csv", "a,b\n\"x\" ,4\n", []string{"a", "b"}, 1, ""},
		{"blank lines skipped", "x.csv", "a,b\n1,2\n\n3,4\n", []string{"a", "b"}, 2, ""},
		{"empty fields", "x.csv", "a,b\n1,\n,\n", []string{"a", "b"}, 2, ""},
		{"blanks around names", "x.csv", " a , b\n1,2\n", []string{"a", "b"}, 1, ""},
		{"one column", "x.csv", "x\n1\n2\n", []string{"x"}, 2, ""},
		{"hash is data, not a comment", "x.csv", "a,b\n#x,4\n1,2\n", []string{"a", "b"}, 2, ""},
		{"case kept", "x.csv", "Subject,VISIT\n1,2\n", []string{"Subject", "VISIT"}, 1, ""},
		{"unicode names", "x.csv", "âge,名前\n1,x\n", []string{"âge", "名前"}, 1, ""},
		{"tsv", "x.tsv", "a\tb,c\n1\t2,3\n", []string{"a", "b,c"}, 1, ""},
		{"psv", "x.psv", "a|b\n1|x,y\n", []string{"a", "b"}, 1, ""},
		{"txt semicolon", "x.txt", "a;b\n1,5;2\n", []string{"a", "b"}, 1, "SELECT CASE WHEN a = '1,5' THEN 'ok' END FROM t"},
		{"txt tab", "x.txt", "a\tb\n1\t2\n", []string{"a", "b"}, 1, ""},
		{"txt one column", "x.txt", "x\n1\n", []string{"x"}, 1, ""},
		{"upper-case extension", "X.CSV", "a,b\n1,2\n", []string{"a", "b"}, 1, ""},
		{"type change past the sample", "x.csv", manyRows(30000, "x,1\n"), []string{"a", "b"}, 30001, "SELECT CASE WHEN count(*) = 1 THEN 'ok' END FROM t WHERE a = 'x'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, c.file), filepath.Join(dir, "out.parquet")
			if err := os.WriteFile(in, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := (Converter{}).CSVToParquet(context.Background(), in, formatOf(t, in), out); err != nil {
				t.Fatalf("refused: %v", err)
			}
			db := openDuck(t)
			view := "CREATE VIEW t AS SELECT * FROM read_parquet(" + sqlString(out) + ")"
			if _, err := db.Exec(view); err != nil {
				t.Fatal(err)
			}
			names, err := parquetColumnNames(context.Background(), db, out)
			if err != nil || !slices.Equal(names, c.cols) {
				t.Errorf("columns %q (%v), want %q", names, err, c.cols)
			}
			var n int
			if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != c.nrow {
				t.Errorf("rows %d (%v), want %d", n, err, c.nrow)
			}
			if c.check != "" {
				var ok sql.NullString
				if err := db.QueryRow(c.check).Scan(&ok); err != nil || ok.String != "ok" {
					t.Errorf("%s: %v %v", c.check, ok, err)
				}
			}
		})
	}
}

func TestCSVToParquetRefuses(t *testing.T) {
	cases := []struct {
		name string
		file string
		body string
		want string // in the error, with the line when there is one
	}{
		{"issue 8 example", "x.csv", "a,b,c\n1,2\n3,4,5,6\n", "line 2: row has 2 fields, the header has 3"},
		{"short row", "x.csv", "a,b,c\n1,2,3\n4,5\n", "line 3: row has 2 fields, the header has 3"},
		{"long row", "x.csv", "a,b,c\n1,2,3\n4,5,6,7\n", "line 3: row has 4 fields, the header has 3"},
		{"ragged crlf", "x.csv", "a,b\r\n1,2\r\n1\r\n", "line 3: row has 1 field,"},
		{"ragged after blank line", "x.csv", "a,b\n1,2\n\n1,2,3\n", "line 4:"},
		{"ragged after multi-line field", "x.csv", "a,b\n\"x\ny\",2\n1\n", "line 4:"},
		{"ragged past the sniffer's sample", "x.csv", manyRows(30000, "1,2,3\n"), "line 30002: row has 3 fields"},
		{"title line above the header", "x.csv", "Lab results\na,b\n1,2\n", "line 2: row has 2 fields, the header has 1"},
		{"tsv read with commas", "x.tsv", "a\tb\n1,2\n", "line 2: row has 1 field, the header has 2 (delimiter tab)"},
		{"unbalanced quote", "x.csv", "a,b\n\"1,2\n3,4\n", "line 2: a quoted field starting on this line is never closed"},
		{"unbalanced quote in header", "x.csv", "\"a,b\n1,2\n", "line 1: a quoted field"},
		{"text after closing quote", "x.csv", "a,b\n\"x\"y,4\n", `line 2: unexpected 'y' after the closing quote`},
		{"duplicate names", "x.csv", "a,a,b\n1,2,3\n", `line 1: duplicate column name "a" (column 1), "a" (column 2)`},
		{"duplicates ignoring case", "x.csv", "id,ID\n1,2\n", `duplicate column name "id" (column 1), "ID" (column 2)`},
		{"duplicates after trimming", "x.csv", "a, a\n1,2\n", `duplicate column name "a" (column 1), "a" (column 2)`},
		{"empty name", "x.csv", "a,,b\n1,2,3\n", "line 1: empty column name in column 2"},
		{"blank name", "x.csv", "a,  ,b\n1,2,3\n", "empty column name in column 2"},
		{"trailing delimiter", "x.csv", "a,b,\n1,2,\n", "empty column name in column 3"},
		{"empty and duplicate", "x.csv", ",x,x\n1,2,3\n", `empty column name in column 1; duplicate column name "x" (column 2), "x" (column 3)`},
		{"empty file", "x.csv", "", "empty file"},
		{"bom only", "x.csv", "\ufeff", "empty file"},
		{"blank lines only", "x.csv", "\n\n\r\n", "empty file"},
		{"header only", "x.csv", "a,b\n", "no data rows"},
		{"header and blank lines", "x.csv", "a,b\n\n\n", "no data rows"},
		{"not utf-8", "x.csv", "a,b\n1,\xff\n", "line 2: Invalid unicode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, c.file), filepath.Join(dir, "out.parquet")
			if err := os.WriteFile(in, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			err := (Converter{}).CSVToParquet(context.Background(), in, formatOf(t, in), out)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrBadCSV) {
				t.Errorf("not ErrBadCSV: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("a refused file left a parquet file behind")
			}
		})
	}
}

// The delimiter is the format's, whatever the file is called: the mount
// hands over its staging file, whose name has no extension.
func TestCSVToParquetFormatNotName(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const body = "a\tb,c\n1\t2,3\n"
	for _, c := range []struct {
		file   string
		body   string
		format versions.Format
		cols   []string
	}{
		{"staged-1", body, versions.FormatTSV, []string{"a", "b,c"}},
		{"named.csv", body, versions.FormatTSV, []string{"a", "b,c"}},
		{"named.tsv", body, versions.FormatCSV, []string{"a\tb", "c"}},
		{"staged-2", "a|b|c,d\n1|2|3,4\n", versions.FormatTXT, []string{"a", "b", "c,d"}}, // the header line decides
	} {
		in, out := filepath.Join(dir, c.file), filepath.Join(dir, c.file+".parquet")
		if err := os.WriteFile(in, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := (Converter{}).CSVToParquet(ctx, in, c.format, out); err != nil {
			t.Fatalf("%s as %s: %v", c.file, c.format, err)
		}
		names, err := parquetColumnNames(ctx, openDuck(t), out)
		if err != nil || !slices.Equal(names, c.cols) {
			t.Errorf("%s as %s: columns %q (%v), want %q", c.file, c.format, names, err, c.cols)
		}
	}
	if err := (Converter{}).CSVToParquet(ctx, filepath.Join(dir, "staged-1"), versions.FormatParquet, filepath.Join(dir, "x.parquet")); err == nil {
		t.Error("parquet is not delimited text, but was converted")
	}
}

func TestCSVToParquetMissingFile(t *testing.T) {
	err := (Converter{}).CSVToParquet(context.Background(), filepath.Join(t.TempDir(), "none.csv"), versions.FormatCSV, filepath.Join(t.TempDir(), "o.parquet"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want not-exist, got %v", err)
	}
}

func TestCSVToParquetCancelled(t *testing.T) {
	in := filepath.Join(t.TempDir(), "x.csv")
	os.WriteFile(in, []byte(manyRows(10000, "")), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := (Converter{}).CSVToParquet(ctx, in, formatOf(t, in), filepath.Join(t.TempDir(), "o.parquet"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

// scanned is what the scanner saw of a file.
type scanned struct {
	counts, lines []int
	header        []string
	err           string
}

// scanAll runs the scanner over body fed in chunks of n bytes.
func scanAll(body []byte, n int) scanned {
	var out scanned
	sc := newCSVScanner(',', func(fields, line int, names []string) error {
		out.counts, out.lines = append(out.counts, fields), append(out.lines, line)
		if out.header == nil {
			out.header = append([]string{}, names...)
		}
		return nil
	})
	for len(body) > 0 {
		k := min(n, len(body))
		if err := sc.feed(body[:k]); err != nil {
			out.err = err.Error()
			return out
		}
		body = body[k:]
	}
	if err := sc.finish(); err != nil {
		out.err = err.Error()
	}
	return out
}

// TestCSVScannerChunks: where the chunks end changes nothing (\r\n, "" and
// quotes split across reads), and records, field counts and header names
// agree with encoding/csv on the files it writes.
func TestCSVScannerChunks(t *testing.T) {
	bodies := []string{
		"a,b\r\n1,2\r\n3,4\r\n",
		"\"a\",\"b \"\"x\"\"\"\r\n\"1\r\n2\",3\r\n",
		"a,b\r\r\n1,2\r",
		"a,b\n\"x\" ,4\n\"y\"z,5\n",
		"a,b\n\"never closed,1\n2,3\n",
		"a, b ,\"c\"\"d\"\n1,2,3\n\n4,5\n",
	}
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"", "x", "1.5", "a,b", `say "hi"`, "two\nlines", "cr\r\nlf", " ", "é"}
	for range 100 {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.UseCRLF = r.IntN(2) == 0
		ncol := 1 + r.IntN(4)
		for range 1 + r.IntN(6) {
			rec := make([]string, ncol)
			for i := range rec {
				rec[i] = pieces[r.IntN(len(pieces))]
			}
			if ncol == 1 && rec[0] == "" {
				rec[0] = "x" // a lone empty field is a blank line
			}
			w.Write(rec)
		}
		w.Flush()
		bodies = append(bodies, buf.String())

		cr := csv.NewReader(bytes.NewReader(buf.Bytes()))
		cr.FieldsPerRecord = -1
		var want scanned
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			line, _ := cr.FieldPos(0)
			want.counts, want.lines = append(want.counts, len(rec)), append(want.lines, line)
			if want.header == nil {
				for _, f := range rec {
					want.header = append(want.header, strings.TrimSpace(f))
				}
			}
		}
		if got := scanAll(buf.Bytes(), buf.Len()); !reflect.DeepEqual(got, want) {
			t.Errorf("scanner %+v\nencoding/csv %+v\nfor %q", got, want, buf.String())
		}
	}
	for _, body := range bodies {
		whole := scanAll([]byte(body), len(body))
		for _, n := range []int{1, 2, 3, 5} {
			if got := scanAll([]byte(body), n); !reflect.DeepEqual(got, whole) {
				t.Errorf("chunks of %d: %+v\nwhole: %+v\nbody %q", n, got, whole, body)
			}
		}
	}
}
