package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
)

// fixture is a real project (local store, bare git remote, clone) mounted
// at Dir.
type fixture struct {
	Dir     string // the mount point
	Project *versions.Project
	Server  *Server
	Store   string // store folder
	Remote  string // bare git remote
	Cache   string
	Log     *testenv.SyncBuffer
	// V1 and V2 are the two versions of lb (V2 current); AE is ae's one.
	V1, V2, AE versions.Version
	// Src holds the parquet bytes written for each version, by short id.
	Src map[string][]byte

	opts versions.Options
}

// testConverter does the CSV conversions with arrow (the CLI uses DuckDB).
type testConverter struct{}

func (testConverter) CSVToParquet(ctx context.Context, csvPath string, format versions.Format, parquetPath string) error {
	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	delim := rune(',')
	if d := format.Delimiter(); d != 0 {
		delim = rune(d)
	}
	r := csv.NewInferringReader(f, csv.WithHeader(true), csv.WithComma(delim))
	defer r.Release()
	var recs []arrow.Record
	for r.Next() {
		rec := r.Record()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return errors.New("empty CSV")
	}
	tbl := array.NewTableFromRecords(recs[0].Schema(), recs)
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 1024, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
		return err
	}
	return os.WriteFile(parquetPath, buf.Bytes(), 0o644)
}

func (testConverter) ParquetToCSV(ctx context.Context, parquetPath, csvPath string) error {
	f, err := os.Open(parquetPath)
	if err != nil {
		return err
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(ctx, f, parquet.NewReaderProperties(memory.DefaultAllocator), pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	defer tbl.Release()
	out, err := os.Create(csvPath)
	if err != nil {
		return err
	}
	w := csv.NewWriter(out, tbl.Schema(), csv.WithHeader(true), csv.WithNullWriter("NA"))
	tr := array.NewTableReader(tbl, 1024)
	defer tr.Release()
	for tr.Next() {
		if err := w.Write(tr.Record()); err != nil {
			out.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// parquetBytes is a small table: id 1..n and a label that depends on tag.
func parquetBytes(t *testing.T, n int, tag string) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "label", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := 1; i <= n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("%s-%d", tag, i))
	}
	rec := b.NewRecord()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 1024, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeVersion writes body as a new version of table through the project
// (not the mount) and returns it.
func writeVersion(t *testing.T, p *versions.Project, table string, body []byte) versions.Version {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), table+".parquet")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(ctx, versions.WriteRequest{Table: tn(table), Path: path, Format: versions.FormatParquet}); err != nil {
		t.Fatalf("write %s: %v", table, err)
	}
	v, err := p.Resolve(ctx, tn(table), "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newProjectFixture makes a project with lb (two versions) and ae (one).
func newProjectFixture(t *testing.T) *fixture {
	t.Helper()
	return newProjectFixtureAt(t, "")
}

// newProjectFixtureAt makes the fixture project on a store location ("" = a
// fresh local folder).
func newProjectFixtureAt(t *testing.T, store string) *fixture {
	t.Helper()
	log := &testenv.SyncBuffer{}
	pf := projecttest.New(t, projecttest.Options{Store: store, Versions: versions.Options{
		Logger:    testLogger(log),
		Converter: testConverter{},
	}})
	fx := &fixture{
		Project: pf.Project,
		Store:   pf.Store,
		Remote:  pf.Remote,
		Cache:   pf.Cache,
		Log:     log,
		Src:     map[string][]byte{},
		opts:    pf.Options,
	}
	p := fx.Project
	b1, b2, b3 := parquetBytes(t, 3, "one"), parquetBytes(t, 4, "two"), parquetBytes(t, 2, "ae")
	fx.V1 = writeVersion(t, p, "lb", b1)
	fx.V2 = writeVersion(t, p, "lb", b2)
	fx.AE = writeVersion(t, p, "ae", b3)
	fx.Src[fx.V1.ID.Short()], fx.Src[fx.V2.ID.Short()], fx.Src[fx.AE.ID.Short()] = b1, b2, b3
	return fx
}

// testLogger logs at level info and above to w.
func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// options are the project's versions options (logger, cache, converter
// and clock), for opening it again: a reader, another clone.
func (fx *fixture) options() versions.Options { return fx.opts }

// mount mounts p at a fresh folder and unmounts it when the test ends; a
// mount that cannot be removed fails the test.
func (fx *fixture) mount(t *testing.T, p *versions.Project) *Server {
	t.Helper()
	return fx.mountOpts(t, p, Options{})
}

// mountOpts mounts p with o (logger and converter filled in) at a fresh
// folder and unmounts it when the test ends; a mount that cannot be removed
// fails the test.
func (fx *fixture) mountOpts(t *testing.T, p *versions.Project, o Options) *Server {
	t.Helper()
	dir := t.TempDir()
	o.Logger = testLogger(fx.Log)
	o.Converter = testConverter{}
	srv, err := Mount(context.Background(), dir, p, o)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		if testenv.Mounted(dir) {
			t.Errorf("%s is still mounted after the test", dir)
		}
	})
	fx.Dir, fx.Server = dir, srv
	return srv
}

// storeBytes reads a version's object from the store directly.
func storeBytes(t *testing.T, p *versions.Project, v versions.Version) []byte {
	t.Helper()
	rc, err := p.Store().Open(context.Background(), p.Key(v), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func historyLen(t *testing.T, p *versions.Project, table string) int {
	t.Helper()
	vs, err := p.Versions(context.Background(), tn(table))
	if err != nil {
		t.Fatal(err)
	}
	return len(vs)
}

// eventually polls cond for a few seconds (for kernel caches with short
// timeouts); it never asserts how long anything took.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting until %s", what)
}
