package e2e

// The torture suite (issue 8: "nothing reported as written is ever lost").
// Its scenarios live in torture_*_test.go next to the rest of e2e so they
// share its helpers (engineers, backends, bare remotes, mount processes);
// `make test` runs them SHORT with everything else, `make torture`
// (scripts/torture.sh) runs them LONG with DATOMFS_TORTURE=long and prints
// the figures (lines starting "torture figures").

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// tortureSize is how hard the suite pushes: short in `make test`, long in
// `make torture`.
type tortureSize struct {
	long            bool
	writesPerWriter int // scenario 1: writes of each of the 8 writers
	mutations       int // scenario 2: mutated inputs
}

func torture(t *testing.T) tortureSize {
	switch v := os.Getenv("DATOMFS_TORTURE"); v {
	case "", "short":
		return tortureSize{writesPerWriter: 3, mutations: 50}
	case "long":
		return tortureSize{long: true, writesPerWriter: 25, mutations: 400}
	default:
		t.Fatalf("DATOMFS_TORTURE=%q: want short or long", v)
		return tortureSize{}
	}
}

// tortureSeed is the seed of the suite's random choices: DATOMFS_TORTURE_SEED
// replays a run; else the short run (CI) uses a fixed seed, so it fails or
// passes the same way every time, and the long run draws a new one, to
// explore. The test logs it either way.
func tortureSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(1)
	if torture(t).long {
		seed = uint64(time.Now().UnixNano())
	}
	if s := os.Getenv("DATOMFS_TORTURE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DATOMFS_TORTURE_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with DATOMFS_TORTURE_SEED=%d)", seed, seed)
	return seed
}

// figures logs one line of numbers a report can quote.
func figures(t *testing.T, format string, a ...any) {
	t.Helper()
	t.Logf("torture figures %s: %s", t.Name(), fmt.Sprintf(format, a...))
}

// hangLimit bounds every command of the suite: far above anything normal,
// it only tells a hang from slowness.
const hangLimit = 120 * time.Second

// proc is a finished (or killed) process.
type proc struct {
	args     []string
	out, err string
	code     int            // exit code; -1 when a signal ended it
	signal   syscall.Signal // the signal that ended it, else 0
	hung     bool           // still running after its limit: killed
	took     time.Duration
}

func (p proc) String() string {
	how := fmt.Sprintf("exit %d", p.code)
	switch {
	case p.hung:
		how = "HUNG (killed after the limit)"
	case p.signal != 0:
		how = "killed by " + p.signal.String()
	}
	return fmt.Sprintf("%s: %s after %.1fs\nstdout:\n%s\nstderr:\n%s", strings.Join(p.args, " "), how, p.took.Seconds(), p.out, p.err)
}

// panicked reports whether the output shows a Go panic or stack trace.
func (p proc) panicked() bool {
	return strings.Contains(p.err, "panic:") || strings.Contains(p.err, "goroutine ") ||
		strings.Contains(p.out, "panic:") || strings.Contains(p.out, "goroutine ")
}

// runProc runs a program with env, killing it after limit. It never fails
// the test: the caller judges the result.
func runProc(env []string, limit time.Duration, name string, args ...string) proc {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.WaitDelay = 10 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	p := proc{args: append([]string{filepath.Base(name)}, args...), took: time.Since(start)}
	p.out, p.err = out.String(), errb.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		p.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.signal = ws.Signal()
		}
	default:
		p.code = -1
		p.err += "\n(run: " + err.Error() + ")"
	}
	if ctx.Err() != nil {
		p.hung = true
	}
	return p
}

// datomfs runs the binary under test as engineer e.
func (e *engineer) proc(args ...string) proc {
	return runProc(e.env, hangLimit, datomfsBin, args...)
}

var faults struct {
	once sync.Once
	bin  string
	err  error
}

// faultsBinary builds datomfs with -tags faults (the DATOMFS_CRASH_AT
// hook) next to the normal test binary, once.
func faultsBinary(t *testing.T) string {
	t.Helper()
	faults.once.Do(func() {
		bin := filepath.Join(filepath.Dir(datomfsBin), "datomfs-faults")
		out, err := exec.Command("go", "build", "-tags", "faults", "-o", bin, "github.com/datomfs/datomfs/cmd/datomfs").CombinedOutput()
		if err != nil {
			faults.err = fmt.Errorf("go build -tags faults: %v\n%s", err, out)
			return
		}
		faults.bin = bin
	})
	if faults.err != nil {
		t.Fatal(faults.err)
	}
	return faults.bin
}

// uniqueTable writes rows of a table that names its writer and write and
// carries a random nonce, so every input has its own data_sha, as parquet
// (arrow-go, snappy) or CSV by path's extension.
func uniqueTable(t *testing.T, path, writer string, seq, rows int, rng *rand.Rand) {
	t.Helper()
	nonce := fmt.Sprintf("n%016x", rng.Uint64())
	xs := make([]float64, rows)
	for i := range xs {
		xs[i] = float64(rng.IntN(1_000_000)) / 1000
	}
	if strings.HasSuffix(path, ".csv") {
		var b strings.Builder
		b.WriteString("writer,seq,nonce,row,x\n")
		for i, x := range xs {
			fmt.Fprintf(&b, "%s,%d,%s,%d,%.3f\n", writer, seq, nonce, i, x)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	mem := memory.DefaultAllocator
	wb, sb, nb, rb, xb := array.NewStringBuilder(mem), array.NewInt64Builder(mem), array.NewStringBuilder(mem), array.NewInt64Builder(mem), array.NewFloat64Builder(mem)
	for i, x := range xs {
		wb.Append(writer)
		sb.Append(int64(seq))
		nb.Append(nonce)
		rb.Append(int64(i))
		xb.Append(x)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "writer", Type: arrow.BinaryTypes.String},
		{Name: "seq", Type: arrow.PrimitiveTypes.Int64},
		{Name: "nonce", Type: arrow.BinaryTypes.String},
		{Name: "row", Type: arrow.PrimitiveTypes.Int64},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	cols := []arrow.Array{wb.NewArray(), sb.NewArray(), nb.NewArray(), rb.NewArray(), xb.NewArray()}
	rec := array.NewRecordBatch(schema, cols, int64(rows))
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
	if err := pqarrow.WriteTable(tbl, f, 64*1024, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// dataSHA is `datomfs hash` of a file, or "" with the reason if it refuses.
func dataSHA(e *engineer, file string) (string, proc) {
	p := e.proc("hash", "--json", file)
	if p.code != 0 || p.hung {
		return "", p
	}
	var h struct {
		DataSHA string `json:"data_sha"`
	}
	if err := json.Unmarshal([]byte(p.out), &h); err != nil || len(h.DataSHA) != 64 {
		p.err += fmt.Sprintf("\n(hash --json printed no data_sha: %v)", err)
		p.code = -1
		return "", p
	}
	return h.DataSHA, p
}

// remoteEntry is one entry of a table's version_history.json.
type remoteEntry struct {
	Version string `json:"version"`
	DataSHA string `json:"data_sha"`
}

// remoteHistory reads a table's history straight from the bare remote's
// main branch with git (no datomfs involved); nil if the table is not there.
func remoteHistory(t *testing.T, remote, table string) []remoteEntry {
	t.Helper()
	out, err := exec.Command("git", "-C", remote, "show", "main:"+table+"/version_history.json").Output()
	if err != nil {
		return nil
	}
	var h []remoteEntry
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("remote %s/version_history.json: %v\n%s", table, err, out)
	}
	return h
}

// remoteHead is the bare remote's main commit.
func remoteHead(t *testing.T, remote string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", remote, "rev-parse", "--verify", "-q", "main").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// tempLeftovers lists files of a local store (or any folder) whose name
// starts with prefix.
func tempLeftovers(root, prefix string) []string {
	var found []string
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), prefix) {
			found = append(found, path)
		}
		return nil
	})
	return found
}

// cleanClone checks a clone has no commit the remote lacks and no changed
// or stray file: `datomfs status` says ahead 0 and clean, and `git status
// --porcelain` (which leaves out what .gitignore ignores) is empty.
func cleanClone(t *testing.T, e *engineer, dir string) {
	t.Helper()
	p := e.proc("status", "--json", "-C", dir)
	if p.code != 0 {
		t.Errorf("clone %s: status failed: %s", dir, p)
		return
	}
	var s struct {
		Ahead  int  `json:"ahead"`
		Behind int  `json:"behind"`
		Clean  bool `json:"clean"`
	}
	if err := json.Unmarshal([]byte(p.out), &s); err != nil {
		t.Errorf("clone %s: status --json: %v\n%s", dir, err, p.out)
		return
	}
	if s.Ahead != 0 || !s.Clean {
		t.Errorf("clone %s is diverged or dirty: %d commit(s) ahead, %d behind, clean %v", dir, s.Ahead, s.Behind, s.Clean)
	}
	out, err := exec.Command("git", "-C", dir, "status", "--porcelain").CombinedOutput()
	if err != nil {
		t.Errorf("clone %s: git status: %v\n%s", dir, err, out)
	} else if st := strings.TrimSpace(string(out)); st != "" {
		t.Errorf("clone %s is dirty (git status --porcelain):\n%s", dir, st)
	}
}

// validateReport is `datomfs validate --json`.
type validateReport struct {
	Tables     int  `json:"tables"`
	Versions   int  `json:"versions"`
	Consistent bool `json:"consistent"`
	Problems   []struct {
		Table string `json:"table"`
		Key   string `json:"key"`
		What  string `json:"what"`
		Fixed bool   `json:"fixed"`
	} `json:"problems"`
}

func (r validateReport) open() int {
	n := 0
	for _, p := range r.Problems {
		if !p.Fixed {
			n++
		}
	}
	return n
}

// validate runs `datomfs validate --json [--fix]` in a clone; exit 1 is a
// report with problems, anything else but 0 is an error.
func validate(t *testing.T, e *engineer, dir string, fix bool) (validateReport, proc) {
	t.Helper()
	args := []string{"validate", "--json", "-C", dir}
	if fix {
		args = append(args, "--fix")
	}
	p := e.proc(args...)
	var r validateReport
	if (p.code != 0 && p.code != 1) || p.hung || p.panicked() {
		t.Errorf("validate: %s", p)
		return r, p
	}
	if err := json.Unmarshal([]byte(p.out), &r); err != nil {
		t.Errorf("validate --json: %v\n%s", err, p)
	}
	if (p.code == 0) != (r.open() == 0) {
		t.Errorf("validate exit %d with %d unfixed problem(s): %s", p.code, r.open(), p)
	}
	return r, p
}

// freshAudit clones the remote afresh and checks the project as a whole:
// linear history (no merge commits) and `datomfs validate` with 0
// problems. It returns the clone and the histories of every table.
func freshAudit(t *testing.T, b backend, remote string) (string, map[string][]historyRow) {
	t.Helper()
	aud := newEngineer(t, "Auditor", b)
	dir := filepath.Join(t.TempDir(), "audit")
	if p := aud.proc("clone", remote, dir); p.code != 0 {
		t.Fatalf("fresh clone: %s", p)
	}
	if m := git(t, dir, "log", "--merges", "--oneline"); m != "" {
		t.Errorf("the remote's history is not linear; merge commits:\n%s", m)
	}
	if r, p := validate(t, aud, dir, false); p.code != 0 || len(r.Problems) != 0 {
		t.Errorf("validate on a fresh clone: %d problem(s), exit %d:\n%s", len(r.Problems), p.code, p.out)
	}
	p := aud.proc("list", "--json", "-C", dir)
	if p.code != 0 {
		t.Fatalf("list on a fresh clone: %s", p)
	}
	var list []listRow
	if err := json.Unmarshal([]byte(p.out), &list); err != nil {
		t.Fatalf("list --json: %v\n%s", err, p.out)
	}
	hist := map[string][]historyRow{}
	for _, row := range list {
		p := aud.proc("history", row.Name, "--json", "-C", dir)
		if p.code != 0 {
			t.Errorf("history %s on a fresh clone: %s", row.Name, p)
			continue
		}
		var h []historyRow
		if err := json.Unmarshal([]byte(p.out), &h); err != nil {
			t.Errorf("history %s --json: %v", row.Name, err)
			continue
		}
		if len(h) != row.VersionCount {
			t.Errorf("table %s: list says %d versions, history has %d", row.Name, row.VersionCount, len(h))
		}
		hist[row.Name] = h
	}
	return dir, hist
}

// median of durations, in seconds.
func medianSeconds(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2].Seconds()
	}
	return (s[len(s)/2-1] + s[len(s)/2]).Seconds() / 2
}

// keepForReplay copies a file somewhere that outlives the test and returns
// the copy's path, for a failure message.
func keepForReplay(file string) string {
	dir, err := os.MkdirTemp("", "datomfs-torture-keep-*")
	if err != nil {
		return file + " (could not keep a copy: " + err.Error() + ")"
	}
	dst := filepath.Join(dir, filepath.Base(file))
	body, err := os.ReadFile(file)
	if err == nil {
		err = os.WriteFile(dst, body, 0o644)
	}
	if err != nil {
		return file + " (could not keep a copy: " + err.Error() + ")"
	}
	return dst
}
