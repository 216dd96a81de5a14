package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
