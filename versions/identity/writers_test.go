package identity

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// writersSeed fixes the random tables of TestWritersAgree.
const writersSeed = 20260101

// writersManifest is what testdata/writers.py reports about its files.
type writersManifest struct {
	Seed  int `json:"seed"`
	Files []struct {
		File    string            `json:"file"`
		Table   string            `json:"table"`
		Writer  string            `json:"writer"`
		Options string            `json:"options"`
		Same    map[string]bool   `json:"same"`
		Reasons map[string]string `json:"reasons"`
		// the oracle: Arrow C++ reads the file, Python applies 5.1 and cv1
		DataSHA string   `json:"data_sha"`
		Refused []string `json:"refused"`
		Columns []struct {
			Name string `json:"name"`
			Kind Kind   `json:"kind"`
			SHA  string `json:"sha"`
		} `json:"columns"`
	} `json:"files"`
}

// testPython is the interpreter with pyarrow, pandas, polars and duckdb
// (scripts/test.sh sets DATOMFS_TEST_PYTHON to the repository's .venv).
func testPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("DATOMFS_TEST_PYTHON")
	if py == "" {
		py, _ = filepath.Abs("../../.venv/bin/python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("no Python with pyarrow, pandas, polars and duckdb at %s: set DATOMFS_TEST_PYTHON or run scripts/setup.sh (make setup)", py)
	}
	return py
}

// TestWritersAgree: the same logical tables, written by pyarrow (every
// codec, dictionary on/off, page v1/v2, small and large row groups, with and
// without ARROW:schema), pandas (index on/off), polars and DuckDB, hash to
// the data_sha an independent oracle computes from what Arrow C++ (R's
// reader) reads; and every column the contract says R reads the same as in
// the table's reference file has the same digest there. The tables are
// random over types, sizes and nulls, with a fixed seed.
func TestWritersAgree(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(testPython(t), "testdata/writers.py", dir, itoa(writersSeed))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writers.py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m writersManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	type ref struct{ cols map[string]string }
	refs := map[string]ref{}
	writers := map[string]int{}
	compared, differ := 0, 0
	for _, f := range m.Files {
		name := filepath.Base(f.File)
		th, err := HashParquetFile(context.Background(), f.File, HashOptions{Workers: 2, BatchRows: 1000})
		if len(f.Refused) > 0 {
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Errorf("%s: err %v, want the refusal of %v", name, err, f.Refused)
				continue
			}
			var got []string
			for _, r := range re.Refusals {
				got = append(got, r.Column)
			}
			if !slices.Equal(got, f.Refused) {
				t.Errorf("%s: refused %v, oracle refuses %v", name, got, f.Refused)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s (%s %s): %v", name, f.Writer, f.Options, err)
			continue
		}
		writers[f.Writer]++
		if string(th.DataSHA) != f.DataSHA || len(th.Columns) != len(f.Columns) {
			t.Errorf("%s (%s %s): data_sha %s, oracle %s", name, f.Writer, f.Options, th.DataSHA, f.DataSHA)
		}
		got := map[string]string{}
		for i, c := range th.Columns {
			got[c.Name] = c.SHA
			if i < len(f.Columns) && (c.Name != f.Columns[i].Name || c.Kind != f.Columns[i].Kind || c.SHA != f.Columns[i].SHA) {
				t.Errorf("%s (%s %s): column %s %s (%s, %s), oracle %s %s", name, f.Writer, f.Options,
					c.Name, c.Kind, c.Class, c.Rule, f.Columns[i].Kind, f.Columns[i].SHA)
			}
		}
		r, ok := refs[f.Table]
		if !ok {
			// the first file of a table is its reference (pyarrow, defaults)
			refs[f.Table] = ref{cols: got}
			continue
		}
		for col, same := range f.Same {
			if !same {
				differ++
				continue
			}
			compared++
			if got[col] != r.cols[col] {
				t.Errorf("%s (%s %s): column %s digest %s, reference %s; the contract says R reads it the same",
					name, f.Writer, f.Options, col, got[col], r.cols[col])
			}
		}
	}
	for _, w := range []string{"pyarrow", "pandas", "polars", "duckdb"} {
		if writers[w] == 0 {
			t.Errorf("no file from %s was hashed", w)
		}
	}
	t.Logf("seed %d: %d files (%v), %d tables; %d columns compared with their reference, %d expected to differ",
		m.Seed, len(m.Files), writers, len(refs), compared, differ)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
