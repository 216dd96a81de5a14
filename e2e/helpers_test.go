// Package e2e drives the datomfs binary end to end against real parts: a
// local-folder store and a Versity S3 gateway on loopback, bare git remotes
// and git's own http-backend.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/studygen"
	"github.com/datomfs/datomfs/internal/testenv"
)

// datomfsBin is the binary under test, built once in TestMain.
var datomfsBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "datomfs-e2e-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	datomfsBin = filepath.Join(dir, "datomfs")
	build := exec.Command("go", "build", "-o", datomfsBin, "github.com/datomfs/datomfs/cmd/datomfs")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build datomfs:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// backend is where a test project keeps its bytes.
type backend struct {
	name  string
	store string   // --store argument
	env   []string // extra environment (S3 credentials and endpoint)
	s3    *testenv.S3Server
}

func localBackend(t *testing.T) backend {
	return backend{name: "local", store: filepath.Join(t.TempDir(), "store")}
}

func s3Backend(t *testing.T) backend {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "study-data")
	return backend{name: "s3", store: "s3://study-data/proj/", env: srv.Env(), s3: srv}
}

// storeFiles lists every object key in the backend's store, with sizes.
func (b backend) objects(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var root string
	if b.s3 != nil {
		root = filepath.Join(b.s3.Dir, "study-data")
	} else {
		root = b.store
	}
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if strings.HasPrefix(filepath.Base(rel), ".sgw") || strings.Contains(rel, ".sgwtmp") {
			return nil // versity's own bookkeeping
		}
		body, _ := os.ReadFile(path)
		out[filepath.ToSlash(rel)] = body
		return nil
	})
	return out
}

// engineer is one person with a home (git identity) and a cache.
type engineer struct {
	t    *testing.T
	name string
	home string
	env  []string
}

func newEngineer(t *testing.T, name string, b backend) *engineer {
	home := t.TempDir()
	gitcfg := fmt.Sprintf("[user]\n\tname = %s\n\temail = %s@example.org\n[init]\n\tdefaultBranch = main\n", name, strings.ToLower(name))
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitcfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"DATOMFS_CACHE=" + filepath.Join(home, "cache"),
		"TMPDIR=" + os.TempDir(),
	}
	env = append(env, b.env...)
	return &engineer{t: t, name: name, home: home, env: env}
}

type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// run runs datomfs with args; it never fails the test by itself.
func (e *engineer) run(args ...string) result {
	e.t.Helper()
	return runWith(e.t, e.env, args...)
}

func runWith(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(datomfsBin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run datomfs %v: %v", args, err)
	}
	return result{out: out.String(), err: errb.String(), code: code}
}

// must runs datomfs and fails the test unless it exits 0.
func (e *engineer) must(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("datomfs %s (%s): %s", strings.Join(args, " "), e.name, r)
	}
	return r
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// extract writes a synthetic study extract with the given cut-off.
func extract(t *testing.T, cutoff string, format string) map[string]string {
	t.Helper()
	c, _ := time.Parse("2006-01-02", cutoff)
	paths, err := studygen.Write(filepath.Join(t.TempDir(), "extract-"+cutoff), format, studygen.Options{Cutoff: c, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

type listRow struct {
	Name           string `json:"name"`
	CurrentVersion string `json:"current_version"`
	CurrentDataSHA string `json:"current_data_sha"`
	LastUpdated    string `json:"last_updated"`
	VersionCount   int    `json:"version_count"`
}

// historyRow is an entry of "history --json", datom's version_history.json.
type historyRow struct {
	Version       string     `json:"version"`
	DataSHA       string     `json:"data_sha"`
	Timestamp     string     `json:"timestamp"`
	Author        histAuthor `json:"author"`
	CommitMessage string     `json:"commit_message"`
	ParquetSHA    string     `json:"parquet_sha"`
}

// histAuthor is datom's author: {"name", "email"} or the string "unknown";
// it reads as "Name <email>" or "unknown".
type histAuthor string

func (a *histAuthor) UnmarshalJSON(b []byte) error {
	var who struct{ Name, Email string }
	if err := json.Unmarshal(b, &who); err == nil {
		*a = histAuthor(who.Name + " <" + who.Email + ">")
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*a = histAuthor(s)
	return nil
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, r)
	}
	return v
}

// oneLineError checks a failure printed a one-line reason (plus at most a
// hint line) and no Go stack trace.
func oneLineError(t *testing.T, r result) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("expected failure: %s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.err), "\n")
	if len(lines) == 0 || len(lines) > 3 || !strings.HasPrefix(lines[0], "datomfs: ") {
		t.Fatalf("want a one-line reason (and a hint), got:\n%s", r.err)
	}
	if strings.Contains(r.err, "goroutine ") || strings.Contains(r.err, "panic:") {
		t.Fatalf("stack trace in output:\n%s", r.err)
	}
}

func gitHTTP(t *testing.T, token string) *testenv.GitServer { return testenv.GitHTTP(t, token) }

// project is an initialised clone with one table, for the failure tests.
type project struct {
	b      backend
	e      *engineer
	dir    string
	remote string
}

func newProject(t *testing.T, b backend) project {
	remote := testenv.BareRemote(t)
	e := newEngineer(t, "Alice", b)
	dir := filepath.Join(t.TempDir(), "clone")
	e.must("init", dir, "--project", "STUDY_001", "--store", b.store, "--remote", remote)
	e.must("write", extract(t, "2026-01-31", "parquet")["dm"], "--table", "dm", "-C", dir)
	return project{b: b, e: e, dir: dir, remote: remote}
}

// unchanged runs fn and checks that it left no commit, no object and no
// changed clone behind.
func (p project) unchanged(t *testing.T, fn func()) {
	t.Helper()
	head := git(t, p.dir, "rev-parse", "HEAD")
	remoteHead := git(t, p.remote, "rev-parse", "HEAD")
	objs := p.b.objects(t)
	tree := testenv.SnapshotTree(t, p.dir)
	fn()
	if got := git(t, p.dir, "rev-parse", "HEAD"); got != head {
		t.Errorf("HEAD moved")
	}
	if got := git(t, p.remote, "rev-parse", "HEAD"); got != remoteHead {
		t.Errorf("remote moved")
	}
	if got := p.b.objects(t); !reflect.DeepEqual(keysOf(got), keysOf(objs)) {
		t.Errorf("store objects changed: %v → %v", keysOf(objs), keysOf(got))
	}
	if d := tree.Diff(testenv.SnapshotTree(t, p.dir)); d != "" {
		t.Errorf("clone files changed:\n%s", d)
	}
}

func keysOf(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
