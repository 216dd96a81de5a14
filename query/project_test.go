package query

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
)

// testProject is a real project: a clone, a bare git remote and a store.
type testProject struct {
	t     *testing.T
	p     *versions.Project
	dir   string
	store string
	duck  *sql.DB
}

// localStore is a fresh local-folder store location.
func localStore(t *testing.T) string { return filepath.Join(t.TempDir(), "store") }

// newTestProject creates a project on the store location (a folder, or an
// s3:// location for callers that provide a server) with a bare git remote.
func newTestProject(t *testing.T, storeLoc string) *testProject {
	t.Helper()
	fx := projecttest.New(t, projecttest.Options{Name: "study001", Store: storeLoc, Versions: versions.Options{Converter: Converter{}}})
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	duck.SetMaxOpenConns(1)
	t.Cleanup(func() { duck.Close() })
	return &testProject{t: t, p: fx.Project, dir: fx.Dir, store: fx.Store, duck: duck}
}

// testOptions gives versions a private cache and a clock that moves one
// minute per call, so versions have distinct, ordered timestamps.
func testOptions(cache string) versions.Options {
	return versions.Options{CacheDir: cache, Converter: Converter{}, Clock: testenv.TickingClock()}
}

// write stores the result of a DuckDB SELECT as a new version of table.
func (tp *testProject) write(table, selectSQL, msg string) versions.WriteResult {
	tp.t.Helper()
	path := filepath.Join(tp.t.TempDir(), table+".parquet")
	if _, err := tp.duck.Exec("COPY (" + selectSQL + ") TO " + sqlString(path) + " (FORMAT parquet)"); err != nil {
		tp.t.Fatalf("write parquet for %s: %v", table, err)
	}
	res, err := tp.p.Write(context.Background(), versions.WriteRequest{Table: tn(table), Path: path, Format: versions.FormatParquet, Message: msg})
	if err != nil {
		tp.t.Fatalf("write %s: %v", table, err)
	}
	if res.Change != versions.ChangeFull {
		tp.t.Fatalf("write %s: change %s, want full", table, res.Change)
	}
	return res
}

// engine opens an Engine over p, closed with the test.
func newTestEngine(t *testing.T, p *versions.Project) *Engine {
	t.Helper()
	e, err := New(context.Background(), p, Options{})
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// The study used by the tests:
//
//	lb v1: id 1..5, val = id*10, name = 'n'||id                 (5 rows, 3 cols)
//	lb v2: id 2 removed, id 3 val -> 999, id 6 added            (5 rows, 3 cols)
//	lb v3: v2 plus id 7 and a new BOOLEAN column flag            (6 rows, 4 cols)
//	dm   : 3 rows
//	ae   : 17 versions with 1..17 rows (two ids must share a first hex digit)
const (
	lbV1 = `SELECT i AS id, i * 10 AS val, 'n' || i AS name FROM range(1, 6) t(i)`
	lbV2 = `SELECT i AS id, CASE WHEN i = 3 THEN 999 ELSE i * 10 END AS val, 'n' || i AS name FROM range(1, 7) t(i) WHERE i <> 2`
	lbV3 = `SELECT i AS id, CASE WHEN i = 3 THEN 999 ELSE i * 10 END AS val, 'n' || i AS name, i % 2 = 0 AS flag FROM range(1, 8) t(i) WHERE i <> 2`
)

type study struct {
	*testProject
	lb []versions.WriteResult // oldest first
	ae []versions.WriteResult
}

// newStudy builds the study project on a store location.
func newStudy(t *testing.T, storeLoc string) *study {
	t.Helper()
	s := &study{testProject: newTestProject(t, storeLoc)}
	s.lb = append(s.lb, s.write("lb", lbV1, "lb extract 1"))
	s.lb = append(s.lb, s.write("lb", lbV2, "lb extract 2"))
	s.lb = append(s.lb, s.write("lb", lbV3, "lb extract 3: flag"))
	s.write("dm", `SELECT i AS subjid, DATE '2026-01-01' + i::INTEGER AS rfstdtc FROM range(3) t(i)`, "dm")
	for n := 1; n <= 17; n++ {
		s.ae = append(s.ae, s.write("ae", "SELECT i AS aeseq FROM range("+strconv.Itoa(n)+") t(i)", "ae "+strconv.Itoa(n)))
	}
	return s
}

// cacheFiles counts complete objects in a versions cache directory.
func cacheFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Ext(path) == ".parquet" {
			n++
		}
		return nil
	})
	return n
}
