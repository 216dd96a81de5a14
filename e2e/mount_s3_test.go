package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var storeGet = regexp.MustCompile(`msg="store get" key=(\S+) offset=(\d+) length=(\d+)`)

// fetched sums the bytes the mount read from the store for keys with suffix.
func fetched(log, suffix string) (gets int, bytes int64) {
	for _, m := range storeGet.FindAllStringSubmatch(log, -1) {
		if strings.HasSuffix(m[1], suffix) {
			n, _ := strconv.ParseInt(m[3], 10, 64)
			gets++
			bytes += n
		}
	}
	return gets, bytes
}

// TestMountS3RangedRead: a version on S3 is read through a reader mount
// with only part of the file fetched when pyarrow asks for one column; with
// prefetch the cache fills in the background and later opens are local.
func TestMountS3RangedRead(t *testing.T) {
	b := s3Backend(t)
	p := newProject(t, b)
	big := filepath.Join(t.TempDir(), "lb.parquet")
	python(t, `
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
rng = np.random.default_rng(7)
n = 600_000
t = pa.table({f"c{i}": rng.standard_normal(n) for i in range(8)})
pq.write_table(t, sys.argv[1], row_group_size=200_000, compression="none")`, big)
	p.e.must("write", big, "--table", "lb", "-C", p.dir)
	hist := historyOf(t, p.e, p.dir, "lb")
	dataSHA := hist[0].DataSHA
	fi, _ := os.Stat(big)

	reader := newEngineer(t, "Reader", b)
	m := mountDatomfs(t, reader, "--store", b.store, "--project", "STUDY_001", "--prefetch=false", "--refresh", "0")
	file := filepath.Join(m.dir, "tables", "lb", "@"+hist[0].Version[:8]+".parquet")
	out := python(t, `
import sys, pyarrow.parquet as pq
a = pq.read_table(sys.argv[1], columns=["c3"]); b = pq.read_table(sys.argv[2], columns=["c3"])
print(a.equals(b), a.num_rows)`, file, big)
	if out != "True 600000" {
		t.Fatalf("one column through the mount: %s", out)
	}
	gets, n := fetched(m.stderr.String(), dataSHA+".parquet")
	t.Logf("one column of %d bytes: %d ranged GETs, %d bytes", fi.Size(), gets, n)
	if gets == 0 || n == 0 {
		t.Fatalf("no ranged GETs were logged:\n%s", m.stderr)
	}
	// Its three column chunks (the footer says where they are), each
	// rounded out to the mount's 256 KiB blocks, and the footer's block.
	if limit := fi.Size()/8 + 3*2*(256<<10) + 512<<10; n > limit {
		t.Fatalf("reading 1 of 8 columns fetched %d of %d bytes, want at most %d", n, fi.Size(), limit)
	}

	// The other readers statisticians use, on the same version still not
	// cached: polars maps the file, DuckDB reads ranges; both must see the
	// written data.
	out = python(t, `
import sys, polars as pl, duckdb
a = pl.read_parquet(sys.argv[1]); b = pl.read_parquet(sys.argv[2])
q = "select sum(hash(c5)), count(*) from read_parquet('{}')"  # hash: exact, whatever the order of a parallel sum
print(a.equals(b), duckdb.sql(q.format(sys.argv[1])).fetchall() == duckdb.sql(q.format(sys.argv[2])).fetchall())`, file, big)
	if out != "True True" {
		t.Fatalf("polars and DuckDB through the mount: %s", out)
	}

	// With prefetch, the version becomes a verified cache entry by itself.
	other := newEngineer(t, "Reader2", b)
	m2 := mountDatomfs(t, other, "--store", b.store, "--project", "STUDY_001", "--prefetch", "--refresh", "0")
	f2 := filepath.Join(m2.dir, "tables", "lb", "@"+hist[0].Version[:8]+".parquet")
	python(t, `
import sys, pyarrow.parquet as pq
print(pq.read_metadata(sys.argv[1]).num_rows)`, f2)
	cacheDir := filepath.Join(other.home, "cache")
	waitFor(t, 60*time.Second, "the background fill", func() bool {
		found := false
		filepath.Walk(cacheDir, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && strings.HasSuffix(path, ".parquet") && !strings.Contains(filepath.Base(path), ".partial") && info.Size() == fi.Size() {
				found = true
			}
			return nil
		})
		return found
	})
	want, _ := os.ReadFile(big)
	got, err := os.ReadFile(f2)
	if err != nil || string(got) != string(want) {
		t.Fatalf("full read after the fill differs (%v)", err)
	}
}
