package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSnapshotTreeAndDiff(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "one")
	write("lb/metadata.json", "{}")
	write(".git/HEAD", "ref: refs/heads/main\n")
	if err := os.MkdirAll(filepath.Join(root, "input_files"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := SnapshotTree(t, root)
	want := Tree{"a.txt": "one", "lb/metadata.json": "{}", "input_files/": ""}
	if d := want.Diff(before); d != "" {
		t.Fatalf("snapshot differs from %v:\n%s", want, d)
	}
	if d := before.Diff(SnapshotTree(t, root)); d != "" {
		t.Fatalf("two snapshots of an unchanged tree differ:\n%s", d)
	}

	write("a.txt", "two")
	write("input_files/x.csv", "a\n")
	os.Remove(filepath.Join(root, "lb", "metadata.json"))
	got := before.Diff(SnapshotTree(t, root))
	wantDiff := strings.Join([]string{
		`changed a.txt: "two", was "one"`,
		"removed input_files/",
		"added input_files/x.csv",
		"added lb/",
		"removed lb/metadata.json",
	}, "\n")
	if got != wantDiff {
		t.Errorf("Diff:\n%s\nwant:\n%s", got, wantDiff)
	}
}

func TestTickingClock(t *testing.T) {
	c := TickingClock()
	if got, want := c(), time.Date(2026, 3, 1, 9, 1, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("first reading %v, want %v", got, want)
	}
	var wg sync.WaitGroup
	seen := make(chan time.Time, 100)
	for range 100 {
		wg.Go(func() { seen <- c() })
	}
	wg.Wait()
	close(seen)
	distinct := map[time.Time]bool{}
	for ts := range seen {
		distinct[ts] = true
	}
	if len(distinct) != 100 {
		t.Errorf("100 concurrent readings gave %d distinct times", len(distinct))
	}
	if other := TickingClock()(); !other.Equal(time.Date(2026, 3, 1, 9, 1, 0, 0, time.UTC)) {
		t.Errorf("clocks share state: a new clock reads %v", other)
	}
}

func TestBareRemote(t *testing.T) {
	dir := BareRemote(t)
	out, err := exec.Command("git", "-C", dir, "symbolic-ref", "HEAD").Output()
	if err != nil || strings.TrimSpace(string(out)) != "refs/heads/main" {
		t.Errorf("HEAD of %s = %q (%v), want refs/heads/main", dir, out, err)
	}
	if out, err := exec.Command("git", "-C", dir, "rev-parse", "--is-bare-repository").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Errorf("%s is not a bare repository: %q (%v)", dir, out, err)
	}
}
