package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

// crashPoints are the write path's checkpoints, in order; a datomfs built
// with -tags faults kills itself with SIGKILL at the one DATOMFS_CRASH_AT
// names.
var crashPoints = []string{"stage", "hash", "fetch", "upload", "upload-partial", "commit", "push", "mirror"}

// crashCase is one killed write: at a point, into the table "crash" or
// into a new table (whose folder the undo must remove).
type crashCase struct {
	point, table string
	ext          string
}

func (c crashCase) name() string {
	if c.table == "crash" {
		return c.point
	}
	return c.point + "/new-table"
}

// crashCases: every point, into an existing table and into a new one.
func crashCases() []crashCase {
	var cs []crashCase
	for i, point := range crashPoints {
		ext := []string{".parquet", ".csv"}[i%2]
		cs = append(cs, crashCase{point, "crash", ext}, crashCase{point, "new_" + strings.ReplaceAll(point, "-", "_"), ext})
	}
	return cs
}

// pushedAt reports whether a write killed at point has pushed its version:
// only at "mirror"; at "push" the next write may finish or undo it.
func pushedAt(point string) (pushed, known bool) {
	switch point {
	case "mirror":
		return true, true
	case "push":
		return false, false
	}
	return false, true
}

// TestTortureCrash kills a write at each checkpoint of the write path,
// through the CLI and through a mount, over a local store and S3. After each crash the clone still works,
// validate (then validate --fix) ends with no unfixed problem, every write
// reported earlier is still on the remote, and the next write sweeps the
// crashed one's temporary files.
func TestTortureCrash(t *testing.T) {
	bin := faultsBinary(t)
	for _, mk := range []func(*testing.T) backend{localBackend, s3Backend} {
		b := mk(t)
		t.Run("cli/"+b.name, func(t *testing.T) { crashCLI(t, bin, b) })
		t.Run("mount/"+b.name, func(t *testing.T) { crashMount(t, bin, b.another(t)) })
	}
}

// another is a second, empty store on the same backend (server).
func (b backend) another(t *testing.T) backend {
	if b.s3 == nil {
		b.store = filepath.Join(t.TempDir(), "store")
	} else {
		b.store = strings.Replace(b.store, "/proj/", "/proj2/", 1)
	}
	return b
}

// crashProject is a project whose writes are tracked: every write reported
// successful must stay on the remote.
type crashProject struct {
	t        *testing.T
	b        backend
	remote   string
	e        *engineer
	dir      string
	rng      *rand.Rand
	inputs   string
	n        int
	reported []*twrite
	leftSeen map[string]bool // leftovers already reported
}

func newCrashProject(t *testing.T, b backend) *crashProject {
	seed := tortureSeed(t)
	c := &crashProject{t: t, b: b, remote: testenv.BareRemote(t), rng: rand.New(rand.NewPCG(seed, 3)), inputs: t.TempDir(), leftSeen: map[string]bool{}}
	c.e = newEngineer(t, "Cora", b)
	c.dir = filepath.Join(t.TempDir(), "clone")
	if p := c.e.proc("init", c.dir, "--project", "STUDY_001", "--store", b.store, "--remote", c.remote); p.code != 0 {
		t.Fatalf("init: %s", p)
	}
	for _, table := range []string{"crash", "other"} {
		c.cliWrite(table, ".csv")
	}
	return c
}

// input makes a unique input file and hashes it.
func (c *crashProject) input(table, ext string) *twrite {
	c.t.Helper()
	c.n++
	file := filepath.Join(c.inputs, fmt.Sprintf("%s-%03d%s", table, c.n, ext))
	uniqueTable(c.t, file, "crash", c.n, 2000, c.rng)
	sha, p := dataSHA(c.e, file)
	if sha == "" {
		c.t.Fatalf("hash %s: %s", file, p)
	}
	return &twrite{writer: "crash", seq: c.n, table: table, file: file, dataSHA: sha}
}

// cliWrite is a normal write through the CLI that must succeed.
func (c *crashProject) cliWrite(table, ext string) {
	c.t.Helper()
	wr := c.input(table, ext)
	p := c.e.proc("write", wr.file, "--table", table, "-C", c.dir)
	m := wroteLine.FindStringSubmatch(p.out)
	if p.code != 0 || m == nil || p.panicked() {
		c.t.Errorf("a normal write of %s after the crash: %s", table, p)
		return
	}
	wr.ok, wr.version = true, m[3]
	c.reported = append(c.reported, wr)
}

// reportedOnRemote checks every write reported so far is on the remote,
// once, under the id the CLI printed.
func (c *crashProject) reportedOnRemote() {
	c.t.Helper()
	hist := map[string][]remoteEntry{}
	for _, wr := range c.reported {
		if _, ok := hist[wr.table]; !ok {
			hist[wr.table] = remoteHistory(c.t, c.remote, wr.table)
		}
		var found []remoteEntry
		for _, h := range hist[wr.table] {
			if h.DataSHA == wr.dataSHA {
				found = append(found, h)
			}
		}
		switch {
		case len(found) == 0:
			c.t.Errorf("LOST: write #%d of %s (data %.8s, reported version %q) is not on the remote", wr.seq, wr.table, wr.dataSHA, wr.version)
		case len(found) > 1:
			c.t.Errorf("write #%d of %s is on the remote %d times", wr.seq, wr.table, len(found))
		case wr.version != "" && !strings.HasPrefix(found[0].Version, wr.version):
			c.t.Errorf("write #%d of %s: printed version %s, the remote holds its data as %.8s", wr.seq, wr.table, wr.version, found[0].Version)
		}
	}
}

// onRemote reports whether a table's remote history holds data.
func (c *crashProject) onRemote(wr *twrite) bool {
	for _, h := range remoteHistory(c.t, c.remote, wr.table) {
		if h.DataSHA == wr.dataSHA {
			return true
		}
	}
	return false
}

// checkCrashed checks what a write killed at point left on the remote.
func (c *crashProject) checkCrashed(point string, wr *twrite) {
	c.t.Helper()
	pushed, known := pushedAt(point)
	if !known {
		return
	}
	if got := c.onRemote(wr); got != pushed {
		c.t.Errorf("after a crash at %q the version is on the remote: %v, want %v", point, got, pushed)
	}
}

// validateAfterCrash runs validate (a report) right after the crash: after
// a crash at "mirror" it must name the stale mirrors, and validate --fix
// must repair them before a write to the table would. Other points get
// their validate --fix after the next writes (validateFix), so that a
// temporary file only --fix removes is seen surviving those writes.
func (c *crashProject) validateAfterCrash(point string) {
	c.t.Helper()
	r, p := validate(c.t, c.e, c.dir, false)
	if point == "mirror" {
		if p.code != 1 || len(r.Problems) == 0 {
			c.t.Errorf("validate after a crash at mirror: want the stale mirrors reported (exit 1), got %s", p)
		}
		c.validateFix(point)
	}
}

// validateFix runs validate --fix, which must end with no unfixed problem.
func (c *crashProject) validateFix(point string) {
	c.t.Helper()
	r, p := validate(c.t, c.e, c.dir, true)
	if p.code != 0 || r.open() != 0 {
		c.t.Errorf("validate --fix after a crash at %q: %d unfixed problem(s): %s", point, r.open(), p)
	}
}

// noLeftovers checks the store holds no temporary file and the cache no
// staging folder but the live ones.
func (c *crashProject) noLeftovers(e *engineer, live int) {
	c.t.Helper()
	if c.b.s3 == nil {
		var left []string
		for _, f := range tempLeftovers(c.b.store, ".datomfs-tmp-") {
			if !c.leftSeen[f] { // reported once
				c.leftSeen[f] = true
				left = append(left, f)
			}
		}
		if len(left) > 0 {
			c.t.Errorf("temporary files survive the next writes (of crash and other): %v", left)
		}
	}
	if left := stagingFolders(e); len(left) != live {
		c.t.Errorf("staging folders in the cache: %v, want %d (the live mount's)", left, live)
	}
}

// stagingFolders lists the cache's staging folders (mount-*, write-*).
func stagingFolders(e *engineer) []string {
	entries, _ := os.ReadDir(filepath.Join(e.home, "cache", "staging"))
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	return names
}

// crashEnv is an engineer's environment with a crash point.
func crashEnv(e *engineer, point string) []string {
	return append(append([]string{}, e.env...), "DATOMFS_CRASH_AT="+point)
}

func crashCLI(t *testing.T, bin string, b backend) {
	c := newCrashProject(t, b)
	for _, cc := range crashCases() {
		point := cc.point
		t.Run(cc.name(), func(t *testing.T) {
			c.t = t
			wr := c.input(cc.table, cc.ext)
			p := runProc(crashEnv(c.e, point), hangLimit, bin, "write", wr.file, "--table", cc.table, "-C", c.dir)
			switch {
			case p.signal == syscall.SIGKILL:
			case p.code == 0:
				t.Errorf("write with DATOMFS_CRASH_AT=%s was not killed (no such checkpoint in the faults build?): %s", point, p)
				if m := wroteLine.FindStringSubmatch(p.out); m != nil {
					wr.ok, wr.version = true, m[3]
					c.reported = append(c.reported, wr)
				}
			default:
				t.Errorf("write with DATOMFS_CRASH_AT=%s: want death by SIGKILL, got %s", point, p)
			}
			c.checkCrashed(point, wr)
			if point == "upload-partial" && b.s3 == nil && len(tempLeftovers(b.store, ".datomfs-tmp-")) == 0 {
				t.Errorf("a write killed in the middle of its upload left no temporary file in the store: the sweep below proves nothing")
			}
			c.validateAfterCrash(point)
			c.cliWrite("crash", ".parquet")
			c.cliWrite("other", ".csv")
			c.noLeftovers(c.e, 0)
			c.validateFix(point)
			c.reportedOnRemote()
			cleanClone(t, c.e, c.dir)
		})
	}
	c.t = t
	_, hist := freshAudit(t, b, c.remote)
	figures(t, "%d crashes through the CLI: %d writes reported, %d versions of crash, %d of other on the remote", len(crashCases()), len(c.reported), len(hist["crash"]), len(hist["other"]))
}

func crashMount(t *testing.T, bin string, b backend) {
	c := newCrashProject(t, b)
	milo := newEngineer(t, "Milo", b)
	dirM := filepath.Join(t.TempDir(), "m")
	if p := milo.proc("clone", c.remote, dirM); p.code != 0 {
		t.Fatalf("clone: %s", p)
	}
	// The CLI checks run on the mount's clone, as its owner.
	c.e, c.dir = milo, dirM
	for _, cc := range crashCases() {
		point := cc.point
		t.Run(cc.name(), func(t *testing.T) {
			c.t = t
			wr := c.input(cc.table, cc.ext)
			m := mountWith(t, bin, crashEnv(milo, point), "-C", dirM, "--refresh", "0")
			dst := filepath.Join(m.dir, "tables", cc.table, filepath.Base(wr.file))
			if cc.table != "crash" {
				dst = filepath.Join(m.dir, "tables", cc.table+cc.ext)
			}
			cp := runProc(nil, hangLimit, "cp", wr.file, dst)
			var st *os.ProcessState
			select {
			case <-m.exited:
				st = m.cmd.ProcessState
			case <-time.After(hangLimit):
			}
			switch {
			case st == nil:
				t.Errorf("mount with DATOMFS_CRASH_AT=%s still runs after cp (%s):\n%s", point, cp, tail(m.stderr.String(), 20))
			case st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL:
				t.Errorf("mount with DATOMFS_CRASH_AT=%s: want death by SIGKILL, got %v:\n%s", point, st, tail(m.stderr.String(), 20))
			}
			if cp.code == 0 {
				t.Errorf("cp into a mount killed at %s succeeded: %s", point, cp)
			}
			if !testenv.ForceUnmount(m.dir) {
				t.Fatalf("the dead mount %s cannot be unmounted", m.dir)
			}
			stopMount(t, m)
			c.checkCrashed(point, wr)
			if len(stagingFolders(milo)) == 0 {
				t.Errorf("the killed mount left no staging folder: the sweep below proves nothing")
			}

			m2 := mountDatomfs(t, milo, "-C", dirM, "--refresh", "0")
			if left := stagingFolders(milo); len(left) != 1 {
				t.Errorf("after the next mount start the cache holds staging folders %v, want only the live mount's", left)
			}
			c.validateAfterCrash(point)
			c.mountWrite(m2, "crash", ".parquet", false)
			c.mountWrite(m2, "other", ".csv", true)
			c.noLeftovers(milo, 1)
			c.validateFix(point)
			c.reportedOnRemote()
			if s := m2.stderr.String(); strings.Contains(s, "panic:") {
				t.Errorf("the mount panicked:\n%s", tail(s, 40))
			}
			stopMount(t, m2)
			cleanClone(t, milo, dirM)
		})
	}
	c.t = t
	_, hist := freshAudit(t, b, c.remote)
	figures(t, "%d crashes through a mount: %d writes reported, %d versions of crash, %d of other on the remote", len(crashCases()), len(c.reported), len(hist["crash"]), len(hist["other"]))
}

// mountWrite is a normal write through a mount that must succeed; into
// tables/ (by the file's name) or tables/<t>/.
func (c *crashProject) mountWrite(m *mountProcess, table, ext string, intoTables bool) {
	c.t.Helper()
	wr := c.input(table, ext)
	dst := filepath.Join(m.dir, "tables", table, filepath.Base(wr.file))
	if intoTables {
		dst = filepath.Join(m.dir, "tables", table+ext)
	}
	if p := runProc(nil, hangLimit, "cp", wr.file, dst); p.code != 0 {
		c.t.Errorf("a normal cp into %s after the crash: %s\nmount log:\n%s", table, p, tail(m.stderr.String(), 20))
		return
	}
	wr.ok = true
	c.reported = append(c.reported, wr)
}

// stopMount ends a mount process (SIGTERM, then force) and checks nothing
// stays mounted; the cleanup mountWith registered finds it done.
func stopMount(t *testing.T, m *mountProcess) {
	t.Helper()
	if !testenv.StopProcess(m.cmd.Process, syscall.SIGTERM, m.exited, m.dir, 20*time.Second) {
		t.Errorf("datomfs mount did not stop on SIGTERM:\n%s", tail(m.stderr.String(), 20))
	}
	if !testenv.ForceUnmount(m.dir) {
		t.Errorf("%s is still mounted", m.dir)
	}
}
