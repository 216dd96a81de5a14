package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

type tagRow struct {
	Tag    string `json:"tag"`
	Commit string `json:"commit"`
	Tables map[string]struct {
		Version string `json:"version"`
		DataSHA string `json:"data_sha"`
	} `json:"tables"`
}

// TestSnapshots freezes a study at a tag after two cuts, writes a third,
// and checks that read, SQL, query --at, the mount (pandas) and a reader
// mount all return the tagged data (data_sha equal to the recorded one);
// then two clones tag at once. Over a local store and S3.
func TestSnapshots(t *testing.T) {
	for _, mk := range []func(*testing.T) backend{localBackend, s3Backend} {
		b := mk(t)
		t.Run(b.name, func(t *testing.T) { snapshots(t, b) })
	}
}

// nextSecond waits until the wall clock is a second past now (commit
// times have whole seconds, and a date means the last commit at or before
// it).
func nextSecond() {
	start := time.Now().Truncate(time.Second)
	for !time.Now().Truncate(time.Second).After(start) {
		time.Sleep(50 * time.Millisecond)
	}
}

func snapshots(t *testing.T, b backend) {
	remote := testenv.BareRemote(t)
	a := newEngineer(t, "Alice", b)
	dir := filepath.Join(t.TempDir(), "a")
	a.must("init", dir, "--project", "STUDY_001", "--store", b.store, "--remote", remote)
	jan, mar, may := extract(t, "2026-01-31", "parquet"), extract(t, "2026-03-31", "parquet"), extract(t, "2026-05-31", "parquet")
	for _, tbl := range []string{"dm", "lb"} {
		a.must("write", jan[tbl], "--table", tbl, "-C", dir)
	}
	nextSecond()
	a.must("write", mar["lb"], "--table", "lb", "-C", dir)
	a.must("tag", "db-lock", "-m", "Database lock", "-C", dir)
	nextSecond()
	a.must("write", may["lb"], "--table", "lb", "-C", dir)

	tags := decode[[]tagRow](t, a.must("tags", "--json", "-C", dir))
	if len(tags) != 1 || tags[0].Tag != "db-lock" || len(tags[0].Tables) != 2 {
		t.Fatalf("tags --json: %+v", tags)
	}
	locked := tags[0].Tables["lb"]
	hist := historyOf(t, a, dir, "lb")
	if len(hist) != 3 || locked.Version != hist[1].Version || locked.DataSHA != hist[1].DataSHA {
		t.Fatalf("db-lock pins lb %s, want the second cut %s", locked.Version, hist[1].Version)
	}
	if got := git(t, dir, "tag", "-n1", "db-lock"); !strings.Contains(got, "Database lock") {
		t.Errorf("git tag -n1: %q", got)
	}
	if got := git(t, remote, "tag"); got != "db-lock" {
		t.Errorf("tags on the remote: %q", got)
	}

	// read lb@db-lock: the bytes hash to the recorded data_sha.
	out := filepath.Join(t.TempDir(), "lb_lock.parquet")
	a.must("read", "lb@db-lock", "-o", out, "-C", dir)
	if got := strings.TrimSpace(a.must("hash", out).out); got != locked.DataSHA {
		t.Errorf("read lb@db-lock hashes to %s, want %s", got, locked.DataSHA)
	}
	// SQL: "lb@db-lock", query --at, snapshot().
	count := func(args ...string) string {
		return strings.TrimSpace(a.must(append([]string{"query", "-C", dir, "--format", "csv"}, args...)...).out)
	}
	want := count(`SELECT count(*) FROM "lb@` + hist[1].Version[:8] + `"`)
	if got := count(`SELECT count(*) FROM "lb@db-lock"`); got != want {
		t.Errorf(`count "lb@db-lock": %q, want %q`, got, want)
	}
	if got := count("--at", "db-lock", "SELECT count(*) FROM lb"); got != want {
		t.Errorf("query --at db-lock count(lb): %q, want %q", got, want)
	}
	if got := count(`SELECT data_sha FROM snapshot('db-lock') WHERE "table" = 'lb'`); !strings.HasSuffix(got, locked.DataSHA) {
		t.Errorf("snapshot('db-lock') lb data_sha: %q, want %s", got, locked.DataSHA)
	}
	// Before the first version: a clear error.
	r := a.run("read", "lb@2001-01-01", "-o", out, "-C", dir)
	oneLineError(t, r)
	if !strings.Contains(r.err, "nothing existed at 2001-01-01") {
		t.Errorf("read before the first version: %s", r)
	}
	// The project diff names lb as changed and dm as unchanged.
	d := a.must("diff", "--from", "db-lock", "--to", "HEAD", "-C", dir).out
	if !strings.Contains(d, "lb\tchanged\t") || !strings.Contains(d, "dm\tunchanged\t") {
		t.Errorf("diff --from db-lock --to HEAD:\n%s", d)
	}

	// The mount: pandas reads the tagged lb, equal to the read file.
	m := mountDatomfs(t, a, "-C", dir, "--refresh", "1s")
	snap := filepath.Join(m.dir, "snapshots", "db-lock", "tables", "lb.parquet")
	if got := python(t, `
import sys, pandas as pd
a = pd.read_parquet(sys.argv[1]); b = pd.read_parquet(sys.argv[2])
print("same" if a.equals(b) else "different", len(a))`, snap, out); !strings.HasPrefix(got, "same ") {
		t.Errorf("pandas over snapshots/db-lock/tables/lb.parquet: %s", got)
	}
	atFile := filepath.Join(m.dir, "at", time.Now().UTC().Format("2006-01-02"), "tables", "lb.parquet")
	cur := filepath.Join(m.dir, "tables", "lb", "current.parquet")
	if got := python(t, `
import sys, pandas as pd
print("same" if pd.read_parquet(sys.argv[1]).equals(pd.read_parquet(sys.argv[2])) else "different")`, atFile, cur); got != "same" {
		t.Errorf("at/<today>/tables/lb.parquet vs current: %s", got)
	}
	if err := os.WriteFile(filepath.Join(m.dir, "snapshots", "db-lock", "tables", "x.parquet"), []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write under snapshots/: %v, want EROFS", err)
	}

	// Two clones tag at once: different names both land; for one name,
	// one lands and the other is refused (exit 3 when the push lost the
	// race, 1 when its pull already saw the tag) and keeps nothing.
	bob := newEngineer(t, "Bob", b)
	dirB := filepath.Join(t.TempDir(), "b")
	bob.must("clone", remote, dirB)
	var wg sync.WaitGroup
	results := make([]result, 4)
	for i, run := range []struct {
		e         *engineer
		dir, name string
	}{{a, dir, "dmc-a"}, {bob, dirB, "dmc-b"}, {a, dir, "same"}, {bob, dirB, "same"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = run.e.run("tag", run.name, "-m", run.e.name, "-C", run.dir)
		}()
	}
	wg.Wait()
	if results[0].code != 0 || results[1].code != 0 {
		t.Fatalf("different tags from two clones:\n%s\n%s", results[0], results[1])
	}
	if (results[2].code == 0) == (results[3].code == 0) {
		t.Fatalf("the same tag from two clones: want exactly one refused:\n%s\n%s", results[2], results[3])
	}
	winner, loser, loserDir := "Alice", results[3], dirB
	if results[3].code == 0 {
		winner, loser, loserDir = "Bob", results[2], dir
	}
	t.Logf("the refused tag exited %d", loser.code)
	if loser.code != 3 && loser.code != 1 {
		t.Errorf("the refused tag: %s", loser)
	}
	// (Its clone was busy with the other tag first: drop that wait's log line.)
	var kept []string
	for _, l := range strings.Split(loser.err, "\n") {
		if !strings.Contains(l, "waiting for another datomfs process") {
			kept = append(kept, l)
		}
	}
	loser.err = strings.Join(kept, "\n")
	oneLineError(t, loser)
	if got := git(t, remote, "tag", "-n1", "same"); !strings.Contains(got, winner) {
		t.Errorf("remote tag same: %q, want %s's", got, winner)
	}
	// (Alice's clone is mounted: the mount's refresh may be fetching the
	// winner's tag right now, and go-git writes a ref in place, so git can
	// see it half-written for a moment; look again then.)
	var got string
	for i := 0; i < 20; i++ {
		if got = git(t, loserDir, "tag", "-l", "-n1", "same"); !strings.Contains(got, "broken ref") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != "" && !strings.Contains(got, winner) {
		t.Errorf("the refused clone kept its own tag: %q", got)
	}

	// A reader (store only) sees every tag, in tags and in its mount.
	reader := newEngineer(t, "Rita", b)
	rtags := decode[[]tagRow](t, reader.must("tags", "--json", "--store", b.store, "--project", "STUDY_001"))
	var names []string
	for _, tg := range rtags {
		names = append(names, tg.Tag)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"db-lock", "dmc-a", "dmc-b", "same"}) {
		t.Errorf("reader tags: %v", names)
	}
	rm := mountDatomfs(t, reader, "--store", b.store, "--project", "STUDY_001")
	entries, err := os.ReadDir(filepath.Join(rm.dir, "snapshots"))
	if err != nil || len(entries) != 4 {
		t.Errorf("reader mount: ls snapshots: %v %v", entries, err)
	}
	rsnap := filepath.Join(rm.dir, "snapshots", "db-lock", "tables", "lb.parquet")
	if got := strings.TrimSpace(a.must("hash", rsnap).out); got != locked.DataSHA {
		t.Errorf("reader mount snapshots/db-lock/tables/lb.parquet hashes to %s, want %s", got, locked.DataSHA)
	}
}
