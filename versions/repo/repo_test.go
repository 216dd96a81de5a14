package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

func TestInitCommitPushToEmptyBareRemote(t *testing.T) {
	tests := []struct {
		name       string
		global     string
		wantBranch string
		wantAuthor string
	}{
		{"defaults", "", "main", "datom <datom@noreply>"},
		{"global config", "[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n[init]\n\tdefaultBranch = trunk\n",
			"trunk", "Ada Lovelace <ada@example.org>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			global := isolate(t)
			setGlobal(t, global, tt.global)
			remote := testenv.BareRemoteGitDefaults(t)
			r, err := Init(ctx, filepath.Join(t.TempDir(), "proj"), remote, InitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Branch() != tt.wantBranch {
				t.Errorf("Branch() = %q, want %q", r.Branch(), tt.wantBranch)
			}
			if r.RemoteURL() != remote {
				t.Errorf("RemoteURL() = %q, want %q", r.RemoteURL(), remote)
			}
			if h, err := r.Head(); err != nil || h != "" {
				t.Errorf("Head() of a new repo = %q, %v; want \"\", nil", h, err)
			}
			// Contract 2.5: init writes a repo-local identity.
			name, email, _ := strings.Cut(strings.TrimSuffix(tt.wantAuthor, ">"), " <")
			if got := gitCLI(t, r.Dir(), "config", "--local", "user.name"); got != name {
				t.Errorf("local user.name = %q, want %q", got, name)
			}
			if got := gitCLI(t, r.Dir(), "config", "--local", "user.email"); got != email {
				t.Errorf("local user.email = %q, want %q", got, email)
			}
			if got := gitCLI(t, r.Dir(), "config", "--local", "remote.origin.url"); got != remote {
				t.Errorf("remote.origin.url = %q", got)
			}

			writeFile(t, r.Dir(), ".datom/project.yaml", "project_name: s1\n")
			writeFile(t, r.Dir(), "README.md", "# s1\n")
			writeFile(t, r.Dir(), "notes.txt", "not listed, not committed\n")
			h, changed, err := r.Commit(ctx, []string{".datom/project.yaml", "README.md"}, "Initialize datom repository")
			if err != nil || !changed || len(h) != 40 {
				t.Fatalf("Commit = %q, %v, %v", h, changed, err)
			}
			if err := r.Push(ctx); err != nil {
				t.Fatalf("first push to an empty bare remote: %v", err)
			}
			// The real git agrees on what go-git wrote, locally and remotely.
			verifyRepo(t, r.Dir())
			verifyRepo(t, remote)
			if got := gitCLI(t, r.Dir(), "rev-parse", "HEAD"); got != h {
				t.Errorf("git rev-parse HEAD = %s, Head = %s", got, h)
			}
			if got := gitCLI(t, remote, "rev-parse", "refs/heads/"+tt.wantBranch); got != h {
				t.Errorf("remote %s = %s, want %s", tt.wantBranch, got, h)
			}
			if got := gitCLI(t, remote, "log", "--format=%an <%ae>|%s", tt.wantBranch); got != tt.wantAuthor+"|Initialize datom repository" {
				t.Errorf("remote log = %q", got)
			}
			if got := gitCLI(t, r.Dir(), "show", "--name-only", "--format=", "HEAD"); got != ".datom/project.yaml\nREADME.md" {
				t.Errorf("committed files = %q, want only the listed ones", got)
			}
			if got := gitCLI(t, r.Dir(), "status", "--porcelain"); got != "?? notes.txt" {
				t.Errorf("git status = %q, want only the unlisted file untracked", got)
			}
			if a, b, err := r.AheadBehind(ctx); err != nil || a != 0 || b != 0 {
				t.Errorf("AheadBehind after push = %d, %d, %v; want 0, 0", a, b, err)
			}
		})
	}
}

func TestInitRefusesExistingRepo(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Init(ctx, dir, testenv.BareRemoteGitDefaults(t), InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(ctx, dir, testenv.BareRemoteGitDefaults(t), InitOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second Init = %v, want ErrExists", err)
	}
	if _, err := Init(ctx, t.TempDir(), testenv.BareRemoteGitDefaults(t), InitOptions{Branch: "bad..name"}); err == nil {
		t.Fatal("Init with an invalid branch name succeeded")
	}
}

func TestOpen(t *testing.T) {
	isolate(t)
	r, remote := seeded(t)
	o, err := Open(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if o.Branch() != "main" || o.RemoteURL() != remote || o.Dir() != r.Dir() || mustHead(t, o) != mustHead(t, r) {
		t.Errorf("Open = branch %q remote %q dir %q", o.Branch(), o.RemoteURL(), o.Dir())
	}
	for name, dir := range map[string]string{"empty dir": t.TempDir(), "bare repo": remote, "missing": filepath.Join(t.TempDir(), "nope")} {
		if _, err := Open(dir); !errors.Is(err, ErrNotARepo) {
			t.Errorf("Open(%s) = %v, want ErrNotARepo", name, err)
		}
	}
}

func TestClone(t *testing.T) {
	ctx := context.Background()
	global := isolate(t)
	r, remote := seeded(t)
	setGlobal(t, global, "[user]\n\tname = Grace\n\temail = grace@example.org\n")

	// The bare remote's HEAD names "master" (git's default), which does not
	// exist: Clone falls back to "main".
	for name, url := range map[string]string{"path": remote, "file URL": "file://" + remote} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "clone")
			c, err := Clone(ctx, url, dir, CloneOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Branch() != "main" || mustHead(t, c) != mustHead(t, r) {
				t.Errorf("clone branch %q head %q, want main %q", c.Branch(), mustHead(t, c), mustHead(t, r))
			}
			if got := readFile(t, dir, "t/metadata.json"); got != "{\"v\": 1}\n" {
				t.Errorf("checked out t/metadata.json = %q", got)
			}
			if got := gitCLI(t, dir, "config", "--local", "user.email"); got != "grace@example.org" {
				t.Errorf("clone's local user.email = %q", got)
			}
			if got := gitCLI(t, dir, "status", "--porcelain", "--branch"); got != "## main...origin/main" {
				t.Errorf("git status of the clone = %q", got)
			}
			verifyRepo(t, dir)
			if a, ok := c.Author(); !ok || a != (Author{"Grace", "grace@example.org"}) {
				t.Errorf("Author() = %v, %v", a, ok)
			}
		})
	}

	t.Run("non-empty dir", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "keep.txt", "x")
		if _, err := Clone(ctx, remote, dir, CloneOptions{}); !errors.Is(err, ErrExists) {
			t.Fatalf("Clone into a non-empty dir = %v, want ErrExists", err)
		}
		if readFile(t, dir, "keep.txt") != "x" {
			t.Error("existing file changed")
		}
	})
	t.Run("unknown branch", func(t *testing.T) {
		if _, err := Clone(ctx, remote, t.TempDir(), CloneOptions{Branch: "nope"}); err == nil {
			t.Fatal("Clone of a missing branch succeeded")
		}
	})
}

func TestCloneEmptyRemote(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "clone")
	_, err := Clone(context.Background(), testenv.BareRemoteGitDefaults(t), dir, CloneOptions{})
	if !errors.Is(err, ErrEmptyRemote) {
		t.Fatalf("Clone of an empty remote = %v, want ErrEmptyRemote", err)
	}
	if !strings.Contains(err.Error(), "empty") {
		t.Errorf("message %q does not say the remote is empty", err)
	}
	if _, statErr := os.Stat(dir); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("failed clone left %s behind (%v)", dir, statErr)
	}
}

func TestCommit(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	r, _ := seeded(t)
	head := mustHead(t, r)

	t.Run("unchanged files", func(t *testing.T) {
		h, changed, err := r.Commit(ctx, []string{"README.md", "t/metadata.json"}, "nothing")
		if err != nil || changed || h != head {
			t.Fatalf("Commit of unchanged files = %q, %v, %v; want %q, false, nil", h, changed, err, head)
		}
		if got := gitCLI(t, r.Dir(), "rev-list", "--count", "HEAD"); got != "1" {
			t.Errorf("commit count = %s, want 1", got)
		}
	})
	t.Run("only listed paths", func(t *testing.T) {
		writeFile(t, r.Dir(), "README.md", "# changed but not listed\n")
		h := mustCommit(t, r, "Update u", map[string]string{"u/metadata.json": "{}\n", "u/version_history.json": "[]\n"})
		if got := gitCLI(t, r.Dir(), "show", "--name-status", "--format=%s", h); got != "Update u\n\nA\tu/metadata.json\nA\tu/version_history.json" {
			t.Errorf("commit = %q", got)
		}
		if clean, err := r.Clean(ctx); err != nil || clean {
			t.Errorf("Clean with a modified README = %v, %v; want false", clean, err)
		}
		if err := r.ResetHard(ctx, h); err != nil {
			t.Fatal(err)
		}
		if clean, err := r.Clean(ctx); err != nil || !clean {
			t.Errorf("Clean after ResetHard = %v, %v; want true", clean, err)
		}
	})
	t.Run("deleted file", func(t *testing.T) {
		if err := os.Remove(filepath.Join(r.Dir(), "u", "version_history.json")); err != nil {
			t.Fatal(err)
		}
		h, changed, err := r.Commit(ctx, []string{"u/version_history.json"}, "drop")
		if err != nil || !changed {
			t.Fatalf("Commit of a deletion = %v, %v", changed, err)
		}
		if got := gitCLI(t, r.Dir(), "show", "--name-status", "--format=", h); got != "D\tu/version_history.json" {
			t.Errorf("commit = %q", got)
		}
	})
	t.Run("bad paths", func(t *testing.T) {
		before := mustHead(t, r)
		writeFile(t, r.Dir(), "ok.json", "{}\n")
		for _, p := range []string{"", "/etc/passwd", "../x", "a/../../x", ".git/config", ".", "missing.json", "u"} {
			if _, _, err := r.Commit(ctx, []string{"ok.json", p}, "bad"); err == nil {
				t.Errorf("Commit with path %q succeeded", p)
			}
		}
		if _, _, err := r.Commit(ctx, []string{"ok.json"}, "  "); err == nil {
			t.Error("Commit with an empty message succeeded")
		}
		if mustHead(t, r) != before {
			t.Error("a rejected Commit moved HEAD")
		}
	})
	verifyRepo(t, r.Dir())
}

func TestAuthor(t *testing.T) {
	global := isolate(t)
	r, _ := seeded(t) // local identity: datom / datom@noreply
	if a, ok := r.Author(); !ok || a != (Author{"datom", "datom@noreply"}) {
		t.Errorf("Author() = %v, %v; want the repo-local identity", a, ok)
	}
	gitCLI(t, r.Dir(), "config", "--local", "user.name", "Local Name")
	gitCLI(t, r.Dir(), "config", "--local", "--unset", "user.email")
	setGlobal(t, global, "[user]\n\tname = Global Name\n\temail = global@example.org\n")
	if a, ok := r.Author(); !ok || a != (Author{"Local Name", "global@example.org"}) {
		t.Errorf("Author() = %v, %v; want local name, global email", a, ok)
	}
	setGlobal(t, global, "[user]\n\tname = Global Name\n")
	if a, ok := r.Author(); ok {
		t.Errorf("Author() = %v, true; want false with no email anywhere", a)
	}
	// A commit without an identity still works, as datom.
	h := mustCommit(t, r, "anon", map[string]string{"x.json": "1"})
	if got := gitCLI(t, r.Dir(), "log", "-1", "--format=%an <%ae>", h); got != "datom <datom@noreply>" {
		t.Errorf("fallback author = %q", got)
	}
}

// TestPushRaceResetPull is the write path's rejected-push story: A pushes
// first, B's push is rejected, B undoes its commit exactly, pulls A's
// commit and pushes again.
func TestPushRaceResetPull(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	_, remote := seeded(t)
	a, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "a"), CloneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Clone(ctx, "file://"+remote, filepath.Join(t.TempDir(), "b"), CloneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Untracked and ignored files must survive everything below.
	writeFile(t, b.Dir(), "input_files/lb.csv", "a,b\n1,2\n")
	writeFile(t, b.Dir(), "scratch.md", "mine\n")

	aHead := mustCommit(t, a, "Update a", map[string]string{"a/metadata.json": "{\"a\": 1}\n"})
	if err := a.Push(ctx); err != nil {
		t.Fatal(err)
	}

	bBefore := mustHead(t, b)
	bFiles := testenv.SnapshotTree(t, b.Dir())
	mustCommit(t, b, "Update b", map[string]string{"b/metadata.json": "{\"b\": 1}\n", "t/metadata.json": "{\"v\": 2}\n"})
	err = b.Push(ctx)
	if !errors.Is(err, ErrPushRejected) {
		t.Fatalf("B's push = %v, want ErrPushRejected", err)
	}
	if got := gitCLI(t, remote, "rev-parse", "main"); got != aHead {
		t.Fatalf("remote main = %s after a rejected push, want A's %s", got, aHead)
	}

	if err := b.ResetHard(ctx, bBefore); err != nil {
		t.Fatal(err)
	}
	if got := mustHead(t, b); got != bBefore {
		t.Errorf("Head after ResetHard = %s, want %s", got, bBefore)
	}
	if d := bFiles.Diff(testenv.SnapshotTree(t, b.Dir())); d != "" {
		t.Errorf("the work tree after ResetHard differs:\n%s", d)
	}
	if got := gitCLI(t, b.Dir(), "status", "--porcelain"); got != "?? scratch.md" {
		t.Errorf("git status after ResetHard = %q", got)
	}
	verifyRepo(t, b.Dir())

	res, err := b.Pull(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := PullResult{From: bBefore, To: aHead, Commits: 1, ChangedPaths: []string{"a/metadata.json"}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("Pull = %+v, want %+v", res, want)
	}
	if got := readFile(t, b.Dir(), "a/metadata.json"); got != "{\"a\": 1}\n" {
		t.Errorf("pulled file = %q", got)
	}
	if got := readFile(t, b.Dir(), "input_files/lb.csv"); got != "a,b\n1,2\n" {
		t.Errorf("ignored file after Pull = %q", got)
	}
	if got := gitCLI(t, b.Dir(), "status", "--porcelain", "--branch"); got != "## main...origin/main\n?? scratch.md" {
		t.Errorf("git status after Pull = %q", got)
	}
	if clean, err := b.Clean(ctx); err != nil || !clean {
		t.Errorf("Clean after Pull = %v, %v", clean, err)
	}

	// Redo and push: now a fast-forward.
	bHead := mustCommit(t, b, "Update b", map[string]string{"b/metadata.json": "{\"b\": 1}\n"})
	if err := b.Push(ctx); err != nil {
		t.Fatalf("push after pull: %v", err)
	}
	if got := gitCLI(t, remote, "log", "--format=%s", "main"); got != "Update b\nUpdate a\nInitialize datom repository" {
		t.Errorf("remote history = %q", got)
	}
	verifyRepo(t, remote)

	// A catches up.
	res, err = a.Pull(ctx)
	if err != nil || res.To != bHead || res.Commits != 1 || !reflect.DeepEqual(res.ChangedPaths, []string{"b/metadata.json"}) {
		t.Errorf("A's Pull = %+v, %v", res, err)
	}
	res, err = a.Pull(ctx)
	if err != nil || res.From != bHead || res.To != bHead || res.Commits != 0 || len(res.ChangedPaths) != 0 {
		t.Errorf("up-to-date Pull = %+v, %v", res, err)
	}
}

func TestPullDivergedAndAheadBehind(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	a, remote := seeded(t)
	b, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "b"), CloneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, a, "a1", map[string]string{"a.json": "1"})
	mustCommit(t, a, "a2", map[string]string{"a.json": "2"})
	if err := a.Push(ctx); err != nil {
		t.Fatal(err)
	}
	bHead := mustCommit(t, b, "b1", map[string]string{"b.json": "1"})
	if ah, bh, err := b.AheadBehind(ctx); err != nil || ah != 1 || bh != 0 {
		t.Errorf("AheadBehind before fetch = %d, %d, %v; want 1, 0", ah, bh, err)
	}
	if err := b.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if ah, bh, err := b.AheadBehind(ctx); err != nil || ah != 1 || bh != 2 {
		t.Errorf("AheadBehind after fetch = %d, %d, %v; want 1, 2", ah, bh, err)
	}
	_, err = b.Pull(ctx)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("Pull with both sides moved = %v, want ErrDiverged", err)
	}
	if mustHead(t, b) != bHead || readFile(t, b.Dir(), "b.json") != "1" {
		t.Error("a refused Pull changed the clone")
	}
	if _, err := os.Stat(filepath.Join(b.Dir(), "a.json")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused Pull checked out remote files")
	}
	// A local branch only ahead is not an error.
	if _, err := a.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, a, "a3", map[string]string{"a.json": "3"})
	if res, err := a.Pull(ctx); err != nil || res.Commits != 0 || res.From != res.To {
		t.Errorf("Pull while only ahead = %+v, %v", res, err)
	}
}

func TestPullLocalChanges(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	a, remote := seeded(t)
	b, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "b"), CloneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, a, "a", map[string]string{"t/metadata.json": "{\"v\": 9}\n", "new.json": "n"})
	if err := a.Push(ctx); err != nil {
		t.Fatal(err)
	}
	before := mustHead(t, b)

	cases := []struct {
		name  string
		setup func()
		undo  func()
	}{
		{"modified tracked file",
			func() { writeFile(t, b.Dir(), "t/metadata.json", "{\"v\": \"local\"}\n") },
			func() { writeFile(t, b.Dir(), "t/metadata.json", "{\"v\": 1}\n") }},
		{"untracked file in the way",
			func() { writeFile(t, b.Dir(), "new.json", "mine") },
			func() { _ = os.Remove(filepath.Join(b.Dir(), "new.json")) }},
	}
	for _, c := range cases {
		c.setup()
		if _, err := b.Pull(ctx); !errors.Is(err, ErrLocalChanges) {
			t.Errorf("%s: Pull = %v, want ErrLocalChanges", c.name, err)
		}
		if mustHead(t, b) != before {
			t.Errorf("%s: a refused Pull moved HEAD", c.name)
		}
		c.undo()
	}
	if got := readFile(t, b.Dir(), "t/metadata.json"); got != "{\"v\": 1}\n" {
		t.Fatalf("undo failed: %q", got)
	}
	// A local change to a file the pull does not touch does not block it.
	writeFile(t, b.Dir(), "README.md", "# local edit\n")
	res, err := b.Pull(ctx)
	if err != nil || res.Commits != 1 || !reflect.DeepEqual(res.ChangedPaths, []string{"new.json", "t/metadata.json"}) {
		t.Fatalf("Pull = %+v, %v", res, err)
	}
	if got := readFile(t, b.Dir(), "README.md"); got != "# local edit\n" {
		t.Errorf("local edit lost: %q", got)
	}
	if got := gitCLI(t, b.Dir(), "status", "--porcelain"); got != "M README.md" {
		t.Errorf("git status = %q", got)
	}
}

func TestPullIntoUnbornBranch(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	a, remote := seeded(t)
	n, err := Init(ctx, t.TempDir(), remote, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.Pull(ctx)
	if err != nil || res.From != "" || res.To != mustHead(t, a) || res.Commits != 1 || len(res.ChangedPaths) != 3 {
		t.Fatalf("Pull into an unborn branch = %+v, %v", res, err)
	}
	if readFile(t, n.Dir(), "README.md") != "# study\n" {
		t.Error("files not checked out")
	}
	verifyRepo(t, n.Dir())
	if got := gitCLI(t, n.Dir(), "status", "--porcelain"); got != "" {
		t.Errorf("git status = %q", got)
	}
}

func TestFetchPullEmptyRemote(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	r, err := Init(ctx, t.TempDir(), testenv.BareRemoteGitDefaults(t), InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Fetch(ctx); err != nil {
		t.Errorf("Fetch of an empty remote = %v", err)
	}
	if res, err := r.Pull(ctx); err != nil || res.Commits != 0 {
		t.Errorf("Pull of an empty remote = %+v, %v", res, err)
	}
	if err := r.Push(ctx); err == nil {
		t.Error("Push with no commits succeeded")
	}
}

func TestUnreachable(t *testing.T) {
	isolate(t)
	missing := filepath.Join(t.TempDir(), "no", "such.git")
	remotes := map[string]string{
		"missing path":     missing,
		"missing file URL": "file://" + missing,
		"refused port":     "http://127.0.0.1:1/data.git",
	}
	for name, url := range remotes {
		t.Run(name, func(t *testing.T) {
			// Generous: "promptly" means no hang until this deadline, and
			// the error must be ours, not the deadline's.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, ErrUnreachable) || errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s: %v, want ErrUnreachable", op, err)
				}
			}
			_, err := Clone(ctx, url, filepath.Join(t.TempDir(), "c"), CloneOptions{})
			check("Clone", err)
			r, err := Init(ctx, t.TempDir(), url, InitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			check("Fetch", r.Fetch(ctx))
			_, err = r.Pull(ctx)
			check("Pull", err)
			mustCommit(t, r, "x", map[string]string{"x": "1"})
			check("Push", r.Push(ctx))
		})
	}
}

func TestResetHardErrors(t *testing.T) {
	isolate(t)
	r, _ := seeded(t)
	head := mustHead(t, r)
	for _, rev := range []string{"deadbeef", strings.Repeat("0", 40), "no-such-branch"} {
		if err := r.ResetHard(context.Background(), rev); err == nil {
			t.Errorf("ResetHard(%q) succeeded", rev)
		}
	}
	if mustHead(t, r) != head {
		t.Error("a failed ResetHard moved HEAD")
	}
	// A short hash and a revision expression resolve.
	h2 := mustCommit(t, r, "two", map[string]string{"two.json": "2"})
	if err := r.ResetHard(context.Background(), "HEAD~1"); err != nil || mustHead(t, r) != head {
		t.Fatalf("ResetHard(HEAD~1) = %v, head %s", err, mustHead(t, r))
	}
	if err := r.ResetHard(context.Background(), h2[:10]); err != nil || mustHead(t, r) != h2 {
		t.Fatalf("ResetHard(short) = %v", err)
	}
	if readFile(t, r.Dir(), "two.json") != "2" {
		t.Error("ResetHard forward did not restore the file")
	}
}

func TestCanceledContext(t *testing.T) {
	isolate(t)
	r, _ := seeded(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Fetch(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch = %v, want context.Canceled", err)
	}
	if _, _, err := r.Commit(ctx, []string{"README.md"}, "m"); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit = %v, want context.Canceled", err)
	}
}

func TestResetHardToUnborn(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	r, err := Init(ctx, t.TempDir(), testenv.BareRemoteGitDefaults(t), InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, r.Dir(), "keep.txt", "untracked\n")
	mustCommit(t, r, "first", map[string]string{"a/b/metadata.json": "{}", "README.md": "#"})
	if err := r.ResetHard(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if h := mustHead(t, r); h != "" {
		t.Errorf("Head after reset to unborn = %q", h)
	}
	if d := (testenv.Tree{"keep.txt": "untracked\n"}).Diff(testenv.SnapshotTree(t, r.Dir())); d != "" {
		t.Errorf("the work tree after a reset to unborn differs:\n%s", d)
	}
	if _, err := os.Stat(filepath.Join(r.Dir(), "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty directory a/ left behind (%v)", err)
	}
	if got := gitCLI(t, r.Dir(), "status", "--porcelain"); got != "?? keep.txt" {
		t.Errorf("git status = %q", got)
	}
	mustCommit(t, r, "again", map[string]string{"README.md": "#"})
	if got := gitCLI(t, r.Dir(), "log", "--format=%s"); got != "again" {
		t.Errorf("history = %q, want the undone commit gone", got)
	}
	verifyRepo(t, r.Dir())
}

// TestPackLoose: past the threshold the loose objects go into one pack and
// every commit still reads back; below it nothing happens.
func TestPackLoose(t *testing.T) {
	r, _ := seeded(t)
	var heads []string
	for i := 0; i < 40; i++ {
		heads = append(heads, mustCommit(t, r, fmt.Sprintf("c%d", i), map[string]string{
			fmt.Sprintf("t%d/metadata.json", i%5): fmt.Sprintf(`{"i": %d}`, i),
		}))
	}
	if n, err := r.PackLoose(1 << 30); err != nil || n != 0 {
		t.Fatalf("below the threshold: packed %d, %v", n, err)
	}
	n, err := r.PackLoose(0)
	if err != nil || n < 40 {
		t.Fatalf("PackLoose: packed %d, %v", n, err)
	}
	left := 0
	filepath.WalkDir(filepath.Join(r.Dir(), ".git", "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && len(filepath.Base(filepath.Dir(p))) == 2 {
			left++
		}
		return nil
	})
	if left != 0 {
		t.Fatalf("%d loose objects left", left)
	}
	// A fresh Repo reads every commit and file from the pack, and git agrees.
	o, err := Open(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range heads {
		if _, err := o.Parent(h); err != nil {
			t.Fatalf("commit %s after packing: %v", h, err)
		}
	}
	if out, err := exec.Command("git", "-C", r.Dir(), "fsck", "--strict").CombinedOutput(); err != nil {
		t.Fatalf("git fsck: %v\n%s", err, out)
	}
	if err := o.Push(context.Background()); err != nil {
		t.Fatalf("push after packing: %v", err)
	}
}
