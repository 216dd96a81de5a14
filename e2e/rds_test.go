package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rColumn is what R says of one column of a readRDS()'d rendition.
type rColumn struct {
	typeOf, class, tzone, units, levels string
}

// rdsCheck is check_rds.R's report on one .rds file.
type rdsCheck struct {
	sha     string // datom-cv1 computed in R
	nrow    int
	compact bool // row names c(NA, -n)
	cols    map[string]rColumn
	order   []string
}

// checkRDSInR runs e2e/testdata/r/check_rds.R (base R + digest) on files.
func checkRDSInR(t *testing.T, files ...string) map[string]*rdsCheck {
	t.Helper()
	r, err := exec.LookPath("Rscript")
	if err != nil {
		t.Fatalf("Rscript not found: install Debian's r-base-core and r-cran-digest (scripts/setup.sh does)")
	}
	out, err := exec.Command(r, append([]string{filepath.Join("testdata", "r", "check_rds.R")}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("Rscript check_rds.R: %v\n%s", err, out)
	}
	got := map[string]*rdsCheck{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		switch {
		case f[0] == "sha" && len(f) == 5:
			n, _ := strconv.Atoi(f[3])
			got[f[1]] = &rdsCheck{sha: f[2], nrow: n, compact: f[4] == "TRUE", cols: map[string]rColumn{}}
		case f[0] == "col" && len(f) == 8 && got[f[1]] != nil:
			c := got[f[1]]
			c.cols[f[2]] = rColumn{typeOf: f[3], class: f[4], tzone: f[5], units: f[6], levels: f[7]}
			c.order = append(c.order, f[2])
		default:
			t.Fatalf("check_rds.R printed %q\n%s", line, out)
		}
	}
	return got
}

// rdsExpected are the R types of the columns make_tables.py writes: what
// R's arrow gives for them (format contract 5.1).
var rdsExpected = map[string]rColumn{
	// golden vectors
	"x": {typeOf: "double", class: "numeric"}, // (a); (c) is a factor, checked apart
	"n": {typeOf: "integer", class: "integer"},
	"f": {typeOf: "integer", class: "factor", levels: "x|y"},
	"d": {typeOf: "double", class: "Date"},
	"t": {typeOf: "double", class: "POSIXct/POSIXt", tzone: "UTC"},
	// random tables
	"b":           {typeOf: "logical", class: "logical"},
	"i8":          {typeOf: "integer", class: "integer"},
	"i16":         {typeOf: "integer", class: "integer"},
	"i32":         {typeOf: "integer", class: "integer"},
	"u8":          {typeOf: "integer", class: "integer"},
	"u16":         {typeOf: "integer", class: "integer"},
	"u32s":        {typeOf: "integer", class: "integer"},
	"u32b":        {typeOf: "double", class: "numeric"},
	"i64s":        {typeOf: "integer", class: "integer"},
	"i64b":        {typeOf: "double", class: "integer64"},
	"u64":         {typeOf: "double", class: "numeric"},
	"f32":         {typeOf: "double", class: "numeric"},
	"f64":         {typeOf: "double", class: "numeric"},
	"dec":         {typeOf: "double", class: "numeric"},
	"dec256":      {typeOf: "double", class: "numeric"},
	"s":           {typeOf: "character", class: "character"},
	"ls":          {typeOf: "character", class: "character"},
	"fac":         {typeOf: "integer", class: "factor", levels: "lo|mid|hi|é|x y"},
	"ord":         {typeOf: "integer", class: "ordered/factor", levels: "lo|mid|hi|é|x y"},
	"d32":         {typeOf: "double", class: "Date"},
	"ts_s_utc":    {typeOf: "double", class: "POSIXct/POSIXt", tzone: "UTC"},
	"ts_ms_paris": {typeOf: "double", class: "POSIXct/POSIXt", tzone: "Europe/Paris"},
	"ts_us_none":  {typeOf: "double", class: "POSIXct/POSIXt"},
	"ts_ns_ny":    {typeOf: "double", class: "POSIXct/POSIXt", tzone: "America/New_York"},
	"t32_s":       {typeOf: "double", class: "hms/difftime", units: "secs"},
	"t32_ms":      {typeOf: "double", class: "hms/difftime", units: "secs"},
	"t64_us":      {typeOf: "double", class: "hms/difftime", units: "secs"},
	"t64_ns":      {typeOf: "double", class: "hms/difftime", units: "secs"},
	"du_s":        {typeOf: "double", class: "difftime", units: "secs"},
	"du_ms":       {typeOf: "double", class: "difftime", units: "secs"},
	"du_us":       {typeOf: "double", class: "difftime", units: "secs"},
	"du_ns":       {typeOf: "double", class: "difftime", units: "secs"},
	"all_null_s":  {typeOf: "character", class: "character"},
}

// goldenPath is the format contract's vectors (shared/ sits next to the
// repository checkout, as for the identity tests).
const goldenPath = "../../shared/spec/golden.json"

// TestRDSReadByR: every golden vector of the contract and random tables of
// every supported type are written as versions, and R (base R and digest,
// no arrow) readRDS()es their @<id>.rds through a real mount: the
// datom-cv1 hash computed in R (e2e/testdata/r/datom_cv1.R, written from
// the contract) equals the version's recorded data_sha (and the golden
// value), and every column has the class and attributes R's arrow gives.
// `datomfs read T -o x.rds` writes the same bytes.
func TestRDSReadByR(t *testing.T) {
	seed := time.Now().UnixNano() % 1_000_000
	if s := os.Getenv("DATOMFS_RDS_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("random tables from seed %d (DATOMFS_RDS_SEED=%d replays them)", seed, seed)
	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("read the contract's golden vectors: %v", err)
	}
	var golden struct {
		DataSHA []struct {
			ID       string `json:"id"`
			Expected string `json:"expected_data_sha"`
		} `json:"data_sha"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil || len(golden.DataSHA) == 0 {
		t.Fatalf("parse %s: %v", goldenPath, err)
	}
	inputs := t.TempDir()
	python(t, "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
		filepath.Join("testdata", "r", "make_tables.py"), goldenPath, inputs, fmt.Sprint(seed), "700")
	python(t, "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
		filepath.Join("testdata", "r", "make_tables.py"), goldenPath, inputs, fmt.Sprint(seed+1), "1")

	p := newProject(t, localBackend(t))
	want := map[string]string{} // table → expected data_sha from golden.json
	var tables []string
	for _, g := range golden.DataSHA {
		tables = append(tables, "golden_"+g.ID)
		want["golden_"+g.ID] = g.Expected
	}
	tables = append(tables, fmt.Sprintf("random_%d", seed), fmt.Sprintf("random_%d", seed+1))
	for _, table := range tables {
		p.e.must("write", filepath.Join(inputs, table+".parquet"), "--table", table, "-C", p.dir)
	}
	m := mountDatomfs(t, p.e, "-C", p.dir)

	files := map[string]string{} // rendition path → table
	var paths []string
	recorded := map[string]string{}
	for i, table := range tables {
		h := historyOf(t, p.e, p.dir, table)
		recorded[table] = h[0].DataSHA
		name := "@" + h[0].Version[:8] + ".rds"
		if i == 0 {
			name = "current.rds"
		}
		path := filepath.Join(m.dir, "tables", table, name)
		files[path] = table
		paths = append(paths, path)
	}
	got := checkRDSInR(t, paths...)
	for path, table := range files {
		c := got[path]
		if c == nil {
			t.Errorf("%s: R reported nothing", path)
			continue
		}
		if c.sha != recorded[table] {
			t.Errorf("%s: datom-cv1 in R = %s, the version records %s", table, c.sha, recorded[table])
		}
		if w, ok := want[table]; ok && c.sha != w {
			t.Errorf("%s: datom-cv1 in R = %s, golden.json says %s", table, c.sha, w)
		}
		if !c.compact {
			t.Errorf("%s: row names are not compact c(NA, -%d)", table, c.nrow)
		}
		for _, name := range c.order {
			col := c.cols[name]
			exp, ok := rdsExpected[name]
			if table == "golden_c_factor" {
				exp, ok = rdsExpected["f"], true
			}
			if !ok {
				t.Errorf("%s: unexpected column %q", table, name)
				continue
			}
			if col != exp {
				t.Errorf("%s$%s: R sees %+v, want %+v", table, name, col, exp)
			}
		}
		if strings.HasPrefix(table, "random_") && len(c.order) != len(rdsExpected)-5 {
			t.Errorf("%s: %d columns in R, want %d", table, len(c.order), len(rdsExpected)-5)
		}
	}
	if r := got[paths[len(paths)-2]]; r == nil || r.nrow != 700 {
		t.Errorf("random table: %+v, want 700 rows", r)
	}

	// The CLI writes the same bytes as the mount.
	table := tables[len(tables)-2]
	out := filepath.Join(t.TempDir(), "x.rds")
	p.e.must("read", table, "-o", out, "-C", p.dir)
	cli, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mounted, err := os.ReadFile(paths[len(paths)-2])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cli, mounted) {
		t.Errorf("datomfs read -o x.rds: %d bytes, the mount's @<id>.rds %d bytes: not the same", len(cli), len(mounted))
	}
}
