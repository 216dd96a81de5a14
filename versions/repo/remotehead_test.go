package repo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

// TestFollowPushedBranch: a bare remote made by "git init --bare
// --initial-branch=master" gets main pushed; its HEAD is pointed at main so
// a plain "git clone" checks out the files (path and file:// remotes), and a
// remote whose HEAD already names an existing branch is left alone.
func TestFollowPushedBranch(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip(gitHint)
	}
	for _, scheme := range []string{"", "file://"} {
		t.Run("scheme="+scheme, func(t *testing.T) {
			ctx := context.Background()
			isolate(t)
			remote := filepath.Join(t.TempDir(), "remote.git")
			if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=master", remote).CombinedOutput(); err != nil {
				t.Fatalf("git init --bare: %v %s", err, out)
			}
			r, err := Init(ctx, filepath.Join(t.TempDir(), "proj"), scheme+remote, InitOptions{Branch: "main"})
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, r.Dir(), "README.md", "# s1\n")
			if _, _, err := r.Commit(ctx, []string{"README.md"}, "Initialize datom repository"); err != nil {
				t.Fatal(err)
			}
			if err := r.Push(ctx); err != nil {
				t.Fatal(err)
			}
			h, err := r.FollowPushedBranch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := (RemoteHead{Target: "main", Fixed: true, Local: true}); h != want {
				t.Errorf("FollowPushedBranch = %+v, want %+v", h, want)
			}
			if got := gitCLI(t, remote, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
				t.Errorf("remote HEAD = %q", got)
			}
			clone := filepath.Join(t.TempDir(), "clone")
			if out, err := exec.Command("git", "clone", "-q", remote, clone).CombinedOutput(); err != nil {
				t.Fatalf("git clone: %v %s", err, out)
			}
			if _, err := os.Stat(filepath.Join(clone, "README.md")); err != nil {
				t.Errorf("git clone checked out nothing: %v", err)
			}
			// Once more: HEAD names an existing branch; nothing to do.
			if h, err := r.FollowPushedBranch(ctx); err != nil || h != (RemoteHead{Target: "main", Local: true}) {
				t.Errorf("second FollowPushedBranch = %+v, %v", h, err)
			}
		})
	}
}

func TestLocalRemotePath(t *testing.T) {
	for in, want := range map[string]string{
		"/srv/git/s.git":                "/srv/git/s.git",
		"./s.git":                       "./s.git",
		"file:///srv/git/s.git":         "/srv/git/s.git",
		"https://github.com/a/b":        "",
		"git@github.com:a/b.git":        "",
		"ssh://git@host/a/b.git":        "",
		"C:/git/s.git":                  "C:/git/s.git",
		"http://localhost:8080/s.git":   "",
		"relative/dir:with-colon/s.git": "relative/dir:with-colon/s.git",
	} {
		if got := localRemotePath(in); got != want {
			t.Errorf("localRemotePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFollowPushedBranchHTTP: a hosted remote (git http-backend) whose
// default branch names one that was never pushed is only inspected: its
// HEAD is not ours to change, and the result says what is wrong so that
// init can tell the user how to fix it in the hosting settings.
func TestFollowPushedBranchHTTP(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	const token = "tok-head-9c1d"
	t.Setenv("DATOMFS_GIT_TOKEN", token)
	srv := testenv.GitHTTP(t, token)
	url := srv.NewBareRepo(t, "data.git")
	gitCLI(t, filepath.Join(srv.Root, "data.git"), "symbolic-ref", "HEAD", "refs/heads/master")
	r, err := Init(ctx, t.TempDir(), url, InitOptions{Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, r, "Initialize datom repository", map[string]string{"README.md": "# s1\n"})
	if err := r.Push(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := r.FollowPushedBranch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// git advertises no HEAD (and so no name) for a missing branch.
	if want := (RemoteHead{Missing: true}); h != want {
		t.Fatalf("FollowPushedBranch = %+v, want %+v", h, want)
	}
	if got := gitCLI(t, filepath.Join(srv.Root, "data.git"), "symbolic-ref", "HEAD"); got != "refs/heads/master" {
		t.Errorf("a hosted remote's HEAD was changed to %q", got)
	}
	// Once its default branch is main, nothing is wrong.
	gitCLI(t, filepath.Join(srv.Root, "data.git"), "symbolic-ref", "HEAD", "refs/heads/main")
	if h, err := r.FollowPushedBranch(ctx); err != nil || h != (RemoteHead{Target: "main"}) {
		t.Errorf("after the fix: %+v, %v", h, err)
	}
}
