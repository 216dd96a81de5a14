package repo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

const gitHint = "git not found: install it (Debian: apt-get install git)"

// isolate gives the test an empty HOME and global git config and clears
// the token variables, so the machine's settings cannot leak in. It
// returns the global config file's path (initially empty).
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	global := filepath.Join(home, "gitconfig")
	if err := os.WriteFile(global, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
	t.Setenv("GIT_CONFIG_GLOBAL", global)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"DATOMFS_GIT_TOKEN", "GITHUB_PAT", "GITHUB_TOKEN"} {
		t.Setenv(k, "")
	}
	return global
}

// setGlobal writes the global git config for the test.
func setGlobal(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// gitCLI runs the real git (the reference implementation) and returns its
// trimmed stdout; a failure fails the test.
func gitCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("%s (%v)", gitHint, err)
	}
	cmd := exec.Command(bin, append([]string{"-C", dir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git -C %s %s: %v\n%s", dir, strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// verifyRepo checks with the git CLI that dir is a sound repository.
func verifyRepo(t *testing.T, dir string) {
	t.Helper()
	gitCLI(t, dir, "fsck", "--strict", "--no-progress")
}

func writeFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// seeded returns a pushed repository with an initial commit
// (.gitignore ignoring input_files/, README.md, t/metadata.json) and its
// bare remote.
func seeded(t *testing.T) (*Repo, string) {
	t.Helper()
	ctx := context.Background()
	remote := testenv.BareRemoteGitDefaults(t)
	r, err := Init(ctx, t.TempDir(), remote, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, r.Dir(), ".gitignore", "*.csv\ninput_files/\n")
	writeFile(t, r.Dir(), "README.md", "# study\n")
	writeFile(t, r.Dir(), "t/metadata.json", "{\"v\": 1}\n")
	if _, changed, err := r.Commit(ctx, []string{".gitignore", "README.md", "t/metadata.json"}, "Initialize datom repository"); err != nil || !changed {
		t.Fatalf("initial commit: changed=%v err=%v", changed, err)
	}
	if err := r.Push(ctx); err != nil {
		t.Fatalf("initial push: %v", err)
	}
	return r, remote
}

func mustHead(t *testing.T, r *Repo) string {
	t.Helper()
	h, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustCommit(t *testing.T, r *Repo, msg string, files map[string]string) string {
	t.Helper()
	var paths []string
	for p, c := range files {
		writeFile(t, r.Dir(), p, c)
		paths = append(paths, p)
	}
	h, changed, err := r.Commit(context.Background(), paths, msg)
	if err != nil || !changed {
		t.Fatalf("commit %q: changed=%v err=%v", msg, changed, err)
	}
	return h
}
