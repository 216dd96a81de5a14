package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/studygen"
	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/meta"
)

// testProject makes a project on a temp local store with a bare remote and
// a ticking clock. (The tests of versions cannot use projecttest, which
// imports versions.)
func testProject(t *testing.T) (*Project, string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir()) // no global git identity
	remote := testenv.BareRemote(t)
	p, err := Init(context.Background(), filepath.Join(t.TempDir(), "clone"), InitOptions{
		Project: "STUDY_001", Store: filepath.Join(t.TempDir(), "store"), Remote: remote,
	}, Options{CacheDir: t.TempDir(), Clock: testenv.TickingClock()})
	if err != nil {
		t.Fatal(err)
	}
	return p, remote
}

func extractFiles(t *testing.T, cutoff string) map[string]string {
	t.Helper()
	c, _ := time.Parse("2006-01-02", cutoff)
	paths, err := studygen.Write(t.TempDir(), "parquet", studygen.Options{Cutoff: c, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func TestWriteChangeClasses(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")

	steps := []struct {
		name   string
		req    WriteRequest
		change Change
		upload bool
		count  int
	}{
		{"first write", WriteRequest{Table: tn("lb"), Path: jan["lb"], Format: FormatParquet}, ChangeFull, true, 1},
		{"identical", WriteRequest{Table: tn("lb"), Path: jan["lb"], Format: FormatParquet}, ChangeNone, false, 1},
		{"new data", WriteRequest{Table: tn("lb"), Path: mar["lb"], Format: FormatParquet}, ChangeFull, true, 2},
		{"back to old data reuses its object", WriteRequest{Table: tn("lb"), Path: jan["lb"], Format: FormatParquet}, ChangeFull, false, 2},
		{"same data imported is metadata-only", WriteRequest{Table: tn("lb"), Path: jan["lb"], Format: FormatParquet, Import: true}, ChangeMetadataOnly, false, 3},
	}
	for _, s := range steps {
		res, err := p.Write(ctx, s.req)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if res.Change != s.change || res.Uploaded != s.upload {
			t.Fatalf("%s: change %s uploaded %v, want %s %v", s.name, res.Change, res.Uploaded, s.change, s.upload)
		}
		vs, err := p.Versions(ctx, tn("lb"))
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != s.count {
			t.Fatalf("%s: %d versions, want %d", s.name, len(vs), s.count)
		}
		cur, err := p.Resolve(ctx, tn("lb"), "")
		if err != nil || cur.ID != res.Version || !cur.Current {
			t.Fatalf("%s: current version %s (%v), write said %s", s.name, cur.ID, err, res.Version)
		}
	}
	// "back to old data" went back to version 1's data_sha; that version is
	// already in the history, so the dedup keeps 2 entries (contract 2.5).
	vs, _ := p.Versions(ctx, tn("lb"))
	if !vs[0].Current || vs[1].Current || vs[2].Current {
		t.Errorf("exactly the newest version should be current: %+v", vs)
	}
	// No global git identity: init set datom's fallback (contract 2.5).
	if vs[0].Author != "datom <datom@noreply>" {
		t.Errorf("author %q, want datom's fallback identity", vs[0].Author)
	}
	md, err := p.VersionMetadata(ctx, vs[0])
	if err != nil {
		t.Fatal(err)
	}
	if md.TableType() != "imported" || md.OriginalFileSHA() == "" || md.ParquetSHA() == "" {
		t.Errorf("imported metadata: type %q original %q parquet %q", md.TableType(), md.OriginalFileSHA(), md.ParquetSHA())
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")
	r1, _ := p.Write(ctx, WriteRequest{Table: tn("ae"), Path: jan["ae"], Format: FormatParquet})
	r2, _ := p.Write(ctx, WriteRequest{Table: tn("ae"), Path: mar["ae"], Format: FormatParquet})

	cases := []struct {
		table, prefix string
		want          string
		err           error
	}{
		{"ae", "", string(r2.Version), nil},
		{"ae", string(r1.Version)[:4], string(r1.Version), nil},
		{"ae", string(r1.Version), string(r1.Version), nil},
		{"ae", "", string(r2.Version), nil},
		{"ae", "zzzz", "", ErrNotFound},
		{"nosuch", "", "", ErrNotFound},
		{"a/b", "", "", ErrInvalidName},
	}
	if string(r1.Version)[0] == string(r2.Version)[0] {
		cases = append(cases, struct {
			table, prefix string
			want          string
			err           error
		}{"ae", string(r1.Version)[:1], "", ErrAmbiguous})
	}
	for _, c := range cases {
		name, err := ParseTableName(c.table) // as the CLI, the mount and SQL do
		var v Version
		if err == nil {
			v, err = p.Resolve(ctx, name, c.prefix)
		}
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s@%s: err %v, want %v", c.table, c.prefix, err, c.err)
			}
			continue
		}
		if err != nil || string(v.ID) != c.want {
			t.Errorf("%s@%s: %v %v, want %s", c.table, c.prefix, v.ID, err, c.want)
		}
	}
	// Fetch returns verified bytes; a damaged object is refused.
	v, _ := p.Resolve(ctx, tn("ae"), string(r1.Version)[:8])
	os.RemoveAll(p.cache.Root())
	obj := filepath.Join(p.store.Location(), p.Key(v))
	os.WriteFile(obj, []byte("PAR1 damaged PAR1"), 0o644)
	if _, err := p.Fetch(ctx, v); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("fetch of a damaged object: %v, want ErrIntegrity", err)
	}
}

func TestValidateAndFix(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	jan := extractFiles(t, "2026-01-31")
	if _, err := p.Write(ctx, WriteRequest{Table: tn("dm"), Path: jan["dm"], Format: FormatParquet}); err != nil {
		t.Fatal(err)
	}
	rep, err := p.Validate(ctx, ValidateOptions{})
	if err != nil || len(rep.Problems) != 0 || rep.Tables != 1 || rep.Versions != 1 {
		t.Fatalf("fresh project: %+v %v", rep, err)
	}
	root := p.store.Location()
	os.Remove(filepath.Join(root, p.layout.MetadataKey(tn("dm"))))
	os.Remove(filepath.Join(root, p.layout.ManifestKey()))
	rep, _ = p.Validate(ctx, ValidateOptions{})
	if len(rep.Problems) != 2 {
		t.Fatalf("want 2 problems, got %+v", rep.Problems)
	}
	rep, _ = p.Validate(ctx, ValidateOptions{Fix: true})
	for _, pr := range rep.Problems {
		if !pr.Fixed {
			t.Errorf("not fixed: %+v", pr)
		}
	}
	if rep, _ = p.Validate(ctx, ValidateOptions{}); len(rep.Problems) != 0 {
		t.Fatalf("after fix: %+v", rep.Problems)
	}
	// A missing parquet object is reported and cannot be fixed.
	vs, _ := p.Versions(ctx, tn("dm"))
	os.Remove(filepath.Join(root, p.Key(vs[0])))
	rep, _ = p.Validate(ctx, ValidateOptions{Fix: true})
	if len(rep.Problems) != 1 || rep.Problems[0].Fixed {
		t.Fatalf("missing object: %+v", rep.Problems)
	}
}

func TestSyncSkipsUnchanged(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	dir := t.TempDir()
	jan := extractFiles(t, "2026-01-31")
	for _, tb := range []string{"dm", "ae"} {
		b, _ := os.ReadFile(jan[tb])
		os.WriteFile(filepath.Join(dir, tb+".parquet"), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "notes.docx"), []byte("x"), 0o644)
	res, err := p.Sync(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Count("new") != 2 || res.Count("unsupported") != 1 {
		t.Fatalf("first sync: %+v", res)
	}
	res, _ = p.Sync(ctx, dir, nil)
	if res.Count("unchanged") != 2 {
		t.Fatalf("second sync: %+v", res)
	}
	mar := extractFiles(t, "2026-03-31")
	b, _ := os.ReadFile(mar["ae"])
	os.WriteFile(filepath.Join(dir, "ae.parquet"), b, 0o644)
	res, _ = p.Sync(ctx, dir, nil)
	if res.Count("changed") != 1 || res.Count("unchanged") != 1 {
		t.Fatalf("third sync: %+v", res)
	}
	tables, _ := p.List(ctx)
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name.String())
		if tb.OriginalFormat != "parquet" || tb.OriginalFileSHA == "" {
			t.Errorf("%s: manifest lacks import keys: %+v", tb.Name, tb)
		}
	}
	if !reflect.DeepEqual(names, []string{"ae", "dm"}) && !reflect.DeepEqual(names, []string{"dm", "ae"}) {
		t.Fatalf("tables %v", names)
	}
}

func TestTablesOf(t *testing.T) {
	got := tablesOf([]string{"lb/metadata.json", "lb/version_history.json", ".datom/manifest.json", "ae/version_history.json", "README.md", "x/y/metadata.json"})
	if want := []string{"ae", "lb"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// TestPushRaceUndo: another engineer pushes between our commit and our
// push. Without retries the write fails with ErrPushRejected and the clone
// is exactly as before, including for a new table; with retries it pulls,
// redoes and lands.
func TestPushRaceUndo(t *testing.T) {
	ctx := context.Background()
	a, remote := testProject(t)
	b, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "b"), CloneOptions{}, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")
	for _, table := range []string{"ae", "vs"} { // vs is new to both
		if table == "ae" {
			if _, err := a.Write(ctx, WriteRequest{Table: tn("ae"), Path: jan["ae"], Format: FormatParquet}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Pull(ctx); err != nil {
				t.Fatal(err)
			}
		}
		before := testenv.SnapshotTree(t, b.Dir())
		head, _ := b.repo.Head()
		beforePush(b, func() {
			if _, err := a.Write(ctx, WriteRequest{Table: tn("lb"), Path: mar["lb"], Format: FormatParquet, Pull: true}); err != nil {
				t.Fatal(err)
			}
		})
		_, err := b.Write(ctx, WriteRequest{Table: tn(table), Path: mar["ae"], Format: FormatParquet})
		if !errors.Is(err, ErrPushRejected) {
			t.Fatalf("%s: racing write: %v, want ErrPushRejected", table, err)
		}
		if got, _ := b.repo.Head(); got != head {
			t.Fatalf("%s: HEAD moved", table)
		}
		if d := before.Diff(testenv.SnapshotTree(t, b.Dir())); d != "" {
			t.Fatalf("%s: the clone changed after a rejected push:\n%s", table, d)
		}
		// The store has no mirror of the rejected version.
		if _, err := b.store.Stat(ctx, b.layout.MetadataKey(tn("vs"))); err == nil {
			t.Fatalf("%s: the rejected version was mirrored", table)
		}
		a.Pull(ctx)
	}
	// With retries (the mount), the same race ends in a landed write.
	beforePush(b, func() {
		apr := extractFiles(t, "2026-04-30")
		if _, err := a.Write(ctx, WriteRequest{Table: tn("lb"), Path: apr["lb"], Format: FormatParquet, Pull: true}); err != nil {
			t.Fatal(err)
		}
	})
	res, err := b.Write(ctx, WriteRequest{Table: tn("vs"), Path: mar["ae"], Format: FormatParquet, Pull: true, Retries: 2})
	if err != nil || res.Attempts != 2 || res.Change != ChangeFull {
		t.Fatalf("write with retries: %+v %v", res, err)
	}
	if _, err := a.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	if vs, err := a.Versions(ctx, tn("vs")); err != nil || len(vs) != 1 {
		t.Fatalf("A sees vs: %v %v", vs, err)
	}
}

// beforePush runs fn once, between p's next commit and its push: the window
// in which another engineer's push makes ours rejected.
func beforePush(p *Project, fn func()) {
	p.testHook = func(point string) error {
		if point == "push" {
			p.testHook = nil
			fn()
		}
		return nil
	}
}

// TestGovernedWriteChecksRef: on a governed project every write re-reads
// ref.json from the governance store and refuses when it names another
// data location (contract 6.2 step 1).
func TestGovernedWriteChecksRef(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	govStore := t.TempDir()
	gov, err := meta.NewGovernance("/srv/git/gov.git", meta.StorageConfig{Type: "local", Root: govStore}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(p.Dir(), ".datom", "governance.json"), gov.File(), 0o644)
	refPath := filepath.Join(govStore, "datom", "projects", "STUDY_001", "ref.json")
	os.MkdirAll(filepath.Dir(refPath), 0o755)
	writeRef := func(root string) {
		ref, err := meta.NewRef(meta.StorageConfig{Type: "local", Root: root})
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(refPath, ref.File(), 0o644)
	}
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")

	writeRef(p.cfg.Storage.Root)
	if _, err := p.Write(ctx, WriteRequest{Table: tn("dm"), Path: jan["dm"], Format: FormatParquet}); err != nil {
		t.Fatalf("write with a matching ref: %v", err)
	}
	writeRef("/srv/migrated-elsewhere")
	head, _ := p.repo.Head()
	if _, err := p.Write(ctx, WriteRequest{Table: tn("dm"), Path: mar["dm"], Format: FormatParquet}); !errors.Is(err, ErrGovernance) {
		t.Fatalf("write with a moved ref: %v, want ErrGovernance", err)
	}
	os.Remove(refPath)
	if _, err := p.Write(ctx, WriteRequest{Table: tn("dm"), Path: mar["dm"], Format: FormatParquet}); !errors.Is(err, ErrGovernance) {
		t.Fatalf("write with no ref: %v, want ErrGovernance", err)
	}
	if got, _ := p.repo.Head(); got != head {
		t.Fatal("a refused governed write committed")
	}
}

// TestAmbiguousSaidOnce: an ambiguous prefix matches ErrAmbiguous and says
// so once, with the candidates (the CLI adds the hint).
func TestAmbiguousSaidOnce(t *testing.T) {
	err := alsoIs(fmt.Errorf("version %q matches 2 versions (ab12, ab34): %w", "ab", meta.ErrAmbiguousVersion), ErrAmbiguous)
	err = fmt.Errorf("lb@ab: %w", err)
	if !errors.Is(err, ErrAmbiguous) || !errors.Is(err, meta.ErrAmbiguousVersion) {
		t.Fatalf("%v does not match both sentinels", err)
	}
	if n := strings.Count(err.Error(), "ambiguous"); n != 1 {
		t.Fatalf("said %d times: %v", n, err)
	}
}
