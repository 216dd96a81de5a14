package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

// enginesPython is the interpreter with pyiceberg and pyspark
// (.venv-engines, made by scripts/setup.sh from requirements-engines.txt).
func enginesPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("DATOMFS_ENGINES_PYTHON")
	if py == "" {
		py, _ = filepath.Abs("../.venv-engines/bin/python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("no Python with pyiceberg and pyspark at %s: run scripts/setup.sh (make setup) or set DATOMFS_ENGINES_PYTHON", py)
	}
	return py
}

// sparkJars are the Iceberg Spark runtime and AWS bundle that
// scripts/setup.sh fetched into .engines/jars.
func sparkJars(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"iceberg-spark-runtime-*.jar", "iceberg-aws-bundle-*.jar"} {
		jars, _ := filepath.Glob(filepath.Join("..", ".engines", "jars", pattern))
		if len(jars) != 1 {
			t.Fatalf("want one %s in .engines/jars, found %v: run scripts/setup.sh (make setup)", pattern, jars)
		}
		abs, _ := filepath.Abs(jars[0])
		out = append(out, abs)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("Spark needs java on PATH: run scripts/setup.sh (make setup)")
	}
	return out
}

// engine runs the engines script; stdout is its JSON answer.
func engine(t *testing.T, env []string, args ...string) []byte {
	t.Helper()
	script, _ := filepath.Abs("testdata/iceberg_engines.py")
	cmd := exec.Command(enginesPython(t), append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", filepath.Base(script), args[0], err, tail(errb.String(), 40))
	}
	return out.Bytes()
}

type icebergInfo struct {
	Table            string            `json:"table"`
	MetadataLocation string            `json:"metadata_location"`
	Snapshots        int               `json:"snapshots"`
	CurrentSnapshot  int64             `json:"current_snapshot_id"`
	CurrentVersion   string            `json:"current_version"`
	UpToDate         bool              `json:"up_to_date"`
	Warehouse        string            `json:"warehouse"`
	Read             map[string]string `json:"read"`
}

type pySnapshot struct {
	SnapshotID   int64    `json:"snapshot_id"`
	ParentID     *int64   `json:"parent_id"`
	SchemaID     int      `json:"schema_id"`
	Operation    string   `json:"operation"`
	Tag          string   `json:"tag"`
	VersionID    string   `json:"version_id"`
	DataSHA      string   `json:"data_sha"`
	Author       string   `json:"author"`
	Message      string   `json:"message"`
	Rows         int64    `json:"rows"`
	Columns      []string `json:"columns"`
	TagScanEqual bool     `json:"tag_scan_equal"`
	Path         string   `json:"path"`
}

// TestIcebergEngines: a table with three versions (the third adds a
// column) and the first made current again, written through the CLI whose
// writes keep the Iceberg metadata current, read by pyiceberg, DuckDB and
// Spark over a local store and S3, directly and through the REST catalog: one snapshot per version in
// history order with the datom version in its summary; every snapshot's
// scan hashes to its version's data_sha; time travel by snapshot id and by
// tag; main at the current version.
func TestIcebergEngines(t *testing.T) {
	for _, mk := range []func(*testing.T) backend{localBackend, s3Backend} {
		b := mk(t)
		t.Run(b.name, func(t *testing.T) { testIcebergEngines(t, b) })
	}
}

func testIcebergEngines(t *testing.T, b backend) {
	e := newEngineer(t, "Alice", b)
	remote := testenv.BareRemote(t)
	dir := filepath.Join(t.TempDir(), "clone")
	e.must("init", dir, "--project", "STUDY_001", "--store", b.store, "--remote", remote)
	jan := extract(t, "2026-01-31", "parquet")["lb"]
	feb := extract(t, "2026-02-28", "parquet")["lb"]
	wide := filepath.Join(t.TempDir(), "lb_flag.parquet")
	engine(t, nil, "variant", feb, wide)
	e.must("write", jan, "--table", "lb", "-C", dir, "-m", "LB January cut")
	e.must("write", feb, "--table", "lb", "-C", dir, "-m", "LB February cut")
	e.must("write", wide, "--table", "lb", "-C", dir, "-m", "LB with flag")
	// The January cut again, with its message: its version becomes current
	// again without a new history entry.
	e.must("write", jan, "--table", "lb", "-C", dir, "-m", "LB January cut")

	hist := decode[[]historyRow](t, e.must("history", "lb", "-C", dir, "--json"))
	slices.Reverse(hist) // oldest first, as the snapshots
	if len(hist) != 3 {
		t.Fatalf("history has %d versions, want 3", len(hist))
	}
	infos := decode[[]icebergInfo](t, e.must("iceberg", "-C", dir, "--json"))
	if len(infos) != 1 || infos[0].Table != "lb" || !infos[0].UpToDate || infos[0].Snapshots != 3 {
		t.Fatalf("datomfs iceberg --json: %+v", infos)
	}
	info := infos[0]
	if info.CurrentVersion != hist[0].Version[:8] {
		t.Fatalf("current version %s, want the January cut %s", info.CurrentVersion, hist[0].Version[:8])
	}
	wantPrefix := "file://" + b.store + "/iceberg/lb/metadata/"
	if b.s3 != nil {
		wantPrefix = "s3://study-data/proj/iceberg/lb/metadata/"
	}
	if !strings.HasPrefix(info.MetadataLocation, wantPrefix) {
		t.Fatalf("metadata location %s, want under %s", info.MetadataLocation, wantPrefix)
	}
	for _, engine := range []string{"pyiceberg", "duckdb", "spark", "trino"} {
		if !strings.Contains(info.Read[engine], "lb") {
			t.Errorf("no %s snippet for lb: %q", engine, info.Read[engine])
		}
	}

	// A rebuild changes nothing: the same metadata file, nothing written.
	before := b.objects(t)
	e.must("iceberg", "sync", "-C", dir)
	if after := b.objects(t); !equalObjects(before, after) {
		t.Fatalf("iceberg sync changed the store: %v → %v", keysOf(before), keysOf(after))
	}

	out := t.TempDir()
	var py struct {
		Current     int64        `json:"current"`
		CurrentRows int64        `json:"current_rows"`
		Snapshots   []pySnapshot `json:"snapshots"`
		History     []int64      `json:"history"`
	}
	if err := json.Unmarshal(engine(t, b.env, "pyiceberg", info.MetadataLocation, out), &py); err != nil {
		t.Fatal(err)
	}
	if len(py.Snapshots) != len(hist) {
		t.Fatalf("pyiceberg sees %d snapshots, want %d", len(py.Snapshots), len(hist))
	}
	for i, s := range py.Snapshots {
		h := hist[i]
		if s.VersionID != h.Version || s.DataSHA != h.DataSHA || s.Tag != h.Version[:8] || s.Message != h.CommitMessage || s.Author != string(h.Author) {
			t.Errorf("snapshot %d: %+v, want version %s data_sha %s message %q author %q", i, s, h.Version, h.DataSHA, h.CommitMessage, h.Author)
		}
		if s.Operation != "overwrite" || !s.TagScanEqual {
			t.Errorf("snapshot %d: operation %s, scan by tag equal to scan by id: %v", i, s.Operation, s.TagScanEqual)
		}
		if i > 0 && (s.ParentID == nil || *s.ParentID != py.Snapshots[i-1].SnapshotID) {
			t.Errorf("snapshot %d: parent %v, want %d", i, s.ParentID, py.Snapshots[i-1].SnapshotID)
		}
		// The rows of the snapshot are the version's rows: same data_sha.
		if got := strings.TrimSpace(e.must("hash", s.Path).out); got != h.DataSHA {
			t.Errorf("snapshot %d (version %s): scan hashes to %s, want %s", i, s.Tag, got, h.DataSHA)
		}
	}
	if py.Snapshots[2].SchemaID == py.Snapshots[1].SchemaID || !slices.Contains(py.Snapshots[2].Columns, "flag") || slices.Contains(py.Snapshots[1].Columns, "flag") {
		t.Errorf("the third version's new column is not a new schema: %+v / %+v", py.Snapshots[1], py.Snapshots[2])
	}
	if py.Current != py.Snapshots[0].SnapshotID || py.Current != info.CurrentSnapshot || py.CurrentRows != py.Snapshots[0].Rows {
		t.Errorf("main at snapshot %d (%d rows), want the January cut's %d (%d rows)", py.Current, py.CurrentRows, py.Snapshots[0].SnapshotID, py.Snapshots[0].Rows)
	}

	// DuckDB's iceberg extension: the metadata file, the table folder
	// (version-hint.text), each snapshot.
	var ids []int64
	for _, s := range py.Snapshots {
		ids = append(ids, s.SnapshotID)
	}
	idsJSON, _ := json.Marshal(ids)
	var dk struct {
		CurrentRows int64   `json:"current_rows"`
		FolderRows  int64   `json:"folder_rows"`
		Snapshots   []int64 `json:"snapshots"`
		Rows        []int64 `json:"rows"`
	}
	if err := json.Unmarshal(engine(t, b.env, "duckdb", info.MetadataLocation, string(idsJSON)), &dk); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dk.Snapshots, ids) || dk.CurrentRows != py.CurrentRows || dk.FolderRows != py.CurrentRows {
		t.Errorf("DuckDB: snapshots %v (want %v), current %d rows, folder %d rows (want %d)", dk.Snapshots, ids, dk.CurrentRows, dk.FolderRows, py.CurrentRows)
	}
	for i, n := range dk.Rows {
		if n != py.Snapshots[i].Rows {
			t.Errorf("DuckDB at version %s: %d rows, want %d", py.Snapshots[i].Tag, n, py.Snapshots[i].Rows)
		}
	}

	// The same table through the REST catalog (datomfs serve iceberg-rest).
	restURI := serveREST(t, e, dir)
	var rc struct {
		Tables    []string `json:"tables"`
		Current   int64    `json:"current"`
		Snapshots []int64  `json:"snapshots"`
		Rows      []int64  `json:"rows"`
	}
	if err := json.Unmarshal(engine(t, b.env, "rest", restURI, "lb"), &rc); err != nil {
		t.Fatal(err)
	}
	var pyRows []int64
	for _, s := range py.Snapshots {
		pyRows = append(pyRows, s.Rows)
	}
	if !slices.Equal(rc.Tables, []string{"iceberg.lb"}) || rc.Current != py.Current || !slices.Equal(rc.Snapshots, ids) || !slices.Equal(rc.Rows, pyRows) {
		t.Errorf("REST catalog: %+v, want snapshots %v rows %v current %d", rc, ids, pyRows, py.Current)
	}

	// Spark: through the Hadoop catalog (the local store is its
	// warehouse) and through the REST catalog; on S3 through the REST
	// catalog with Iceberg's S3FileIO.
	type want struct {
		SnapshotID int64  `json:"snapshot_id"`
		Tag        string `json:"tag"`
	}
	var ws []want
	for _, s := range py.Snapshots {
		ws = append(ws, want{s.SnapshotID, s.Tag})
	}
	wsJSON, _ := json.Marshal(ws)
	type sparkCatalog struct {
		CurrentRows int64 `json:"current_rows"`
		Snapshots   []struct {
			SnapshotID int64    `json:"snapshot_id"`
			Rows       int64    `json:"rows"`
			Columns    []string `json:"columns"`
		} `json:"snapshots"`
		Listed []int64 `json:"listed"`
	}
	var sp map[string]sparkCatalog
	jars := strings.Join(sparkJars(t), ",")
	if err := json.Unmarshal(engine(t, b.env, "spark", info.Warehouse, "lb", jars, t.TempDir(), string(wsJSON), restURI), &sp); err != nil {
		t.Fatal(err)
	}
	cats := []string{"datom", "rest"}
	if b.s3 != nil {
		cats = []string{"rest"}
	}
	if len(sp) != len(cats) {
		t.Fatalf("Spark answered for catalogs %v, want %v", keysOfCatalogs(sp), cats)
	}
	for _, cat := range cats {
		c := sp[cat]
		// Listed by commit time, whole seconds: versions of one second tie.
		if len(c.Snapshots) != len(ids) || !slices.Equal(slices.Sorted(slices.Values(c.Listed)), slices.Sorted(slices.Values(ids))) || c.CurrentRows != py.CurrentRows {
			t.Errorf("Spark (%s catalog): %+v, want snapshots %v, %d current rows", cat, c, ids, py.CurrentRows)
			continue
		}
		for i, s := range c.Snapshots {
			p := py.Snapshots[i]
			if s.Rows != p.Rows || !slices.Equal(s.Columns, p.Columns) {
				t.Errorf("Spark (%s catalog) at version %s: %d rows %v, want %d rows %v", cat, p.Tag, s.Rows, s.Columns, p.Rows, p.Columns)
			}
		}
	}
}

func keysOfCatalogs[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// serveREST starts "datomfs serve iceberg-rest" on a free loopback port
// for the clone and returns its URL; the server is stopped at cleanup.
func serveREST(t *testing.T, e *engineer, dir string) string {
	t.Helper()
	cmd := exec.Command(datomfsBin, "serve", "iceberg-rest", "-C", dir, "--addr", "127.0.0.1:0")
	cmd.Env = e.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), " on http://"); ok {
				found <- "http://" + strings.Fields(rest)[0]
				break
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("datomfs serve iceberg-rest did not say where it listens within 30s")
		return ""
	}
}

func equalObjects(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// TestIcebergAfterMountCopyIn: a copy into the mount is a new version, and
// by the time close returns its table's Iceberg metadata describes it.
func TestIcebergAfterMountCopyIn(t *testing.T) {
	b := localBackend(t)
	p := newProject(t, b) // dm written by the CLI
	m := mountDatomfs(t, p.e, "-C", p.dir)
	feb := extract(t, "2026-02-28", "parquet")["dm"]
	src, err := os.ReadFile(feb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(m.dir, "tables", "dm", "dm.parquet"), src, 0o644); err != nil {
		t.Fatalf("copy into the mount: %v\n%s", err, m.stderr)
	}
	hist := historyOf(t, p.e, p.dir, "dm")
	infos := decode[[]icebergInfo](t, p.e.must("iceberg", "-C", p.dir, "--json"))
	if len(hist) != 2 || len(infos) != 1 || infos[0].Snapshots != 2 || !infos[0].UpToDate || infos[0].CurrentVersion != hist[0].Version[:8] {
		t.Fatalf("after the copy-in: history %d versions, iceberg %+v\n%s", len(hist), infos, m.stderr)
	}
}
