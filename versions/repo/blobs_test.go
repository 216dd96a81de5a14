package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommitManyFilesPacksBlobs: a commit of many new files writes their
// blobs, its trees and the commit object as one pack, not a loose object
// each; git reads them, finds the
// repository sound and the index matching the work tree, and the push
// sends them.
func TestCommitManyFilesPacksBlobs(t *testing.T) {
	ctx := context.Background()
	r, remote := seeded(t)
	packs := func() int {
		m, _ := filepath.Glob(filepath.Join(r.GitDir(), "objects", "pack", "*.pack"))
		return len(m)
	}
	before := packs()
	files := map[string]string{}
	for i := 0; i < 2*packObjectsAt; i++ {
		files[fmt.Sprintf("t%03d/metadata.json", i)] = fmt.Sprintf("{\"v\": %d}\n", i)
	}
	mustCommit(t, r, "many", files)
	if got := packs(); got != before+1 {
		t.Fatalf("%d new packs, want 1", got-before)
	}
	want := strings.TrimSpace(gitCLI(t, r.Dir(), "hash-object", "t007/metadata.json"))
	for _, rev := range []string{"HEAD", "HEAD^{tree}", "HEAD:t007", "HEAD:t007/metadata.json"} {
		h := strings.TrimSpace(gitCLI(t, r.Dir(), "rev-parse", rev))
		if _, err := os.Stat(filepath.Join(r.GitDir(), "objects", h[:2], h[2:])); err == nil {
			t.Errorf("%s (%s) is loose as well", rev, h)
		}
	}
	if got := strings.TrimSpace(gitCLI(t, r.Dir(), "rev-parse", "HEAD:t007/metadata.json")); got != want {
		t.Fatalf("committed blob %s, git hashes the file as %s", got, want)
	}
	if got := gitCLI(t, r.Dir(), "cat-file", "blob", want); got != strings.TrimSpace(files["t007/metadata.json"]) {
		t.Fatalf("packed blob holds %q", got)
	}
	verifyRepo(t, r.Dir())
	if st := gitCLI(t, r.Dir(), "status", "--porcelain"); strings.TrimSpace(st) != "" {
		t.Fatalf("status after the commit:\n%s", st)
	}
	// A few files stay loose objects.
	mustCommit(t, r, "few", map[string]string{"t000/metadata.json": "{\"v\": -1}\n"})
	if got := packs(); got != before+1 {
		t.Fatalf("a one-file commit wrote a pack")
	}
	if err := r.Push(ctx); err != nil {
		t.Fatal(err)
	}
	gitCLI(t, remote, "fsck", "--strict", "--no-progress")
	if got, want := strings.TrimSpace(gitCLI(t, remote, "rev-parse", "main:t063/metadata.json")), strings.TrimSpace(gitCLI(t, r.Dir(), "hash-object", "t063/metadata.json")); got != want {
		t.Fatalf("remote has %s, want %s", got, want)
	}
}
