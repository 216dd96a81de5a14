package bench

// The cost of onboarding many files (issue 10, "sync of 1,000 small files
// commits and pushes in batches: ≤ 10× the time of one write"): one sync of
// N small parquet files into a fresh project (local store, local bare
// remote), against the median of single writes into a project of the same
// shape.
//
//	go test ./bench -run '^$' -bench 'Sync' -benchtime 1x
//
// BENCH_SYNC_FILES overrides N (default 1000). BENCH_SYNC_ICEBERG=1 runs
// the Iceberg hook as the CLI does (for the single writes and the sync's
// batches). Reports ms_sync, ms_write (median of 20
// single writes) and the ratio; and, as a floor on this file system, the
// files the sync made (store, clone, remote) and the time to merely create
// that many small files here. Nothing asserts a timing.

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/iceberg"
	"github.com/datomfs/datomfs/internal/studygen"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
)

func syncFiles(b *testing.B, n int) string {
	b.Helper()
	src := b.TempDir()
	paths, err := studygen.Write(src, "parquet", studygen.Options{Subjects: 5, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	body, err := os.ReadFile(paths["dm"])
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("t%04d.parquet", i)), body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func BenchmarkSync(b *testing.B) {
	n := 1000
	if s := os.Getenv("BENCH_SYNC_FILES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	var hooks versions.Options
	if os.Getenv("BENCH_SYNC_ICEBERG") == "1" {
		hooks.AfterWrites = iceberg.AfterWrites(iceberg.Options{})
	}
	ctx := context.Background()
	dir := syncFiles(b, n)
	// One write's median, on a project that already holds a few tables.
	fx := projecttest.New(b, projecttest.Options{Name: "bench", Versions: hooks})
	var writes []time.Duration
	for i := 0; i < 21; i++ {
		name, err := versions.ParseTableName(fmt.Sprintf("w%02d", i))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		_, err = fx.Project.Write(ctx, versions.WriteRequest{
			Table: name, Path: filepath.Join(dir, "t0000.parquet"), Format: versions.FormatParquet,
		})
		if err != nil {
			b.Fatal(err)
		}
		if i > 0 { // the first write warms caches
			writes = append(writes, time.Since(start))
		}
	}
	sort.Slice(writes, func(i, j int) bool { return writes[i] < writes[j] })
	write := writes[len(writes)/2]
	b.ResetTimer()
	var total time.Duration
	var files int
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		sx := projecttest.New(b, projecttest.Options{Name: "bench", Versions: hooks})
		before := countFiles(b, sx.Store) + countFiles(b, sx.Dir) + countFiles(b, sx.Remote)
		b.StartTimer()
		start := time.Now()
		res, err := sx.Project.Sync(ctx, dir, nil)
		total += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if got := res.Count("new"); got != n {
			b.Fatalf("sync made %d new tables, want %d", got, n)
		}
		b.StopTimer()
		files = countFiles(b, sx.Store) + countFiles(b, sx.Dir) + countFiles(b, sx.Remote) - before
		b.StartTimer()
	}
	sync := total / time.Duration(b.N)
	syscall.Sync() // the sync's writeback is not the floor's
	floor := createFiles(b, files)
	b.ReportMetric(float64(sync.Milliseconds()), "ms_sync")
	b.ReportMetric(float64(write.Microseconds())/1000, "ms_write")
	b.ReportMetric(float64(sync)/float64(write), "sync/write")
	b.ReportMetric(float64(files), "files_made")
	b.ReportMetric(float64(floor.Milliseconds()), "ms_create_floor")
	b.ReportMetric(float64(sync)/float64(floor), "sync/floor")
}

// countFiles counts the regular files under dir.
func countFiles(b *testing.B, dir string) int {
	b.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// createFiles is the floor of a sync on this file system: the time to
// create n small files (1.5 KB, a dozen to a folder, each written under a
// temporary name and renamed, no fsync), as many as the sync left in the
// store, the clone and the remote.
func createFiles(b *testing.B, n int) time.Duration {
	b.Helper()
	root := b.TempDir()
	body := make([]byte, 1500)
	start := time.Now()
	for i := 0; i < n; i++ {
		d := filepath.Join(root, strconv.Itoa(i/12))
		if i%12 == 0 {
			if err := os.Mkdir(d, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		tmp := filepath.Join(d, ".tmp-"+strconv.Itoa(i))
		if err := os.WriteFile(tmp, body, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(d, strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}
