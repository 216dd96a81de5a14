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
// the Iceberg hooks as the CLI does (AfterWrite for the single writes,
// AfterWrites for the sync). Reports ms_sync, ms_write (median of 20
// single writes) and the ratio; nothing asserts a timing.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
		hooks.AfterWrite = iceberg.AfterWrite(iceberg.Options{})
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
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		sx := projecttest.New(b, projecttest.Options{Name: "bench", Versions: hooks})
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
	}
	sync := total / time.Duration(b.N)
	b.ReportMetric(float64(sync.Milliseconds()), "ms_sync")
	b.ReportMetric(float64(write.Microseconds())/1000, "ms_write")
	b.ReportMetric(float64(sync)/float64(write), "sync/write")
}
