package e2e

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

// TestTortureConcurrentWriters: 8 writers at once, each writing unique data
// — two mounts on their own clones, two CLI clones, two CLI processes
// sharing one clone, and a mount and a CLI sharing one clone — to shared,
// paired and own tables, over a local store and over S3. Every write
// reported successful must be on the remote, once; the remote's history is
// linear and validates; no clone is left dirty or diverged.
func TestTortureConcurrentWriters(t *testing.T) {
	size := torture(t)
	for _, mk := range []func(*testing.T) backend{localBackend, s3Backend} {
		b := mk(t)
		t.Run(b.name, func(t *testing.T) { concurrentWriters(t, b, size) })
	}
}

// twriter is one of the eight writers.
type twriter struct {
	name string
	e    *engineer
	dir  string        // its clone
	mnt  *mountProcess // the mount it copies into; nil: the CLI
	pair string        // the table it shares with its partner
	own  string        // the table only it writes
}

// twrite is one write and what became of it.
type twrite struct {
	writer, table, file, dataSHA string
	seq                          int

	ok       bool
	version  string // the id the CLI printed (8 hex); "" for a mount
	attempts int
	rejected int           // attempts refused as a push race (exit 3, EAGAIN)
	took     time.Duration // all attempts, pauses included
	last     time.Duration // the attempt that ended it
	errs     []string      // failed attempts
}

var wroteLine = regexp.MustCompile(`^Wrote "([^"]+)" \((full|metadata-only)\): ([0-9a-f]{8})\n$`)

// maxAttempts bounds the test's own retries of push races.
const maxAttempts = 40

func concurrentWriters(t *testing.T, b backend, size tortureSize) {
	seed := tortureSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	remote := testenv.BareRemote(t)
	admin := newEngineer(t, "Admin", b)
	adminDir := filepath.Join(t.TempDir(), "admin")
	if p := admin.proc("init", adminDir, "--project", "STUDY_001", "--store", b.store, "--remote", remote); p.code != 0 {
		t.Fatalf("init: %s", p)
	}
	inputs := t.TempDir()

	// The shared and paired tables exist before the writers start, with
	// one version each.
	var seeds []*twrite
	for i, table := range []string{"shared", "ab", "cd", "ee", "ff"} {
		file := filepath.Join(inputs, "seed-"+table+".csv")
		uniqueTable(t, file, "seed", i, 20, rng)
		p := admin.proc("write", file, "--table", table, "-C", adminDir)
		m := wroteLine.FindStringSubmatch(p.out)
		if p.code != 0 || m == nil {
			t.Fatalf("seed %s: %s", table, p)
		}
		sha, hp := dataSHA(admin, file)
		if sha == "" {
			t.Fatalf("hash seed: %s", hp)
		}
		seeds = append(seeds, &twrite{writer: "seed", table: table, file: file, dataSHA: sha, ok: true, version: m[3], attempts: 1})
	}

	clone := func(name string) (*engineer, string) {
		e := newEngineer(t, name, b)
		dir := filepath.Join(t.TempDir(), strings.ToLower(name))
		if p := e.proc("clone", remote, dir); p.code != 0 {
			t.Fatalf("clone for %s: %s", name, p)
		}
		return e, dir
	}
	eA, dA := clone("Ann")
	eB, dB := clone("Ben")
	eC, dC := clone("Cat")
	eD, dD := clone("Dan")
	eE, dE := clone("Eve") // two CLI processes
	eF, dF := clone("Fay") // a mount and a CLI
	mA := mountDatomfs(t, eA, "-C", dA, "--refresh", "1s")
	mB := mountDatomfs(t, eB, "-C", dB, "--refresh", "1s")
	mF := mountDatomfs(t, eF, "-C", dF, "--refresh", "1s")
	writers := []*twriter{
		{name: "mA", e: eA, dir: dA, mnt: mA, pair: "ab"},
		{name: "mB", e: eB, dir: dB, mnt: mB, pair: "ab"},
		{name: "cC", e: eC, dir: dC, pair: "cd"},
		{name: "cD", e: eD, dir: dD, pair: "cd"},
		{name: "cE1", e: eE, dir: dE, pair: "ee"},
		{name: "cE2", e: eE, dir: dE, pair: "ee"},
		{name: "mF", e: eF, dir: dF, mnt: mF, pair: "ff"},
		{name: "cF", e: eF, dir: dF, pair: "ff"},
	}

	// Every input is made and hashed before the first write.
	plan := make([][]*twrite, len(writers))
	for k, w := range writers {
		w.own = "own_" + w.name
		for i := range size.writesPerWriter {
			table := []string{"shared", w.pair, w.own}[(i+k)%3]
			ext := []string{".parquet", ".csv"}[(i+k)%2]
			file := filepath.Join(inputs, fmt.Sprintf("%s-%03d%s", w.name, i, ext))
			uniqueTable(t, file, w.name, i, 20, rng)
			plan[k] = append(plan[k], &twrite{writer: w.name, seq: i, table: table, file: file})
		}
	}
	hashAll(t, admin, plan)
	checkDistinct(t, seeds, plan)

	start := time.Now()
	var wg sync.WaitGroup
	for k, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wrng := rand.New(rand.NewPCG(seed, uint64(k)+100))
			created := false // own table (mount writers create it through tables/)
			for _, wr := range plan[k] {
				w.write(wr, wrng, &created)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Figures first: a failing run is worth quoting too.
	var all []*twrite
	for _, ws := range plan {
		all = append(all, ws...)
	}
	var okN, failedN, gaveUpN, rejectedAttempts, afterRace int
	var perWrite, perAttempt []time.Duration
	for _, wr := range all {
		rejectedAttempts += wr.rejected
		switch {
		case wr.ok:
			okN++
			perWrite = append(perWrite, wr.took)
			perAttempt = append(perAttempt, wr.last)
			if wr.rejected > 0 {
				afterRace++
			}
		case len(wr.errs) == 0:
			gaveUpN++
		default:
			failedN++
		}
	}

	// The mounts are alive and did not panic.
	for _, w := range writers {
		if w.mnt == nil {
			continue
		}
		select {
		case <-w.mnt.exited:
			t.Errorf("mount of %s died during the run:\n%s", w.name, tail(w.mnt.stderr.String(), 40))
		default:
		}
		if s := w.mnt.stderr.String(); strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
			t.Errorf("mount of %s panicked:\n%s", w.name, tail(s, 60))
		}
	}

	// Stopped, the mounts cannot be caught in a refresh by the checks below.
	for _, m := range []*mountProcess{mA, mB, mF} {
		stopMount(t, m)
	}

	// No clone is dirty or diverged, and each fast-forwards to the remote.
	for _, c := range []struct {
		e   *engineer
		dir string
	}{{admin, adminDir}, {eA, dA}, {eB, dB}, {eC, dC}, {eD, dD}, {eE, dE}, {eF, dF}} {
		cleanClone(t, c.e, c.dir)
		if p := c.e.proc("pull", "-C", c.dir); p.code != 0 {
			t.Errorf("pull in %s after the run: %s", c.dir, p)
		}
		cleanClone(t, c.e, c.dir)
	}
	if b.s3 == nil {
		if left := tempLeftovers(b.store, ".datomfs-tmp-"); len(left) > 0 {
			t.Errorf("temporary files left in the store: %v", left)
		}
	}

	// Every success is on the remote, once; nothing else is.
	_, hist := freshAudit(t, b, remote)
	versions := 0
	for _, h := range hist {
		versions += len(h)
	}
	figures(t, "%d writers x %d writes = %d writes attempted (%d attempts): %d succeeded (%d of them after a push race), %d failed, %d gave up after %d push races; %d attempts rejected as push races (exit 3 / EAGAIN) and retried; per-write median %.2f s (max %.2f s), per successful attempt median %.2f s; %d versions on the remote (%d seeds + %d); %d tables; %.1f s",
		len(writers), size.writesPerWriter, len(all), attemptsOf(all), okN, afterRace, failedN, gaveUpN, maxAttempts,
		rejectedAttempts, medianSeconds(perWrite), maxSeconds(perWrite), medianSeconds(perAttempt),
		versions, len(seeds), versions-len(seeds), len(hist), elapsed.Seconds())

	for _, wr := range all {
		for _, e := range wr.errs {
			t.Errorf("write %s #%d (%s → %s) failed:\n%s", wr.writer, wr.seq, filepath.Base(wr.file), wr.table, e)
		}
		if !wr.ok && len(wr.errs) == 0 {
			t.Errorf("write %s #%d (%s → %s): push rejected %d times in a row", wr.writer, wr.seq, filepath.Base(wr.file), wr.table, wr.rejected)
		}
	}
	checkRemoteHoldsWrites(t, hist, append(seeds, all...))
}

// write makes one planned write, retrying push races (CLI exit 3, mount
// EAGAIN) after a short random pause.
func (w *twriter) write(wr *twrite, rng *rand.Rand, created *bool) {
	start := time.Now()
	for wr.attempts < maxAttempts {
		wr.attempts++
		var p proc
		dst := ""
		if w.mnt == nil {
			p = w.e.proc("write", wr.file, "--table", wr.table, "--pull", "-C", w.dir)
		} else {
			dst = filepath.Join(w.mnt.dir, "tables", wr.table, filepath.Base(wr.file))
			if wr.table == w.own && !*created {
				dst = filepath.Join(w.mnt.dir, "tables", wr.table+filepath.Ext(wr.file))
			}
			p = runProc(nil, hangLimit, "cp", wr.file, dst)
		}
		wr.last = p.took
		race, err := w.judge(wr, p, filepath.Base(dst))
		switch {
		case err != "":
			wr.errs = append(wr.errs, err)
			wr.took = time.Since(start)
			return
		case race:
			wr.rejected++
			time.Sleep(time.Duration(50+rng.IntN(200*min(wr.attempts, 5))) * time.Millisecond)
		default:
			wr.ok = true
			if wr.table == w.own {
				*created = true
			}
			wr.took = time.Since(start)
			return
		}
	}
	wr.took = time.Since(start)
}

// judge classifies an attempt: a push race to retry, a failure (its
// description), or a success (neither).
func (w *twriter) judge(wr *twrite, p proc, dst string) (race bool, failure string) {
	switch {
	case p.hung:
		return false, "HUNG: " + p.String() + w.mountLog(dst)
	case p.panicked():
		return false, "PANIC: " + p.String()
	}
	if w.mnt == nil {
		switch p.code {
		case 0:
			m := wroteLine.FindStringSubmatch(p.out)
			if m == nil || m[1] != wr.table {
				return false, "exit 0 without a new version: " + p.String()
			}
			wr.version = m[3]
			return false, ""
		case 3:
			return true, ""
		}
		return false, p.String()
	}
	switch {
	case p.code == 0:
		return false, ""
	case strings.Contains(p.err, "Resource temporarily unavailable"):
		return true, ""
	}
	return false, p.String() + w.mountLog(dst)
}

// mountLog is what the mount logged about a file it was given.
func (w *twriter) mountLog(name string) string {
	if w.mnt == nil {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(w.mnt.stderr.String(), "\n") {
		if strings.Contains(l, name) && !strings.Contains(l, "level=DEBUG") {
			lines = append(lines, l)
		}
	}
	return "\nmount log:\n" + strings.Join(lines, "\n")
}

// hashAll fills in every planned write's data_sha, two at a time.
func hashAll(t *testing.T, e *engineer, plan [][]*twrite) {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, ws := range plan {
		for _, wr := range ws {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				sha, p := dataSHA(e, wr.file)
				mu.Lock()
				defer mu.Unlock()
				if sha == "" {
					errs = append(errs, p.String())
				}
				wr.dataSHA = sha
			}()
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("hash the inputs: %s", strings.Join(errs, "\n"))
	}
}

// checkDistinct makes sure the inputs really are unique (the assertions
// count versions by data).
func checkDistinct(t *testing.T, seeds []*twrite, plan [][]*twrite) {
	t.Helper()
	seen := map[string]string{}
	check := func(wr *twrite) {
		if other, dup := seen[wr.dataSHA]; dup {
			t.Fatalf("inputs %s and %s have the same data_sha", other, wr.file)
		}
		seen[wr.dataSHA] = wr.file
	}
	for _, wr := range seeds {
		check(wr)
	}
	for _, ws := range plan {
		for _, wr := range ws {
			check(wr)
		}
	}
}

// checkRemoteHoldsWrites: each successful write is one version of its table
// on the remote (its data, its printed id); each table has exactly as many
// versions as successful writes; a version whose write was not reported
// successful is named.
func checkRemoteHoldsWrites(t *testing.T, hist map[string][]historyRow, writes []*twrite) {
	t.Helper()
	byData := map[string]*twrite{}
	okPerTable := map[string]int{}
	for _, wr := range writes {
		byData[wr.dataSHA] = wr
		if wr.ok {
			okPerTable[wr.table]++
		}
	}
	for _, wr := range writes {
		if !wr.ok {
			continue
		}
		var found []historyRow
		for _, h := range hist[wr.table] {
			if h.DataSHA == wr.dataSHA {
				found = append(found, h)
			}
		}
		switch {
		case len(found) == 0:
			t.Errorf("LOST: write %s #%d (%s → %s, data %.8s, reported version %q) is not on the remote", wr.writer, wr.seq, filepath.Base(wr.file), wr.table, wr.dataSHA, wr.version)
		case len(found) > 1:
			t.Errorf("write %s #%d (%s → %s) is on the remote %d times", wr.writer, wr.seq, filepath.Base(wr.file), wr.table, len(found))
		case wr.version != "" && !strings.HasPrefix(found[0].Version, wr.version):
			t.Errorf("write %s #%d (%s): the CLI printed version %s, the remote holds its data as %.8s", wr.writer, wr.seq, wr.table, wr.version, found[0].Version)
		}
	}
	tables := make([]string, 0, len(hist))
	for tb := range hist {
		tables = append(tables, tb)
	}
	sort.Strings(tables)
	for _, tb := range tables {
		if got, want := len(hist[tb]), okPerTable[tb]; got != want {
			t.Errorf("table %s: %d versions on the remote, %d successful writes", tb, got, want)
		}
		for _, h := range hist[tb] {
			wr, known := byData[h.DataSHA]
			switch {
			case !known:
				t.Errorf("table %s: version %.8s holds data no writer wrote", tb, h.Version)
			case !wr.ok:
				t.Errorf("table %s: version %.8s holds the data of write %s #%d, which was not reported successful", tb, h.Version, wr.writer, wr.seq)
			case wr.table != tb:
				t.Errorf("table %s: version %.8s holds the data written to table %s", tb, h.Version, wr.table)
			}
		}
	}
	for tb, n := range okPerTable {
		if _, ok := hist[tb]; !ok {
			t.Errorf("LOST: table %s (%d successful writes) is not on the remote", tb, n)
		}
	}
}

func attemptsOf(ws []*twrite) int {
	n := 0
	for _, wr := range ws {
		n += wr.attempts
	}
	return n
}

func maxSeconds(ds []time.Duration) float64 {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m.Seconds()
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
