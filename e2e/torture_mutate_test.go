package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

// TestTortureMutatedInputs feeds mutated parquet and CSV files (bit flips,
// truncations, duplicated and zeroed ranges, garbage, a corrupted footer
// length, a missing magic) to `datomfs hash`, `datomfs write` and a cp into
// a mount. Nothing panics or hangs; a refused write leaves the remote, the
// store's mirrors and the clone as they were; an accepted one is a version
// that reads back with the data_sha `datomfs hash` gave its input.
func TestTortureMutatedInputs(t *testing.T) {
	size := torture(t)
	seed := tortureSeed(t)
	b := localBackend(t)
	remote := testenv.BareRemote(t)
	mia := newEngineer(t, "Mia", b)
	dirX := filepath.Join(t.TempDir(), "x")
	if p := mia.proc("init", dirX, "--project", "STUDY_001", "--store", b.store, "--remote", remote); p.code != 0 {
		t.Fatalf("init: %s", p)
	}
	parquets := extract(t, "2026-03-31", "parquet")
	csvs := extract(t, "2026-03-31", "csv")
	for _, table := range []string{"mc", "mm"} {
		if p := mia.proc("write", parquets["lb"], "--table", table, "-C", dirX); p.code != 0 {
			t.Fatalf("seed %s: %s", table, p)
		}
	}
	eng := newEngineer(t, "Max", b)
	dirY := filepath.Join(t.TempDir(), "y")
	if p := eng.proc("clone", remote, dirY); p.code != 0 {
		t.Fatalf("clone: %s", p)
	}
	mnt := mountDatomfs(t, eng, "-C", dirY, "--refresh", "1s")

	bases := []string{parquets["lb"], parquets["dm"], parquets["ae"], csvs["lb"], csvs["ae"]}
	m := &mutationRun{t: t, seed: seed, e: mia, b: b, remote: remote, dir: dirX, mnt: mnt, work: t.TempDir(),
		outcomes: map[string]int{}}
	only := -1 // DATOMFS_TORTURE_MUTATION=N replays mutation N alone
	if v := os.Getenv("DATOMFS_TORTURE_MUTATION"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("DATOMFS_TORTURE_MUTATION=%q: %v", v, err)
		}
		only = n
	}
	for i := range max(size.mutations, only+1) {
		if only >= 0 && i != only {
			continue
		}
		if m.mountDead() {
			t.Fatalf("the mount is dead; stopping at mutation %d", i)
		}
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		base := bases[rng.IntN(len(bases))]
		body, err := os.ReadFile(base)
		if err != nil {
			t.Fatal(err)
		}
		ext := filepath.Ext(base)
		mutated, op := mutate(rng, body, ext == ".parquet")
		file := filepath.Join(m.work, fmt.Sprintf("m%03d-%s-%s%s", i, strings.TrimSuffix(filepath.Base(base), ext), op, ext))
		if err := os.WriteFile(file, mutated, 0o644); err != nil {
			t.Fatal(err)
		}
		m.one(i, op, file)
		m.ran++
		if t.Failed() && !size.long {
			break // the first broken input is enough to look at
		}
	}

	// Inputs earlier runs found harmful, kept whatever the generator does
	// now (testdata/torture/*: one file per finding).
	kept, _ := filepath.Glob(filepath.Join("testdata", "torture", "*"))
	for k, file := range kept {
		if only >= 0 || m.mountDead() {
			break
		}
		m.one(size.mutations+k, "kept "+filepath.Base(file), file)
		m.ran++
	}

	select {
	case <-mnt.exited:
		t.Errorf("the mount died during the run:\n%s", tail(mnt.stderr.String(), 40))
	default:
	}
	if s := mnt.stderr.String(); strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
		t.Errorf("the mount panicked:\n%s", tail(s, 60))
	}
	if left := tempLeftovers(b.store, ".datomfs-tmp-"); len(left) > 0 {
		t.Errorf("temporary files left in the store: %v", left)
	}
	cleanClone(t, mia, dirX)
	freshAudit(t, b, remote)

	keys := make([]string, 0, len(m.outcomes))
	for k := range m.outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m.outcomes[k]))
	}
	figures(t, "%d mutations (seed %d): %s", m.ran, seed, strings.Join(parts, ", "))
}

// mutationRun is the state one mutated input is checked against.
type mutationRun struct {
	t        *testing.T
	seed     uint64
	e        *engineer
	b        backend
	remote   string
	dir      string        // the CLI's clone
	mnt      *mountProcess // a mount on another clone
	work     string
	outcomes map[string]int // figures: "hash accepted", "cp EINVAL", ...
	ran      int
}

// one runs a mutated file through hash, write and the mount.
func (m *mutationRun) one(i int, op, file string) {
	t := m.t
	t.Helper()
	where := ""
	fail := func(format string, a ...any) {
		t.Helper()
		if where == "" {
			if strings.HasPrefix(op, "kept ") {
				where = "input e2e/" + filepath.ToSlash(file)
			} else {
				where = fmt.Sprintf("replay: DATOMFS_TORTURE_SEED=%d DATOMFS_TORTURE_MUTATION=%d; input kept at %s (add it to e2e/testdata/torture/)", m.seed, i, keepForReplay(file))
			}
		}
		t.Errorf("mutation %d (%s; %s):\n%s", i, op, where, fmt.Sprintf(format, a...))
	}
	tool := func(p proc) bool { // no hang, no panic, a documented exit code
		t.Helper()
		switch {
		case p.hung:
			fail("HANG: %s", p)
		case p.panicked():
			fail("PANIC: %s", p)
		case p.code < 0 || p.code > 3:
			fail("exit code outside 0-3: %s", p)
		default:
			return true
		}
		return false
	}

	// hash (a crash here still lets write and cp show what they do)
	sha, hp := dataSHA(m.e, file)
	switch {
	case !tool(hp):
		m.outcomes["hash crashed"]++
	case sha != "":
		m.outcomes["hash accepted"]++
	default:
		m.outcomes["hash refused"]++
	}
	m.write(i, file, sha, hp, fail, tool)
	m.copyIn(i, file, sha, hp, fail)
}

// write runs a mutated file through `datomfs write`, into the existing
// table or a new one.
func (m *mutationRun) write(i int, file, sha string, hp proc, fail func(string, ...any), tool func(proc) bool) {

	// write, into the existing table or a new one
	table := "mc"
	if i%2 == 1 {
		table = fmt.Sprintf("mnew%03d", i)
	}
	before := m.snapshot()
	wp := m.e.proc("write", file, "--table", table, "--pull", "-C", m.dir)
	if !tool(wp) {
		m.outcomes["write crashed"]++
		return
	}
	if wp.code == 0 {
		m.outcomes["write accepted"]++
		version := writtenVersion(wp.out, table)
		if version == "" {
			fail("write exit 0 without a version: %s", wp)
		} else {
			m.readsBack(fail, table, version, sha)
		}
	} else {
		m.outcomes["write refused"]++
		m.unchanged(fail, before, "write", wp)
		if table != "mc" {
			if _, err := os.Stat(filepath.Join(m.dir, table)); err == nil {
				fail("a refused write of a new table left its folder %s in the clone", table)
			}
		}
	}

}

// copyIn copies a mutated file into the mount.
func (m *mutationRun) copyIn(i int, file, sha string, hp proc, fail func(string, ...any)) {
	t := m.t
	before := m.snapshot()
	dst := filepath.Join(m.mnt.dir, "tables", "mm", fmt.Sprintf("m%03d%s", i, filepath.Ext(file)))
	cp := runProc(nil, hangLimit, "cp", file, dst)
	switch {
	case cp.hung:
		fail("HANG: %s\nmount log:\n%s", cp, tail(m.mnt.stderr.String(), 20))
		m.outcomes["cp hung"]++
		return
	case cp.code == 0:
		m.outcomes["cp accepted"]++
		if p := m.e.proc("pull", "-C", m.dir); p.code != 0 {
			fail("pull after an accepted cp: %s", p)
			return
		}
		if sha == "" {
			fail("the mount accepted a file `datomfs hash` refuses (%s)", hp.err)
			return
		}
		var version string
		for _, h := range historyOf(t, m.e, m.dir, "mm") {
			if h.DataSHA == sha {
				version = h.Version
				break
			}
		}
		if version == "" {
			fail("cp exit 0 but no version of mm holds data %.8s", sha)
			return
		}
		m.readsBack(fail, "mm", version, sha)
	case m.mountDead(), strings.Contains(cp.err, "not connected") || strings.Contains(cp.err, "connection abort"):
		fail("the mount died on this input: %s\nmount log:\n%s", cp, tail(m.mnt.stderr.String(), 30))
		m.outcomes["cp killed the mount"]++
	default:
		errno := cp.err[strings.LastIndex(cp.err, ": ")+2:]
		m.outcomes["cp refused: "+strings.TrimSpace(errno)]++
		m.unchanged(fail, before, "cp", cp)
		entries, _ := os.ReadDir(filepath.Dir(dst))
		for _, e := range entries {
			if e.Name() == filepath.Base(dst) {
				fail("a refused cp left %s in the mount", e.Name())
			}
		}
	}
}

// mountDead reports whether the mount process has ended.
func (m *mutationRun) mountDead() bool {
	select {
	case <-m.mnt.exited:
		return true
	default:
		return false
	}
}

var noChangeLine = regexp.MustCompile(`^No change to "([^"]+)": identical to version ([0-9a-f]{8})\n$`)

// writtenVersion is the version a successful `datomfs write` printed.
func writtenVersion(out, table string) string {
	if m := wroteLine.FindStringSubmatch(out); m != nil && m[1] == table {
		return m[3]
	}
	if m := noChangeLine.FindStringSubmatch(out); m != nil && m[1] == table {
		return m[2]
	}
	return ""
}

// readsBack checks an accepted version: it is in the table's history with
// the data_sha `datomfs hash` gave the input, and `datomfs read` returns
// bytes that hash to it.
func (m *mutationRun) readsBack(fail func(string, ...any), table, version, sha string) {
	var rec *historyRow
	h := historyOf(m.t, m.e, m.dir, table)
	for i := range h {
		if strings.HasPrefix(h[i].Version, version) {
			rec = &h[i]
		}
	}
	switch {
	case rec == nil:
		fail("version %s of %s is not in its history", version, table)
		return
	case sha == "":
		fail("%s accepted (version %s) a file `datomfs hash` refuses", table, version)
	case rec.DataSHA != sha:
		fail("version %s of %s records data_sha %.8s, `datomfs hash` of the input gave %.8s", version, table, rec.DataSHA, sha)
	}
	if rs := remoteHistory(m.t, m.remote, table); !hasVersion(rs, rec.Version) {
		fail("version %s of %s is not on the remote", version, table)
	}
	out := filepath.Join(m.work, "readback.parquet")
	os.Remove(out)
	if p := m.e.proc("read", table+"@"+version, "-o", out, "-C", m.dir); p.code != 0 {
		fail("read back %s@%s: %s", table, version, p)
		return
	}
	if got, p := dataSHA(m.e, out); got != rec.DataSHA {
		fail("read back %s@%s hashes to %q, recorded %.8s: %s", table, version, got, rec.DataSHA, p)
	}
}

func hasVersion(h []remoteEntry, version string) bool {
	for _, e := range h {
		if e.Version == version {
			return true
		}
	}
	return false
}

// published is what readers and other clones can see: the remote's head,
// the store's mirrors, and the CLI clone's head.
type published struct {
	remote, head string
	mirrors      map[string]string
}

func (m *mutationRun) snapshot() published {
	p := published{remote: remoteHead(m.t, m.remote), head: git(m.t, m.dir, "rev-parse", "HEAD"), mirrors: map[string]string{}}
	filepath.Walk(m.b.store, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(path, "/.metadata/") {
			body, _ := os.ReadFile(path)
			p.mirrors[path] = string(body)
		}
		return nil
	})
	return p
}

// unchanged checks a refused write published nothing and left the clone
// as it was.
func (m *mutationRun) unchanged(fail func(string, ...any), before published, what string, p proc) {
	after := m.snapshot()
	if after.remote != before.remote {
		fail("refused %s moved the remote (%.8s → %.8s): %s", what, before.remote, after.remote, p)
	}
	if after.head != before.head {
		fail("refused %s moved the clone's HEAD: %s", what, p)
	}
	for k, v := range before.mirrors {
		if after.mirrors[k] != v {
			fail("refused %s changed the store mirror %s: %s", what, k, p)
		}
	}
	for k := range after.mirrors {
		if _, ok := before.mirrors[k]; !ok {
			fail("refused %s added the store mirror %s: %s", what, k, p)
		}
	}
	if st := git(m.t, m.dir, "status", "--porcelain"); st != "" {
		fail("refused %s left the clone dirty:\n%s", what, st)
	}
}

// mutate damages a valid file in one of the ways files get damaged and
// names the way.
func mutate(rng *rand.Rand, body []byte, isParquet bool) ([]byte, string) {
	b := bytes.Clone(body)
	if len(b) < 12 { // too little left to damage in more ways
		return append(b, 'x'), "append-byte"
	}
	span := func() (int, int) { // a range of up to 256 bytes
		i := rng.IntN(len(b))
		return i, min(len(b), i+1+rng.IntN(256))
	}
	ops := []string{"bitflip", "truncate", "dup-range", "zero-range", "garbage", "combo"}
	if isParquet {
		ops = append(ops, "footer-len", "no-magic", "footer-bitflip")
	} else {
		ops = append(ops, "csv-quote", "csv-nul", "csv-bad-utf8")
	}
	op := ops[rng.IntN(len(ops))]
	switch op {
	case "bitflip":
		for range 1 + rng.IntN(8) {
			b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
		}
	case "truncate":
		b = b[:rng.IntN(len(b))]
	case "dup-range":
		i, j := span()
		at := rng.IntN(len(b) + 1)
		b = append(b[:at:at], append(bytes.Clone(body[i:j]), body[at:]...)...)
	case "zero-range":
		i, j := span()
		clear(b[i:j])
	case "garbage":
		g := make([]byte, 1+rng.IntN(4096))
		for k := range g {
			g[k] = byte(rng.IntN(256))
		}
		b = append(b, g...)
	case "combo":
		for range 2 + rng.IntN(2) {
			var sub string
			b, sub = mutate(rng, b, isParquet)
			op += "+" + sub
		}
	case "footer-len": // the 4 bytes before the closing "PAR1"
		n := binary.LittleEndian.Uint32(b[len(b)-8:])
		vals := []uint32{0, 1, n + 1, n - 1, n + uint32(rng.IntN(64)), uint32(len(b)), uint32(len(b) - 8), 0xFFFFFFFF, 0x7FFFFFFF, rng.Uint32()}
		binary.LittleEndian.PutUint32(b[len(b)-8:], vals[rng.IntN(len(vals))])
	case "no-magic":
		switch rng.IntN(3) {
		case 0:
			b = b[4:]
		case 1:
			b = b[:len(b)-4]
		default:
			copy(b[len(b)-4:], "PAR0")
		}
	case "footer-bitflip": // inside the thrift footer
		n := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
		lo := max(0, len(b)-8-n)
		for range 1 + rng.IntN(4) {
			k := lo + rng.IntN(len(b)-8-lo)
			b[k] ^= 1 << rng.IntN(8)
		}
	case "csv-quote":
		at := rng.IntN(len(b))
		b = append(b[:at:at], append([]byte{'"'}, b[at:]...)...)
	case "csv-nul":
		at := rng.IntN(len(b))
		b = append(b[:at:at], append(make([]byte, 1+rng.IntN(8)), b[at:]...)...)
	case "csv-bad-utf8":
		at := rng.IntN(len(b))
		b = append(b[:at:at], append([]byte{0xff, 0xfe, 0xc3}, b[at:]...)...)
	}
	return b, op
}
