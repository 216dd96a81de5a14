package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

func TestBadInput(t *testing.T) {
	p := newProject(t, localBackend(t))
	good := extract(t, "2026-01-31", "parquet")["lb"]
	corrupt := filepath.Join(t.TempDir(), "corrupt.parquet")
	body, _ := os.ReadFile(good)
	os.WriteFile(corrupt, body[:len(body)/2], 0o644)
	notParquet := filepath.Join(t.TempDir(), "notes.parquet")
	os.WriteFile(notParquet, []byte("this is not parquet\n"), 0o644)

	cases := []struct {
		name string
		args []string
		want string // in the error line
	}{
		{"unknown table history", []string{"history", "nosuch"}, "nosuch"},
		{"unknown table read", []string{"read", "nosuch", "-o", filepath.Join(t.TempDir(), "x.parquet")}, "nosuch"},
		{"unknown version", []string{"read", "dm@ffffffff", "-o", filepath.Join(t.TempDir(), "x.parquet")}, "ffffffff"},
		{"reserved name", []string{"write", good, "--table", "datom"}, "datom"},
		{"reserved name input_files", []string{"write", good, "--table", "input_files"}, "input_files"},
		{"slash in name", []string{"write", good, "--table", "a/b"}, "a/b"},
		{"dot dot", []string{"write", good, "--table", ".."}, ".."},
		{"leading digit", []string{"write", good, "--table", "1lb"}, "1lb"},
		{"corrupt parquet", []string{"write", corrupt, "--table", "lb"}, "corrupt.parquet"},
		{"not parquet", []string{"write", notParquet, "--table", "lb"}, "notes.parquet"},
		{"missing file", []string{"write", filepath.Join(t.TempDir(), "none.parquet"), "--table", "lb"}, "none.parquet"},
		{"unsupported type", []string{"write", "/etc/hostname", "--table", "lb"}, "unsupported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p.unchanged(t, func() {
				r := p.e.run(append(c.args, "-C", p.dir)...)
				oneLineError(t, r)
				if !strings.Contains(strings.SplitN(r.err, "\n", 2)[0], c.want) {
					t.Errorf("error does not name %q:\n%s", c.want, r.err)
				}
			})
		})
	}

	t.Run("unreachable remote", func(t *testing.T) {
		git(t, p.dir, "remote", "set-url", "origin", filepath.Join(t.TempDir(), "gone.git"))
		defer git(t, p.dir, "remote", "set-url", "origin", p.remote)
		p.unchanged(t, func() {
			r := p.e.run("write", good, "--table", "lb", "-C", p.dir)
			oneLineError(t, r)
		})
	})

	t.Run("init with unreachable remote", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new")
		r := p.e.run("init", dir, "--project", "OTHER", "--store", filepath.Join(t.TempDir(), "st"), "--remote", "http://127.0.0.1:1/x.git")
		oneLineError(t, r)
		if _, err := os.Stat(dir); err == nil {
			t.Error("a failed init left its directory behind")
		}
	})

	t.Run("init into a used store", func(t *testing.T) {
		r := p.e.run("init", filepath.Join(t.TempDir(), "dup"), "--project", "OTHER", "--store", p.b.store, "--remote", testenv.BareRemote(t))
		oneLineError(t, r)
		if !strings.Contains(r.err, "already holds") {
			t.Errorf("want 'already holds a datom project', got %s", r.err)
		}
	})

	t.Run("usage", func(t *testing.T) {
		r := p.e.run("read", "dm", "-C", p.dir)
		if r.code != 2 {
			t.Errorf("read without -o: want exit 2, got %s", r)
		}
		r = p.e.run("frobnicate")
		if r.code != 2 {
			t.Errorf("unknown verb: want exit 2, got %s", r)
		}
	})
}

// badCSVs are delimited files datomfs refuses, with what the error names.
var badCSVs = []struct {
	name, body, want string
}{
	{"ragged.csv", "a,b,c\n1,2\n3,4,5,6\n", "line 2: row has 2 fields, the header has 3"},
	{"quote.csv", "a,b\n1,2\n\"3,4\n", "line 3: a quoted field"},
	{"dup.csv", "USUBJID,AGE,usubjid\n1,2,3\n", `duplicate column name "USUBJID" (column 1), "usubjid" (column 3)`},
	{"noname.csv", "a,,b\n1,2,3\n", "empty column name in column 2"},
	{"header.csv", "a,b\n", "no data rows"},
}

// TestBadCSV: `write` refuses a malformed CSV with the line, one error line
// and a hint, exit 1, and publishes nothing.
func TestBadCSV(t *testing.T) {
	p := newProject(t, localBackend(t))
	list := p.e.must("list", "--json", "-C", p.dir).out
	for _, c := range badCSVs {
		t.Run(c.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), c.name)
			os.WriteFile(f, []byte(c.body), 0o644)
			p.unchanged(t, func() {
				r := p.e.run("write", f, "--table", "t", "-C", p.dir)
				oneLineError(t, r)
				if r.code != 1 {
					t.Errorf("exit %d, want 1", r.code)
				}
				lines := strings.Split(strings.TrimSpace(r.err), "\n")
				if !strings.Contains(lines[0], c.name) || !strings.Contains(lines[0], c.want) {
					t.Errorf("error line %q, want the file and %q", lines[0], c.want)
				}
				if len(lines) != 2 || !strings.HasPrefix(lines[1], "hint: ") {
					t.Errorf("want a hint line:\n%s", r.err)
				}
			})
		})
	}
	if got := p.e.must("list", "--json", "-C", p.dir).out; got != list {
		t.Errorf("list changed:\n%s\n→\n%s", list, got)
	}
}

// TestBadCSVMount: copying a malformed CSV into the mount fails close()
// with EINVAL, logs the reason with the line, and publishes nothing.
func TestBadCSVMount(t *testing.T) {
	p := newProject(t, localBackend(t))
	list := p.e.must("list", "--json", "-C", p.dir).out
	m := mountDatomfs(t, p.e, "-C", p.dir)
	for _, c := range badCSVs {
		t.Run(c.name, func(t *testing.T) {
			for _, dst := range []string{filepath.Join(m.dir, "tables", c.name), filepath.Join(m.dir, "tables", "dm", c.name)} {
				err := os.WriteFile(dst, []byte(c.body), 0o644)
				if !errors.Is(err, syscall.EINVAL) {
					t.Errorf("write %s: %v, want EINVAL", dst, err)
				}
				// The kernel may answer from its dentry cache for a jiffy.
				waitFor(t, 5*time.Second, "the refused file to leave the mount", func() bool {
					_, err := os.Stat(dst)
					return errors.Is(err, os.ErrNotExist)
				})
			}
			// The log line is written before close returns, but it reaches
			// the test through a pipe. slog's text handler escapes quotes.
			logged := strings.ReplaceAll(c.want, `"`, `\"`)
			waitFor(t, 5*time.Second, "the log line "+logged, func() bool {
				return strings.Contains(m.stderr.String(), logged)
			})
		})
	}
	if _, err := os.Stat(filepath.Join(m.dir, "tables", "ragged")); err == nil {
		t.Error("a table appeared for a refused file")
	}
	p.e.must("pull", "-C", p.dir)
	if got := p.e.must("list", "--json", "-C", p.dir).out; got != list {
		t.Errorf("list changed:\n%s\n→\n%s", list, got)
	}
}
