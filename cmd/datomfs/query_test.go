package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

func TestQueryFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	var got *queryOptions
	cmd := newQueryCmd(f, func(_ context.Context, o *queryOptions) error { got = o; return nil })
	if err := runCmd(t, cmd, "SELECT 1", "--format", "json", "-o", "x.json", "--store", "/s", "--project", "P"); err != nil {
		t.Fatal(err)
	}
	if got.SQL != "SELECT 1" || got.Format != "json" || got.Output != "x.json" || got.Project == nil {
		t.Fatalf("got %+v", got)
	}
	cmd = newQueryCmd(f, func(_ context.Context, o *queryOptions) error { got = o; return nil })
	if err := runCmd(t, cmd); err != nil || got.SQL != "" {
		t.Fatalf("shell: %v %+v", err, got)
	}
	for _, bad := range [][]string{{"SELECT 1", "--format", "xml"}, {"-o", "x.csv"}, {" "}, {"a", "b"}} {
		cmd := newQueryCmd(f, func(context.Context, *queryOptions) error { t.Fatal("runF called"); return nil })
		err := runCmd(t, cmd, bad...)
		if _, ok := err.(*usageError); !ok && !isCobraUsage(err) {
			t.Errorf("%v: want a usage error, got %v", bad, err)
		}
	}
}

func TestDiffFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	var got *diffOptions
	cmd := newDiffCmd(f, func(_ context.Context, o *diffOptions) error { got = o; return nil })
	if err := runCmd(t, cmd, "lb", "19f4", "c1ff", "--key", "USUBJID", "--key", "LBSEQ", "--format", "csv"); err != nil {
		t.Fatal(err)
	}
	if got.Table != "lb" || got.From != "19f4" || got.To != "c1ff" || strings.Join(got.Keys, ",") != "USUBJID,LBSEQ" || got.Format != "csv" {
		t.Fatalf("got %+v", got)
	}
	cmd = newDiffCmd(f, func(_ context.Context, o *diffOptions) error { got = o; return nil })
	if err := runCmd(t, cmd, "lb", "19f4"); err != nil || got.To != "" {
		t.Fatalf("two args: %v %+v", err, got)
	}
	for _, bad := range [][]string{{"lb"}, {"lb", "a", "b", "--format", "xml"}} {
		cmd := newDiffCmd(f, func(context.Context, *diffOptions) error { t.Fatal("runF called"); return nil })
		err := runCmd(t, cmd, bad...)
		if _, ok := err.(*usageError); !ok && !isCobraUsage(err) {
			t.Errorf("%v: want a usage error, got %v", bad, err)
		}
	}
}

func TestResolveFormat(t *testing.T) {
	cases := []struct {
		flag, out string
		tty       bool
		want      query.Format
	}{
		{"", "", true, query.FormatTable},
		{"", "", false, query.FormatCSV},
		{"json", "", true, query.FormatJSON},
		{"", "r.parquet", true, query.FormatParquet},
		{"", "r.json", false, query.FormatJSON},
		{"", "r.csv", true, query.FormatCSV},
		{"csv", "r.parquet", true, query.FormatCSV},
	}
	for _, c := range cases {
		if got := resolveFormat(c.flag, c.out, c.tty); got != c.want {
			t.Errorf("%+v: %s", c, got)
		}
	}
}

// cliProject makes a project with two versions of lb (from CSV).
func cliProject(t *testing.T) (*versions.Project, []versions.WriteResult) {
	t.Helper()
	ctx := context.Background()
	base := t.TempDir()
	p := projecttest.New(t, projecttest.Options{Name: "cli", Versions: versions.Options{Converter: query.Converter{}}}).Project
	var res []versions.WriteResult
	for i, body := range []string{"id,val\n1,10\n2,20\n3,30\n", "id,val\n1,10\n3,33\n4,40\n"} {
		path := filepath.Join(base, "lb"+string(rune('1'+i))+".csv")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := p.Write(ctx, versions.WriteRequest{Table: meta.MustTableName("lb"), Path: path, Format: versions.FormatCSV})
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
	}
	return p, res
}

func TestQueryAndDiffRun(t *testing.T) {
	ctx := context.Background()
	p, res := cliProject(t)
	project := func(context.Context) (*versions.Project, error) { return p, nil }
	v1, v2 := string(res[0].Version)[:8], string(res[1].Version)[:8]

	t.Run("piped csv", func(t *testing.T) {
		io, _, out, _ := TestIO()
		opts := &queryOptions{IO: io, Project: project, SQL: `SELECT id, val FROM "lb@` + v1 + `" ORDER BY id`}
		if err := queryRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(out).ReadAll()
		if err != nil || len(recs) != 4 || recs[3][1] != "30" {
			t.Fatalf("csv %v %v", recs, err)
		}
	})
	t.Run("terminal table", func(t *testing.T) {
		io, _, out, _ := TestIO()
		io.StdoutTTY = true
		opts := &queryOptions{IO: io, Project: project, SQL: "SELECT count(*) AS n FROM lb"}
		if err := queryRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "(1 row)") || !strings.Contains(out.String(), "n\n-\n3\n") {
			t.Fatalf("table %q", out.String())
		}
	})
	t.Run("output file", func(t *testing.T) {
		io, _, out, _ := TestIO()
		path := filepath.Join(t.TempDir(), "h.json")
		opts := &queryOptions{IO: io, Project: project, SQL: "SELECT version, nrow FROM history('lb')", Output: path}
		if err := queryRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(path)
		var rows []map[string]any
		if err := json.Unmarshal(raw, &rows); err != nil || len(rows) != 2 || rows[0]["version"] != string(res[1].Version) {
			t.Fatalf("json file %s: %v", raw, err)
		}
		if out.Len() != 0 {
			t.Errorf("stdout not empty: %q", out.String())
		}
	})
	t.Run("error", func(t *testing.T) {
		io, _, _, _ := TestIO()
		opts := &queryOptions{IO: io, Project: project, SQL: `SELECT * FROM "lb@zzzz"`}
		err := queryRun(ctx, opts)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "lb@zzzz") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("shell", func(t *testing.T) {
		io, in, out, errOut := TestIO()
		in.WriteString(".tables\nSELECT count(*) AS n\n  FROM lb;\nSELEC 1;\n.format json\nSELECT max(val) AS m FROM \"lb@" + v1 + "\";\n.history\n!1\n.quit\nSELECT 'not run';\n")
		opts := &queryOptions{IO: io, Project: project}
		if err := queryRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		want := "lb\nn\n3\n" + `[` + "\n" + `  {"m": 30}` + "\n]\n"
		if !strings.HasPrefix(out.String(), want) {
			t.Errorf("shell stdout %q, want prefix %q", out.String(), want)
		}
		if !strings.Contains(out.String(), "   1  SELECT count(*) AS n   FROM lb;") || strings.Contains(out.String(), "not run") {
			t.Errorf("history/quit: %q", out.String())
		}
		if strings.Count(out.String(), `"n": 3`) != 1 { // !1 re-ran statement 1 as json
			t.Errorf("!1: %q", out.String())
		}
		if !strings.Contains(errOut.String(), "Error: Parser Error") {
			t.Errorf("stderr %q", errOut.String())
		}
	})
	t.Run("diff json", func(t *testing.T) {
		io, _, out, _ := TestIO()
		opts := &diffOptions{IO: io, Project: project, Table: "lb", From: v1, To: v2, Keys: []string{"id"}, Format: "json"}
		if err := diffRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Rows    []map[string]any  `json:"rows"`
			Summary query.DiffSummary `json:"summary"`
			Schema  []any             `json:"schema"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if doc.Summary != (query.DiffSummary{RowsRemoved: 1, RowsAdded: 1, RowsChanged: 1}) || len(doc.Rows) != 4 || doc.Schema == nil {
			t.Fatalf("diff json %s", out.String())
		}
	})
	t.Run("diff table", func(t *testing.T) {
		io, _, out, _ := TestIO()
		io.StdoutTTY = true
		opts := &diffOptions{IO: io, Project: project, Table: "lb", From: v1, To: v2}
		if err := diffRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(out.String(), "lb "+v1+" -> "+v2+": columns +0 -0 ~0; rows -2 +2\n") || !bytes.Contains(out.Bytes(), []byte("_diff")) {
			t.Fatalf("diff table %q", out.String())
		}
	})
}
