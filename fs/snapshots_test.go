package fs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/versions"
)

// frozenErrno is what a change under snapshots/ or at/ gets: EROFS from
// datomfs, or EACCES from the kernel for a non-root caller (the files are
// 0444 and the folders 0555, under default_permissions).
func frozenErrno(err error) bool {
	return errors.Is(err, syscall.EROFS) || (os.Geteuid() != 0 && errors.Is(err, syscall.EACCES))
}

// testSnapshots: a tag made after two versions of lb still shows them
// after a third; at/<date> resolves on lookup; nothing there is writable.
func testSnapshots(t *testing.T, fx *fixture) {
	ctx := context.Background()
	p := fx.Project
	res, err := p.Tag(ctx, versions.TagRequest{Name: "cut-2", Message: "second cut"})
	if err != nil {
		t.Fatal(err)
	}
	// The third cut comes a second later (commit times have whole seconds).
	for !time.Now().Truncate(time.Second).After(res.Tag.CommitTime) {
		time.Sleep(50 * time.Millisecond)
	}
	v3 := writeVersion(t, p, "lb", parquetBytes(t, 5, "three"))

	snap := func(parts ...string) string {
		return filepath.Join(append([]string{fx.Dir, "snapshots"}, parts...)...)
	}
	if got := names(t, snap()); !slices.Equal(got, []string{"cut-2"}) {
		t.Errorf("ls snapshots: %v, want [cut-2]", got)
	}
	if got := names(t, snap("cut-2")); !slices.Equal(got, []string{"tables"}) {
		t.Errorf("ls snapshots/cut-2: %v", got)
	}
	if got := names(t, snap("cut-2", "tables")); !slices.Equal(got, []string{"ae.csv", "ae.parquet", "ae.rds", "lb.csv", "lb.parquet", "lb.rds"}) {
		t.Errorf("ls snapshots/cut-2/tables: %v", got)
	}
	for table, v := range map[string]versions.Version{"lb": fx.V2, "ae": fx.AE} {
		got, err := os.ReadFile(snap("cut-2", "tables", table+".parquet"))
		if err != nil || !bytes.Equal(got, storeBytes(t, p, v)) {
			t.Errorf("snapshots/cut-2/tables/%s.parquet: %d bytes, %v; want %s's bytes", table, len(got), err, v.ID.Short())
		}
		fi, err := os.Stat(snap("cut-2", "tables", table+".parquet"))
		if err != nil || fi.Mode().Perm() != 0o444 || !fi.ModTime().Equal(v.Timestamp) {
			t.Errorf("stat snapshots/cut-2/tables/%s.parquet: %v %v", table, fi, err)
		}
	}
	if csv, err := os.ReadFile(snap("cut-2", "tables", "lb.csv")); err != nil || !bytes.Contains(csv, []byte("two")) {
		t.Errorf("snapshots/cut-2/tables/lb.csv: %q %v", csv, err)
	}
	if _, err := os.Stat(snap("no-such-tag")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat snapshots/no-such-tag: %v, want ENOENT", err)
	}

	// at/: nothing listed; a date or datetime resolves on lookup.
	at := func(parts ...string) string { return filepath.Join(append([]string{fx.Dir, "at"}, parts...)...) }
	if got := names(t, at()); len(got) != 0 {
		t.Errorf("ls at: %v, want nothing", got)
	}
	for name, want := range map[string]versions.Version{
		res.Tag.CommitTime.Format(time.RFC3339):              fx.V2,
		time.Now().UTC().Add(time.Hour).Format("2006-01-02"): v3,
	} {
		got, err := os.ReadFile(at(name, "tables", "lb.parquet"))
		if err != nil || !bytes.Equal(got, storeBytes(t, p, want)) {
			t.Errorf("at/%s/tables/lb.parquet: %d bytes, %v; want %s's bytes", name, len(got), err, want.ID.Short())
		}
	}
	for _, name := range []string{"2020-01-01", "not-a-date"} {
		if _, err := os.Stat(at(name, "tables", "lb.parquet")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat at/%s/tables/lb.parquet: %v, want ENOENT", name, err)
		}
	}

	// Nothing under them can be written.
	lb := snap("cut-2", "tables", "lb.parquet")
	for what, err := range map[string]error{
		"create in tables":    copyIn(snap("cut-2", "tables", "x.parquet"), parquetBytes(t, 1, "x")),
		"mkdir in snapshots":  os.Mkdir(snap("new"), 0o755),
		"mkdir in at":         os.Mkdir(at("2026-01-01"), 0o755),
		"unlink":              os.Remove(lb),
		"rename":              os.Rename(lb, snap("cut-2", "tables", "y.parquet")),
		"rename a version in": os.Rename(fx.path("lb", vname(fx.V1.ID, ".parquet")), snap("cut-2", "tables", "z.parquet")),
		"chmod":               os.Chmod(lb, 0o600),
		"open for rw":         openRW(lb),
		"truncate":            os.Truncate(lb, 0),
	} {
		if !frozenErrno(err) {
			t.Errorf("%s under snapshots/: %v, want EROFS", what, err)
		}
	}
}
