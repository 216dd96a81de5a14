package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/datomfs/datomfs/versions"
)

func TestSplitStatements(t *testing.T) {
	cases := []struct {
		in    string
		stmts []string
		rest  string
	}{
		{"SELECT 1;", []string{"SELECT 1;"}, ""},
		{"SELECT 1", nil, "SELECT 1"},
		{"SELECT 1;\n", []string{"SELECT 1;"}, ""},
		{"SELECT 1; SELECT 2;", []string{"SELECT 1;", "SELECT 2;"}, ""},
		{"SELECT 1; SELECT", []string{"SELECT 1;"}, " SELECT"},
		{"SELECT\n  1\n;", []string{"SELECT\n  1\n;"}, ""},
		{"SELECT ';' AS s;", []string{"SELECT ';' AS s;"}, ""},
		{"SELECT 'it''s;' AS s;", []string{"SELECT 'it''s;' AS s;"}, ""},
		{"SELECT 'open;", nil, "SELECT 'open;"},
		{`SELECT 1 AS "a;b";`, []string{`SELECT 1 AS "a;b";`}, ""},
		{"SELECT 1 -- no; end\n;", []string{"SELECT 1 -- no; end\n;"}, ""},
		{"SELECT /* ; */ 1;", []string{"SELECT /* ; */ 1;"}, ""},
		{"-- only a comment", nil, ""},
		{";;  ;", nil, ""},
		{"  ", nil, ""},
	}
	for _, c := range cases {
		stmts, rest := splitStatements(c.in)
		if !slices.Equal(stmts, c.stmts) || rest != c.rest {
			t.Errorf("splitStatements(%q) = %q, %q; want %q, %q", c.in, stmts, rest, c.stmts, c.rest)
		}
	}
}

// shellProject is cliProject's project as a loader.
func shellProject(t *testing.T) func(context.Context) (*versions.Project, error) {
	p, _ := cliProject(t)
	return func(context.Context) (*versions.Project, error) { return p, nil }
}

// TestQueryShellPiped drives the shell as a pipe does: no prompt, no
// history file, every statement and command in order.
func TestQueryShellPiped(t *testing.T) {
	ctx := context.Background()
	project := shellProject(t)
	io, in, out, errOut := TestIO()
	in.WriteString(`.tables
.schema lb
.schema nosuch
SELECT count(*) AS n
  FROM lb;
SELECT 'a;b' AS s; SELECT 2 AS two;
SELEC 1;
.mode json
SELECT max(val) AS m FROM lb;
.mode line
SELECT id, val FROM lb ORDER BY id LIMIT 2;
.mode
.mode xml
.timer on
.mode csv
SELECT 7 AS seven
`)
	hist := filepath.Join(t.TempDir(), "state", "query_history")
	opts := &queryOptions{IO: io, Project: project, HistoryFile: hist}
	if err := queryRun(ctx, opts); err != nil {
		t.Fatal(err)
	}
	want := "lb\n" +
		"CREATE TABLE lb(id BIGINT, val BIGINT);\n" +
		"n\n3\n" +
		"s\na;b\n" +
		"two\n2\n" +
		"[\n  {\"m\": 40}\n]\n" +
		" id = 1\nval = 10\n\n id = 3\nval = 33\n" +
		"mode: line\n" +
		"seven\n7\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
	}
	e := errOut.String()
	for _, w := range []string{"Error: Parser Error", "Error: .mode takes table, csv, json or line", "Run Time (s): real "} {
		if !strings.Contains(e, w) {
			t.Errorf("stderr lacks %q:\n%s", w, e)
		}
	}
	if strings.Contains(e, "nosuch") == false {
		t.Errorf(".schema nosuch: no error:\n%s", e)
	}
	if strings.Contains(e, "datomfs>") || strings.Contains(out.String(), "datomfs>") {
		t.Errorf("a prompt on piped input:\n%s", e)
	}
	if _, err := os.Stat(hist); !os.IsNotExist(err) {
		t.Errorf("piped statements were saved to %s (%v)", hist, err)
	}
}

// TestQueryShellTTYPrompt: stdin on a terminal but stdout piped prompts on
// stderr and keeps stdout for data.
func TestQueryShellTTYPrompt(t *testing.T) {
	io, in, out, errOut := TestIO()
	io.StdinTTY = true
	in.WriteString("SELECT 1 AS a,\n 2 AS b;\n")
	opts := &queryOptions{IO: io, Project: shellProject(t), interrupts: make(chan os.Signal, 1)}
	if err := queryRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a,b\n1,2\n" {
		t.Errorf("stdout %q", out.String())
	}
	if !strings.Contains(errOut.String(), "datomfs> ") || !strings.Contains(errOut.String(), "    ...> ") {
		t.Errorf("stderr %q", errOut.String())
	}
}

// fakeTerminal is a lineReader that plays a script: a string is a line,
// errLineAborted a Ctrl-C, and a func runs before the next line is read.
type fakeTerminal struct {
	script     []any
	remembered []string
}

func (f *fakeTerminal) ReadLine(string) (string, error) {
	for len(f.script) > 0 {
		step := f.script[0]
		f.script = f.script[1:]
		switch s := step.(type) {
		case string:
			return s, nil
		case error:
			return "", s
		case func():
			s()
		}
	}
	return "", io.EOF
}
func (f *fakeTerminal) Remember(e string) { f.remembered = append(f.remembered, e) }
func (f *fakeTerminal) Close() error      { return nil }

func TestQueryShellCtrlC(t *testing.T) {
	ctx := context.Background()
	project := shellProject(t)

	t.Run("cancels the line", func(t *testing.T) {
		io, _, out, errOut := TestIO()
		io.StdinTTY, io.StdoutTTY = true, true
		term := &fakeTerminal{script: []any{"SELECT 1 AS a,", errLineAborted, "SELECT 2 AS b;", ".mode csv", "SELECT 3 AS c;"}}
		opts := &queryOptions{IO: io, Project: project, lines: term, interrupts: make(chan os.Signal, 1)}
		if err := queryRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != "b\n-\n2\n(1 row)\nc\n3\n" {
			t.Errorf("stdout %q", got)
		}
		if strings.Contains(errOut.String(), "Error") {
			t.Errorf("stderr %q", errOut.String())
		}
		if want := []string{"SELECT 2 AS b;", ".mode csv", "SELECT 3 AS c;"}; !slices.Equal(term.remembered, want) {
			t.Errorf("history %q, want %q", term.remembered, want)
		}
	})

	t.Run("interrupts the statement", func(t *testing.T) {
		io, _, out, errOut := TestIO()
		io.StdinTTY = true
		interrupts := make(chan os.Signal, 1)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // Ctrl-C until the shell reads its next line
			defer wg.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					select {
					case interrupts <- os.Interrupt:
					default:
					}
				}
			}
		}()
		term := &fakeTerminal{script: []any{
			"SELECT sum(hash(i)) FROM range(1000000000000) t(i);",
			func() { close(stop); wg.Wait() },
			"SELECT 42 AS answer;",
		}}
		opts := &queryOptions{IO: io, Project: project, lines: term, interrupts: interrupts}
		if err := queryRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errOut.String(), "Interrupted\n") {
			t.Errorf("stderr %q", errOut.String())
		}
		if out.String() != "answer\n42\n" {
			t.Errorf("stdout %q", out.String())
		}
	})
}

// TestQueryTableWidth: on a terminal a wide result is fitted to its width;
// piped, nothing is cut.
func TestQueryTableWidth(t *testing.T) {
	ctx := context.Background()
	project := shellProject(t)
	sql := "SELECT id, repeat('x', 100) AS long, 'short' AS s FROM lb ORDER BY id"
	for _, tty := range []bool{true, false} {
		io, _, out, _ := TestIO()
		io.StdoutTTY = tty
		io.TermWidth = func() int { return 40 }
		opts := &queryOptions{IO: io, Project: project, SQL: sql, Format: "table"}
		if err := queryRun(ctx, opts); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 6 {
			t.Fatalf("tty=%v: %q", tty, out.String())
		}
		for _, l := range lines {
			n := utf8.RuneCountInString(l)
			if tty && n > 40 {
				t.Errorf("tty: line of %d > 40: %q", n, l)
			}
		}
		if tty != strings.Contains(lines[2], "…") {
			t.Errorf("tty=%v: row %q", tty, lines[2])
		}
		if !tty && !strings.Contains(lines[2], strings.Repeat("x", 100)) {
			t.Errorf("piped: row cut %q", lines[2])
		}
		if !strings.HasSuffix(lines[2], "short") {
			t.Errorf("tty=%v: last column lost: %q", tty, lines[2])
		}
	}
}
