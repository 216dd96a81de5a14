package bench

// Benchmarks of points in time (issue 13): resolving lb@<tag>,
// lb@<datetime>, lb@<commit prefix> and lb@<version prefix> on a clone
// with a long commit history, cold (a fresh Project: the commit index is
// built) and warm, and making a tag (pull, tag, push, store mirror).
//
//	go test ./bench -run '^$' -bench 'Points' -benchtime 1x
//
// The history is made by git fast-import (thousands of writes through
// Project.Write would take too long): commits one minute apart that
// change a file datomfs does not read. Medians are reported as custom
// metrics; nothing asserts a timing.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// addCommits appends n commits to the clone's branch, one minute apart
// from 2025-01-01, each changing notes.txt.
func addCommits(b *testing.B, dir string, n int) {
	b.Helper()
	head := strings.TrimSpace(gitOut(b, dir, "rev-parse", "HEAD"))
	branch := strings.TrimSpace(gitOut(b, dir, "rev-parse", "--abbrev-ref", "HEAD"))
	var s bytes.Buffer
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("note %d\n", i)
		msg := fmt.Sprintf("note %d\n", i)
		fmt.Fprintf(&s, "commit refs/heads/%s\ncommitter bench <bench@example.org> %d +0000\ndata %d\n%s", branch, t0+int64(i)*60, len(msg), msg)
		if i == 0 {
			fmt.Fprintf(&s, "from %s\n", head)
		}
		fmt.Fprintf(&s, "M 100644 inline notes.txt\ndata %d\n%s\n", len(body), body)
	}
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	cmd.Stdin = &s
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git fast-import: %v\n%s", err, out)
	}
}

func gitOut(b *testing.B, dir string, args ...string) string {
	b.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		b.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func BenchmarkPoints(b *testing.B) {
	for _, n := range []int{100, 5000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) { benchPoints(b, n) })
	}
}

func benchPoints(b *testing.B, commits int) {
	ctx := context.Background()
	p, _ := benchProject(b)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	path := filepath.Join(b.TempDir(), "lb.parquet")
	duckCopy(b, db, "SELECT range AS id FROM range(1000)", path)
	lb := writeVersion(b, p, "lb", path)
	dir := p.Dir()
	addCommits(b, dir, commits)
	gitOut(b, dir, "push", "-q", "origin", "HEAD")
	mid := strings.TrimSpace(gitOut(b, dir, "rev-list", "--skip", fmt.Sprint(commits/2), "-n", "1", "HEAD"))
	gitOut(b, dir, "tag", "-a", "bench-lock", "-m", "bench", mid)
	date := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(commits/2) * time.Minute).Format(time.RFC3339)
	refs := map[string]string{
		"tag":     "bench-lock",
		"date":    date,
		"commit":  mid[:10],
		"version": string(lb.Version)[:8],
	}
	table := meta.MustTableName("lb")
	open := func() *versions.Project {
		q, err := versions.Open(ctx, dir, versions.Options{CacheDir: b.TempDir(), Converter: query.Converter{}})
		if err != nil {
			b.Fatal(err)
		}
		return q
	}
	for _, kind := range []string{"tag", "date", "commit", "version"} {
		var cold, warm []time.Duration
		for i := 0; i < 5; i++ {
			q := open()
			start := time.Now()
			v, err := q.Resolve(ctx, table, refs[kind])
			cold = append(cold, time.Since(start))
			if err != nil || v.ID != lb.Version {
				b.Fatalf("lb@%s: %v %v", refs[kind], v.ID, err)
			}
			for j := 0; j < 5; j++ {
				start := time.Now()
				if _, err := q.Resolve(ctx, table, refs[kind]); err != nil {
					b.Fatal(err)
				}
				warm = append(warm, time.Since(start))
			}
		}
		b.ReportMetric(median(cold), "ms_cold_"+kind)
		b.ReportMetric(median(warm), "ms_warm_"+kind)
	}
	// Making a tag: pull, create, push to the bare remote, store mirror.
	q := open()
	var tagging []time.Duration
	for i := 0; i < 5; i++ {
		start := time.Now()
		if _, err := q.Tag(ctx, versions.TagRequest{Name: fmt.Sprintf("t%d", i)}); err != nil {
			b.Fatal(err)
		}
		tagging = append(tagging, time.Since(start))
	}
	b.ReportMetric(median(tagging), "ms_tag")
}
