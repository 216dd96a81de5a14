package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

// mountProcess runs `datomfs mount` as its own process (tests
// that spawn cp, rsync, Python or R must not share a process with the FUSE
// server) and unmounts it when the test ends; a mount left behind fails.
type mountProcess struct {
	dir    string
	cmd    *exec.Cmd
	stderr *testenv.SyncBuffer
	exited chan struct{} // closed once the process has ended (cmd.ProcessState is set)
}

func mountDatomfs(t *testing.T, e *engineer, args ...string) *mountProcess {
	t.Helper()
	return mountWith(t, datomfsBin, e.env, args...)
}

// mountWith is mountDatomfs with another binary (the faults build) or
// environment (a crash point).
func mountWith(t *testing.T, bin string, env []string, args ...string) *mountProcess {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Fatalf("/dev/fuse is missing: FUSE tests need it (run as root on Linux with the fuse module)")
	}
	mnt := t.TempDir()
	full := append([]string{"mount", "-v"}, args...)
	full = append(full, mnt)
	cmd := exec.Command(bin, full...)
	cmd.Env = env
	exited := make(chan struct{})
	m := &mountProcess{dir: mnt, cmd: cmd, stderr: &testenv.SyncBuffer{}, exited: exited}
	cmd.Stdout, cmd.Stderr = m.stderr, m.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		if !testenv.StopProcess(cmd.Process, syscall.SIGTERM, exited, mnt, 20*time.Second) {
			t.Errorf("datomfs mount did not stop on SIGTERM:\n%s", m.stderr)
		}
		if !testenv.ForceUnmount(mnt) {
			t.Errorf("%s is still mounted after the test", mnt)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !isMounted(mnt) || !strings.Contains(m.stderr.String(), "Mounted ") {
		select {
		case <-exited:
			t.Fatalf("datomfs mount exited early (%v):\n%s", waitErr, m.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mount did not appear:\n%s", m.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return m
}

func isMounted(dir string) bool { return testenv.Mounted(dir) }

// python runs a script with the test venv's interpreter.
func python(t *testing.T, script string, args ...string) string {
	t.Helper()
	py := os.Getenv("DATOMFS_TEST_PYTHON")
	if py == "" {
		py, _ = filepath.Abs("../.venv/bin/python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("no Python with the test readers at %s: run scripts/setup.sh (make setup)", py)
	}
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func rscript(t *testing.T, expr string) string {
	t.Helper()
	r, err := exec.LookPath("Rscript")
	if err != nil {
		t.Fatalf("Rscript not found: install Debian's r-base-core (scripts/setup.sh does)")
	}
	out, err := exec.Command(r, "-e", expr).CombinedOutput()
	if err != nil {
		t.Fatalf("Rscript: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func historyOf(t *testing.T, e *engineer, dir, table string) []historyRow {
	t.Helper()
	return decode[[]historyRow](t, e.must("history", table, "--json", "-C", dir))
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestMountReadersAndCopyIn(t *testing.T) {
	b := localBackend(t)
	p := newProject(t, b) // dm written
	jan := extract(t, "2026-01-31", "parquet")
	mar := extract(t, "2026-03-31", "parquet")
	p.e.must("write", jan["lb"], "--table", "lb", "-C", p.dir)
	p.e.must("write", mar["lb"], "--table", "lb", "-C", p.dir)
	m := mountDatomfs(t, p.e, "-C", p.dir, "--refresh", "1s")
	lbDir := filepath.Join(m.dir, "tables", "lb")
	hist := historyOf(t, p.e, p.dir, "lb")
	oldFile := filepath.Join(lbDir, "@"+hist[1].Version[:8]+".parquet")

	t.Run("pandas", func(t *testing.T) {
		out := python(t, `
import sys, pandas as pd
cur = pd.read_parquet(sys.argv[1]); src = pd.read_parquet(sys.argv[2])
old = pd.read_parquet(sys.argv[3]); osrc = pd.read_parquet(sys.argv[4])
print(cur.equals(src), old.equals(osrc), len(cur))`, filepath.Join(lbDir, "current.parquet"), mar["lb"], oldFile, jan["lb"])
		if !strings.HasPrefix(out, "True True ") {
			t.Fatalf("pandas frames differ from the sources: %s", out)
		}
	})
	t.Run("history.json is history --json", func(t *testing.T) {
		mounted, err := os.ReadFile(filepath.Join(lbDir, "history.json"))
		if err != nil {
			t.Fatal(err)
		}
		if cli := p.e.must("history", "lb", "--json", "-C", p.dir).out; cli != string(mounted) {
			t.Fatalf("the mount's history.json and history --json differ:\n%s\n---\n%s", mounted, cli)
		}
	})
	t.Run("polars", func(t *testing.T) {
		out := python(t, `
import sys, polars as pl
a = pl.read_parquet(sys.argv[1]); b = pl.read_parquet(sys.argv[2])
print(a.equals(b), a.shape[0])`, filepath.Join(lbDir, "current.parquet"), mar["lb"])
		if !strings.HasPrefix(out, "True ") {
			t.Fatalf("polars frame differs: %s", out)
		}
	})
	t.Run("duckdb across versions", func(t *testing.T) {
		out := python(t, `
import sys, duckdb
rows = duckdb.sql("SELECT regexp_extract(filename, '@([0-9a-f]+)', 1) AS v, count(*) FROM read_parquet(?, filename=true) GROUP BY 1 ORDER BY 1", params=[sys.argv[1]]).fetchall()
print(";".join(f"{v}={n}" for v, n in rows))`, filepath.Join(lbDir, "@*.parquet"))
		q := p.e.must("query", "-C", p.dir, "--format", "csv", "SELECT substr(_version,1,8) AS v, count(*) AS n FROM all_versions('lb') GROUP BY 1 ORDER BY 1")
		var want []string
		for _, line := range strings.Split(strings.TrimSpace(q.out), "\n")[1:] {
			want = append(want, strings.Replace(line, ",", "=", 1))
		}
		if out != strings.Join(want, ";") {
			t.Fatalf("duckdb over the mount: %s, datomfs query: %s", out, strings.Join(want, ";"))
		}
	})
	t.Run("R read.csv of the CSV rendition", func(t *testing.T) {
		csvFile := strings.TrimSuffix(oldFile, ".parquet") + ".csv"
		out := rscript(t, fmt.Sprintf(`d <- read.csv(%q); cat(nrow(d), ncol(d), names(d)[1], sum(is.na(d$LBORRES)), "\n")`, csvFile))
		nrow := python(t, `import sys, pandas as pd; print(len(pd.read_parquet(sys.argv[1])))`, jan["lb"])
		if !strings.HasPrefix(out, nrow+" 4 USUBJID ") {
			t.Fatalf("R read.csv: %q (want %s rows, 4 columns)", out, nrow)
		}
	})

	t.Run("cp writes a version", func(t *testing.T) {
		apr := extract(t, "2026-04-30", "parquet")
		before := len(historyOf(t, p.e, p.dir, "lb"))
		if out, err := exec.Command("cp", apr["lb"], lbDir+"/").CombinedOutput(); err != nil {
			t.Fatalf("cp into the mount: %v %s\n%s", err, out, m.stderr)
		}
		p.e.must("pull", "-C", p.dir)
		h := historyOf(t, p.e, p.dir, "lb")
		if len(h) != before+1 {
			t.Fatalf("history %d → %d after cp", before, len(h))
		}
		if _, err := os.Stat(filepath.Join(lbDir, "lb.parquet")); err == nil {
			t.Error("the written file lingers under its own name")
		}
		// The new version is a file of the mount at once.
		if _, err := os.Stat(filepath.Join(lbDir, "@"+h[0].Version[:8]+".parquet")); err != nil {
			t.Errorf("new version not visible: %v", err)
		}
		// Identical content: cp succeeds, no version.
		if out, err := exec.Command("cp", apr["lb"], lbDir+"/").CombinedOutput(); err != nil {
			t.Fatalf("identical cp: %v %s", err, out)
		}
		p.e.must("pull", "-C", p.dir)
		if got := len(historyOf(t, p.e, p.dir, "lb")); got != before+1 {
			t.Fatalf("identical re-copy added a version (%d)", got)
		}
	})
	t.Run("cp of a csv into tables/ creates a table", func(t *testing.T) {
		csvs := extract(t, "2026-01-31", "csv")
		dst := filepath.Join(m.dir, "tables", "vs.csv")
		if out, err := exec.Command("cp", csvs["ex"], dst).CombinedOutput(); err != nil {
			t.Fatalf("cp csv: %v %s\n%s", err, out, m.stderr)
		}
		p.e.must("pull", "-C", p.dir)
		if h := historyOf(t, p.e, p.dir, "vs"); len(h) != 1 {
			t.Fatalf("table vs: %d versions", len(h))
		}
	})
	t.Run("rsync (temporary name, then rename)", func(t *testing.T) {
		if _, err := exec.LookPath("rsync"); err != nil {
			t.Fatal("rsync not found: install Debian's rsync (scripts/setup.sh does)")
		}
		may := extract(t, "2026-05-31", "parquet")
		before := len(historyOf(t, p.e, p.dir, "lb"))
		src := filepath.Join(t.TempDir(), "lb.parquet")
		body, _ := os.ReadFile(may["lb"])
		os.WriteFile(src, body, 0o644)
		if out, err := exec.Command("rsync", src, lbDir+"/").CombinedOutput(); err != nil {
			t.Fatalf("rsync: %v %s\n%s", err, out, m.stderr)
		}
		p.e.must("pull", "-C", p.dir)
		if got := len(historyOf(t, p.e, p.dir, "lb")); got != before+1 {
			t.Fatalf("rsync: history %d → %d", before, got)
		}
		entries, _ := os.ReadDir(lbDir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("temporary file %s lingers", e.Name())
			}
		}
	})
	t.Run("bad input fails cp and changes nothing", func(t *testing.T) {
		corrupt := filepath.Join(t.TempDir(), "lb.parquet")
		body, _ := os.ReadFile(jan["lb"])
		os.WriteFile(corrupt, body[:len(body)/3], 0o644)
		before := historyOf(t, p.e, p.dir, "lb")
		out, err := exec.Command("cp", corrupt, lbDir+"/").CombinedOutput()
		if err == nil {
			t.Fatalf("cp of a corrupt parquet succeeded")
		}
		if !strings.Contains(string(out), "Invalid argument") {
			t.Errorf("cp said %q, want EINVAL (Invalid argument)", out)
		}
		bad := filepath.Join(m.dir, "tables", "input_files.parquet")
		if err := exec.Command("cp", jan["dm"], bad).Run(); err == nil {
			t.Errorf("cp to a reserved table name succeeded")
		}
		p.e.must("pull", "-C", p.dir)
		if after := historyOf(t, p.e, p.dir, "lb"); len(after) != len(before) {
			t.Fatalf("history changed after a failed cp")
		}
		if err := os.Remove(oldFile); err == nil || !os.IsPermission(err) && !strings.Contains(err.Error(), "read-only") {
			t.Errorf("unlink of a version: %v, want EPERM/EROFS", err)
		}
	})
}

// TestMountTwoEngineers: two clones mounted at once; different tables
// commute, the same table gets sequential versions.
func TestMountTwoEngineers(t *testing.T) {
	b := localBackend(t)
	p := newProject(t, b)
	jan := extract(t, "2026-01-31", "parquet")
	mar := extract(t, "2026-03-31", "parquet")
	for _, tb := range []string{"lb", "ae"} {
		p.e.must("write", jan[tb], "--table", tb, "-C", p.dir)
	}
	bob := newEngineer(t, "Bob", b)
	dirB := filepath.Join(t.TempDir(), "b")
	bob.must("clone", p.remote, dirB)
	ma := mountDatomfs(t, p.e, "-C", p.dir, "--refresh", "1s")
	mb := mountDatomfs(t, bob, "-C", dirB, "--refresh", "1s")

	copyAll := func(pairs ...[2]string) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, len(pairs))
		outs := make([][]byte, len(pairs))
		for i, pr := range pairs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i], errs[i] = exec.Command("cp", pr[0], pr[1]).CombinedOutput()
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("cp %v: %v %s\nA:\n%s\nB:\n%s", pairs[i], err, outs[i], ma.stderr, mb.stderr)
			}
		}
	}
	copyAll(
		[2]string{mar["lb"], filepath.Join(ma.dir, "tables", "lb") + "/"},
		[2]string{mar["ae"], filepath.Join(mb.dir, "tables", "ae") + "/"},
	)
	p.e.must("pull", "-C", p.dir)
	lb, ae := historyOf(t, p.e, p.dir, "lb"), historyOf(t, p.e, p.dir, "ae")
	if len(lb) != 2 || len(ae) != 2 {
		t.Fatalf("after concurrent copies: lb %d, ae %d versions (want 2, 2)", len(lb), len(ae))
	}
	// Both mounts show both new versions after a refresh.
	for _, m := range []*mountProcess{ma, mb} {
		for _, v := range []string{"lb/@" + lb[0].Version[:8], "ae/@" + ae[0].Version[:8]} {
			path := filepath.Join(m.dir, "tables", v+".parquet")
			waitFor(t, 15*time.Second, path, func() bool {
				entries, _ := os.ReadDir(filepath.Dir(path))
				for _, e := range entries {
					if e.Name() == filepath.Base(path) {
						return true
					}
				}
				return false
			})
		}
	}
	// Same table from both at once: two sequential versions.
	apr, may := extract(t, "2026-04-30", "parquet"), extract(t, "2026-05-31", "parquet")
	copyAll(
		[2]string{apr["lb"], filepath.Join(ma.dir, "tables", "lb") + "/"},
		[2]string{may["lb"], filepath.Join(mb.dir, "tables", "lb") + "/"},
	)
	p.e.must("pull", "-C", p.dir)
	if got := historyOf(t, p.e, p.dir, "lb"); len(got) != 4 {
		t.Fatalf("same-table copies: %d versions, want 4", len(got))
	}
}
