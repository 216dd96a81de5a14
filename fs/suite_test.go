package fs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/rds"
	"github.com/datomfs/datomfs/internal/testenv"
)

// mountSuite is the set of checks every mounted project must pass, whatever
// its store (a local folder here; S3 through the Versity gateway runs the
// same map). Each check gets a fresh fixture, already mounted.
var mountSuite = map[string]func(t *testing.T, fx *fixture){
	"ListTables":         testListTables,
	"ListTable":          testListTable,
	"StatVersion":        testStatVersion,
	"ReadVersion":        testReadVersion,
	"PrefixLookup":       testPrefixLookup,
	"CurrentSymlink":     testCurrentSymlink,
	"HistoryJSON":        testHistoryJSON,
	"CSVRendition":       testCSVRendition,
	"RDSRendition":       testRDSRendition,
	"CopyInParquet":      testCopyInParquet,
	"CopyInCSV":          testCopyInCSV,
	"CopyInWhileForking": testCopyInWhileForking,
	"CopyIntoTables":     testCopyIntoTables,
	"IdenticalRecopy":    testIdenticalRecopy,
	"TempNameRename":     testTempNameRename,
	"CorruptParquet":     testCorruptParquet,
	"InvalidTableName":   testInvalidTableName,
	"RefusedFileType":    testRefusedFileType,
	"HistoryIsImmutable": testHistoryIsImmutable,
	"MkdirTable":         testMkdirTable,
	"ParallelReads":      testParallelReads,
	"Snapshots":          testSnapshots,
	"NoXattrs":           testNoXattrs,
}

// runMountSuite runs every check on its own mounted fixture.
func runMountSuite(t *testing.T, newFixture func(t *testing.T) *fixture) {
	names := make([]string, 0, len(mountSuite))
	for n := range mountSuite {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			fx := newFixture(t)
			mountSuite[name](t, fx)
		})
	}
}

func TestMountSuiteLocal(t *testing.T) {
	runMountSuite(t, func(t *testing.T) *fixture {
		fx := newProjectFixture(t)
		fx.mount(t, fx.Project)
		return fx
	})
}

// TestMountSuiteNoPassthrough runs the suite with passthrough off: every
// read and write then goes through the FUSE handlers (as on kernels
// without passthrough).
func TestMountSuiteNoPassthrough(t *testing.T) {
	runMountSuite(t, func(t *testing.T) *fixture {
		fx := newProjectFixture(t)
		fx.mountOpts(t, fx.Project, Options{NoPassthrough: true})
		return fx
	})
}

// TestMountSuiteS3 runs the same suite on a project whose store is a real
// S3 server (Versity gateway on loopback): reads go through ranged GETs
// until the cache has filled.
func TestMountSuiteS3(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "mount-suite")
	srv.SetEnv(t)
	n := 0
	runMountSuite(t, func(t *testing.T) *fixture {
		n++
		fx := newProjectFixtureAt(t, fmt.Sprintf("s3://mount-suite/run%d", n))
		fx.mount(t, fx.Project)
		return fx
	})
}

func (fx *fixture) path(parts ...string) string {
	return filepath.Join(append([]string{fx.Dir, "tables"}, parts...)...)
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ls %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func vname(v interface{ Short() string }, ext string) string { return "@" + v.Short() + ext }

func testListTables(t *testing.T, fx *fixture) {
	if got := names(t, fx.Dir); !slices.Equal(got, []string{"at", "snapshots", "tables"}) {
		t.Errorf("ls /: %v, want [at snapshots tables]", got)
	}
	if got := names(t, fx.path()); !slices.Equal(got, []string{"ae", "lb"}) {
		t.Errorf("ls tables: %v, want [ae lb]", got)
	}
	fi, err := os.Stat(fx.path("lb"))
	if err != nil || !fi.IsDir() {
		t.Fatalf("stat tables/lb: %v %v", fi, err)
	}
}

func testListTable(t *testing.T, fx *fixture) {
	got := names(t, fx.path("lb"))
	want := []string{
		vname(fx.V1.ID, ".csv"), vname(fx.V1.ID, ".parquet"), vname(fx.V1.ID, ".rds"),
		vname(fx.V2.ID, ".csv"), vname(fx.V2.ID, ".parquet"), vname(fx.V2.ID, ".rds"),
		"current.parquet", "current.rds", "history.json",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ls tables/lb:\n got %v\nwant %v", got, want)
	}
}

func testStatVersion(t *testing.T, fx *fixture) {
	for _, v := range []struct {
		name string
		want []byte
		time time.Time
	}{
		{vname(fx.V1.ID, ".parquet"), storeBytes(t, fx.Project, fx.V1), fx.V1.Timestamp},
		{vname(fx.V2.ID, ".parquet"), storeBytes(t, fx.Project, fx.V2), fx.V2.Timestamp},
	} {
		fi, err := os.Stat(fx.path("lb", v.name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != 0o444 {
			t.Errorf("%s: mode %v, want -r--r--r--", v.name, fi.Mode())
		}
		if fi.Size() != int64(len(v.want)) {
			t.Errorf("%s: size %d, want the stored object's %d", v.name, fi.Size(), len(v.want))
		}
		if !fi.ModTime().Equal(v.time) || v.time.IsZero() {
			t.Errorf("%s: mtime %v, want the version time %v", v.name, fi.ModTime(), v.time)
		}
	}
}

func testReadVersion(t *testing.T, fx *fixture) {
	for _, v := range []struct {
		path string
		want []byte
	}{
		{fx.path("lb", vname(fx.V1.ID, ".parquet")), storeBytes(t, fx.Project, fx.V1)},
		{fx.path("lb", vname(fx.V2.ID, ".parquet")), storeBytes(t, fx.Project, fx.V2)},
		{fx.path("ae", vname(fx.AE.ID, ".parquet")), storeBytes(t, fx.Project, fx.AE)},
	} {
		got, err := os.ReadFile(v.path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, v.want) {
			t.Errorf("%s: read %d bytes that differ from the stored %d", v.path, len(got), len(v.want))
		}
		// A second open (kept pages or passthrough) gives the same bytes.
		again, err := os.ReadFile(v.path)
		if err != nil || !bytes.Equal(again, v.want) {
			t.Errorf("%s: second read differs (%v)", v.path, err)
		}
	}
}

func testPrefixLookup(t *testing.T, fx *fixture) {
	want := storeBytes(t, fx.Project, fx.V1)
	id := string(fx.V1.ID)
	for _, prefix := range []string{id[:5], id} {
		got, err := os.ReadFile(fx.path("lb", "@"+prefix+".parquet"))
		if err != nil {
			t.Fatalf("@%s.parquet: %v", prefix, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("@%s.parquet: wrong bytes", prefix)
		}
	}
	// A prefix that matches no version is ENOENT.
	missing := "ffffffff"
	if strings.HasPrefix(id, "f") || strings.HasPrefix(string(fx.V2.ID), "f") {
		missing = "00000000"
	}
	if _, err := os.Stat(fx.path("lb", "@"+missing+".parquet")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("stat @%s.parquet: %v, want ENOENT", missing, err)
	}
	if _, err := os.Stat(fx.path("nosuch")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("stat tables/nosuch: %v, want ENOENT", err)
	}
}

func testCurrentSymlink(t *testing.T, fx *fixture) {
	target, err := os.Readlink(fx.path("lb", "current.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if want := vname(fx.V2.ID, ".parquet"); target != want {
		t.Errorf("readlink current.parquet: %q, want %q", target, want)
	}
	got, err := os.ReadFile(fx.path("lb", "current.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, storeBytes(t, fx.Project, fx.V2)) {
		t.Error("current.parquet does not read as the current version")
	}
	target, err = os.Readlink(fx.path("lb", "current.rds"))
	if want := vname(fx.V2.ID, ".rds"); err != nil || target != want {
		t.Errorf("readlink current.rds: %q (%v), want %q", target, err, want)
	}
	viaLink, err := os.ReadFile(fx.path("lb", "current.rds"))
	if err != nil {
		t.Fatal(err)
	}
	direct, err := os.ReadFile(fx.path("lb", vname(fx.V2.ID, ".rds")))
	if err != nil || !bytes.Equal(viaLink, direct) || len(direct) == 0 {
		t.Errorf("current.rds reads %d bytes, @v2.rds %d (%v)", len(viaLink), len(direct), err)
	}
}

type historyEntry struct {
	Version string `json:"version"`
	DataSHA string `json:"data_sha"`
}

func readHistory(t *testing.T, path string) []historyEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var h []historyEntry
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("history.json does not parse: %v\n%s", err, b)
	}
	return h
}

func testHistoryJSON(t *testing.T, fx *fixture) {
	h := readHistory(t, fx.path("lb", "history.json"))
	if len(h) != 2 || h[0].Version != string(fx.V2.ID) || h[1].Version != string(fx.V1.ID) {
		t.Errorf("history.json: %+v, want V2 then V1", h)
	}
	fi, err := os.Stat(fx.path("lb", "history.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(fx.path("lb", "history.json"))
	if fi.Size() != int64(len(b)) {
		t.Errorf("history.json: size %d, read %d bytes", fi.Size(), len(b))
	}
}

func testCSVRendition(t *testing.T, fx *fixture) {
	got, err := os.ReadFile(fx.path("lb", vname(fx.V1.ID, ".csv")))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "id") || !strings.Contains(lines[0], "label") || !strings.Contains(lines[1], "one-1") {
		t.Errorf("@v1.csv:\n%s", got)
	}
	// Once generated, its size is known.
	fi, err := os.Stat(fx.path("lb", vname(fx.V1.ID, ".csv")))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the CSV size is reported", func() bool {
		fi, err = os.Stat(fx.path("lb", vname(fx.V1.ID, ".csv")))
		return err == nil && fi.Size() == int64(len(got))
	})
	// It is kept in the cache, which is private whatever the umask.
	csvs, _ := filepath.Glob(filepath.Join(fx.Cache, "objects", "*", "*.csv"))
	if len(csvs) == 0 {
		t.Fatalf("no CSV rendition under %s", fx.Cache)
	}
	for _, c := range csvs {
		if fi, err := os.Stat(c); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", c, fi.Mode().Perm())
		}
	}
}

// testRDSRendition reads @v1.rds through the mount: R's XDR format in
// gzip, the same bytes the converter makes from the version's parquet, its
// size known once made, kept private in the cache. (R reads it in e2e.)
func testRDSRendition(t *testing.T, fx *fixture) {
	path := fx.path("lb", vname(fx.V1.ID, ".rds"))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "v1.parquet")
	if err := os.WriteFile(src, fx.Src[fx.V1.ID.Short()], 0o600); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(t.TempDir(), "v1.rds")
	if err := (rds.Converter{}).ParquetToRDS(context.Background(), src, want); err != nil {
		t.Fatal(err)
	}
	if wb, _ := os.ReadFile(want); !bytes.Equal(got, wb) {
		t.Errorf("@v1.rds: %d bytes, the converter makes %d", len(got), len(wb))
	}
	eventually(t, "the .rds size is reported", func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Size() == int64(len(got))
	})
	cached, _ := filepath.Glob(filepath.Join(fx.Cache, "objects", "*", "*.rds"))
	if len(cached) == 0 {
		t.Fatalf("no .rds rendition under %s", fx.Cache)
	}
	for _, c := range cached {
		if fi, err := os.Stat(c); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", c, fi.Mode().Perm())
		}
	}
	if err := copyIn(path, []byte("x")); !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EACCES) {
		t.Errorf("overwrite @v1.rds: %v, want EPERM (or EACCES from the kernel)", err)
	}
}

// copyIn writes body to path as cp does: create, write, close; it returns
// close's error.
func copyIn(path string, body []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func testCopyInParquet(t *testing.T, fx *fixture) {
	body := parquetBytes(t, 7, "three")
	if err := copyIn(fx.path("lb", "extract.parquet"), body); err != nil {
		t.Fatalf("close: %v", err)
	}
	if n := historyLen(t, fx.Project, "lb"); n != 3 {
		t.Fatalf("lb has %d versions after the copy, want 3", n)
	}
	h := readHistory(t, fx.path("lb", "history.json"))
	if len(h) != 3 {
		t.Fatalf("history.json has %d entries, want 3", len(h))
	}
	newName := "@" + h[0].Version[:8] + ".parquet"
	ls := names(t, fx.path("lb"))
	if slices.Contains(ls, "extract.parquet") {
		t.Errorf("extract.parquet lingers after close: %v", ls)
	}
	if !slices.Contains(ls, newName) {
		t.Errorf("new version %s not listed: %v", newName, ls)
	}
	if _, err := os.Stat(fx.path("lb", "extract.parquet")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("stat extract.parquet after close: %v, want ENOENT", err)
	}
	target, err := os.Readlink(fx.path("lb", "current.parquet"))
	if err != nil || target != newName {
		t.Errorf("current.parquet -> %q (%v), want %s", target, err, newName)
	}
	got, err := os.ReadFile(fx.path("lb", newName))
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("read back the new version: %v (equal=%v)", err, bytes.Equal(got, body))
	}
}

// A process that forks while it writes a file: the child inherits the
// descriptor and closes it at its exec (close-on-exec), a flush that comes
// before the rest of the bytes. It publishes nothing; the writer's close
// publishes the whole file. (The child never touches the mount, so an
// in-process mount is safe here.)
func testCopyInWhileForking(t *testing.T, fx *fixture) {
	body := parquetBytes(t, 7, "forked")
	f, err := os.OpenFile(fx.path("lb", "extract.parquet"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	half := len(body) / 2
	for i, chunk := range [][]byte{body[:half], body[half:]} {
		if out, err := exec.Command("true").CombinedOutput(); err != nil {
			t.Fatalf("fork and exec true: %v %s", err, out)
		}
		if _, err := f.Write(chunk); err != nil {
			t.Fatalf("write after fork %d: %v", i+1, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v\nlog:\n%s", err, fx.Log.String())
	}
	h := readHistory(t, fx.path("lb", "history.json"))
	if len(h) != 3 {
		t.Fatalf("history.json has %d entries, want 3", len(h))
	}
	got, err := os.ReadFile(fx.path("lb", "@"+h[0].Version[:8]+".parquet"))
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("published %d bytes (%v), want the %d written", len(got), err, len(body))
	}
}

func testCopyInCSV(t *testing.T, fx *fixture) {
	if err := copyIn(fx.path("lb", "extract.csv"), []byte("id,label\n1,a\n2,b\n")); err != nil {
		t.Fatalf("close: %v\nlog:\n%s", err, fx.Log.String())
	}
	if n := historyLen(t, fx.Project, "lb"); n != 3 {
		t.Fatalf("lb has %d versions after the CSV copy, want 3", n)
	}
	if slices.Contains(names(t, fx.path("lb")), "extract.csv") {
		t.Error("extract.csv lingers after close")
	}
}

func testCopyIntoTables(t *testing.T, fx *fixture) {
	if err := copyIn(fx.path("dm.parquet"), parquetBytes(t, 5, "dm")); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got := names(t, fx.path()); !slices.Equal(got, []string{"ae", "dm", "lb"}) {
		t.Errorf("ls tables: %v, want [ae dm lb]", got)
	}
	if n := historyLen(t, fx.Project, "dm"); n != 1 {
		t.Errorf("dm has %d versions, want 1", n)
	}
	if h := readHistory(t, fx.path("dm", "history.json")); len(h) != 1 {
		t.Errorf("tables/dm/history.json: %d entries, want 1", len(h))
	}
	// Updating the same table by name adds a version.
	if err := copyIn(fx.path("dm.parquet"), parquetBytes(t, 6, "dm")); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if n := historyLen(t, fx.Project, "dm"); n != 2 {
		t.Errorf("dm has %d versions after the update, want 2", n)
	}
}

func testIdenticalRecopy(t *testing.T, fx *fixture) {
	if err := copyIn(fx.path("lb", "again.parquet"), fx.Src[fx.V2.ID.Short()]); err != nil {
		t.Fatalf("close of an identical copy: %v, want success", err)
	}
	if n := historyLen(t, fx.Project, "lb"); n != 2 {
		t.Errorf("lb has %d versions after an identical copy, want 2", n)
	}
	if slices.Contains(names(t, fx.path("lb")), "again.parquet") {
		t.Error("again.parquet lingers")
	}
}

func testTempNameRename(t *testing.T, fx *fixture) {
	tmp := fx.path("lb", ".extract.parquet.Xa81zq")
	if err := copyIn(tmp, parquetBytes(t, 9, "rsync")); err != nil {
		t.Fatalf("close of a temporary file: %v", err)
	}
	if n := historyLen(t, fx.Project, "lb"); n != 2 {
		t.Fatalf("a temporary name published: %d versions", n)
	}
	if !slices.Contains(names(t, fx.path("lb")), ".extract.parquet.Xa81zq") {
		t.Fatal("the temporary file is not listed before its rename")
	}
	// rsync sets times and modes on the temporary before renaming it.
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(tmp, when, when); err != nil {
		t.Errorf("utimes on the temporary: %v", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		t.Errorf("chmod on the temporary: %v", err)
	}
	if err := os.Rename(tmp, fx.path("lb", "extract.parquet")); err != nil {
		t.Fatalf("rename publishes: %v", err)
	}
	if n := historyLen(t, fx.Project, "lb"); n != 3 {
		t.Errorf("lb has %d versions after the rename, want 3", n)
	}
	ls := names(t, fx.path("lb"))
	if slices.Contains(ls, ".extract.parquet.Xa81zq") || slices.Contains(ls, "extract.parquet") {
		t.Errorf("a written name lingers after the rename: %v", ls)
	}
	// A temporary in tables/ renamed to a new table's name creates it.
	tmp2 := fx.path("ex.csv.tmp")
	if err := copyIn(tmp2, []byte("id,dose\n1,10\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp2, fx.path("ex.csv")); err != nil {
		t.Fatalf("rename into tables/: %v", err)
	}
	if n := historyLen(t, fx.Project, "ex"); n != 1 {
		t.Errorf("ex has %d versions, want 1", n)
	}
	// A refused rename returns the error and leaves nothing behind.
	tmp3 := fx.path("lb", "junk~")
	if err := copyIn(tmp3, []byte("not parquet")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp3, fx.path("lb", "junk.parquet")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("rename of a corrupt file: %v, want EINVAL", err)
	}
	if ls := names(t, fx.path("lb")); slices.Contains(ls, "junk~") || slices.Contains(ls, "junk.parquet") {
		t.Errorf("a refused file lingers: %v", ls)
	}
}

func testCorruptParquet(t *testing.T, fx *fixture) {
	body := append([]byte("PAR1"), bytes.Repeat([]byte{0x42}, 100)...)
	err := copyIn(fx.path("lb", "bad.parquet"), body)
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("close of a corrupt parquet: %v, want EINVAL", err)
	}
	if n := historyLen(t, fx.Project, "lb"); n != 2 {
		t.Errorf("history changed: %d versions", n)
	}
	if slices.Contains(names(t, fx.path("lb")), "bad.parquet") {
		t.Error("bad.parquet lingers after a failed close")
	}
	if !strings.Contains(fx.Log.String(), "bad.parquet") {
		t.Errorf("no log line names the file:\n%s", fx.Log.String())
	}
}

func testInvalidTableName(t *testing.T, fx *fixture) {
	for _, name := range []string{"9lives.parquet", "a.b.parquet", "bad!.csv"} {
		err := copyIn(fx.path(name), parquetBytes(t, 1, "x"))
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("create tables/%s: %v, want EINVAL", name, err)
		}
	}
	if err := os.Mkdir(fx.path("9lives"), 0o755); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("mkdir tables/9lives: %v, want EINVAL", err)
	}
	if got := names(t, fx.path()); !slices.Equal(got, []string{"ae", "lb"}) {
		t.Errorf("ls tables after refusals: %v", got)
	}
}

func testRefusedFileType(t *testing.T, fx *fixture) {
	if err := copyIn(fx.path("lb", "notes.json"), []byte("{}")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("create tables/lb/notes.json: %v, want EINVAL", err)
	}
	if err := os.Mkdir(fx.path("lb", "sub"), 0o755); !errors.Is(err, syscall.EPERM) {
		t.Errorf("mkdir in a table: %v, want EPERM", err)
	}
}

func testHistoryIsImmutable(t *testing.T, fx *fixture) {
	v := fx.path("lb", vname(fx.V1.ID, ".parquet"))
	checks := []struct {
		what string
		err  error
	}{
		{"unlink version", os.Remove(v)},
		{"unlink prefix", os.Remove(fx.path("lb", "@"+string(fx.V1.ID)[:6]+".parquet"))},
		{"truncate", os.Truncate(v, 0)},
		{"chmod", os.Chmod(v, 0o644)},
		{"utimes", os.Chtimes(v, time.Now(), time.Now())},
		{"rename version", os.Rename(v, fx.path("lb", "x.parquet"))},
		{"unlink current", os.Remove(fx.path("lb", "current.parquet"))},
		{"unlink history", os.Remove(fx.path("lb", "history.json"))},
		{"rmdir table", os.Remove(fx.path("lb"))},
		{"rename table", os.Rename(fx.path("lb"), fx.path("lb2"))},
		{"overwrite version", copyIn(v, []byte("x"))},
		{"overwrite current", copyIn(fx.path("lb", "current.parquet"), []byte("x"))},
	}
	for _, c := range checks {
		if !errors.Is(c.err, syscall.EPERM) {
			t.Errorf("%s: %v, want EPERM", c.what, c.err)
		}
	}
	f, err := os.OpenFile(v, os.O_WRONLY, 0)
	if err == nil {
		f.Close()
	}
	if !errors.Is(err, syscall.EPERM) {
		t.Errorf("open a version for writing: %v, want EPERM", err)
	}
	if n := historyLen(t, fx.Project, "lb"); n != 2 {
		t.Errorf("history changed: %d versions", n)
	}
	got, err := os.ReadFile(v)
	if err != nil || !bytes.Equal(got, storeBytes(t, fx.Project, fx.V1)) {
		t.Errorf("version bytes changed (%v)", err)
	}
}

func testMkdirTable(t *testing.T, fx *fixture) {
	if err := os.Mkdir(fx.path("vs"), 0o755); err != nil {
		t.Fatalf("mkdir tables/vs: %v", err)
	}
	if got := names(t, fx.path()); !slices.Contains(got, "vs") {
		t.Fatalf("ls tables: %v, want vs", got)
	}
	if got := names(t, fx.path("vs")); len(got) != 0 {
		t.Errorf("an empty table lists %v", got)
	}
	if err := os.Mkdir(fx.path("vs"), 0o755); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("second mkdir: %v, want EEXIST", err)
	}
	if err := copyIn(fx.path("vs", "first.parquet"), parquetBytes(t, 2, "vs")); err != nil {
		t.Fatalf("first version of vs: %v", err)
	}
	if n := historyLen(t, fx.Project, "vs"); n != 1 {
		t.Errorf("vs has %d versions, want 1", n)
	}
	if got := names(t, fx.path("vs")); !slices.Contains(got, "current.parquet") {
		t.Errorf("ls tables/vs: %v", got)
	}
	// An empty table can be removed again; one with versions cannot.
	if err := os.Mkdir(fx.path("tmpt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(fx.path("tmpt")); err != nil {
		t.Errorf("rmdir of an empty table: %v", err)
	}
	if err := os.Remove(fx.path("vs")); !errors.Is(err, syscall.EPERM) {
		t.Errorf("rmdir of a table with versions: %v, want EPERM", err)
	}
}

func testParallelReads(t *testing.T, fx *fixture) {
	want := map[string][]byte{
		fx.path("lb", vname(fx.V1.ID, ".parquet")): storeBytes(t, fx.Project, fx.V1),
		fx.path("lb", vname(fx.V2.ID, ".parquet")): storeBytes(t, fx.Project, fx.V2),
		fx.path("lb", "current.parquet"):           storeBytes(t, fx.Project, fx.V2),
		fx.path("ae", vname(fx.AE.ID, ".parquet")): storeBytes(t, fx.Project, fx.AE),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		for path, body := range want {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := os.ReadFile(path)
				if err == nil && !bytes.Equal(got, body) {
					err = errors.New(path + ": wrong bytes")
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := os.ReadDir(fx.path("lb")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The mount keeps no extended attributes: getxattr is EOPNOTSUPP (the
// kernel stops asking after the first ENOSYS), listxattr lists none, and
// files still stat and read.
func testNoXattrs(t *testing.T, fx *fixture) {
	buf := make([]byte, 256)
	for _, p := range []string{fx.path("lb"), fx.path("lb", vname(fx.V1.ID, ".parquet")), fx.path("lb", "history.json"), fx.path("lb", vname(fx.V1.ID, ".rds"))} {
		// (system.posix_acl_* are the kernel's own answer, ENODATA:
		// the mount does not negotiate POSIX ACLs.)
		for _, attr := range []string{"security.selinux", "user.x", "trusted.x"} {
			if _, err := syscall.Getxattr(p, attr, buf); err != syscall.EOPNOTSUPP {
				t.Errorf("getxattr %s %s: %v, want EOPNOTSUPP", p, attr, err)
			}
		}
		if n, err := syscall.Listxattr(p, buf); err != nil || n != 0 {
			t.Errorf("listxattr %s: %d %v, want none", p, n, err)
		}
	}
	if got, err := os.ReadFile(fx.path("lb", vname(fx.V1.ID, ".parquet"))); err != nil || !bytes.Equal(got, storeBytes(t, fx.Project, fx.V1)) {
		t.Errorf("read after getxattr: %d bytes, %v", len(got), err)
	}
}
