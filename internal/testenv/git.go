package testenv

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// BareRemote creates an empty bare git repository, remote.git in a fresh
// temporary folder, whose HEAD names main, and returns its path. The
// user's git configuration is not read. A missing git fails the test with
// an install hint.
func BareRemote(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "remote.git")
	initBare(t, dir, true)
	return dir
}

// BareRemoteGitDefaults is BareRemote with git's own choices: HEAD names
// the configured init.defaultBranch, else master. For tests of how a clone
// picks its branch.
func BareRemoteGitDefaults(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "remote.git")
	initBare(t, dir, false)
	return dir
}

// initBare runs git init --bare in dir. When hermetic, HEAD names main and
// no git configuration is read; otherwise git chooses as configured.
func initBare(t testing.TB, dir string, hermetic bool) {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("%s (%v)", GitHint, err)
	}
	args := []string{"init", "--bare", "--quiet"}
	if hermetic {
		args = append(args, "--initial-branch=main")
	}
	cmd := exec.Command(git, append(args, dir)...)
	if hermetic {
		cmd.Env = append(cmd.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init --bare %s: %v\n%s", dir, err, out)
	}
}
