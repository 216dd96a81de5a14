package query

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/versions"
)

// queryAll runs a query and returns its rows.
func queryAll(t *testing.T, e *Engine, q string) [][]any {
	t.Helper()
	rows, err := e.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, append([]any(nil), vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func queryInt(t *testing.T, e *Engine, q string) int64 {
	t.Helper()
	rows := queryAll(t, e, q)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: want one value, got %v", q, rows)
	}
	n, ok := rows[0][0].(int64)
	if !ok {
		t.Fatalf("%s: %T %v is not BIGINT", q, rows[0][0], rows[0][0])
	}
	return n
}

// shortestUnique is the shortest prefix of id no other id shares.
func shortestUnique(id string, all []versions.Version) string {
	for n := 1; n <= len(id); n++ {
		unique := true
		for _, v := range all {
			if string(v.ID) != id && strings.HasPrefix(string(v.ID), id[:n]) {
				unique = false
				break
			}
		}
		if unique {
			return id[:n]
		}
	}
	return id
}

func runEngineSuite(t *testing.T, storeLoc string) {
	s := newStudy(t, storeLoc)
	ctx := context.Background()

	t.Run("CountsPerVersion", func(t *testing.T) {
		e := newTestEngine(t, s.p)
		want := []int64{5, 5, 6}
		all, err := s.p.Versions(ctx, tn("lb"))
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range s.lb {
			id := string(w.Version)
			for _, prefix := range []string{id[:8], id, shortestUnique(id, all)} {
				if got := queryInt(t, e, `SELECT count(*) FROM "lb@`+prefix+`"`); got != want[i] {
					t.Errorf("lb@%s: count %d, want %d", prefix, got, want[i])
				}
			}
		}
		if got := queryInt(t, e, "SELECT count(*) FROM lb"); got != 6 {
			t.Errorf("lb (current): count %d, want 6", got)
		}
		// Versions combine in one statement: v3 has exactly one more row than v2.
		q := fmt.Sprintf(`SELECT count(*) FROM (SELECT id FROM lb EXCEPT SELECT id FROM "lb@%s")`, string(s.lb[1].Version)[:8])
		if got := queryInt(t, e, q); got != 1 {
			t.Errorf("ids only in current: %d, want 1", got)
		}
		for i, w := range s.ae {
			if got := queryInt(t, e, `SELECT count(*) FROM "ae@`+string(w.Version)[:8]+`"`); got != int64(i+1) {
				t.Errorf("ae version %d: count %d", i+1, got)
			}
		}
	})

	t.Run("HistoryEqualsVersions", func(t *testing.T) {
		e := newTestEngine(t, s.p)
		vs, err := s.p.Versions(ctx, tn("lb"))
		if err != nil {
			t.Fatal(err)
		}
		rows := queryAll(t, e, "SELECT version, data_sha, timestamp, author, commit_message, nrow, ncol FROM history('lb')")
		if len(rows) != len(vs) || len(vs) != 3 {
			t.Fatalf("history rows %d, versions %d", len(rows), len(vs))
		}
		shape := map[string][2]int64{
			string(s.lb[0].Version): {5, 3}, string(s.lb[1].Version): {5, 3}, string(s.lb[2].Version): {6, 4},
		}
		for i, v := range vs {
			r := rows[i]
			if r[0] != string(v.ID) || r[1] != string(v.DataSHA) || r[3] != v.Author || r[4] != v.Message {
				t.Errorf("row %d = %v, want %+v", i, r, v)
			}
			if ts, ok := r[2].(time.Time); !ok || !ts.Equal(v.Timestamp) || v.Timestamp.IsZero() {
				t.Errorf("row %d timestamp %v, want %v", i, r[2], v.Timestamp)
			}
			sh := shape[string(v.ID)]
			if r[5] != sh[0] || r[6] != sh[1] {
				t.Errorf("row %d nrow/ncol = %v/%v, want %v", i, r[5], r[6], sh)
			}
		}
		if got := queryInt(t, e, "SELECT count(*) FROM history('ae')"); got != 17 {
			t.Errorf("history('ae') rows %d", got)
		}
		// timestamp is a TIMESTAMP: ordering by it is newest-first history reversed.
		ordered := queryAll(t, e, "SELECT version FROM history('lb') ORDER BY timestamp")
		for i := range ordered {
			if ordered[i][0] != string(s.lb[i].Version) {
				t.Errorf("by timestamp %d: %v, want %s", i, ordered[i][0], s.lb[i].Version)
			}
		}
	})

	t.Run("AllVersionsAggregate", func(t *testing.T) {
		e := newTestEngine(t, s.p)
		got := map[string]int64{}
		for _, r := range queryAll(t, e, "SELECT _version, count(*) FROM all_versions('ae') GROUP BY _version") {
			got[r[0].(string)] = r[1].(int64)
		}
		if len(got) != 17 {
			t.Fatalf("all_versions('ae') has %d versions", len(got))
		}
		for _, w := range s.ae {
			want := queryInt(t, e, `SELECT count(*) FROM "ae@`+string(w.Version)+`"`)
			if got[string(w.Version)] != want {
				t.Errorf("ae %s: all_versions count %d, per-version count %d", w.Version.Short(), got[string(w.Version)], want)
			}
		}
		// _timestamp matches history's timestamp.
		if n := queryInt(t, e, `SELECT count(*) FROM (SELECT DISTINCT _version, _timestamp FROM all_versions('ae')) a
			JOIN history('ae') h ON a._version = h.version AND a._timestamp = h.timestamp`); n != 17 {
			t.Errorf("_timestamp joined to history: %d of 17", n)
		}
	})

	t.Run("AllVersionsSchemaChange", func(t *testing.T) {
		e := newTestEngine(t, s.p)
		rows := queryAll(t, e, "SELECT _version, count(*), count(flag), sum(val) FROM all_versions('lb') GROUP BY _version")
		type agg struct{ n, flags int64 }
		got := map[string]agg{}
		for _, r := range rows {
			got[r[0].(string)] = agg{r[1].(int64), r[2].(int64)}
		}
		want := map[string]agg{
			string(s.lb[0].Version): {5, 0}, string(s.lb[1].Version): {5, 0}, string(s.lb[2].Version): {6, 6},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("per version (rows, non-null flag) = %v, want %v", got, want)
		}
		cols := queryAll(t, e, "SELECT column_name FROM (DESCRIBE SELECT * FROM all_versions('lb'))")
		var names []string
		for _, c := range cols {
			names = append(names, c[0].(string))
		}
		if strings.Join(names, ",") != "id,val,name,flag,_version,_timestamp" {
			t.Errorf("all_versions('lb') columns: %v", names)
		}
	})

	t.Run("Lazy", func(t *testing.T) {
		// A second connection with an empty cache: opening the engine and
		// listing tables fetches nothing; a query fetches what it touches.
		cache := t.TempDir()
		p2, err := versions.Open(ctx, s.dir, testOptions(cache))
		if err != nil {
			t.Fatal(err)
		}
		e := newTestEngine(t, p2)
		tables, err := e.Tables(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(tables, ",") == "" || len(tables) != 3 {
			t.Errorf("tables: %v", tables)
		}
		if n := cacheFiles(t, cache); n != 0 {
			t.Fatalf("after open: %d cached files, want 0", n)
		}
		queryInt(t, e, `SELECT count(*) FROM "lb@`+string(s.lb[0].Version)[:8]+`"`)
		if n := cacheFiles(t, cache); n != 1 {
			t.Fatalf("after one version: %d cached files, want 1", n)
		}
		queryInt(t, e, `SELECT count(*) FROM history('ae')`) // metadata only
		if n := cacheFiles(t, cache); n != 1 {
			t.Fatalf("after history(): %d cached files, want 1", n)
		}
	})

	t.Run("Reader", func(t *testing.T) {
		r, err := versions.OpenReader(ctx, s.store, "study001", testOptions(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		e := newTestEngine(t, r)
		if got := queryInt(t, e, `SELECT count(*) FROM "lb@`+string(s.lb[0].Version)[:8]+`"`); got != 5 {
			t.Errorf("reader lb v1 count %d", got)
		}
		if got := queryInt(t, e, `SELECT count(*) FROM all_versions('lb')`); got != 16 {
			t.Errorf("reader all_versions count %d", got)
		}
		if got := queryInt(t, e, `SELECT sum(nrow)::BIGINT FROM history('lb')`); got != 16 {
			t.Errorf("reader history nrow sum %d", got)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		e := newTestEngine(t, s.p)
		all, err := s.p.Versions(ctx, tn("ae"))
		if err != nil {
			t.Fatal(err)
		}
		// Two of 17 versions share a first hex digit.
		ambiguous := ""
		seen := map[byte]bool{}
		for _, v := range all {
			if seen[v.ID[0]] {
				ambiguous = string(v.ID[:1])
				break
			}
			seen[v.ID[0]] = true
		}
		cases := []struct {
			name, sql string
			is        error
			mention   string
		}{
			{"unknown table", "SELECT * FROM nosuch", versions.ErrNotFound, "nosuch"},
			{"unknown version", `SELECT * FROM "lb@ffffffffff"`, versions.ErrNotFound, "ffffffffff"},
			{"ambiguous prefix", `SELECT * FROM "ae@` + ambiguous + `"`, versions.ErrAmbiguous, "ae@" + ambiguous},
			{"bad sql", "SELEC 1", ErrSQL, "SELEC"},
			{"unknown column", "SELECT nosuchcol FROM lb", ErrSQL, "nosuchcol"},
			{"history of unknown table", "SELECT * FROM history('nosuch')", versions.ErrNotFound, "nosuch"},
			{"all_versions of unknown table", "SELECT * FROM all_versions('nosuch')", versions.ErrNotFound, "nosuch"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.Write(ctx, &strings.Builder{}, c.sql, FormatCSV)
				if err == nil {
					t.Fatalf("%s: no error", c.sql)
				}
				if !errors.Is(err, c.is) {
					t.Errorf("%s: %v is not %v", c.sql, err, c.is)
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") || !strings.Contains(msg, c.mention) {
					t.Errorf("%s: error %q should be one line naming %q", c.sql, msg, c.mention)
				}
			})
		}
		// A failing query leaves nothing behind: no table or view, no
		// output file, and the engine works on.
		out := filepath.Join(t.TempDir(), "out.parquet")
		if _, err := e.CopyParquet(ctx, `SELECT * FROM "lb@ffffffff"`, out); !errors.Is(err, versions.ErrNotFound) {
			t.Fatalf("copy of unknown version: %v", err)
		}
		if n := countFiles(t, filepath.Dir(out)); n != 0 {
			t.Errorf("failed parquet output left %d files", n)
		}
		if n := queryInt(t, e, "SELECT (SELECT count(*) FROM duckdb_tables()) + (SELECT count(*) FROM duckdb_views() WHERE NOT internal)"); n != 0 {
			t.Errorf("%d tables/views left behind", n)
		}
		if got := queryInt(t, e, "SELECT count(*) FROM lb"); got != 6 {
			t.Errorf("after errors: count %d", got)
		}
	})

	t.Run("Formats", func(t *testing.T) { testFormats(t, s) })
	t.Run("Diff", func(t *testing.T) { testDiff(t, s) })
}

// countFiles counts the entries of a directory.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestEngineLocalStore(t *testing.T) {
	runEngineSuite(t, localStore(t))
}
