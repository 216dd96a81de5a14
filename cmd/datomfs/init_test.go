package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

// TestInitFollowsPushedBranch: "datomfs init" pushing main to a bare remote
// made with --initial-branch=master points the remote's HEAD at main, says
// so, and a plain "git clone" then checks out the project's files.
func TestInitFollowsPushedBranch(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	base := t.TempDir()
	t.Setenv("DATOMFS_CACHE", filepath.Join(base, "cache"))
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(base, "gitconfig")) // init.defaultBranch unset: datomfs pushes main
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	remote := filepath.Join(base, "remote.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=master", remote).CombinedOutput(); err != nil {
		t.Fatalf("git init --bare: %v %s", err, out)
	}
	io, _, _, errOut := TestIO()
	args := []string{"init", filepath.Join(base, "study"), "--project", "S1", "--store", filepath.Join(base, "store"), "--remote", "file://" + remote}
	if code := Main(args, io); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "now names main") {
		t.Errorf("init stderr lacks the note: %q", errOut.String())
	}
	out, err := exec.Command("git", "--git-dir", remote, "symbolic-ref", "HEAD").Output()
	if err != nil || strings.TrimSpace(string(out)) != "refs/heads/main" {
		t.Errorf("remote HEAD = %q, %v", out, err)
	}
	clone := filepath.Join(base, "plain-clone")
	if out, err := exec.Command("git", "clone", "-q", remote, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v %s", err, out)
	}
	for _, f := range []string{".datom/project.yaml", ".datom/manifest.json", "README.md"} {
		if _, err := os.Stat(filepath.Join(clone, f)); err != nil {
			t.Errorf("git clone: %v", err)
		}
	}
}

// TestInitHintsHostedDefaultBranch: over HTTPS (git http-backend) the
// remote's default branch is a hosting setting datomfs cannot change; when
// it names a branch that was never pushed, init says how to fix it and
// says nothing once it names the pushed branch.
func TestInitHintsHostedDefaultBranch(t *testing.T) {
	base := t.TempDir()
	t.Setenv("DATOMFS_CACHE", filepath.Join(base, "cache"))
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(base, "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	const token = "tok-init-head-4e2a"
	t.Setenv("DATOMFS_GIT_TOKEN", token)
	srv := testenv.GitHTTP(t, token)
	for _, c := range []struct {
		head string
		hint bool
	}{{"refs/heads/master", true}, {"refs/heads/main", false}} {
		name := strings.TrimPrefix(c.head, "refs/heads/") + ".git"
		url := srv.NewBareRepo(t, name)
		if out, err := exec.Command("git", "--git-dir", filepath.Join(srv.Root, name), "symbolic-ref", "HEAD", c.head).CombinedOutput(); err != nil {
			t.Fatalf("git symbolic-ref: %v %s", err, out)
		}
		io, _, _, errOut := TestIO()
		args := []string{"init", filepath.Join(base, name), "--project", "S1", "--store", filepath.Join(base, "store-"+name), "--remote", url}
		if code := Main(args, io); code != 0 {
			t.Fatalf("init: exit %d: %s", code, errOut.String())
		}
		got := strings.Contains(errOut.String(), "hint: the remote's default branch does not exist (datomfs pushed \"main\")") &&
			strings.Contains(errOut.String(), "Default branch")
		if got != c.hint {
			t.Errorf("HEAD %s: hint shown %v, want %v:\n%s", c.head, got, c.hint, errOut.String())
		}
		if strings.Contains(errOut.String(), token) {
			t.Errorf("the token is in init's output")
		}
	}
}
