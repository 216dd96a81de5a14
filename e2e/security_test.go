package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestGitURLToken: a token given in the remote URL serves that clone or
// init, is printed nowhere and stored nowhere (.git, project files, the
// pushed history); later pulls and pushes take DATOMFS_GIT_TOKEN.
func TestGitURLToken(t *testing.T) {
	const token = "url-t0ken-9c41e7a2"
	srv := gitHTTP(t, token)
	url := srv.NewBareRepo(t, "study.git")
	withToken := strings.Replace(url, "://", "://x:"+token+"@", 1)
	b := localBackend(t)
	noLeak := func(what string, r result) {
		t.Helper()
		if strings.Contains(r.out+r.err, token) {
			t.Errorf("%s printed the token:\n%s", what, r)
		}
	}
	noTokenIn := func(root string) {
		t.Helper()
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if body, _ := os.ReadFile(p); bytes.Contains(body, []byte(token)) {
					t.Errorf("%s holds the token", p)
				}
			}
			return nil
		})
	}

	// init with the token in --remote: the first push uses it.
	alice := newEngineer(t, "Alice", b)
	dirA := filepath.Join(t.TempDir(), "a")
	r := alice.must("init", dirA, "--project", "STUDY_001", "--store", b.store, "--remote", withToken)
	noLeak("init", r)
	if strings.Count(r.err, "DATOMFS_GIT_TOKEN") != 1 || !strings.Contains(r.err, "remote: "+strings.Replace(url, "://", "://x@", 1)) {
		t.Errorf("init: want the redacted remote and one note about DATOMFS_GIT_TOKEN:\n%s", r.err)
	}
	noTokenIn(dirA)
	if got := git(t, dirA, "config", "remote.origin.url"); got != strings.Replace(url, "://", "://x@", 1) {
		t.Errorf("init: remote.origin.url = %q", got)
	}
	// Later pushes need the token from the environment.
	lb := extract(t, "2026-01-31", "parquet")["lb"]
	r = alice.run("write", lb, "--table", "lb", "-C", dirA)
	oneLineError(t, r)
	noLeak("write without a token", r)
	alice.env = append(alice.env, "DATOMFS_GIT_TOKEN="+token)
	noLeak("write", alice.must("write", lb, "--table", "lb", "-C", dirA))

	// clone with the token in the URL.
	bob := newEngineer(t, "Bob", b)
	dirB := filepath.Join(t.TempDir(), "b")
	r = bob.must("clone", withToken, dirB)
	noLeak("clone", r)
	if !strings.Contains(r.err, "remote:  "+strings.Replace(url, "://", "://x@", 1)) {
		t.Errorf("clone: want the remote without the token:\n%s", r.err)
	}
	if strings.Count(r.err, "DATOMFS_GIT_TOKEN") != 1 {
		t.Errorf("clone: want one note about DATOMFS_GIT_TOKEN:\n%s", r.err)
	}
	noTokenIn(dirB)
	// A later pull: refused without a token, fine with DATOMFS_GIT_TOKEN.
	alice.must("write", extract(t, "2026-03-31", "parquet")["lb"], "--table", "lb", "-C", dirA)
	r = bob.run("pull", "-C", dirB)
	oneLineError(t, r)
	noLeak("pull without a token", r)
	bob.env = append(bob.env, "DATOMFS_GIT_TOKEN="+token)
	noLeak("pull", bob.must("pull", "-C", dirB))
	noLeak("status", bob.must("status", "-C", dirB))
	if h := historyOf(t, bob, dirB, "lb"); len(h) != 2 {
		t.Errorf("bob sees %d versions of lb after the pull, want 2", len(h))
	}

	// The pushed history never saw the token either.
	bare := filepath.Join(srv.Root, "study.git")
	if log := git(t, bare, "log", "-p", "--all"); strings.Contains(log, token) {
		t.Error("the token is in the pushed history")
	}

	// A wrong token in the URL: one line, redacted.
	eve := newEngineer(t, "Eve", b)
	wrong := strings.Replace(url, "://", "://x:wrong-"+token+"@", 1)
	r = eve.run("clone", wrong, filepath.Join(t.TempDir(), "e"))
	oneLineError(t, r)
	noLeak("clone with a wrong token", r)
	if !strings.Contains(r.err, "x:***@") {
		t.Errorf("want the location with the password as ***:\n%s", r.err)
	}
}

// TestGitHTTPToken: an HTTPS-style remote served by git http-backend with a
// token; a wrong token fails with one line that does not echo it.
func TestGitHTTPToken(t *testing.T) {
	const token = "s3cr3t-token-value"
	srv := gitHTTP(t, token)
	url := srv.NewBareRepo(t, "study.git")
	b := localBackend(t)
	a := newEngineer(t, "Alice", b)
	a.env = append(a.env, "DATOMFS_GIT_TOKEN="+token)
	dir := filepath.Join(t.TempDir(), "a")
	a.must("init", dir, "--project", "STUDY_001", "--store", b.store, "--remote", url)
	a.must("write", extract(t, "2026-01-31", "parquet")["dm"], "--table", "dm", "-C", dir)

	bob := newEngineer(t, "Bob", b)
	bob.env = append(bob.env, "GITHUB_TOKEN="+token)
	bob.must("clone", url, filepath.Join(t.TempDir(), "b"))

	eve := newEngineer(t, "Eve", b)
	eve.env = append(eve.env, "DATOMFS_GIT_TOKEN=wrong-"+token)
	r := eve.run("clone", url, filepath.Join(t.TempDir(), "e"))
	oneLineError(t, r)
	if strings.Contains(r.err, token) || strings.Contains(r.out, token) {
		t.Fatalf("the token leaked into the output:\n%s", r)
	}
	if !strings.Contains(strings.ToLower(r.err), "auth") {
		t.Fatalf("want an authentication error, got:\n%s", r.err)
	}
}

// asNobody runs a command as uid/gid 65534 and returns its error.
func asNobody(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd.CombinedOutput()
}

// TestMountIsPrivate: without --allow-other only the mounting user gets
// in; with it, another user can read.
func TestMountIsPrivate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test runs a command as another user: run it as root")
	}
	p := newProject(t, localBackend(t))
	for _, c := range []struct {
		name  string
		args  []string
		other bool // another user may read
	}{
		{"default", nil, false},
		{"allow-other", []string{"--allow-other"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mountDatomfs(t, p.e, append([]string{"-C", p.dir}, c.args...)...)
			os.Chmod(filepath.Dir(m.dir), 0o755) // let the other user reach the mount point
			cur := filepath.Join(m.dir, "tables", "dm", "current.parquet")
			if _, err := os.ReadFile(cur); err != nil {
				t.Fatalf("the owner cannot read: %v", err)
			}
			out, err := asNobody("head", "-c", "4", cur)
			switch {
			case c.other && (err != nil || string(out) != "PAR1"):
				t.Errorf("another user cannot read: %v %s", err, out)
			case !c.other && (err == nil || !strings.Contains(string(out), "Permission denied")):
				t.Errorf("another user read a private mount: %v %s", err, out)
			}
		})
	}
}

// umaskRun runs datomfs under a umask.
func umaskRun(t *testing.T, e *engineer, umask string, args ...string) result {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", "umask " + umask + ` && exec "$0" "$@"`, datomfsBin}, args...)...)
	cmd.Env = e.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		t.Fatalf("datomfs %v (umask %s): %v\n%s", args, umask, err, errb.String())
	}
	return result{out: out.String(), err: errb.String()}
}

// TestFileModes: the cache (the default one under the home folder) is
// private whatever the umask and an existing open one is tightened; -o
// files follow the umask.
func TestFileModes(t *testing.T) {
	p := newProject(t, localBackend(t))
	p.e.must("write", extract(t, "2026-03-31", "parquet")["dm"], "--table", "dm", "-C", p.dir)
	bob := newEngineer(t, "Bob", p.b)
	var env []string
	for _, kv := range bob.env {
		if !strings.HasPrefix(kv, "DATOMFS_CACHE=") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			env = append(env, kv)
		}
	}
	bob.env = env
	dir := filepath.Join(t.TempDir(), "b")
	bob.must("clone", p.remote, dir)
	cache := filepath.Join(bob.home, ".cache", "datomfs")
	os.MkdirAll(cache, 0o755)
	os.Chmod(cache, 0o755) // as an older datomfs left it
	out := t.TempDir()
	h := historyOf(t, bob, dir, "dm")
	first := h[len(h)-1].Version[:8]

	for _, c := range []struct {
		umask string
		want  fs.FileMode
	}{{"022", 0o644}, {"077", 0o600}} {
		files := map[string][]string{
			"read.parquet":  {"read", "dm", "-o", "OUT", "-C", dir},
			"read.csv":      {"read", "dm", "-o", "OUT", "-C", dir},
			"query.csv":     {"query", "-o", "OUT", "-C", dir, "SELECT * FROM dm"},
			"query.json":    {"query", "-o", "OUT", "--format", "json", "-C", dir, "SELECT * FROM dm"},
			"query.parquet": {"query", "-o", "OUT", "-C", dir, "SELECT * FROM dm"},
			"diff.txt":      {"diff", "dm", first, "-o", "OUT", "-C", dir},
		}
		for name, args := range files {
			path := filepath.Join(out, c.umask+"-"+name)
			for i, a := range args {
				if a == "OUT" {
					args[i] = path
				}
			}
			umaskRun(t, bob, c.umask, args...)
			if fi, err := os.Stat(path); err != nil {
				t.Errorf("%s: %v", name, err)
			} else if fi.Mode().Perm() != c.want {
				t.Errorf("umask %s: %s is %v, want %v", c.umask, name, fi.Mode().Perm(), c.want)
			}
		}
	}

	n := 0
	filepath.WalkDir(cache, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("cache %s: %v, want %v", path, fi.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if n < 4 {
		t.Errorf("the cache under %s holds %d entries: not the one datomfs used?", cache, n)
	}
}
