package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// copyConverter stands in for DuckDB's CSV reader: it "converts" any CSV
// to one fixed parquet file.
type copyConverter struct{ parquet string }

func (c copyConverter) CSVToParquet(_ context.Context, _ string, _ Format, dst string) error {
	b, err := os.ReadFile(c.parquet)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// syncDir writes the extracts of two cut-offs under n table names.
func syncDir(t *testing.T, n int) string {
	t.Helper()
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")
	srcs := []string{jan["dm"], jan["lb"], mar["ae"], mar["ex"], mar["lb"]}
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		b, err := os.ReadFile(srcs[i%len(srcs)])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("t%d.parquet", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func gitLog(t *testing.T, dir string, n int) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "log", fmt.Sprintf("-%d", n), "--format=%B%x00").Output()
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, m := range strings.Split(string(out), "\x00") {
		if m = strings.TrimSpace(m); m != "" {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

func withBatch(t *testing.T, n int) {
	old := syncBatchFiles
	syncBatchFiles = n
	t.Cleanup(func() { syncBatchFiles = old })
}

// TestSyncBatches: files are committed and pushed a batch at a time, each
// batch one commit whose message lists datom's line for every table; each
// table's history holds datom's own message; everything is mirrored and
// reported in directory order.
func TestSyncBatches(t *testing.T) {
	withBatch(t, 3)
	ctx := context.Background()
	p, remote := testProject(t)
	dir := syncDir(t, 7)
	var order []string
	res, err := p.Sync(ctx, dir, func(it SyncItem) { order = append(order, it.File) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Count("new") != 7 {
		t.Fatalf("sync: %+v", res)
	}
	want := []string{"t0.parquet", "t1.parquet", "t2.parquet", "t3.parquet", "t4.parquet", "t5.parquet", "t6.parquet"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("reported %v, want directory order", order)
	}
	msgs := gitLog(t, p.Dir(), 4)
	wantMsgs := []string{
		"Sync t6 (new)",
		"Sync 3 tables (3 new, 0 changed)\n\nSync t3 (new)\nSync t4 (new)\nSync t5 (new)",
		"Sync 3 tables (3 new, 0 changed)\n\nSync t0 (new)\nSync t1 (new)\nSync t2 (new)",
		"Initialize datom repository",
	}
	if strings.Join(msgs, "|") != strings.Join(wantMsgs, "|") {
		t.Fatalf("commits:\n%q\nwant\n%q", msgs, wantMsgs)
	}
	for i := 0; i < 7; i++ {
		name := tn(fmt.Sprintf("t%d", i))
		hist, err := p.localHistory(name)
		if err != nil || len(hist.Entries()) != 1 {
			t.Fatalf("%s history: %v %v", name, hist, err)
		}
		if m := hist.Entries()[0].CommitMessage; m != fmt.Sprintf("Sync %s (new)", name) {
			t.Errorf("%s history message %q", name, m)
		}
	}
	if ahead, behind, _ := p.repo.AheadBehind(ctx); ahead != 0 || behind != 0 {
		t.Fatalf("clone %d ahead, %d behind", ahead, behind)
	}
	fresh, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "fresh"), CloneOptions{}, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := fresh.Validate(ctx, ValidateOptions{ReadData: true}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("validate a fresh clone: %+v %v", rep, err)
	}
	if clean, err := p.repo.Clean(ctx); err != nil || !clean {
		t.Fatalf("clone not clean: %v %v", clean, err)
	}
	// git itself agrees (the index entries are written by repo.stage).
	if out, err := exec.Command("git", "-C", p.Dir(), "status", "--porcelain").CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("git status after sync: %v %s", err, out)
	}
	// A second sync: nothing to do, nothing committed.
	head, _ := p.repo.Head()
	res, err = p.Sync(ctx, dir, nil)
	if err != nil || res.Count("unchanged") != 7 {
		t.Fatalf("second sync: %+v %v", res, err)
	}
	if h, _ := p.repo.Head(); h != head {
		t.Fatal("an unchanged sync committed")
	}
}

// TestSyncSameTableTwice: lb.csv and lb.parquet in one folder are two
// versions of lb, one after the other, never one commit with both.
func TestSyncSameTableTwice(t *testing.T) {
	ctx := context.Background()
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")
	p, _ := testProject(t)
	p.opts.Converter = copyConverter{parquet: mar["lb"]}
	dir := t.TempDir()
	b, _ := os.ReadFile(jan["lb"])
	os.WriteFile(filepath.Join(dir, "lb.parquet"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "lb.tsv"), []byte("converted by the fake\n"), 0o644)
	res, err := p.Sync(ctx, dir, nil)
	if err != nil || res.Count("failed") != 0 {
		t.Fatalf("sync: %+v %v", res, err)
	}
	vs, err := p.Versions(ctx, tn("lb"))
	if err != nil || len(vs) != 2 {
		t.Fatalf("lb has %d versions (%v), want 2", len(vs), err)
	}
	if rep, err := p.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("validate: %+v %v", rep, err)
	}
}

// TestSyncBatchFailureUndoes: a batch that fails from its commit on leaves
// the clone byte for byte as it was, reports every file of the batch
// failed, mirrors nothing; earlier batches stay written.
func TestSyncBatchFailureUndoes(t *testing.T) {
	withBatch(t, 2)
	ctx := context.Background()
	p, _ := testProject(t)
	dir := syncDir(t, 4)
	injected := errors.New("injected failure")
	for _, point := range []string{"fetch", "upload", "upload-sync", "commit", "push"} {
		before := stateOf(t, p)
		p.testHook = func(pt string) error {
			if pt == point {
				return injected
			}
			return nil
		}
		res, err := p.Sync(ctx, dir, nil)
		p.testHook = nil
		if err != nil {
			t.Fatal(err)
		}
		if res.Count("failed") != 4 {
			t.Fatalf("%s: %+v", point, res)
		}
		for _, it := range res.Items {
			if !errors.Is(it.Err, injected) {
				t.Errorf("%s: %s failed with %v", point, it.File, it.Err)
			}
		}
		sameState(t, point, before, stateOf(t, p))
		if _, err := os.Stat(p.journalPath()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: journal left behind (%v)", point, err)
		}
		if _, err := p.store.Stat(ctx, p.layout.MetadataKey(tn("t0"))); err == nil {
			t.Errorf("%s: a failed batch was mirrored", point)
		}
		if point == "upload-sync" {
			// Failed before the batch's uploads were made durable: none
			// of them is in place.
			for _, f := range []string{"t0", "t1"} {
				if got, err := p.store.List(ctx, p.layout.TablePrefix(tn(f))); err != nil || len(got) != 0 {
					t.Errorf("%s: %s has store objects %v (%v)", point, f, got, err)
				}
			}
		}
	}
	// The second batch fails; the first stays.
	calls := 0
	p.testHook = func(pt string) error {
		if pt == "push" {
			if calls++; calls == 2 {
				return injected
			}
		}
		return nil
	}
	res, err := p.Sync(ctx, dir, nil)
	p.testHook = nil
	if err != nil || res.Count("new") != 2 || res.Count("failed") != 2 {
		t.Fatalf("second batch failing: %+v %v", res, err)
	}
	res, err = p.Sync(ctx, dir, nil)
	if err != nil || res.Count("new") != 2 || res.Count("unchanged") != 2 {
		t.Fatalf("sync after: %+v %v", res, err)
	}
	if rep, err := p.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("validate: %+v %v", rep, err)
	}
}

// TestCrashedSyncIsRecovered: a batch killed after its push landed is kept
// and every one of its tables mirrored by the next lock holder; one killed
// before is undone.
func TestCrashedSyncIsRecovered(t *testing.T) {
	withBatch(t, 3)
	ctx := context.Background()
	for _, landed := range []bool{false, true} {
		t.Run(fmt.Sprintf("landed=%v", landed), func(t *testing.T) {
			p, _ := testProject(t)
			dir := syncDir(t, 3)
			done := make(chan struct{})
			go func() {
				defer close(done)
				p.testHook = func(pt string) error {
					if pt == "push" {
						if landed {
							if err := p.repo.Push(ctx); err != nil {
								t.Error(err)
							}
						}
						runtime.Goexit()
					}
					return nil
				}
				p.Sync(ctx, dir, nil)
				t.Error("sync did not reach push")
			}()
			<-done
			p.testHook = nil
			q, err := Open(ctx, p.Dir(), Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.Pull(ctx); err != nil {
				t.Fatalf("pull after the crash: %v", err)
			}
			tables, err := q.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if landed {
				want = 3
			}
			if len(tables) != want {
				t.Fatalf("%d tables after recovery, want %d", len(tables), want)
			}
			if rep, err := q.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
				t.Fatalf("validate after recovery: %+v %v", rep, err)
			}
			if clean, err := q.repo.Clean(ctx); err != nil || !clean {
				t.Fatalf("clone not clean: %v %v", clean, err)
			}
		})
	}
}

// TestSyncRunsAfterWrites: a sync runs AfterWrites once per batch with
// that batch's new versions, in order, each version once, and nothing for
// unchanged files.
func TestSyncRunsAfterWrites(t *testing.T) {
	withBatch(t, 2)
	ctx := context.Background()
	p, _ := testProject(t)
	var calls []string
	p.opts.AfterWrites = func(_ context.Context, q *Project, res []WriteResult) {
		var names []string
		for _, r := range res {
			if q != p || r.Version == "" || r.Change == ChangeNone {
				t.Errorf("AfterWrites(%v)", r)
			}
			names = append(names, r.Table.String())
		}
		calls = append(calls, strings.Join(names, ","))
	}
	dir := syncDir(t, 3)
	if _, err := p.Sync(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(calls, " "); got != "t0,t1 t2" {
		t.Fatalf("AfterWrites calls %q, want \"t0,t1 t2\"", got)
	}
	calls = nil
	if _, err := p.Sync(ctx, dir, nil); err != nil || len(calls) != 0 {
		t.Fatalf("an unchanged sync ran AfterWrites: %v (%v)", calls, err)
	}
}

// TestSyncHooksOverlapNextBatch: a batch's AfterWrites runs while the next
// batch is written (here it waits for that batch's commit), and the
// batch's files are reported only once it is done, still in order.
func TestSyncHooksOverlapNextBatch(t *testing.T) {
	withBatch(t, 2)
	ctx := context.Background()
	p, _ := testProject(t)
	var mu sync.Mutex
	var events []string
	event := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	secondCommit := make(chan struct{})
	commits := 0
	p.testHook = func(pt string) error {
		if pt == "commit" {
			if commits++; commits == 2 {
				close(secondCommit)
			}
		}
		return nil
	}
	hooks := 0
	p.opts.AfterWrites = func(_ context.Context, _ *Project, res []WriteResult) {
		if hooks++; hooks == 1 {
			select {
			case <-secondCommit:
			case <-time.After(20 * time.Second):
				t.Error("the first batch's hook did not run while the second batch was written")
			}
		}
		event(fmt.Sprintf("hook%d", hooks))
	}
	dir := syncDir(t, 3)
	res, err := p.Sync(ctx, dir, func(it SyncItem) { event(it.File) })
	p.testHook = nil
	if err != nil || res.Count("new") != 3 {
		t.Fatalf("sync: %+v %v", res, err)
	}
	if got := strings.Join(events, " "); got != "hook1 t0.parquet t1.parquet hook2 t2.parquet" {
		t.Fatalf("events %q", got)
	}
}
