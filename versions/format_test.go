package versions

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	if got, want := Formats(), []Format{FormatParquet, FormatCSV, FormatTSV, FormatPSV, FormatTXT}; !slices.Equal(got, want) {
		t.Errorf("Formats() = %v, want %v", got, want)
	}
	cases := []struct {
		name string
		want Format
		ok   bool
	}{
		{"lb.parquet", FormatParquet, true},
		{"LB.PARQUET", FormatParquet, true},
		{"dir.d/dm.csv", FormatCSV, true},
		{"x.Tsv", FormatTSV, true},
		{"x.psv", FormatPSV, true},
		{"x.txt", FormatTXT, true},
		{"notes.json", "", false},
		{"README", "", false},
		{"x.csv.gz", "", false},
		{"parquet", "", false},
	}
	for _, c := range cases {
		got, ok := FormatOf(c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("FormatOf(%q) = %q %v, want %q %v", c.name, got, ok, c.want, c.ok)
		}
		f, err := InputFormat(c.name)
		if c.ok && (err != nil || f != c.want) {
			t.Errorf("InputFormat(%q) = %q %v", c.name, f, err)
		}
		if !c.ok && (!errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "unsupported file type")) {
			t.Errorf("InputFormat(%q): %v, want an unsupported file type (ErrInvalidInput)", c.name, err)
		}
	}
	for f, want := range map[Format]struct {
		delimited bool
		delim     byte
	}{
		FormatParquet: {false, 0}, FormatCSV: {true, ','}, FormatTSV: {true, '\t'},
		FormatPSV: {true, '|'}, FormatTXT: {true, 0}, "json": {false, 0}, "": {false, 0},
	} {
		if f.Delimited() != want.delimited || f.Delimiter() != want.delim {
			t.Errorf("%q: Delimited %v Delimiter %q, want %v %q", f, f.Delimited(), f.Delimiter(), want.delimited, want.delim)
		}
	}
	if got := ExtensionList("or"); got != ".parquet, .csv, .tsv, .psv or .txt" {
		t.Errorf("ExtensionList = %q", got)
	}
}

// Write reads the format from the request, never from the file's name.
func TestWriteFormatFromRequest(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	jan := extractFiles(t, "2026-01-31")
	body, err := os.ReadFile(jan["lb"])
	if err != nil {
		t.Fatal(err)
	}
	noExt := filepath.Join(t.TempDir(), "staged-1")
	if err := os.WriteFile(noExt, body, 0o644); err != nil {
		t.Fatal(err)
	}
	before := stateOf(t, p)
	for _, f := range []Format{"", "json", FormatCSV} {
		_, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: noExt, Format: f})
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("format %q: %v, want ErrInvalidInput", f, err)
		}
	}
	sameState(t, "refused formats", before, stateOf(t, p))
	res, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: noExt, Format: FormatParquet})
	if err != nil || res.Change != ChangeFull {
		t.Fatalf("a parquet file without an extension: %+v %v", res, err)
	}
}
