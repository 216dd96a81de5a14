package bench

// The git side of a write as history grows (issue: "writes cost O(1) in
// history"): commit one table's three documents and push, on a clone whose
// remote already holds N commits of the same shape.
//
//	go test ./bench -run '^$' -bench 'CommitPush' -benchtime 20x
//
// Reports ms_median per commit+push; compare the sizes. Nothing here
// asserts a timing.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/repo"
)

func BenchmarkCommitPush(b *testing.B) {
	for _, n := range []int{100, 1000, 3000} {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			ctx := context.Background()
			base := b.TempDir()
			remote := testenv.BareRemote(b)
			r, err := repo.Init(ctx, filepath.Join(base, "clone"), remote, repo.InitOptions{Branch: "main"})
			if err != nil {
				b.Fatal(err)
			}
			write := func(i int) {
				table := fmt.Sprintf("t%02d", i%50)
				hist := strings.Repeat(fmt.Sprintf(`{"version": "%064x"},`+"\n", i), 1+i/50)
				files := map[string]string{
					table + "/metadata.json":        fmt.Sprintf(`{"version": %d}`, i),
					table + "/version_history.json": "[" + hist + "]",
					".datom/manifest.json":          fmt.Sprintf(`{"updated": %d}`, i),
				}
				var paths []string
				for p, body := range files {
					full := filepath.Join(r.Dir(), p)
					os.MkdirAll(filepath.Dir(full), 0o755)
					if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
						b.Fatal(err)
					}
					paths = append(paths, p)
				}
				if _, _, err := r.Commit(ctx, paths, fmt.Sprintf("write %d", i)); err != nil {
					b.Fatal(err)
				}
			}
			// History in a few pushes (one push per commit would take long).
			for i := 0; i < n; i++ {
				write(i)
				if i%500 == 499 || i == n-1 {
					if err := r.Push(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			var times []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				write(n + i)
				if err := r.Push(ctx); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms_median")
		})
	}
}
