package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/versions"
)

// TestUsageMessages: a missing argument is named, an extra one shown, and
// cobra's "Did you mean" survives.
func TestUsageMessages(t *testing.T) {
	cases := []struct {
		args []string
		msgs []string
	}{
		{[]string{"read"}, []string{"missing TABLE[@VERSION]", "usage: datomfs read"}},
		{[]string{"diff", "lb"}, []string{"missing V1"}},
		{[]string{"clone"}, []string{"missing GIT_URL and DIR"}},
		{[]string{"list", "x"}, []string{`unexpected argument "x"`}},
		{[]string{"history", "a", "b"}, []string{`unexpected argument "b"`}},
		{[]string{"lsit"}, []string{`unknown command "lsit"`, "Did you mean this?", "\tlist\n"}},
		{[]string{"query", "SELECT 1", "-o", "r.xlsx"}, []string{"-o r.xlsx: unknown extension"}},
		{[]string{"diff", "lb", "a", "-o", "r.xlsx"}, []string{"-o r.xlsx: unknown extension"}},
		{[]string{"query", "SELECT 1", "--json", "--format", "csv"}, []string{"--json and --format csv disagree"}},
		{[]string{"read", "lb", "-o", "x.xlsx"}, []string{"must end in .parquet, .csv or .rds"}},
		{[]string{"read", "lb", "-o", "-", "--format", "json"}, []string{"--format json: read writes parquet, csv or rds"}},
	}
	for _, c := range cases {
		io, _, _, errOut := TestIO()
		if code := Main(c.args, io); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, exitUsage, errOut.String())
		}
		for _, m := range c.msgs {
			if !strings.Contains(errOut.String(), m) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errOut.String(), m)
			}
		}
		if strings.Contains(errOut.String(), "arg(s)") {
			t.Errorf("%v: cobra's count message: %q", c.args, errOut.String())
		}
	}
}

func TestVersionCmd(t *testing.T) {
	io, _, out, _ := TestIO()
	if code := Main([]string{"version"}, io); code != 0 || !strings.HasPrefix(out.String(), "datomfs "+version+" (datom format "+versions.DatomVersion) {
		t.Fatalf("version: %d %q", code, out.String())
	}
	io, _, out, _ = TestIO()
	var v map[string]string
	if code := Main([]string{"version", "--json"}, io); code != 0 || json.Unmarshal(out.Bytes(), &v) != nil || v["version"] != version || v["datom_version"] != versions.DatomVersion {
		t.Fatalf("version --json: %q", out.String())
	}
}

func TestJSONFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	var q *queryOptions
	if err := runCmd(t, newQueryCmd(f, func(_ context.Context, o *queryOptions) error { q = o; return nil }), "SELECT 1", "--json"); err != nil || q.Format != "json" {
		t.Fatalf("query --json: %v %+v", err, q)
	}
	var d *diffOptions
	if err := runCmd(t, newDiffCmd(f, func(_ context.Context, o *diffOptions) error { d = o; return nil }), "lb", "a", "b", "--json"); err != nil || d.Format != "json" {
		t.Fatalf("diff --json: %v %+v", err, d)
	}
	if err := runCmd(t, newQueryCmd(f, func(_ context.Context, o *queryOptions) error { q = o; return nil }), "SELECT 1", "-o", "r.xlsx", "--format", "csv"); err != nil {
		t.Fatalf("-o with an unknown extension and --format: %v", err)
	}
}

// TestQueryJSONNotEscaped: '<', '>' and '&' stay as they are.
func TestQueryJSONNotEscaped(t *testing.T) {
	io, _, out, _ := TestIO()
	opts := &queryOptions{IO: io, Project: shellProject(t), SQL: "SELECT '<a & b>' AS \"x<y\"", Format: "json"}
	if err := queryRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `{"x<y": "<a & b>"}`) {
		t.Fatalf("json %q", out.String())
	}
}

func TestReadToStdout(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	var got *readOptions
	capture := func(_ context.Context, o *readOptions) error { got = o; return nil }
	for _, c := range []struct {
		args   []string
		format string
	}{
		{[]string{"lb", "-o", "-"}, "parquet"},
		{[]string{"lb", "-o", "-", "--format", "csv"}, "csv"},
		{[]string{"lb", "-o", "x.CSV"}, "csv"},
		{[]string{"lb", "-o", "x.dat", "--format", "parquet"}, "parquet"},
		{[]string{"lb", "-o", "x.RDS"}, "rds"},
		{[]string{"lb", "-o", "-", "--format", "rds"}, "rds"},
	} {
		if err := runCmd(t, newReadCmd(f, capture), c.args...); err != nil || got.Format != c.format {
			t.Errorf("%v: %v %+v", c.args, err, got)
		}
	}
	tty, _, _, _ := TestIO()
	tty.StdoutTTY = true
	err := runCmd(t, newReadCmd(&factory{IO: tty}, capture), "lb", "-o", "-")
	if _, ok := err.(*usageError); !ok {
		t.Errorf("parquet to a terminal: %v", err)
	}
	err = runCmd(t, newReadCmd(&factory{IO: tty}, capture), "lb", "-o", "-", "--format", "rds")
	if _, ok := err.(*usageError); !ok {
		t.Errorf("rds to a terminal: %v", err)
	}

	p, _ := cliProject(t)
	project := func(context.Context) (*versions.Project, error) { return p, nil }
	for _, format := range []string{"csv", "parquet", "rds"} {
		io, _, out, errOut := TestIO()
		opts := &readOptions{IO: io, Project: project, Table: "lb", Output: "-", Format: format}
		if err := readRun(context.Background(), opts); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		switch format {
		case "csv":
			if !strings.HasPrefix(out.String(), "id,val\n1,10\n") {
				t.Errorf("csv to stdout: %q", out.String())
			}
		case "parquet":
			if !bytes.HasPrefix(out.Bytes(), []byte("PAR1")) || !bytes.HasSuffix(out.Bytes(), []byte("PAR1")) {
				t.Errorf("parquet to stdout: %d bytes", out.Len())
			}
		case "rds":
			// -o - and -o FILE.rds write the same bytes.
			file := filepath.Join(t.TempDir(), "lb.rds")
			fio, _, _, _ := TestIO()
			if err := readRun(context.Background(), &readOptions{IO: fio, Project: project, Table: "lb", Output: file, Format: "rds"}); err != nil {
				t.Fatal(err)
			}
			body, err := os.ReadFile(file)
			if err != nil || !bytes.Equal(body, out.Bytes()) || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
				t.Errorf("rds: stdout %d bytes, file %d bytes (%v), want the same gzip stream", out.Len(), len(body), err)
			}
		}
		if errOut.Len() != 0 {
			t.Errorf("%s: stderr %q", format, errOut.String())
		}
	}
}

// TestCompleteTables: the shell completion of table names and versions.
func TestCompleteTables(t *testing.T) {
	p, res := cliProject(t)
	v1 := res[0].Version.Short()
	complete := func(args ...string) string {
		t.Helper()
		io, _, out, _ := TestIO()
		if code := Main(append([]string{"__complete"}, args...), io); code != 0 {
			t.Fatalf("__complete %v: exit %d", args, code)
		}
		return out.String()
	}
	if got := complete("read", "-C", p.Dir(), "l"); !strings.HasPrefix(got, "lb\n:4\n") {
		t.Errorf("read l<TAB>: %q", got)
	}
	if got := complete("history", "-C", p.Dir(), "x"); !strings.HasPrefix(got, ":4\n") {
		t.Errorf("history x<TAB>: %q", got)
	}
	if got := complete("read", "-C", p.Dir(), "lb@"+v1[:3]); !strings.HasPrefix(got, "lb@"+v1+"\n:4\n") {
		t.Errorf("read lb@<TAB>: %q", got)
	}
	if got := complete("diff", "-C", p.Dir(), "lb", v1[:3]); !strings.HasPrefix(got, v1+"\n:4\n") {
		t.Errorf("diff lb <TAB>: %q", got)
	}
	if got := complete("write", "x.csv", "-C", p.Dir(), "--table", ""); !strings.HasPrefix(got, "lb\n:4\n") {
		t.Errorf("write --table <TAB>: %q", got)
	}
}
