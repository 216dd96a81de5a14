package bench

// Benchmarks of the mount's listings (issue 10, "listings stay flat"): an
// in-process mount of a developer clone holding many tables and one table
// with a long history, timed through plain syscalls.
//
//	go test ./bench -run '^$' -bench 'MountList' -benchtime 5x
//
// The clone's files (manifest, histories, metadata) are written directly:
// making 10,000 versions through Project.Write would take an hour. Each
// benchmark reports medians as custom metrics (ms_mount, ms_ls_cold,
// ms_ls_warm, ms_lsl_cold, ms_lsl_warm, ms_find_cold, ms_find_warm);
// nothing asserts a timing.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	datomfs "github.com/datomfs/datomfs/fs"
	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
)

func fakeSHA(parts ...any) string {
	s := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	return hex.EncodeToString(s[:])
}

// fakeEntries are n history entries of table (oldest first), step apart
// from t0, naming versions that were never written.
func fakeEntries(table string, n int, t0 time.Time, step time.Duration) []meta.HistoryEntry {
	entries := make([]meta.HistoryEntry, n)
	for i := range entries {
		entries[i] = meta.HistoryEntry{
			Version:       identity.MetadataSHA(fakeSHA("v", table, i)),
			DataSHA:       identity.DataSHA(fakeSHA("d", table, i)),
			Timestamp:     t0.Add(time.Duration(i) * step),
			Author:        meta.Author{Name: "Bench", Email: "bench@example.org"},
			CommitMessage: fmt.Sprintf("Update %s (%d)", table, i),
			ParquetSHA:    identity.ParquetSHA(fakeSHA("p", table, i)),
		}
	}
	return entries
}

// historyFile is version_history.json for entries (oldest first), built
// in one pass (History.Prepend copies the history each time: quadratic).
func historyFile(b *testing.B, entries []meta.HistoryEntry) []byte {
	b.Helper()
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i := len(entries) - 1; i >= 0; i-- {
		one := meta.History{}.Prepend(entries[i]).JSON() // "[\n  {...}\n]"
		buf.Write(one[2 : len(one)-2])
		if i > 0 {
			buf.WriteString(",\n")
		}
	}
	buf.WriteString("\n]\n")
	if _, err := meta.ParseHistory(buf.Bytes()); err != nil {
		b.Fatalf("built history: %v", err)
	}
	return buf.Bytes()
}

// listProject makes a developer clone with tables t0000.. of perTable
// versions each, plus (if big > 0) a table "big" with big versions.
func listProject(b *testing.B, tables, perTable, big int) (*versions.Project, versions.Options, string) {
	b.Helper()
	pf := projecttest.New(b, projecttest.Options{Name: "bench"})
	dir := pf.Dir
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(meta.ManifestPath)))
	if err != nil {
		b.Fatal(err)
	}
	m, err := meta.ParseManifest(raw)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(name string, n int) {
		tn := meta.MustTableName(name)
		entries := fakeEntries(name, n, t0, time.Second)
		last := entries[len(entries)-1]
		h := historyFile(b, entries)
		// The versions' objects exist, as they do in a real store (a
		// missing one is an error every listing would retry).
		for _, e := range entries {
			obj := filepath.Join(pf.Store, filepath.FromSlash(pf.Project.Key(versions.Version{Table: tn, DataSHA: e.DataSHA})))
			if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(obj, []byte("PAR1"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			b.Fatal(err)
		}
		// Listings read only the history; metadata.json need only exist.
		for path, body := range map[string][]byte{meta.HistoryPath(tn): h, meta.MetadataPath(tn): []byte("{}\n")} {
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(path)), body, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		m = m.WithTable(tn, meta.ManifestEntry{
			CurrentVersion: last.Version, CurrentDataSHA: last.DataSHA,
			LastUpdated: last.Timestamp, SizeBytes: 1000, VersionCount: n,
		}, last.Timestamp)
	}
	for i := 0; i < tables; i++ {
		add(fmt.Sprintf("t%04d", i), perTable)
	}
	if big > 0 {
		add("big", big)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(meta.ManifestPath)), m.File(), 0o644); err != nil {
		b.Fatal(err)
	}
	return pf.Project, pf.Options, dir
}

// mountList mounts p in a fresh folder and returns the mount and how long
// Mount took (start-up: the table list is read before the mount answers).
func mountList(b *testing.B, p *versions.Project) (*datomfs.Server, time.Duration) {
	b.Helper()
	mnt := filepath.Join(b.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	srv, err := datomfs.Mount(context.Background(), mnt, p, datomfs.Options{})
	d := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Unmount() })
	return srv, d
}

func unmountList(b *testing.B, srv *datomfs.Server) {
	b.Helper()
	if err := srv.Unmount(); err != nil {
		b.Fatal(err)
	}
}

func timeReadDir(b *testing.B, dir string, want int) time.Duration {
	b.Helper()
	t0 := time.Now()
	es, err := os.ReadDir(dir)
	d := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	if want >= 0 && len(es) != want {
		b.Fatalf("%s: %d entries, want %d", dir, len(es), want)
	}
	return d
}

// walk is find(1): every folder read, every name lstat'ed.
func walk(b *testing.B, root string) (time.Duration, int) {
	b.Helper()
	n := 0
	t0 := time.Now()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Version files are not stat'ed: their size is the store
		// object's, and these versions have no bytes.
		if !strings.HasPrefix(d.Name(), "@") {
			if _, err := d.Info(); err != nil {
				return err
			}
		}
		n++
		return nil
	})
	d := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	return d, n
}

// tableEntries is what a table folder of n versions lists: @<id>.parquet
// and @<id>.rds per version, current.parquet, current.rds, history.json.
func tableEntries(n int) int { return 2*n + 3 }

// timeLsL is ls -l: the folder read, then every name lstat'ed.
func timeLsL(b *testing.B, dir string, want int) time.Duration {
	b.Helper()
	t0 := time.Now()
	es, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range es {
		if _, err := os.Lstat(filepath.Join(dir, e.Name())); err != nil {
			b.Fatal(err)
		}
	}
	d := time.Since(t0)
	if len(es) != want {
		b.Fatalf("%s: %d entries, want %d", dir, len(es), want)
	}
	return d
}

// BenchmarkMountListBigTable: ls of tables/ and of one table with 10,000
// versions, on a fresh mount (cold) and again (warm); and ls -l of that
// table on another fresh mount (cold) and again (warm).
func BenchmarkMountListBigTable(b *testing.B) {
	p, _, _ := listProject(b, 0, 0, 10000)
	var mounts, lsCold, lsWarm, tablesCold, lslCold, lslWarm []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		srv, d := mountList(b, p)
		mounts = append(mounts, d)
		tablesCold = append(tablesCold, timeReadDir(b, filepath.Join(srv.Dir(), "tables"), 1))
		big := filepath.Join(srv.Dir(), "tables", "big")
		lsCold = append(lsCold, timeReadDir(b, big, tableEntries(10000)))
		lsWarm = append(lsWarm, timeReadDir(b, big, tableEntries(10000)))
		unmountList(b, srv)
		srv, _ = mountList(b, p)
		big = filepath.Join(srv.Dir(), "tables", "big")
		lslCold = append(lslCold, timeLsL(b, big, tableEntries(10000)))
		lslWarm = append(lslWarm, timeLsL(b, big, tableEntries(10000)))
		unmountList(b, srv)
	}
	b.StopTimer()
	b.ReportMetric(median(mounts), "ms_mount")
	b.ReportMetric(median(tablesCold), "ms_tables_cold")
	b.ReportMetric(median(lsCold), "ms_ls_cold")
	b.ReportMetric(median(lsWarm), "ms_ls_warm")
	b.ReportMetric(median(lslCold), "ms_lsl_cold")
	b.ReportMetric(median(lslWarm), "ms_lsl_warm")
}

// BenchmarkMountListFind: mount start-up and find over 1,000 tables × 20
// versions, cold (fresh mount) and warm (again on the same mount).
func BenchmarkMountListFind(b *testing.B) {
	p, _, _ := listProject(b, 1000, 20, 0)
	var mounts, tablesCold, tablesWarm, findCold, findWarm []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		srv, d := mountList(b, p)
		mounts = append(mounts, d)
		tables := filepath.Join(srv.Dir(), "tables")
		tablesCold = append(tablesCold, timeReadDir(b, tables, 1000))
		tablesWarm = append(tablesWarm, timeReadDir(b, tables, 1000))
		fc, n := walk(b, tables)
		if want := 1 + 1000*(1+tableEntries(20)); n != want {
			b.Fatalf("find saw %d names, want %d", n, want)
		}
		findCold = append(findCold, fc)
		fw, _ := walk(b, tables)
		findWarm = append(findWarm, fw)
		unmountList(b, srv)
	}
	b.StopTimer()
	b.ReportMetric(median(mounts), "ms_mount")
	b.ReportMetric(median(tablesCold), "ms_tables_cold")
	b.ReportMetric(median(tablesWarm), "ms_tables_warm")
	b.ReportMetric(median(findCold), "ms_find_cold")
	b.ReportMetric(median(findWarm), "ms_find_warm")
	// The peer: rclone mounting the store folder itself (the same
	// objects: every version's parquet and the mirrors), walked the same
	// way on a fresh mount each time.
	if _, err := exec.LookPath("rclone"); err != nil {
		b.Logf("rclone not installed (apt-get install rclone): no peer figure")
		return
	}
	var rcloneCold []time.Duration
	for i := 0; i < b.N; i++ {
		mnt := rcloneMount(b, p.StoreLocation())
		d, _ := walk(b, mnt)
		rcloneCold = append(rcloneCold, d)
		rcloneUnmount(b, mnt)
	}
	b.ReportMetric(median(rcloneCold), "ms_find_rclone_cold")
	b.ReportMetric(median(findCold)/median(rcloneCold), "find_vs_rclone")
}

// rcloneMount mounts dir read-only with rclone's local backend.
func rcloneMount(b *testing.B, dir string) string {
	b.Helper()
	mnt := filepath.Join(b.TempDir(), "rclone")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("rclone", "mount", dir, mnt, "--read-only", "--config", "/dev/null")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		testenv.ForceUnmount(mnt)
		cmd.Process.Kill()
		cmd.Wait()
	})
	for i := 0; i < 200 && !testenv.Mounted(mnt); i++ {
		time.Sleep(25 * time.Millisecond)
	}
	if !testenv.Mounted(mnt) {
		b.Fatal("rclone mount did not appear")
	}
	return mnt
}

func rcloneUnmount(b *testing.B, mnt string) {
	b.Helper()
	if out, err := exec.Command("fusermount3", "-u", mnt).CombinedOutput(); err != nil {
		b.Fatalf("unmount rclone: %v %s", err, out)
	}
}
