package versions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/meta"
)

// cloneState is everything a failed write must leave as it found: the work
// tree's files, the index's bytes and the branch tip.
type cloneState struct {
	files testenv.Tree
	index string
	head  string
}

func stateOf(t *testing.T, p *Project) cloneState {
	t.Helper()
	idx, err := os.ReadFile(filepath.Join(p.Dir(), ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := p.repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	return cloneState{files: testenv.SnapshotTree(t, p.Dir()), index: string(idx), head: head}
}

func sameState(t *testing.T, what string, before, after cloneState) {
	t.Helper()
	if before.head != after.head {
		t.Errorf("%s: HEAD moved from %.8s to %.8s", what, before.head, after.head)
	}
	if before.index != after.index {
		t.Errorf("%s: the index changed", what)
	}
	if d := before.files.Diff(after.files); d != "" {
		t.Errorf("%s: the clone's files changed:\n%s", what, d)
	}
}

// TestFailedWriteUndoesEverything fails a write at every checkpoint, for a
// new and for an existing table: before the push lands, the clone is left
// byte for byte as it was and nothing is mirrored; at "mirror" the version
// is pushed and the error says the mirrors are stale.
func TestFailedWriteUndoesEverything(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")
	if _, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: jan["lb"], Format: FormatParquet}); err != nil {
		t.Fatal(err)
	}
	injected := errors.New("injected failure")
	for _, table := range []string{"lb", "ae"} {
		for _, point := range writeCheckpoints {
			if point == "mirror" {
				continue // below: the version lands
			}
			what := table + " at " + point
			before := stateOf(t, p)
			p.testHook = func(pt string) error {
				if pt == point {
					return injected
				}
				return nil
			}
			_, err := p.Write(ctx, WriteRequest{Table: tn(table), Path: mar[table], Format: FormatParquet})
			p.testHook = nil
			if !errors.Is(err, injected) {
				t.Fatalf("%s: %v, want the injected failure", what, err)
			}
			sameState(t, what, before, stateOf(t, p))
			if _, err := os.Stat(p.journalPath()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: journal left behind (%v)", what, err)
			}
			if table == "ae" {
				if _, err := p.store.Stat(ctx, p.layout.MetadataKey(tn("ae"))); err == nil {
					t.Errorf("%s: the failed version was mirrored", what)
				}
			}
		}
	}
	p.testHook = func(pt string) error {
		if pt == "mirror" {
			return injected
		}
		return nil
	}
	_, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: mar["lb"], Format: FormatParquet})
	p.testHook = nil
	if !errors.Is(err, injected) || !strings.Contains(err.Error(), "is pushed") {
		t.Fatalf("failure at mirror: %v", err)
	}
	if ahead, _, _ := p.repo.AheadBehind(ctx); ahead != 0 {
		t.Fatalf("after a failure at mirror the version is not on the remote (%d ahead)", ahead)
	}
	rep, err := p.Validate(ctx, ValidateOptions{Fix: true})
	if err != nil || len(rep.Problems) == 0 {
		t.Fatalf("validate --fix after a failure at mirror: %+v %v", rep, err)
	}
	if rep, err := p.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("validate after the fix: %+v %v", rep, err)
	}
}

// crashAt runs a write that dies at point the way a killed process does:
// the goroutine ends there, deferred clean-ups run (the kernel would
// release the flock), nothing else does.
func crashAt(t *testing.T, p *Project, point string, req WriteRequest, atPoint func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.testHook = func(pt string) error {
			if pt == point {
				if atPoint != nil {
					atPoint()
				}
				runtime.Goexit()
			}
			return nil
		}
		p.Write(context.Background(), req)
		t.Errorf("write did not reach %s", point)
	}()
	<-done
	p.testHook = nil
}

// TestCrashedWriteIsRecovered: a write killed between its first change to
// the clone and its push is undone by the next process that takes the
// clone lock; one killed after its push landed is kept and mirrored.
func TestCrashedWriteIsRecovered(t *testing.T) {
	ctx := context.Background()
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")
	for _, point := range []string{"commit", "push", "push-landed"} {
		t.Run(point, func(t *testing.T) {
			p, remote := testProject(t)
			if _, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: jan["lb"], Format: FormatParquet}); err != nil {
				t.Fatal(err)
			}
			var landed func()
			hook := point
			if point == "push-landed" {
				hook = "push"
				landed = func() {
					if err := p.repo.Push(ctx); err != nil {
						t.Error(err)
					}
				}
			}
			crashAt(t, p, hook, WriteRequest{Table: tn("ae"), Path: mar["ae"], Format: FormatParquet}, landed)
			if _, err := os.Stat(p.journalPath()); err != nil {
				t.Fatalf("no journal after the crash: %v", err)
			}
			// The next process on the clone.
			q, err := Open(ctx, p.Dir(), Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.Write(ctx, WriteRequest{Table: tn("lb"), Path: mar["lb"], Format: FormatParquet}); err != nil {
				t.Fatalf("write after the crash: %v", err)
			}
			if _, err := os.Stat(q.journalPath()); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("journal survived recovery: %v", err)
			}
			ae, err := q.Versions(ctx, tn("ae"))
			if point == "push-landed" {
				if err != nil || len(ae) != 1 {
					t.Fatalf("the landed version of ae is gone: %v %v", ae, err)
				}
			} else {
				if err == nil && len(ae) > 0 {
					t.Fatalf("the crashed version of ae survived: %v", ae)
				}
				for k := range stateOf(t, q).files {
					if strings.Contains(k, "/ae/") {
						t.Errorf("left behind %s", k)
					}
				}
			}
			if clean, err := q.repo.Clean(ctx); err != nil || !clean {
				t.Fatalf("clone not clean after recovery: %v %v", clean, err)
			}
			if ahead, behind, _ := q.repo.AheadBehind(ctx); ahead != 0 || behind != 0 {
				t.Fatalf("clone %d ahead, %d behind the remote", ahead, behind)
			}
			fresh, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "fresh"), CloneOptions{}, Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := fresh.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
				t.Fatalf("validate on a fresh clone: %+v %v", rep, err)
			}
		})
	}
}

// TestCrashedPullIsFinished: a pull killed after the branch moved but
// before its files were written is finished by the next lock holder.
func TestCrashedPullIsFinished(t *testing.T) {
	ctx := context.Background()
	a, remote := testProject(t)
	b, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "b"), CloneOptions{}, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	jan := extractFiles(t, "2026-01-31")
	if _, err := a.Write(ctx, WriteRequest{Table: tn("lb"), Path: jan["lb"], Format: FormatParquet}); err != nil {
		t.Fatal(err)
	}
	// Crash b's pull in the middle: journal written, branch moved, files not.
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.repo.PullWith(ctx, func(paths []string) error {
			if err := b.saveJournal(&journal{Op: "pull", PID: os.Getpid(), Paths: paths}); err != nil {
				t.Error(err)
			}
			// Move the branch as the fast-forward does, from outside.
			remoteHead, _ := a.repo.Head()
			if out, err := exec.Command("git", "-C", b.Dir(), "update-ref", "refs/heads/main", remoteHead).CombinedOutput(); err != nil {
				t.Errorf("git update-ref: %v %s", err, out)
			}
			runtime.Goexit()
			return nil
		})
	}()
	<-done
	if clean, _ := b.repo.Clean(ctx); clean {
		t.Fatal("the simulated crash left a clean clone; the test proves nothing")
	}
	if _, err := b.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	if clean, err := b.repo.Clean(ctx); err != nil || !clean {
		t.Fatalf("clone not clean after the interrupted pull was finished: %v %v", clean, err)
	}
	if vs, err := b.Versions(ctx, tn("lb")); err != nil || len(vs) != 1 {
		t.Fatalf("b sees lb: %v %v", vs, err)
	}
}

// TestOneWriterPerClone: Projects on one clone (as separate processes
// are) write concurrently; every write lands, history stays linear and
// the clone ends clean and level with the remote.
func TestOneWriterPerClone(t *testing.T) {
	ctx := context.Background()
	a, remote := testProject(t)
	var projects []*Project
	for i := 0; i < 3; i++ {
		q, err := Open(ctx, a.Dir(), Options{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		projects = append(projects, q)
	}
	cuts := []map[string]string{extractFiles(t, "2026-01-31"), extractFiles(t, "2026-02-28"), extractFiles(t, "2026-03-31")}
	tables := []string{"dm", "ae", "lb"}
	var wg sync.WaitGroup
	errs := make(chan error, 9)
	for i, q := range projects {
		wg.Add(1)
		go func(i int, q *Project) {
			defer wg.Done()
			for c, cut := range cuts {
				table := tables[(i+c)%3]
				if _, err := q.Write(ctx, WriteRequest{Table: tn(table), Path: cut[table], Format: FormatParquet, Message: fmt.Sprintf("w%d c%d", i, c)}); err != nil {
					errs <- fmt.Errorf("writer %d cut %d (%s): %w", i, c, table, err)
				}
			}
		}(i, q)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	fresh, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "fresh"), CloneOptions{}, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, table := range tables {
		vs, err := fresh.Versions(ctx, tn(table))
		if err != nil {
			t.Fatal(err)
		}
		total += len(vs)
	}
	// Each table got the three cuts, in some order; equal data may repeat.
	if total < 6 {
		t.Fatalf("%d versions on the remote, want at least 6", total)
	}
	if clean, err := a.repo.Clean(ctx); err != nil || !clean {
		t.Fatalf("clone dirty: %v %v", clean, err)
	}
	if rep, err := fresh.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("validate: %+v %v", rep, err)
	}
}

// TestWriteWaitsForTheCloneLock: a write waits while another process holds
// the lock, says who holds it, and proceeds once it is free.
func TestWriteWaitsForTheCloneLock(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	var logs syncBuffer
	p.opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	os.MkdirAll(filepath.Join(p.Dir(), ".git", "datomfs"), 0o700)
	holder, err := os.OpenFile(filepath.Join(p.Dir(), ".git", "datomfs", "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	holder.WriteString("pid 4242 (datomfs write dm), since then\n")
	jan := extractFiles(t, "2026-01-31")
	done := make(chan error, 1)
	go func() {
		_, err := p.Write(ctx, WriteRequest{Table: tn("dm"), Path: jan["dm"], Format: FormatParquet})
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "pid 4242") {
		if time.Now().After(deadline) {
			t.Fatalf("no waiting message naming the holder; log: %s", logs.String())
		}
		select {
		case err := <-done:
			t.Fatalf("write finished while the lock was held: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	syscall.Flock(int(holder.Fd()), syscall.LOCK_UN)
	if err := <-done; err != nil {
		t.Fatalf("write after the lock was released: %v", err)
	}
	// A cancelled wait fails cleanly.
	syscall.Flock(int(holder.Fd()), syscall.LOCK_EX)
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := p.Pull(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pull with the lock held and a deadline: %v", err)
	}
}

// TestNewTableNames: names git or common file systems cannot hold are
// refused before anything happens; existing tables keep working.
func TestNewTableNames(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	jan := extractFiles(t, "2026-01-31")
	if _, err := p.Write(ctx, WriteRequest{Table: tn("dm"), Path: jan["dm"], Format: FormatParquet}); err != nil {
		t.Fatal(err)
	}
	before := stateOf(t, p)
	for _, name := range []string{"CON", "con", "Aux", "NUL", "PRN", "COM1", "com9", "LPT1", "lpt9 data", "CON (2)", "lb ", "DM", "Dm"} {
		_, err := p.Write(ctx, WriteRequest{Table: tn(name), Path: jan["lb"], Format: FormatParquet})
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q: %v, want ErrInvalidName", name, err)
		}
	}
	sameState(t, "refused names", before, stateOf(t, p))
	for _, name := range []string{"CONSENT", "console", "COM10", "LPT", "nullable", "dm2", "lb (v2)"} {
		if _, err := p.Write(ctx, WriteRequest{Table: tn(name), Path: jan["lb"], Format: FormatParquet}); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestValidateSeesDamage: a truncated object is found by plain validate, a
// flipped byte by --read-data; --fix restores both from a verified cache
// copy, rebuilds a lost snapshot of an old version from git, and removes a
// temporary file of a killed write but never a live writer's.
func TestValidateSeesDamage(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")
	for _, f := range []map[string]string{jan, mar} {
		if _, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: f["lb"], Format: FormatParquet}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Write(ctx, WriteRequest{Table: tn("dm"), Path: jan["dm"], Format: FormatParquet}); err != nil {
		t.Fatal(err)
	}
	vs, err := p.Versions(ctx, tn("lb"))
	if err != nil || len(vs) != 2 {
		t.Fatal(vs, err)
	}
	old, cur := vs[1], vs[0]
	if cur.Current != true {
		old, cur = cur, old
	}
	if _, err := p.Fetch(ctx, old); err != nil { // a verified cache copy of the old version
		t.Fatal(err)
	}
	root := p.store.(interface{ Root() string }).Root()
	objPath := func(v Version) string { return filepath.Join(root, filepath.FromSlash(p.Key(v))) }
	openProblems := func(o ValidateOptions) []Problem {
		t.Helper()
		rep, err := p.Validate(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		var out []Problem
		for _, pr := range rep.Problems {
			if !pr.Fixed {
				out = append(out, pr)
			}
		}
		return out
	}
	if pr := openProblems(ValidateOptions{ReadData: true}); len(pr) != 0 {
		t.Fatalf("a healthy project has problems: %+v", pr)
	}

	// Truncate the old version's object by 7 bytes.
	b, _ := os.ReadFile(objPath(old))
	os.WriteFile(objPath(old), b[:len(b)-7], 0o644)
	pr := openProblems(ValidateOptions{})
	if len(pr) != 1 || pr[0].Key != p.Key(old) || !strings.Contains(pr[0].What, "bytes, not the recorded") || !pr[0].Fixable {
		t.Fatalf("truncated object: %+v", pr)
	}
	// Flip one byte of the current version's object: same size.
	c, _ := os.ReadFile(objPath(cur))
	c[len(c)/2] ^= 0x40
	os.WriteFile(objPath(cur), c, 0o644)
	if pr := openProblems(ValidateOptions{}); len(pr) != 1 {
		t.Fatalf("plain validate reads no data, so it sees only the truncation: %+v", pr)
	}
	pr = openProblems(ValidateOptions{ReadData: true})
	if len(pr) != 2 || !strings.Contains(pr[1].What+pr[0].What, "do not match the parquet_sha") {
		t.Fatalf("--read-data: %+v", pr)
	}
	// Lose the old version's snapshot; leave a killed writer's temp file
	// and a live writer's.
	os.Remove(filepath.Join(root, filepath.FromSlash(p.layout.SnapshotKey(tn("lb"), old.ID))))
	dead := filepath.Join(root, filepath.FromSlash(p.layout.TablePrefix(tn("lb"))), ".datomfs-tmp-dead")
	os.WriteFile(dead, []byte("partial"), 0o600)
	live := filepath.Join(root, filepath.FromSlash(p.layout.TablePrefix(tn("lb"))), ".datomfs-tmp-live")
	lf, _ := os.Create(live)
	defer lf.Close()
	syscall.Flock(int(lf.Fd()), syscall.LOCK_EX)

	pr = openProblems(ValidateOptions{ReadData: true, Fix: true})
	// The current version's object has no cache copy: it stays reported.
	if len(pr) != 1 || pr[0].Key != p.Key(cur) || pr[0].Fixable {
		t.Fatalf("after --fix: %+v", pr)
	}
	if got, _ := os.ReadFile(objPath(old)); string(got) != string(b) {
		t.Fatal("the old object was not restored from the cache")
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the killed writer's temp file survived --fix")
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatal("--fix removed a live writer's temp file")
	}
	if _, err := p.VersionMetadata(ctx, old); err != nil {
		t.Fatalf("the old snapshot was not rebuilt: %v", err)
	}
	// Repair the current object by hand: all clean again.
	c[len(c)/2] ^= 0x40
	os.WriteFile(objPath(cur), c, 0o644)
	if pr := openProblems(ValidateOptions{ReadData: true}); len(pr) != 0 {
		t.Fatalf("after repair: %+v", pr)
	}
}

// TestStagingOwnership: a staging folder is swept once its owner is gone,
// never while it lives.
func TestStagingOwnership(t *testing.T) {
	base := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	live, err := NewStagingDir(base, "mount")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(live.Path, "f"), []byte("x"), 0o600)
	dead, err := NewStagingDir(base, "write")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dead.Path, "f"), []byte("x"), 0o600)
	dead.lock.Close() // what the kernel does when its process is killed
	if n := SweepStaging(base, log); n != 1 {
		t.Fatalf("swept %d folders, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(live.Path, "f")); err != nil {
		t.Fatal("the live owner's folder was swept")
	}
	if _, err := os.Stat(dead.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the dead owner's folder survived")
	}
	live.Remove()
	if _, err := os.Stat(live.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Remove left the folder")
	}
}

// TestStagingUnderSweeps: folders made while others sweep the same base
// are never lost to a sweep (one may be taken between its creation and its
// lock: then another is made).
func TestStagingUnderSweeps(t *testing.T) {
	base := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				SweepStaging(base, log)
			}
		}
	}()
	for i := 0; i < 300; i++ {
		d, err := NewStagingDir(base, "write")
		if err != nil {
			t.Fatalf("make %d: %v", i, err)
		}
		if err := os.WriteFile(filepath.Join(d.Path, "f"), []byte("x"), 0o600); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
		d.Remove()
	}
	close(stop)
	wg.Wait()
}

// TestJournalLinksPriorFiles: the journal keeps a file's prior bytes as a
// hard link (a history of thousands of versions is megabytes), not inside
// itself; the undo restores them from the link and removes the links.
func TestJournalLinksPriorFiles(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	jan, mar := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31")
	if _, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: jan["lb"], Format: FormatParquet}); err != nil {
		t.Fatal(err)
	}
	priorHistory, err := os.ReadFile(p.clonePath(meta.HistoryPath(tn("lb"))))
	if err != nil {
		t.Fatal(err)
	}
	before := stateOf(t, p)
	injected := errors.New("injected failure")
	checked := false
	p.testHook = func(pt string) error {
		if pt != "push" {
			return nil
		}
		j, err := p.loadJournal()
		if err != nil || j == nil {
			t.Fatalf("no journal at push: %v", err)
		}
		for _, f := range j.Files {
			if !f.Existed {
				continue
			}
			if f.Saved == "" || f.Before != nil {
				t.Errorf("%s: journaled by copy (saved %q, %d bytes inline)", f.Path, f.Saved, len(f.Before))
			}
			if f.Path == filepath.FromSlash(meta.HistoryPath(tn("lb"))) {
				got, err := p.prior(f)
				if err != nil || string(got) != string(priorHistory) {
					t.Errorf("the linked history is not the prior one: %v", err)
				}
				checked = true
			}
		}
		return injected
	}
	_, err = p.Write(ctx, WriteRequest{Table: tn("lb"), Path: mar["lb"], Format: FormatParquet})
	p.testHook = nil
	if !errors.Is(err, injected) || !checked {
		t.Fatalf("write: %v (history checked: %v)", err, checked)
	}
	sameState(t, "undo from links", before, stateOf(t, p))
	if _, err := os.Stat(p.journalFiles()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal's links were left behind: %v", err)
	}
}
