package fs

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/datomfs/datomfs/internal/rds"
	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions"
)

// The core's rules, without a mount: each case runs on a fresh core over
// the fixture project (lb with two versions, ae with one), after its own
// set-up, and checks the error by its sentinel.

// TestCoreIsFUSEFree keeps go-fuse out of the core's files: only nodes.go,
// handles.go and mount.go speak FUSE.
func TestCoreIsFUSEFree(t *testing.T) {
	for _, file := range []string{"core.go", "tree.go", "staging.go", "renditions.go", "write.go", "refresh.go", "errno.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if strings.Contains(imp.Path.Value, "go-fuse") {
				t.Errorf("%s imports %s", file, imp.Path.Value)
			}
		}
	}
}

func newTestCore(t *testing.T, p *versions.Project, fx *fixture) *core {
	t.Helper()
	return newCore(p, coreOptions{log: fx.options().Logger, conv: testConverter{}, staging: t.TempDir()})
}

// stage creates a staged file with body, as create + write + close would
// leave a temporary name (nothing is published).
func stage(t *testing.T, c *core, dir, name string, body []byte) *staged {
	t.Helper()
	w, err := c.create(context.Background(), dirOf(dir), name, 0)
	if err != nil {
		t.Fatalf("create %s/%s: %v", dir, name, err)
	}
	if _, err := w.write(body, 0); err != nil {
		t.Fatal(err)
	}
	w.release()
	return w.st
}

// errIs reports whether err matches want (nil: no error).
func errIs(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

func TestCoreUnlink(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	v1 := fx.V1.ID.Short()
	cases := []struct {
		name      string
		setup     func(t *testing.T, c *core)
		dir, file string
		want      error
		gone      bool // the name is no longer staged afterwards
	}{
		{"version", nil, "lb", "@" + v1 + ".parquet", versions.ErrImmutable, false},
		{"version by prefix", nil, "lb", "@" + v1[:5] + ".parquet", versions.ErrImmutable, false},
		{"rendition", nil, "lb", "@" + v1 + ".csv", versions.ErrImmutable, false},
		{"current", nil, "lb", currentName, versions.ErrImmutable, false},
		{"history", nil, "lb", historyName, versions.ErrImmutable, false},
		{"missing file", nil, "lb", "nothing.parquet", versions.ErrNotFound, false},
		{"missing version", nil, "lb", "@ffffffff.parquet", versions.ErrNotFound, false},
		{"table folder", nil, "", "lb", errIsDir, false},
		{"missing table", nil, "", "zz", versions.ErrNotFound, false},
		{"staged temp name", func(t *testing.T, c *core) { stage(t, c, "lb", "x.tmp", []byte("x")) }, "lb", "x.tmp", nil, true},
		{"staged in tables/", func(t *testing.T, c *core) { stage(t, c, "", ".dm.parquet.swp", []byte("x")) }, "", ".dm.parquet.swp", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCore(t, fx.Project, fx)
			if tc.setup != nil {
				tc.setup(t, c)
			}
			if err := c.unlink(ctx, dirOf(tc.dir), tc.file); !errIs(err, tc.want) {
				t.Fatalf("unlink %s/%s: %v, want %v", tc.dir, tc.file, err, tc.want)
			}
			if tc.gone && c.staging.lookup(dirOf(tc.dir), tc.file) != nil {
				t.Error("the staged file is still there")
			}
		})
	}
}

func TestCoreRename(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	v1 := fx.V1.ID.Short()
	good := parquetBytes(t, 7, "renamed")
	cases := []struct {
		name          string
		setup         func(t *testing.T, c *core)
		dir, file     string
		dstDir, dst   string
		flags         uint32
		want          error
		stagedAt      string // dstDir/dst is staged afterwards ("" = not)
		newVersionsLb int    // versions lb gains
	}{
		{"version", nil, "lb", "@" + v1 + ".parquet", "lb", "x.parquet", 0, versions.ErrImmutable, "", 0},
		{"current", nil, "lb", currentName, "lb", "x.parquet", 0, versions.ErrImmutable, "", 0},
		{"history", nil, "lb", historyName, "lb", "h.json", 0, versions.ErrImmutable, "", 0},
		{"table with versions", nil, "", "lb", "", "lb2", 0, versions.ErrImmutable, "", 0},
		{"missing", nil, "lb", "nothing.tmp", "lb", "x.tmp", 0, versions.ErrNotFound, "", 0},
		{"out of the tables", stageTmp, "lb", "a.tmp", outside, "a.tmp", 0, versions.ErrImmutable, "", 0},
		{"unknown flags", stageTmp, "lb", "a.tmp", "lb", "b.tmp", 4, errBadFlags, "", 0},
		{"temp to temp", stageTmp, "lb", "a.tmp", "lb", "b.tmp", 0, nil, "lb/b.tmp", 0},
		{"temp to temp in another table", stageTmp, "lb", "a.tmp", "ae", ".b", 0, nil, "ae/.b", 0},
		{"noreplace onto a staged file", func(t *testing.T, c *core) {
			stageTmp(t, c)
			stage(t, c, "lb", "b.tmp", []byte("b"))
		}, "lb", "a.tmp", "lb", "b.tmp", unixRenameNoReplace, versions.ErrExists, "lb/b.tmp", 0},
		{"to a version name", stageTmp, "lb", "a.tmp", "lb", "@abc.parquet", 0, versions.ErrImmutable, "", 0},
		{"to history.json", stageTmp, "lb", "a.tmp", "lb", historyName, 0, versions.ErrImmutable, "", 0},
		{"to another type", stageTmp, "lb", "a.tmp", "lb", "a.json", 0, versions.ErrInvalidInput, "", 0},
		{"to a bad table name", stageTmp, "lb", "a.tmp", "", "9x.parquet", 0, versions.ErrInvalidName, "", 0},
		{"to a missing table", stageTmp, "lb", "a.tmp", "zz", "a.parquet", 0, versions.ErrNotFound, "", 0},
		{"not a table", func(t *testing.T, c *core) { stage(t, c, "lb", "a.tmp", []byte("not parquet")) },
			"lb", "a.tmp", "lb", "a.parquet", 0, versions.ErrInvalidInput, "", 0},
		{"publishes", func(t *testing.T, c *core) { stage(t, c, "lb", "a.tmp", good) },
			"lb", "a.tmp", "lb", "a.parquet", 0, nil, "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCore(t, fx.Project, fx)
			if tc.setup != nil {
				tc.setup(t, c)
			}
			before := historyLen(t, fx.Project, "lb")
			var err error
			if tc.dstDir == outside {
				err = c.renameOut()
			} else {
				err = c.rename(ctx, dirOf(tc.dir), tc.file, dirOf(tc.dstDir), tc.dst, tc.flags)
			}
			if !errIs(err, tc.want) {
				t.Fatalf("rename %s/%s -> %s/%s: %v, want %v", tc.dir, tc.file, tc.dstDir, tc.dst, err, tc.want)
			}
			if tc.stagedAt != "" && c.staging.lookup(dirOf(tc.dstDir), tc.dst) == nil {
				t.Errorf("%s is not staged", tc.stagedAt)
			}
			if tc.stagedAt == "" && tc.dstDir != outside && c.staging.lookup(dirOf(tc.dstDir), tc.dst) != nil {
				t.Errorf("%s/%s is staged", tc.dstDir, tc.dst)
			}
			if got := historyLen(t, fx.Project, "lb") - before; got != tc.newVersionsLb {
				t.Errorf("lb gained %d versions, want %d", got, tc.newVersionsLb)
			}
		})
	}
}

func stageTmp(t *testing.T, c *core) { stage(t, c, "lb", "a.tmp", []byte("a")) }

func TestCoreCreate(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	cases := []struct {
		dir, file string
		want      error
	}{
		{"lb", "new.parquet", nil},
		{"lb", "new.CSV", nil},
		{"lb", ".new.parquet.swp", nil},
		{"lb", "new.parquet~", nil},
		{"lb", "notes.json", versions.ErrInvalidInput},
		{"lb", "README", versions.ErrInvalidInput},
		{"lb", ".parquet", nil}, // a dot-file: a temporary name
		{"lb", "@abc.parquet", versions.ErrImmutable},
		{"lb", "@" + fx.V1.ID.Short() + ".csv", versions.ErrImmutable},
		{"lb", currentName, versions.ErrImmutable},
		{"lb", historyName, versions.ErrImmutable},
		{"zz", "a.parquet", versions.ErrNotFound},
		{"", "dm.parquet", nil},
		{"", "dm.csv", nil},
		{"", "dm.tsv", nil}, // every input format of versions (SEMANTICS.md)
		{"", "dm.PSV", nil},
		{"", "dm.txt", nil},
		{"", "dm.json", versions.ErrInvalidInput},
		{"", "9x.parquet", versions.ErrInvalidName},
		{"", "a.b.parquet", versions.ErrInvalidName},
		{"", "x.tmp", nil},
	}
	for _, tc := range cases {
		t.Run(tc.dir+"/"+tc.file, func(t *testing.T) {
			c := newTestCore(t, fx.Project, fx)
			w, err := c.create(ctx, dirOf(tc.dir), tc.file, 0)
			if !errIs(err, tc.want) {
				t.Fatalf("create: %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			defer w.release()
			entries, err := c.readdir(ctx, dirOf(tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(entries, func(e dirEntry) bool { return e.name == tc.file && e.ino == w.st.ino }) {
				t.Errorf("%s is not listed: %v", tc.file, entries)
			}
		})
	}
}

func TestCoreFolders(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	steps := []struct {
		what string
		do   func() error
		want error
	}{
		{"mkdir a new table", func() error { _, err := c.mkdir(ctx, "dm"); return err }, nil},
		{"mkdir it again", func() error { _, err := c.mkdir(ctx, "dm"); return err }, versions.ErrExists},
		{"mkdir a table with versions", func() error { _, err := c.mkdir(ctx, "lb"); return err }, versions.ErrExists},
		{"mkdir a bad name", func() error { _, err := c.mkdir(ctx, "a.b"); return err }, versions.ErrInvalidName},
		{"rmdir a table with versions", func() error { return c.rmdir(ctx, "lb") }, versions.ErrImmutable},
		{"rmdir a missing table", func() error { return c.rmdir(ctx, "zz") }, versions.ErrNotFound},
		{"stage into the new table", func() error { _, err := c.create(ctx, tn("dm"), "x.tmp", 0); return err }, nil},
		{"rmdir it while a file is staged", func() error { return c.rmdir(ctx, "dm") }, errNotEmpty},
		{"unlink the staged file", func() error { return c.unlink(ctx, tn("dm"), "x.tmp") }, nil},
		{"rmdir it empty", func() error { return c.rmdir(ctx, "dm") }, nil},
		{"rmdir it again", func() error { return c.rmdir(ctx, "dm") }, versions.ErrNotFound},
	}
	for _, s := range steps {
		if err := s.do(); !errIs(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.what, err, s.want)
		}
	}
}

// A reader core refuses every change with ErrReadOnly.
func TestCoreReaderIsReadOnly(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	rd, err := versions.OpenReader(ctx, fx.Store, "STUDY_001", fx.options())
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCore(t, rd, fx)
	v1 := "@" + fx.V1.ID.Short() + ".parquet"
	for what, err := range map[string]error{
		"create":       func() error { _, err := c.create(ctx, tn("lb"), "x.parquet", 0); return err }(),
		"create table": func() error { _, err := c.create(ctx, dirOf(""), "dm.parquet", 0); return err }(),
		"mkdir":        func() error { _, err := c.mkdir(ctx, "dm"); return err }(),
		"rmdir":        c.rmdir(ctx, "lb"),
		"unlink":       c.unlink(ctx, tn("lb"), v1),
		"rename":       c.rename(ctx, tn("lb"), v1, tn("lb"), "y.parquet", 0),
		"rename out":   c.renameOut(),
		"open rw":      func() error { _, err := c.openVersion(ctx, fx.V1, syscall.O_RDWR); return err }(),
		"immutable":    c.immutable("x"),
	} {
		if !errors.Is(err, versions.ErrReadOnly) {
			t.Errorf("%s on a reader: %v, want ErrReadOnly", what, err)
		}
	}
}

// A written handle publishes on its first flush and repeats the result on
// later ones; a refused file leaves the tree.
func TestCorePublishOnFlush(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	for _, tc := range []struct {
		name  string
		body  []byte
		want  error
		added int
	}{
		{"a table", parquetBytes(t, 9, "flush"), nil, 1},
		{"not a table", []byte("not parquet"), versions.ErrInvalidInput, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := historyLen(t, fx.Project, "lb")
			w, err := c.create(ctx, tn("lb"), "in.parquet", 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.write(tc.body, 0); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if err := w.flush(ctx, 0); !errIs(err, tc.want) {
					t.Fatalf("flush %d: %v, want %v", i+1, err, tc.want)
				}
			}
			w.release()
			if c.staging.lookup(tn("lb"), "in.parquet") != nil {
				t.Error("the file is still in the tree after close")
			}
			if got := historyLen(t, fx.Project, "lb") - before; got != tc.added {
				t.Errorf("lb gained %d versions, want %d", got, tc.added)
			}
		})
	}
}

// Every input format of versions publishes from the mount, read as its
// name says (the staging file is written as it is: no extension needed).
func TestCorePublishesEveryInputFormat(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	for i, f := range versions.Formats() {
		body := parquetBytes(t, 11+i, "format")
		if f.Delimited() {
			d := string(f.Delimiter())
			if d == "\x00" {
				d = "," // txt: the header line decides
			}
			body = []byte(fmt.Sprintf("id%sname\n%d%sformat\n", d, 11+i, d))
		}
		t.Run(string(f), func(t *testing.T) {
			before := historyLen(t, fx.Project, "lb")
			w, err := c.create(ctx, tn("lb"), "in"+f.Ext(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.write(body, 0); err != nil {
				t.Fatal(err)
			}
			if err := w.flush(ctx, 0); err != nil {
				t.Fatalf("flush: %v", err)
			}
			w.release()
			if got := historyLen(t, fx.Project, "lb") - before; got != 1 {
				t.Errorf("lb gained %d versions, want 1", got)
			}
		})
	}
	if entries, _ := os.ReadDir(c.staging.dir); len(entries) != 0 {
		t.Errorf("staging folder not empty after the writes: %v", entries)
	}
}

// A flush from a process other than the opener (a forked child closing
// the descriptor it inherited, at its exec) publishes nothing, even though
// the handle counts as written from its create: the opener may not have
// written yet, or not all. The opener's own flush then publishes every
// byte, and later flushes from anyone repeat its result.
func TestCoreFlushFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	const opener, child = 1000, 1001
	before := historyLen(t, fx.Project, "lb")
	body := parquetBytes(t, 9, "forked")
	w, err := c.create(ctx, tn("lb"), "in.parquet", opener)
	if err != nil {
		t.Fatal(err)
	}
	defer w.release()
	half := len(body) / 2
	for i, chunk := range [][]byte{nil, body[:half]} {
		if _, err := w.write(chunk, 0); err != nil {
			t.Fatal(err)
		}
		if err := w.flush(ctx, child); err != nil {
			t.Fatalf("child's flush after %d bytes: %v", i*half, err)
		}
		if c.staging.lookup(tn("lb"), "in.parquet") == nil {
			t.Fatalf("the child's flush after %d bytes took the file out of the tree", i*half)
		}
		if n := historyLen(t, fx.Project, "lb") - before; n != 0 {
			t.Fatalf("the child's flush after %d bytes published %d versions", i*half, n)
		}
	}
	if _, err := w.write(body[half:], int64(half)); err != nil {
		t.Fatal(err)
	}
	for _, caller := range []int{opener, child, 0} {
		if err := w.flush(ctx, caller); err != nil {
			t.Fatalf("flush from %d: %v", caller, err)
		}
	}
	vs, err := fx.Project.Versions(ctx, tn("lb"))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs)-before != 1 {
		t.Fatalf("lb gained %d versions, want 1", len(vs)-before)
	}
	if got := storeBytes(t, fx.Project, vs[0]); !bytes.Equal(got, body) {
		t.Errorf("published %d bytes, want the %d written", len(got), len(body))
	}
}

// Listings, lookups and opens of the history.
func TestCoreTree(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	entries, err := c.readdir(ctx, dirOf(""))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.name)
	}
	if !slices.Equal(got, []string{"ae", "lb"}) {
		t.Errorf("tables/: %v", got)
	}
	entries, err = c.readdir(ctx, tn("lb"))
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, e := range entries {
		got = append(got, e.name)
	}
	slices.Sort(got)
	want := []string{vname(fx.V1.ID, ".csv"), vname(fx.V1.ID, ".parquet"), vname(fx.V1.ID, ".rds"),
		vname(fx.V2.ID, ".csv"), vname(fx.V2.ID, ".parquet"), vname(fx.V2.ID, ".rds"), currentName, currentRDSName, historyName}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("tables/lb:\n got %v\nwant %v", got, want)
	}
	if _, err := c.readdir(ctx, tn("zz")); !errors.Is(err, versions.ErrNotFound) {
		t.Errorf("readdir of a missing table: %v", err)
	}
	if cur, err := c.tree.current(ctx, tn("lb")); err != nil || cur != vname(fx.V2.ID, ".parquet") {
		t.Errorf("current: %q %v", cur, err)
	}
	if cur, err := c.tree.currentRDS(ctx, tn("lb")); err != nil || cur != vname(fx.V2.ID, ".rds") {
		t.Errorf("current.rds: %q %v", cur, err)
	}

	// Versions and history.json open for reading only.
	for _, flags := range []uint32{syscall.O_WRONLY, syscall.O_RDWR, syscall.O_RDONLY | syscall.O_TRUNC, syscall.O_RDONLY | syscall.O_APPEND} {
		if _, err := c.openVersion(ctx, fx.V1, flags); !errors.Is(err, versions.ErrImmutable) {
			t.Errorf("open version with %#x: %v", flags, err)
		}
		for _, kind := range []string{kindCSV, kindRDS} {
			if _, _, err := c.openRendition(ctx, fx.V1, kind, flags); !errors.Is(err, versions.ErrImmutable) {
				t.Errorf("open %s rendition with %#x: %v", kind, flags, err)
			}
		}
		if _, err := c.openHistory(ctx, tn("lb"), flags); !errors.Is(err, versions.ErrImmutable) {
			t.Errorf("open history with %#x: %v", flags, err)
		}
	}
	r, err := c.openVersion(ctx, fx.V1, syscall.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	body, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(body, storeBytes(t, fx.Project, fx.V1)) {
		t.Errorf("read of a version: %d bytes, %v", len(body), err)
	}
	for _, kind := range []string{kindCSV, kindRDS} {
		f, unpin, err := c.openRendition(ctx, fx.V1, kind, syscall.O_RDONLY)
		if err != nil {
			t.Fatal(err)
		}
		defer unpin()
		defer f.Close()
		if fi, err := f.Stat(); err != nil || fi.Size() == 0 {
			t.Errorf("%s rendition: %v %v", kind, fi, err)
		}
		if size, ok := c.renditions.size(fx.V1, kind); !ok || size == 0 {
			t.Errorf("%s rendition size after open: %d %v", kind, size, ok)
		}
		if _, err := os.Stat(f.Name()); err != nil {
			t.Error(err)
		}
		if !strings.HasSuffix(f.Name(), "."+kind) {
			t.Errorf("%s rendition cached as %s", kind, f.Name())
		}
	}
	// An .rds rendition is gzip (saveRDS's default) of R's XDR format.
	rdsPath := fx.Project.RenditionPath(fx.V1, ".rds")
	raw, err := os.ReadFile(rdsPath)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("rds rendition is not gzip: %v", err)
	}
	head := make([]byte, 6)
	if _, err := io.ReadFull(zr, head); err != nil || string(head) != "X\n\x00\x00\x00\x03" {
		t.Errorf("rds rendition starts %q (%v), want XDR version 3", head, err)
	}
}

// The tree keeps parsed manifests and histories between refreshes and
// drops them exactly when they change: a write through another clone shows
// after Refresh (not before), a publish through the mount at once, and a
// refresh that changed nothing keeps what was loaded.
func TestCoreTreeCacheInvalidation(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	names := func(table string) []string {
		t.Helper()
		s, err := c.tree.versions(ctx, tn(table))
		if err != nil {
			t.Fatal(err)
		}
		return s.names
	}
	history := func(table string) []byte {
		t.Helper()
		b, err := c.tree.historyJSON(ctx, tn(table))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := names("lb"); len(got) != 2 {
		t.Fatalf("lb: %v", got)
	}
	h0 := history("lb")
	s0, _ := c.tree.versions(ctx, tn("lb"))

	// A refresh that changed nothing keeps the loaded history.
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.tree.versions(ctx, tn("lb")); s != s0 {
		t.Error("a refresh that changed nothing dropped lb's history")
	}

	// A write through another clone: seen after Refresh.
	pb, err := versions.Clone(ctx, fx.Remote, filepath.Join(t.TempDir(), "b"), versions.CloneOptions{}, fx.options())
	if err != nil {
		t.Fatal(err)
	}
	v3 := writeVersion(t, pb, "lb", parquetBytes(t, 5, "other clone"))
	writeVersion(t, pb, "cm", parquetBytes(t, 2, "new table"))
	if got := names("lb"); len(got) != 2 {
		t.Errorf("lb before refresh: %v", got)
	}
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := names("lb"); len(got) != 3 || !strings.HasPrefix(string(v3.ID), got[0]) {
		t.Errorf("lb after refresh: %v, want %s first", got, v3.ID.Short())
	}
	if cur, err := c.tree.current(ctx, tn("lb")); err != nil || !strings.HasPrefix(cur, "@"+v3.ID.Short()) {
		t.Errorf("current after refresh: %q %v", cur, err)
	}
	if h := history("lb"); bytes.Equal(h, h0) || !bytes.Contains(h, []byte(v3.ID)) {
		t.Errorf("history.json after refresh lacks %s", v3.ID.Short())
	}
	if got := names("cm"); len(got) != 1 {
		t.Errorf("cm after refresh: %v", got)
	}
	if got := names("ae"); len(got) != 1 {
		t.Errorf("ae after refresh: %v", got)
	}

	// A publish through the mount: seen at once.
	w, err := c.create(ctx, tn("ae"), "in.parquet", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.write(parquetBytes(t, 7, "publish"), 0); err != nil {
		t.Fatal(err)
	}
	if err := w.flush(ctx, 0); err != nil {
		t.Fatal(err)
	}
	w.release()
	latest, err := fx.Project.Resolve(ctx, tn("ae"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names("ae"); len(got) != 2 || !strings.HasPrefix(string(latest.ID), got[0]) {
		t.Errorf("ae after publish: %v, want %s first", got, latest.ID.Short())
	}
	if h := history("ae"); !bytes.Contains(h, []byte(latest.ID)) {
		t.Errorf("history.json after publish lacks %s", latest.ID.Short())
	}
}

// The kernel's RELEASE of a handle comes after close(2) has returned, so it
// can arrive while a rename (or another handle's flush) publishes the file.
// A release after the file was taken for publishing leaves it to the
// publisher: removing it would publish nothing (ENOENT or EINVAL at rename).
func TestCoreLateReleaseKeepsAFileBeingPublished(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	w, err := c.create(ctx, tn("lb"), ".extract.parquet.Xa81zq", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.write(parquetBytes(t, 12, "late"), 0); err != nil {
		t.Fatal(err)
	}
	if err := w.flush(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if !c.staging.take(w.st) { // what rename does before it publishes
		t.Fatal("take failed")
	}
	w.release()
	if _, err := os.Stat(w.st.path); err != nil {
		t.Fatalf("a late release removed the file being published: %v", err)
	}
	os.Remove(w.st.path)
}

// A version whose .rds rendition is refused (a column R's arrow would not
// give as a plain vector, here a binary one) opens with EINVAL and a log
// line naming the column; the refusal is remembered (versions never
// change) and nothing is left in the cache.
func TestCoreRDSRefusal(t *testing.T) {
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "blob", Type: arrow.BinaryTypes.Binary, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).Append(1)
	b.Field(1).(*array.BinaryBuilder).Append([]byte{0, 1})
	rec := b.NewRecord()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 1024, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "blob.parquet")
	if err := os.WriteFile(bad, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	calls := 0
	c.renditions.toRDS = func(ctx context.Context, _, dst string) error {
		calls++
		return rds.Converter{}.ParquetToRDS(ctx, bad, dst)
	}
	for i := 0; i < 2; i++ {
		_, _, err := c.openRendition(ctx, fx.V1, kindRDS, syscall.O_RDONLY)
		if !errors.Is(err, rds.ErrUnsupported) {
			t.Fatalf("open #%d: %v, want rds.ErrUnsupported", i+1, err)
		}
		if en := c.errno("open", "lb", versionPath(fx.V1, kindRDS), err); en != syscall.EINVAL {
			t.Errorf("errno %v, want EINVAL", en)
		}
	}
	if calls != 1 {
		t.Errorf("converter ran %d times, want once", calls)
	}
	if line := fx.Log.String(); !strings.Contains(line, `column \"blob\" (binary)`) || !strings.Contains(line, "errno=\"invalid argument\"") {
		t.Errorf("log does not name the column and errno:\n%s", line)
	}
	if _, ok := c.renditions.size(fx.V1, kindRDS); ok {
		t.Error("a refused rendition left a file in the cache")
	}
	leftovers, _ := filepath.Glob(filepath.Join(fx.Cache, "objects", "*", "*.rds*"))
	if len(leftovers) != 0 {
		t.Errorf("left in the cache: %v", leftovers)
	}
}

// Building a large rendition is logged at the default level: its start,
// the bytes written so far while it runs, and its size and time when done.
func TestCoreRenditionProgressLog(t *testing.T) {
	oldAt, oldEvery := renditionLogAt, renditionLogEvery
	renditionLogAt, renditionLogEvery = 0, 20*time.Millisecond
	t.Cleanup(func() { renditionLogAt, renditionLogEvery = oldAt, oldEvery })
	ctx := context.Background()
	fx := newProjectFixture(t)
	c := newTestCore(t, fx.Project, fx)
	c.renditions.toRDS = func(ctx context.Context, _, dst string) error {
		f, err := os.Create(dst)
		if err != nil {
			return err
		}
		defer f.Close()
		for i := 0; i < 5; i++ { // a slow conversion
			f.Write(make([]byte, 1000))
			time.Sleep(30 * time.Millisecond)
		}
		return nil
	}
	f, unpin, err := c.openRendition(ctx, fx.V1, kindRDS, syscall.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	unpin()
	log := fx.Log.String()
	for _, want := range []string{
		"datomfs: building rds rendition of lb@" + fx.V1.ID.Short(),
		"written_bytes=",
		"datomfs: built rds rendition of lb@" + fx.V1.ID.Short(),
		"bytes=5000",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// On an S3 store, a published staged file becomes the cached copy of its
// version (a hard link, not a copy), but only once its last handle is
// released: a descriptor left open after the publishing close (a dup) could
// still change it. Until then it stays in staging, uncached.
func TestCorePublishedFileCachedAtLastRelease(t *testing.T) {
	ctx := context.Background()
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "cachelater")
	srv.SetEnv(t)
	fx := newProjectFixtureAt(t, "s3://cachelater/p")
	c := newTestCore(t, fx.Project, fx)
	w, err := c.create(ctx, tn("ae"), "in.parquet", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.write(parquetBytes(t, 9, "linked"), 0); err != nil {
		t.Fatal(err)
	}
	other, err := c.openStaged(w.st, syscall.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	staged, err := os.Stat(w.st.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.flush(ctx, 0); err != nil {
		t.Fatal(err)
	}
	latest, err := fx.Project.Resolve(ctx, tn("ae"), "")
	if err != nil {
		t.Fatal(err)
	}
	cachedFile := func() string {
		t.Helper()
		r, err := fx.Project.OpenVersion(ctx, latest, versions.OpenOptions{NoFill: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Local() == nil {
			return ""
		}
		return r.Local().Name()
	}
	w.release()
	if got := cachedFile(); got != "" {
		t.Fatalf("cached as %s while a handle is still open", got)
	}
	if _, err := os.Stat(w.st.path); err != nil {
		t.Fatalf("the staged file went before its last release: %v", err)
	}
	other.release()
	got := cachedFile()
	if got == "" {
		t.Fatal("not cached after the last release")
	}
	fi, err := os.Stat(got)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fi, staged) {
		t.Error("the cache holds a copy, not the staged file")
	}
	if _, err := os.Stat(w.st.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the staged file is still in staging: %v", err)
	}
}
