package bench

// Benchmarks of the SQL layer (design §10: "datomfs query vs DuckDB on the
// same local file"; opening a project with thousands of versions).
//
//	go test ./bench -run '^$' -bench 'Query' -benchtime 20x
//
// Each benchmark reports medians of its own timings as custom metrics
// (ms_engine, ms_duckdb, ratio, ...); bench/query.sh runs them and prints
// the figures. Nothing here asserts a timing.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

func benchOptions(cache string) versions.Options {
	return versions.Options{CacheDir: cache, Converter: query.Converter{}, Clock: testenv.TickingClock()}
}

// benchProject creates a project on a local-folder store with a bare git
// remote, and returns it and the store folder.
func benchProject(b *testing.B) (*versions.Project, string) {
	b.Helper()
	pf := projecttest.New(b, projecttest.Options{Name: "bench", Versions: versions.Options{Converter: query.Converter{}}})
	return pf.Project, pf.Store
}

func duckCopy(b *testing.B, db *sql.DB, selectSQL, path string) {
	b.Helper()
	if _, err := db.Exec("COPY (" + selectSQL + ") TO '" + path + "' (FORMAT parquet)"); err != nil {
		b.Fatalf("write %s: %v", path, err)
	}
}

func writeVersion(b *testing.B, p *versions.Project, table, path string) versions.WriteResult {
	b.Helper()
	res, err := p.Write(context.Background(), versions.WriteRequest{Table: meta.MustTableName(table), Path: path, Format: versions.FormatParquet})
	if err != nil {
		b.Fatalf("write %s: %v", table, err)
	}
	return res
}

func median(ds []time.Duration) float64 {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return float64(m) / float64(time.Millisecond)
}

func drain(b *testing.B, rows interface {
	Next() bool
	Err() error
}) int {
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// aggregateSQL is a typical lab-data aggregate over ~1M rows.
const aggregateSQL = `SELECT lbtestcd, count(*) AS n, avg(lbstresn) AS mean, max(lbstresn) AS hi,
	count(DISTINCT usubjid) AS subjects
FROM %s WHERE visitnum > 2 GROUP BY lbtestcd ORDER BY lbtestcd`

// BenchmarkQueryAggregateVsDuckDB runs the same aggregate through the
// Engine (table name -> replacement scan -> Resolve -> verified cache path)
// and through a plain DuckDB connection on the same cached parquet file,
// alternating, and reports the ratio of the medians.
func BenchmarkQueryAggregateVsDuckDB(b *testing.B) {
	ctx := context.Background()
	base := b.TempDir()
	p, _ := benchProject(b)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	src := filepath.Join(base, "lb.parquet")
	duckCopy(b, db, `SELECT 'S' || lpad((i % 1000)::VARCHAR, 4, '0') AS usubjid,
		'T' || (i % 20)::VARCHAR AS lbtestcd, (i // 20000)::INTEGER AS visitnum,
		(hash(i) % 100000) / 100.0 AS lbstresn
		FROM range(1000000) t(i)`, src)
	res := writeVersion(b, p, "lb", src)
	v, err := p.Resolve(ctx, meta.MustTableName("lb"), string(res.Version))
	if err != nil {
		b.Fatal(err)
	}
	cached, err := p.Fetch(ctx, v)
	if err != nil {
		b.Fatal(err)
	}
	e, err := query.New(ctx, p, query.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	engineSQL := fmt.Sprintf(aggregateSQL, "lb")
	plainSQL := fmt.Sprintf(aggregateSQL, "read_parquet('"+cached+"')")
	var te, td []time.Duration
	b.ResetTimer()
	runEngine := func() time.Duration {
		t0 := time.Now()
		rows, err := e.Query(ctx, engineSQL)
		if err != nil {
			b.Fatal(err)
		}
		n := drain(b, rows)
		rows.Close()
		if n != 20 {
			b.Fatalf("engine: %d rows, want 20", n)
		}
		return time.Since(t0)
	}
	runPlain := func() time.Duration {
		t0 := time.Now()
		rows, err := conn.QueryContext(ctx, plainSQL)
		if err != nil {
			b.Fatal(err)
		}
		n := drain(b, rows)
		rows.Close()
		if n != 20 {
			b.Fatalf("duckdb: %d rows, want 20", n)
		}
		return time.Since(t0)
	}
	for i := 0; i < b.N; i++ {
		// Alternate which goes first so neither gains from the other's
		// warm-up or loses to a burst of load.
		if i%2 == 0 {
			te = append(te, runEngine())
			td = append(td, runPlain())
		} else {
			td = append(td, runPlain())
			te = append(te, runEngine())
		}
	}
	b.StopTimer()
	b.ReportMetric(median(te), "ms_engine")
	b.ReportMetric(median(td), "ms_duckdb")
	b.ReportMetric(median(te)/median(td), "ratio")
}

// BenchmarkQueryOpenLargeProject opens a project of 1,000 tables × 20
// versions (a fresh versions.Open and query.New) and runs one query on an
// old version of one table, with a cold cache each time.
//
// The project is synthetic: 20 real versions of table t0000 are written
// through Project.Write; tables t0001..t0999 are then made by copying
// t0000's metadata.json and version_history.json in the clone (committed
// with the git CLI) and hard-linking its store folder (parquet objects and
// .metadata mirrors) under each new name, and the manifest gets one entry
// per table. Parquet keys depend only on table and data_sha and version
// ids do not include the table name, so every copy is a valid table.
func BenchmarkQueryOpenLargeProject(b *testing.B) {
	const tables, perTable = 1000, 20
	ctx := context.Background()
	base := b.TempDir()
	p, storeDir := benchProject(b)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var ids []string
	for v := 1; v <= perTable; v++ {
		path := filepath.Join(base, fmt.Sprintf("v%d.parquet", v))
		duckCopy(b, db, fmt.Sprintf("SELECT i AS id, i * %d AS x FROM range(%d) t(i)", v, 100*v), path)
		ids = append(ids, string(writeVersion(b, p, "t0000", path).Version))
	}
	clone := p.Dir()
	tmplStore := filepath.Join(storeDir, "datom", "t0000")
	man := readManifest(b, clone)
	entry := man.Tables["t0000"]
	for i := 1; i < tables; i++ {
		name := fmt.Sprintf("t%04d", i)
		if err := os.MkdirAll(filepath.Join(clone, name), 0o755); err != nil {
			b.Fatal(err)
		}
		for _, f := range []string{"metadata.json", "version_history.json"} {
			raw, err := os.ReadFile(filepath.Join(clone, "t0000", f))
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(clone, name, f), raw, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		linkTree(b, tmplStore, filepath.Join(storeDir, "datom", name))
		man.Tables[name] = entry
	}
	man.Summary.TotalTables = len(man.Tables)
	man.Summary.TotalVersions = tables * perTable
	writeManifest(b, clone, man)
	git(b, clone, "add", "-A")
	git(b, clone, "-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "-q", "-m", "synthetic tables")

	target := fmt.Sprintf(`SELECT count(*) AS n, sum(x) AS s FROM "t0777@%s"`, ids[4][:8]) // the 5th version: 500 rows
	var topen, tquery []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cache := filepath.Join(base, fmt.Sprintf("cache-%d", i))
		t0 := time.Now()
		pp, err := versions.Open(ctx, clone, benchOptions(cache))
		if err != nil {
			b.Fatal(err)
		}
		e, err := query.New(ctx, pp, query.Options{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		var out strings.Builder
		if _, err := e.Write(ctx, &out, target, query.FormatCSV); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		e.Close()
		if want := "n,s\n500,"; !strings.HasPrefix(out.String(), want) {
			b.Fatalf("result %q", out.String())
		}
		topen, tquery = append(topen, t1.Sub(t0)), append(tquery, t2.Sub(t1))
		os.RemoveAll(cache)
	}
	b.StopTimer()
	b.ReportMetric(median(topen), "ms_open")
	b.ReportMetric(median(tquery), "ms_first_query")
	b.ReportMetric(float64(tables*perTable), "versions")
}

type manifestDoc struct {
	ProjectName string                     `json:"project_name"`
	UpdatedAt   string                     `json:"updated_at"`
	Tables      map[string]json.RawMessage `json:"tables"`
	Summary     struct {
		TotalTables    int     `json:"total_tables"`
		TotalSizeBytes float64 `json:"total_size_bytes"`
		TotalVersions  int     `json:"total_versions"`
	} `json:"summary"`
}

func readManifest(b *testing.B, clone string) manifestDoc {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(clone, ".datom", "manifest.json"))
	if err != nil {
		b.Fatal(err)
	}
	var m manifestDoc
	if err := json.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	return m
}

func writeManifest(b *testing.B, clone string, m manifestDoc) {
	b.Helper()
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(clone, ".datom", "manifest.json"), append(raw, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
}

// linkTree hard-links every file under src into dst.
func linkTree(b *testing.B, src, dst string) {
	b.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return os.Link(path, target)
	})
	if err != nil {
		b.Fatal(err)
	}
}

func git(b *testing.B, dir string, args ...string) {
	b.Helper()
	if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
		b.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
