package bench

// A write's cost as history grows (issue 10, "the median write at 10,000
// versions is within 1.2× of the median write at 100 versions"): a table
// whose version_history.json already holds N entries (written directly,
// committed and pushed with git), then real Project.Writes of new data on
// top, on a local store and a local bare remote.
//
//	go test ./bench -run '^$' -bench 'WriteHistory' -benchtime 1x
//
// Reports ms_median per write for each N; nothing asserts a timing.
//
// BenchmarkWriteHistoryGitFloor is what git itself pays for the same growth:
// C git committing and pushing one new entry in front of the same
// version_history.json (nothing else: no hashing, no store), at each N.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/studygen"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

func BenchmarkWriteHistory(b *testing.B) {
	const writes = 11
	ctx := context.Background()
	// Distinct data for every write: one extract per cut-off.
	var inputs []string
	for i := 0; i < writes; i++ {
		paths, err := studygen.Write(b.TempDir(), "parquet", studygen.Options{Subjects: 20, Seed: uint64(100 + i)})
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, paths["lb"])
	}
	eachHistory(b, func(b *testing.B, fx *projecttest.Fixture) []time.Duration {
		var ds []time.Duration
		for _, in := range inputs {
			start := time.Now()
			if _, err := fx.Project.Write(ctx, versions.WriteRequest{Table: meta.MustTableName("lb"), Path: in, Format: versions.FormatParquet}); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		return ds
	})
}

// eachHistory runs writes on a fresh project whose table lb already has
// 100, then 10,000 versions, b.N times each, and reports the median of
// the medians of the times writes returns (its first, which warms caches,
// left out).
func eachHistory(b *testing.B, writes func(b *testing.B, fx *projecttest.Fixture) []time.Duration) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			var medians []float64
			for it := 0; it < b.N; it++ {
				fx := projecttest.New(b, projecttest.Options{Name: "bench"})
				seedHistory(b, fx.Dir, "lb", n)
				medians = append(medians, medianMs(writes(b, fx)[1:]))
			}
			sort.Float64s(medians)
			b.ReportMetric(medians[len(medians)/2], "ms_median")
		})
	}
}

// seedHistory gives table n fake earlier versions in the clone, committed
// and pushed, as if written long ago.
func seedHistory(b *testing.B, dir, table string, n int) {
	b.Helper()
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := fakeEntries(table, n, t0, time.Minute)
	path := filepath.Join(dir, filepath.FromSlash(meta.HistoryPath(meta.MustTableName(table))))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, historyFile(b, entries), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, args := range [][]string{{"add", "."}, {"-c", "user.name=Bench", "-c", "user.email=bench@example.org", "commit", "-qm", "seed history"}, {"push", "-q"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v %s", args, err, out)
		}
	}
}

func BenchmarkWriteHistoryGitFloor(b *testing.B) {
	const writes = 11
	eachHistory(b, func(b *testing.B, fx *projecttest.Fixture) []time.Duration {
		path := filepath.Join(fx.Dir, filepath.FromSlash(meta.HistoryPath(meta.MustTableName("lb"))))
		var ds []time.Duration
		for _, e := range fakeEntries("lb-more", writes, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute) {
			start := time.Now()
			old, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			one := meta.History{}.Prepend(e).JSON() // "[\n  {...}\n]"
			body := append(append(append([]byte{}, one[:len(one)-2]...), ",\n"...), old[2:]...)
			if err := os.WriteFile(path, body, 0o644); err != nil {
				b.Fatal(err)
			}
			for _, args := range [][]string{{"-c", "user.name=Bench", "-c", "user.email=bench@example.org", "commit", "-qam", "Update lb"}, {"push", "-q"}} {
				if out, err := exec.Command("git", append([]string{"-C", fx.Dir}, args...)...).CombinedOutput(); err != nil {
					b.Fatalf("git %v: %v %s", args, err, out)
				}
			}
			ds = append(ds, time.Since(start))
		}
		return ds
	})
}

// medianMs is the median of ds, in milliseconds.
func medianMs(ds []time.Duration) float64 {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return float64(ds[len(ds)/2].Microseconds()) / 1000
}
