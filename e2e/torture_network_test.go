package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

// hangBound is how long one datomfs command or reader may take before the
// test calls it hung. The idle timeout is 2 s: a failure is expected within
// a few seconds; the bound only tells a hang from a slow machine.
const hangBound = 60 * time.Second

// netIdleEnv makes every connection of the binary fail after 2 s without
// bytes moving.
const netIdleEnv = "DATOMFS_NET_IDLE_TIMEOUT=2s"

// exitCodeError is the exit code of a failed command (not a usage error,
// not a rejected push).
const exitCodeError = 1

// TestNetworkFaults is the network scenario of the torture suite: the S3
// store and the git remote sit behind a loopback proxy that hangs, cuts or
// slows the link in the middle of an operation. A dead link fails the
// command within the idle timeout with one line saying what is "not
// responding" and leaves the clone, the remote and the published metadata
// as they were; a slow link is not a dead one; once the link is back the
// same command works.
func TestNetworkFaults(t *testing.T) {
	t.Run("s3", testNetworkFaultsS3)
	t.Run("git http", testNetworkFaultsGit)
}

// TestUnreachableStore: an S3 store that does not answer fails the write
// before anything is committed or pushed.
func TestUnreachableStore(t *testing.T) {
	b := s3Backend(t)
	p := newProject(t, b)
	good := extract(t, "2026-01-31", "parquet")["lb"]
	dead := append([]string{}, p.e.env...)
	for i, kv := range dead {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
			dead[i] = "AWS_ENDPOINT_URL=http://127.0.0.1:1"
		}
	}
	p.unchanged(t, func() {
		r := runWith(t, dead, "write", good, "--table", "lb", "-C", p.dir)
		oneLineError(t, r)
	})
}

func testNetworkFaultsS3(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "study-data")
	proxy := testenv.NewProxy(t, strings.TrimPrefix(srv.Endpoint, "http://"))
	b := backend{name: "s3", store: "s3://study-data/proj/", s3: srv}
	for _, kv := range srv.Env() {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
			kv = "AWS_ENDPOINT_URL=http://" + proxy.Addr
		}
		b.env = append(b.env, kv)
	}
	b.env = append(b.env, netIdleEnv)
	p := newProject(t, b)
	files := parquetFiles(t, map[string]int{"paused": 4 << 20, "dropped": 3 << 20, "slow": 3 << 19, "reader": 8 << 20})
	// The version the reader mounts read, uncached in their fresh caches.
	if r := runBounded(t, p.e.env, "write", files["reader"], "--table", "rd", "-C", p.dir); r.code != 0 {
		t.Fatalf("write rd: %s", r)
	}
	rd := "@" + versionsOf(t, p.e, p.dir, "rd")[0].Version[:8] + ".parquet"
	rdSHA := sha256File(t, files["reader"])

	t.Run("paused mid-upload", func(t *testing.T) {
		defer proxy.Resume()
		f := files["paused"]
		fired := armMidUpload(t, proxy, f, proxy.Pause)
		r, objs := failsUnchanged(t, p, func() result {
			return runBounded(t, p.e.env, "write", f, "--table", "lb", "-C", p.dir)
		}, f)
		if !fired.Load() {
			t.Fatalf("the proxy never paused: the upload did not pass half the file")
		}
		line := firstLine(r)
		if !strings.Contains(line, "not responding") || !strings.Contains(line, "upload") {
			t.Errorf("want the upload to be %q:\n%s", "not responding", r.err)
		}
		t.Logf("paused mid-upload: %s", line)
		// The proxy still holds the first half of the upload; let it reach
		// the server, cut short, and check again.
		proxy.Resume()
		waitFor(t, 30*time.Second, "the proxy to drain", func() bool { return proxy.Conns() == 0 })
		checkPublished(t, p.b, objs, f)
		writeAndReadBack(t, p, f, "lb")
	})

	t.Run("dropped mid-upload", func(t *testing.T) {
		f := files["dropped"]
		// From half the file on, the proxy cuts every connection each time
		// another 256 KiB has gone through: the SDK's retries are cut too.
		var drops atomic.Int32
		var stop atomic.Bool
		var cut func()
		cut = func() {
			if stop.Load() {
				return
			}
			drops.Add(1)
			proxy.DropAll()
			proxy.AfterBytes(256<<10, cut)
		}
		fired := armMidUpload(t, proxy, f, cut)
		r, _ := failsUnchanged(t, p, func() result {
			return runBounded(t, p.e.env, "write", f, "--table", "ae", "-C", p.dir)
		}, f)
		stop.Store(true)
		if !fired.Load() {
			t.Fatalf("the proxy never cut the upload")
		}
		t.Logf("dropped mid-upload (%d cuts): %s", drops.Load(), firstLine(r))
		if line := firstLine(r); !strings.Contains(line, "upload") || !strings.Contains(line, "unreachable") {
			t.Errorf("want a failed upload to an unreachable store:\n%s", r.err)
		}
		// One cut is not fatal: the SDK sends the upload again.
		once := armMidUpload(t, proxy, f, proxy.DropAll)
		writeAndReadBack(t, p, f, "ae")
		if !once.Load() {
			t.Fatalf("the proxy never cut the second upload")
		}
	})

	t.Run("slow upload", func(t *testing.T) {
		// 1.5 MiB at 256 KiB/s: three times the idle timeout, never idle.
		proxy.Slow(256 << 10)
		defer proxy.Slow(0)
		writeAndReadBack(t, p, files["slow"], "vs")
		t.Logf("slow upload: 1.5 MiB at 256 KiB/s written and read back")
	})

	t.Run("reader mount, store paused", func(t *testing.T) {
		defer proxy.Resume()
		reader := newEngineer(t, "Reader", b) // an empty cache
		m := mountDatomfs(t, reader, "--store", b.store, "--project", "STUDY_001", "--reader", "--refresh", "0")
		file := filepath.Join(m.dir, "tables", "rd", rd)
		if _, err := os.Stat(file); err != nil {
			t.Fatalf("the version is not in the mount: %v\n%s", err, m.stderr)
		}
		proxy.Pause()
		got := readMounted(t, file)
		if !strings.HasPrefix(got, "error 5 ") {
			t.Fatalf("reading an uncached version with the store paused: %s, want EIO\n%s", got, m.stderr)
		}
		// The errno carries no message: the mount logs the cause.
		waitFor(t, 10*time.Second, "the mount to log the cause", func() bool {
			return strings.Contains(m.stderr.String(), "not responding")
		})
		t.Logf("reader mount, store paused: %s; mount log: %s", got, lineWith(m.stderr.String(), "not responding"))
		proxy.Resume()
		if got := readMounted(t, file); got != "ok "+rdSHA {
			t.Fatalf("re-open after the store came back: %s, want ok %s\n%s", got, rdSHA, m.stderr)
		}
	})

	t.Run("reader mount, store paused mid-read", func(t *testing.T) {
		defer proxy.Resume()
		reader := newEngineer(t, "Reader2", b)
		// No background fill: the read itself must fetch (the file is
		// bigger than the footer and the first miss's window).
		m := mountDatomfs(t, reader, "--store", b.store, "--project", "STUDY_001", "--reader", "--refresh", "0", "--prefetch=false")
		file := filepath.Join(m.dir, "tables", "rd", rd)
		h := openMounted(t, file)
		proxy.Pause()
		got := h.read(t)
		if !strings.HasPrefix(got, "error 5 ") {
			t.Fatalf("reading an open, uncached version with the store paused: %s, want EIO\n%s", got, m.stderr)
		}
		waitFor(t, 10*time.Second, "the mount to log the cause", func() bool {
			return strings.Contains(m.stderr.String(), "not responding")
		})
		t.Logf("reader mount, paused mid-read: %s; mount log: %s", got, lineWith(m.stderr.String(), "not responding"))
		proxy.Resume()
		if got := h.read(t); got != "ok "+rdSHA {
			t.Errorf("the same handle after the store came back: %s, want ok %s\n%s", got, rdSHA, m.stderr)
		}
		if got := readMounted(t, file); got != "ok "+rdSHA {
			t.Fatalf("re-open after the store came back: %s, want ok %s\n%s", got, rdSHA, m.stderr)
		}
	})
}

// mountedFile is a file of the mount held open by a Python process, which
// reads it whole from the start on each read call.
type mountedFile struct {
	in    io.WriteCloser
	lines chan string
}

func openMounted(t *testing.T, file string) *mountedFile {
	t.Helper()
	cmd := exec.Command(testPython(t), "-c", `
import sys, hashlib
try:
    f = open(sys.argv[1], "rb", buffering=0)
    print("opened", flush=True)
except OSError as e:
    print("error", e.errno, e.strerror, flush=True)
    sys.exit(0)
for _ in sys.stdin:
    try:
        f.seek(0)
        h = hashlib.sha256()
        while chunk := f.read(1 << 20):
            h.update(chunk)
        print("ok", h.hexdigest(), flush=True)
    except OSError as e:
        print("error", e.errno, e.strerror, flush=True)`, file)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &mountedFile{in: in, lines: make(chan string, 8)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	if got := h.next(t); got != "opened" {
		t.Fatalf("open %s: %s", file, got)
	}
	return h
}

func (h *mountedFile) read(t *testing.T) string {
	t.Helper()
	if _, err := io.WriteString(h.in, "read\n"); err != nil {
		t.Fatalf("ask the reader: %v", err)
	}
	return h.next(t)
}

func (h *mountedFile) next(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			t.Fatalf("the reader exited")
		}
		return l
	case <-time.After(hangBound):
		t.Fatalf("the reader hung for %s", hangBound)
		return ""
	}
}

func testPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("DATOMFS_TEST_PYTHON")
	if py == "" {
		py, _ = filepath.Abs("../.venv/bin/python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("no Python with the test readers at %s: run scripts/setup.sh (make setup)", py)
	}
	return py
}

// armMidUpload calls fn once half of file has gone through the proxy, and
// reports whether it did.
func armMidUpload(t *testing.T, proxy *testenv.Proxy, file string, fn func()) *atomic.Bool {
	t.Helper()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	var fired atomic.Bool
	proxy.AfterBytes(fi.Size()/2, func() { fired.Store(true); fn() })
	return &fired
}

// failsUnchanged runs a write that must fail and checks what it left: the
// clone exactly as it was (HEAD, index, files, a clean status), the remote
// where it was, and no published metadata. The one object a failed write
// may leave in the store is the content-addressed parquet of file, whole.
// It returns the store's objects from before the write.
func failsUnchanged(t *testing.T, p project, write func() result, file string) (result, map[string][]byte) {
	t.Helper()
	clone := snapshotClone(t, p.dir)
	remoteHead := git(t, p.remote, "rev-parse", "HEAD")
	objs := p.b.objects(t)
	r := write()
	oneLineError(t, r)
	if r.code != exitCodeError {
		t.Errorf("exit %d, want %d", r.code, exitCodeError)
	}
	after := snapshotClone(t, p.dir)
	if d := clone.diff(after); d != "" {
		t.Errorf("the failed write changed the clone:\n%s", d)
	}
	if after.status != "" {
		t.Errorf("git status --porcelain after the failed write:\n%s", after.status)
	}
	if got := git(t, p.remote, "rev-parse", "HEAD"); got != remoteHead {
		t.Errorf("the remote moved: %s → %s", remoteHead, got)
	}
	checkPublished(t, p.b, objs, file)
	return r, objs
}

// checkPublished checks that the store holds what it held before (objs)
// plus at most the parquet object of file, whole: no metadata, no partial
// object, no temporary.
func checkPublished(t *testing.T, b backend, objs map[string][]byte, file string) {
	t.Helper()
	want, _ := os.ReadFile(file)
	stored := b.objects(t)
	for k, v := range objs {
		if !bytes.Equal(stored[k], v) {
			t.Errorf("store object %s changed or vanished", k)
		}
	}
	for k, v := range stored {
		if _, ok := objs[k]; ok {
			continue
		}
		switch {
		case strings.Contains(k, "/.metadata/") || !strings.HasSuffix(k, ".parquet"):
			t.Errorf("the failed write published %s", k)
		case !bytes.Equal(v, want):
			t.Errorf("the failed write left a partial object %s (%d of %d bytes)", k, len(v), len(want))
		}
	}
}

// cloneState is what a failed write must leave byte for byte.
type cloneState struct {
	head, status string
	index        []byte
	files        testenv.Tree
}

func snapshotClone(t *testing.T, dir string) cloneState {
	t.Helper()
	index, err := os.ReadFile(filepath.Join(dir, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	return cloneState{
		head:   git(t, dir, "rev-parse", "HEAD"),
		status: git(t, dir, "status", "--porcelain"),
		index:  index,
		files:  testenv.SnapshotTree(t, dir),
	}
}

// diff says how o differs from c, one line per difference; "" when the
// clone is as it was.
func (c cloneState) diff(o cloneState) string {
	var d []string
	if c.head != o.head {
		d = append(d, fmt.Sprintf("HEAD %.8s, was %.8s", o.head, c.head))
	}
	if c.status != o.status {
		d = append(d, fmt.Sprintf("status %q, was %q", o.status, c.status))
	}
	if !bytes.Equal(c.index, o.index) {
		d = append(d, fmt.Sprintf("index of %d bytes changed (was %d)", len(o.index), len(c.index)))
	}
	if fd := c.files.Diff(o.files); fd != "" {
		d = append(d, fd)
	}
	return strings.Join(d, "\n")
}

// writeAndReadBack writes file as a new version of table and reads the
// version back: the same data_sha and the same bytes.
func writeAndReadBack(t *testing.T, p project, file, table string) {
	t.Helper()
	if r := runBounded(t, p.e.env, "write", file, "--table", table, "-C", p.dir); r.code != 0 {
		t.Fatalf("write after the link came back: %s", r)
	}
	out := filepath.Join(t.TempDir(), table+".parquet")
	if r := runBounded(t, p.e.env, "read", table, "-o", out, "-C", p.dir); r.code != 0 {
		t.Fatalf("read back: %s", r)
	}
	want, got := fileDataSHA(t, p.e, file), fileDataSHA(t, p.e, out)
	if got != want {
		t.Fatalf("read back data_sha %s, wrote %s", got, want)
	}
	if h := versionsOf(t, p.e, p.dir, table); h[0].DataSHA != want {
		t.Fatalf("the current version of %s has data_sha %s, wrote %s", table, h[0].DataSHA, want)
	}
	wb, _ := os.ReadFile(file)
	gb, _ := os.ReadFile(out)
	if !bytes.Equal(wb, gb) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(gb), len(wb))
	}
}

func fileDataSHA(t *testing.T, e *engineer, file string) string {
	t.Helper()
	r := runBounded(t, e.env, "hash", file)
	if r.code != 0 {
		t.Fatalf("hash %s: %s", file, r)
	}
	return strings.TrimSpace(r.out)
}

// lineWith is the first line of log that contains s.
func lineWith(log, s string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func firstLine(r result) string { return strings.SplitN(strings.TrimSpace(r.err), "\n", 2)[0] }

// runBounded runs datomfs like runWith, but a command still running after
// hangBound is killed and fails the test: it hung.
func runBounded(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, datomfsBin, args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("datomfs %s hung: killed after %s\nstderr:\n%s", strings.Join(args, " "), hangBound, errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run datomfs %v: %v", args, err)
	}
	return result{out: out.String(), err: errb.String(), code: code}
}

// parquetFiles writes one parquet file of about size bytes (uncompressed
// random doubles, so the file is as big as its data) per name, each with
// different data.
func parquetFiles(t *testing.T, sizes map[string]int) map[string]string {
	t.Helper()
	dir := t.TempDir()
	names := make([]string, 0, len(sizes))
	for name := range sizes {
		names = append(names, name)
	}
	sort.Strings(names)
	paths := map[string]string{}
	var args []string
	for i, name := range names {
		paths[name] = filepath.Join(dir, name+".parquet")
		args = append(args, fmt.Sprintf("%s:%d:%d", paths[name], 11+i, sizes[name]/32))
	}
	python(t, `
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
for arg in sys.argv[1:]:
    path, seed, rows = arg.rsplit(":", 2)
    rng = np.random.default_rng(int(seed))
    t = pa.table({f"c{i}": rng.standard_normal(int(rows)) for i in range(4)})
    pq.write_table(t, path, compression="none")`, args...)
	return paths
}

// readMounted reads a whole file of the mount in a Python process, under
// hangBound, and prints "ok SHA256" or "error ERRNO STRERROR".
func readMounted(t *testing.T, file string) string {
	t.Helper()
	py := testPython(t)
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", `
import sys, hashlib
try:
    with open(sys.argv[1], "rb") as f:
        print("ok", hashlib.sha256(f.read()).hexdigest())
except OSError as e:
    print("error", e.errno, e.strerror)`, file)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("reading %s hung: killed after %s", file, hangBound)
	}
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func sha256File(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// versionsOf is historyOf failing t, not the engineer's test (a subtest
// must not fail its parent).
func versionsOf(t *testing.T, e *engineer, dir, table string) []historyRow {
	t.Helper()
	r := runBounded(t, e.env, "history", table, "--json", "-C", dir)
	if r.code != 0 {
		t.Fatalf("history %s: %s", table, r)
	}
	return decode[[]historyRow](t, r)
}

// gitHook sits between the proxy and the git server and calls its hook
// with every request before passing it on.
func gitHook(t *testing.T, target string, hook func(*http.Request)) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	// A client that gave up on a paused proxy cancels its request: no log.
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hook(req)
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func testNetworkFaultsGit(t *testing.T) {
	const token = "nf-t0ken-5d8e2b71c4"
	srv := gitHTTP(t, token)
	srv.NewBareRepo(t, "study.git")
	// onPush, when set, runs on every request for git-receive-pack, the
	// first of which is the push's ref advertisement: before its answer,
	// and before any pack, reaches datomfs, so the remote cannot take the
	// push.
	var onPush atomic.Pointer[func()]
	hook := gitHook(t, srv.URL, func(req *http.Request) {
		if strings.Contains(req.URL.String(), "git-receive-pack") {
			if fn := onPush.Load(); fn != nil {
				(*fn)()
			}
		}
	})
	px := testenv.NewProxy(t, hook)
	remote := "http://" + px.Addr + "/study.git"

	b := localBackend(t)
	b.env = []string{netIdleEnv, "DATOMFS_GIT_TOKEN=" + token}
	alice := newEngineer(t, "Alice", b)
	p := project{b: b, e: alice, dir: filepath.Join(t.TempDir(), "a"), remote: filepath.Join(srv.Root, "study.git")}
	alice.must("init", p.dir, "--project", "STUDY_001", "--store", b.store, "--remote", remote)
	alice.must("write", extract(t, "2026-01-31", "parquet")["dm"], "--table", "dm", "-C", p.dir)
	bob := newEngineer(t, "Bob", b)
	dirB := filepath.Join(t.TempDir(), "b")
	bob.must("clone", remote, dirB)
	noToken := func(r result) {
		t.Helper()
		if strings.Contains(r.out+r.err, token) {
			t.Errorf("the token was printed:\n%s", r)
		}
	}
	lb := extract(t, "2026-01-31", "parquet")["lb"]

	for _, c := range []struct {
		name  string
		fault func()
		want  string // in the error line
	}{
		{"paused during push", px.Pause, "not responding"},
		// Every attempt: net/http sends a GET again on a new connection
		// when a reused one is cut before the answer.
		{"cut during push", px.DropAll, "unreachable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer px.Resume()
			var fired atomic.Bool
			fault := func() { fired.Store(true); c.fault() }
			onPush.Store(&fault)
			r, _ := failsUnchanged(t, p, func() result {
				return runBounded(t, alice.env, "write", lb, "--table", "lb", "-C", p.dir)
			}, lb)
			onPush.Store(nil)
			if !fired.Load() {
				t.Fatalf("the write never pushed")
			}
			noToken(r)
			line := firstLine(r)
			if !strings.Contains(line, c.want) || !strings.Contains(line, "push") {
				t.Errorf("want the push to fail with %q:\n%s", c.want, r.err)
			}
			t.Logf("%s: %s", c.name, line)
		})
	}
	t.Run("push after the link came back", func(t *testing.T) {
		writeAndReadBack(t, p, lb, "lb")
	})

	t.Run("paused during pull", func(t *testing.T) {
		defer px.Resume()
		before := snapshotClone(t, dirB)
		px.Pause()
		r := runBounded(t, bob.env, "pull", "-C", dirB)
		oneLineError(t, r)
		noToken(r)
		line := firstLine(r)
		if !strings.Contains(line, "not responding") {
			t.Errorf("want the remote to be %q:\n%s", "not responding", r.err)
		}
		if d := before.diff(snapshotClone(t, dirB)); d != "" {
			t.Errorf("the failed pull changed the clone:\n%s", d)
		}
		t.Logf("paused during pull: %s", line)
		px.Resume()
		if r := runBounded(t, bob.env, "pull", "-C", dirB); r.code != 0 {
			t.Fatalf("pull after the link came back: %s", r)
		}
		if h := versionsOf(t, bob, dirB, "lb"); len(h) != 1 {
			t.Fatalf("bob sees %d versions of lb after the pull, want 1", len(h))
		}
	})
}
