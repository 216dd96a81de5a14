package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/rds"
	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/store"
)

func TestErrnoTable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("write lb: %w", err) }
	cases := []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{wrap(versions.ErrNotFound), syscall.ENOENT},
		{wrap(versions.ErrAmbiguous), syscall.ENOENT},
		{wrap(versions.ErrReadOnly), syscall.EROFS},
		{wrap(versions.ErrImmutable), syscall.EPERM},
		{wrap(versions.ErrInvalidName), syscall.EINVAL},
		{wrap(versions.ErrInvalidInput), syscall.EINVAL},
		{wrap(&rds.UnsupportedError{Refusals: []rds.Refusal{{Column: "b", Type: "binary"}}}), syscall.EINVAL},
		{wrap(versions.ErrExists), syscall.EEXIST},
		{wrap(versions.ErrAuth), syscall.EACCES},
		{wrap(store.ErrPermission), syscall.EACCES},
		{wrap(versions.ErrPushRejected), syscall.EAGAIN},
		{wrap(store.ErrNoSpace), syscall.ENOSPC},
		{wrap(versions.ErrUnreachable), syscall.EIO},
		{wrap(versions.ErrIntegrity), syscall.EIO},
		{wrap(context.Canceled), syscall.EINTR},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, syscall.ENOSPC},
		{errors.New("something else"), syscall.EIO},
	}
	for _, c := range cases {
		if got := Errno(c.err); got != c.want {
			t.Errorf("Errno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestLogsEveryErrorButNotFound(t *testing.T) {
	log := &testenv.SyncBuffer{}
	s := &core{log: testLogger(log)}
	s.errno("lookup", "lb", "tables/lb/@ab.parquet", versions.ErrNotFound)
	if log.String() != "" {
		t.Errorf("a plain miss was logged: %s", log.String())
	}
	s.errno("close", "lb", "tables/lb/bad.parquet", fmt.Errorf("bad: %w", versions.ErrInvalidInput))
	s.errno("lookup", "lb", "tables/lb/@a.parquet", fmt.Errorf("x: %w", versions.ErrAmbiguous))
	out := log.String()
	for _, want := range []string{"table=lb", "tables/lb/bad.parquet", "errno=\"invalid argument\"", "ambiguous"} {
		if !bytes.Contains([]byte(out), []byte(want)) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestListedNamesAreUnique(t *testing.T) {
	vs := []versions.Version{
		{ID: "19f44e3a00000000000000000000000000000000000000000000000000000001"},
		{ID: "19f44e3a11000000000000000000000000000000000000000000000000000002"},
		{ID: "c1ffea9000000000000000000000000000000000000000000000000000000003"},
	}
	names, byName := listedNames(vs)
	want := []string{"19f44e3a0", "19f44e3a1", "c1ffea90"}
	if !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if byName["c1ffea90"].ID != vs[2].ID {
		t.Error("byName does not map back")
	}
}

// A reader mount serves versions from the store alone and refuses every
// change with EROFS.
func TestReaderMountIsReadOnly(t *testing.T) {
	fx := newProjectFixture(t)
	rd, err := versions.OpenReader(context.Background(), fx.Store, "STUDY_001", fx.options())
	if err != nil {
		t.Fatalf("open reader: %v", err)
	}
	fx.mount(t, rd)
	got, err := os.ReadFile(fx.path("lb", vname(fx.V2.ID, ".parquet")))
	if err != nil || !bytes.Equal(got, storeBytes(t, fx.Project, fx.V2)) {
		t.Fatalf("reader read: %v", err)
	}
	if h := readHistory(t, fx.path("lb", "history.json")); len(h) != 2 {
		t.Errorf("reader history.json: %d entries", len(h))
	}
	for what, err := range map[string]error{
		"create":      copyIn(fx.path("lb", "x.parquet"), parquetBytes(t, 1, "x")),
		"create new":  copyIn(fx.path("dm.parquet"), parquetBytes(t, 1, "x")),
		"mkdir":       os.Mkdir(fx.path("dm"), 0o755),
		"unlink":      os.Remove(fx.path("lb", vname(fx.V1.ID, ".parquet"))),
		"rename":      os.Rename(fx.path("lb", vname(fx.V1.ID, ".parquet")), fx.path("lb", "y.parquet")),
		"chmod":       os.Chmod(fx.path("lb", vname(fx.V1.ID, ".parquet")), 0o600),
		"open for rw": openRW(fx.path("lb", vname(fx.V1.ID, ".parquet"))),
	} {
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s on a reader mount: %v, want EROFS", what, err)
		}
	}
}

// A reader mount (store only) shows the tags mirrored to the store.
func TestReaderMountSeesTags(t *testing.T) {
	fx := newProjectFixture(t)
	if _, err := fx.Project.Tag(context.Background(), versions.TagRequest{Name: "db-lock"}); err != nil {
		t.Fatal(err)
	}
	writeVersion(t, fx.Project, "lb", parquetBytes(t, 5, "three"))
	rd, err := versions.OpenReader(context.Background(), fx.Store, "STUDY_001", fx.options())
	if err != nil {
		t.Fatalf("open reader: %v", err)
	}
	fx.mount(t, rd)
	snap := filepath.Join(fx.Dir, "snapshots")
	if got := names(t, snap); len(got) != 1 || got[0] != "db-lock" {
		t.Fatalf("ls snapshots on a reader mount: %v, want [db-lock]", got)
	}
	got, err := os.ReadFile(filepath.Join(snap, "db-lock", "tables", "lb.parquet"))
	if err != nil || !bytes.Equal(got, storeBytes(t, fx.Project, fx.V2)) {
		t.Errorf("reader snapshots/db-lock/tables/lb.parquet: %d bytes, %v; want V2's bytes", len(got), err)
	}
	if err := copyIn(filepath.Join(snap, "db-lock", "tables", "x.parquet"), parquetBytes(t, 1, "x")); !errors.Is(err, syscall.EROFS) {
		t.Errorf("create under snapshots/ on a reader mount: %v, want EROFS", err)
	}
	// A reader resolves at/<datetime> by the versions' timestamps.
	at := filepath.Join(fx.Dir, "at", fx.V2.Timestamp.Format(time.RFC3339), "tables", "lb.parquet")
	got, err = os.ReadFile(at)
	if err != nil || !bytes.Equal(got, storeBytes(t, fx.Project, fx.V2)) {
		t.Errorf("reader at/<V2's time>/tables/lb.parquet: %d bytes, %v; want V2's bytes", len(got), err)
	}
	before := filepath.Join(fx.Dir, "at", fx.V1.Timestamp.Add(-time.Second).Format(time.RFC3339), "tables", "lb.parquet")
	if _, err := os.Stat(before); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reader at/<before the first version>: %v, want ENOENT", err)
	}
}

func openRW(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err == nil {
		f.Close()
	}
	return err
}

// Versions written elsewhere appear after a refresh, and what changed
// (listing, current.parquet, history.json) is served fresh.
func TestRefreshShowsOtherWrites(t *testing.T) {
	fx := newProjectFixture(t)
	rd, err := versions.OpenReader(context.Background(), fx.Store, "STUDY_001", fx.options())
	if err != nil {
		t.Fatal(err)
	}
	fx.mount(t, rd)
	if got := names(t, fx.path()); !slices.Equal(got, []string{"ae", "lb"}) {
		t.Fatalf("ls tables: %v", got)
	}
	if _, err := os.Readlink(fx.path("lb", "current.parquet")); err != nil {
		t.Fatal(err)
	}
	v3 := writeVersion(t, fx.Project, "lb", parquetBytes(t, 11, "elsewhere"))
	writeVersion(t, fx.Project, "ex", parquetBytes(t, 2, "ex"))
	if err := fx.Server.Refresh(context.Background()); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := names(t, fx.path()); !slices.Equal(got, []string{"ae", "ex", "lb"}) {
		t.Errorf("ls tables after refresh: %v", got)
	}
	if !slices.Contains(names(t, fx.path("lb")), vname(v3.ID, ".parquet")) {
		t.Errorf("new version not listed: %v", names(t, fx.path("lb")))
	}
	eventually(t, "current.parquet points at the new version", func() bool {
		target, err := os.Readlink(fx.path("lb", "current.parquet"))
		return err == nil && target == vname(v3.ID, ".parquet")
	})
	if h := readHistory(t, fx.path("lb", "history.json")); len(h) != 3 || h[0].Version != string(v3.ID) {
		t.Errorf("history.json after refresh: %+v", h)
	}
}

// A stored object whose bytes do not match parquet_sha is EIO, never
// wrong bytes.
func TestIntegrityMismatchIsEIO(t *testing.T) {
	fx := newProjectFixture(t)
	key := fx.Project.Key(fx.V1)
	obj := filepath.Join(fx.Store, filepath.FromSlash(key))
	body, err := os.ReadFile(obj)
	if err != nil {
		t.Fatalf("stored object %s: %v", obj, err)
	}
	body[len(body)/2] ^= 0xff
	if err := os.WriteFile(obj, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(fx.Cache); err != nil {
		t.Fatal(err)
	}
	fx.mount(t, fx.Project)
	_, err = os.ReadFile(fx.path("lb", vname(fx.V1.ID, ".parquet")))
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("read of a corrupted object: %v, want EIO", err)
	}
	// The intact version still reads.
	if _, err := os.ReadFile(fx.path("lb", vname(fx.V2.ID, ".parquet"))); err != nil {
		t.Errorf("intact version: %v", err)
	}
}

// Two engineers' mounts: A copies into lb while B copies into ae; both
// succeed (B's write pulls and redoes), and after a refresh both mounts show
// both versions.
func TestTwoClonesWriteConcurrently(t *testing.T) {
	fx := newProjectFixture(t)
	a := &fixture{Log: fx.Log}
	a.mount(t, fx.Project)
	pb, err := versions.Clone(context.Background(), fx.Remote, filepath.Join(t.TempDir(), "b"), versions.CloneOptions{}, fx.options())
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	b := &fixture{Log: fx.Log}
	b.mount(t, pb)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	bodyA, bodyB := parquetBytes(t, 5, "from-a"), parquetBytes(t, 5, "from-b")
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = copyIn(a.path("lb", "a.parquet"), bodyA) }()
	go func() { defer wg.Done(); errs[1] = copyIn(b.path("ae", "b.parquet"), bodyB) }()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("close: A %v, B %v\nlog:\n%s", errs[0], errs[1], fx.Log.String())
	}
	for _, m := range []*fixture{a, b} {
		if err := m.Server.Refresh(context.Background()); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if h := readHistory(t, m.path("lb", "history.json")); len(h) != 3 {
			t.Errorf("%s: lb history has %d entries, want 3", m.Dir, len(h))
		}
		if h := readHistory(t, m.path("ae", "history.json")); len(h) != 2 {
			t.Errorf("%s: ae history has %d entries, want 2", m.Dir, len(h))
		}
	}
	// Same table from both: two sequential versions.
	bodyA, bodyB = parquetBytes(t, 6, "a2"), parquetBytes(t, 6, "b2")
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = copyIn(a.path("lb", "a2.parquet"), bodyA) }()
	go func() { defer wg.Done(); errs[1] = copyIn(b.path("lb", "b2.parquet"), bodyB) }()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("same-table close: A %v, B %v\nlog:\n%s", errs[0], errs[1], fx.Log.String())
	}
	if err := a.Server.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := readHistory(t, a.path("lb", "history.json")); len(h) != 5 {
		t.Errorf("lb history has %d entries after two same-table writes, want 5", len(h))
	}
}
