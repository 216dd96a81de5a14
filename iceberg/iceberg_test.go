package iceberg

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	ice "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// writeParquet writes n rows: id (int64) and name (string), plus an
// int32 column per extra name.
func writeParquet(t *testing.T, path string, n, offset int, extra ...string) {
	t.Helper()
	mem := memory.DefaultAllocator
	fields := []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "name", Type: arrow.BinaryTypes.String, Nullable: true}}
	ids := array.NewInt64Builder(mem)
	names := array.NewStringBuilder(mem)
	for i := 0; i < n; i++ {
		ids.Append(int64(i + offset))
		names.Append("row" + strconv.Itoa(i+offset))
	}
	cols := []arrow.Array{ids.NewArray(), names.NewArray()}
	for _, e := range extra {
		fields = append(fields, arrow.Field{Name: e, Type: arrow.PrimitiveTypes.Int32, Nullable: true})
		b := array.NewInt32Builder(mem)
		for i := 0; i < n; i++ {
			b.Append(int32(i * 7))
		}
		cols = append(cols, b.NewArray())
	}
	sc := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(sc, cols, int64(n))
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pqarrow.WriteTable(tbl, f, 1024, nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p *versions.Project, tbl string, path string) versions.WriteResult {
	t.Helper()
	name, err := versions.ParseTableName(tbl)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Write(context.Background(), versions.WriteRequest{Table: name, Path: path, Format: versions.FormatParquet, Message: "cut " + filepath.Base(path)})
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return res
}

// storeFile reads a file of the local store by key.
func storeFile(t *testing.T, storeDir, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(storeDir, filepath.FromSlash(key)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSyncTableLocal(t *testing.T) {
	ctx := context.Background()
	fx := projecttest.New(t, projecttest.Options{})
	p := fx.Project
	in := t.TempDir()
	paths := []string{filepath.Join(in, "a.parquet"), filepath.Join(in, "b.parquet"), filepath.Join(in, "c.parquet")}
	writeParquet(t, paths[0], 5, 0)
	writeParquet(t, paths[1], 7, 0)
	writeParquet(t, paths[2], 3, 100, "extra")
	var written []versions.WriteResult
	for _, path := range paths {
		written = append(written, write(t, p, "lb", path))
	}
	name, _ := versions.ParseTableName("lb")

	res, err := SyncTable(ctx, p, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshots != 3 || res.Schemas != 2 || res.FootersRead != 3 {
		t.Fatalf("result %+v: want 3 snapshots, 2 schemas, 3 footers read", res)
	}
	// 2 Avro files per snapshot, the metadata and the hint.
	if res.FilesWritten != 3*2+2 {
		t.Fatalf("files written %d, want 8", res.FilesWritten)
	}
	wantLoc := "file://" + filepath.Join(fx.Store, "iceberg", "lb", "metadata", "v3.metadata.json")
	if res.MetadataLocation != wantLoc {
		t.Fatalf("metadata location %s, want %s", res.MetadataLocation, wantLoc)
	}
	metaKey := "iceberg/lb/metadata/v3.metadata.json"
	first := storeFile(t, fx.Store, metaKey)
	if got := string(storeFile(t, fx.Store, "iceberg/lb/metadata/version-hint.text")); got != "3" {
		t.Fatalf("version hint %q, want 3", got)
	}
	md, err := table.ParseMetadataBytes(first)
	if err != nil {
		t.Fatal(err)
	}
	snaps := md.Snapshots()
	if len(snaps) != 3 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	rows := []int64{5, 7, 3}
	for i, s := range snaps {
		w := written[i]
		id, _ := SnapshotID(w.Version.String())
		if s.SnapshotID != id {
			t.Errorf("snapshot %d id %d, want %d (from %s)", i, s.SnapshotID, id, w.Version)
		}
		props := s.Summary.Properties
		if props[SummaryVersionID] != w.Version.String() || props[SummaryDataSHA] != w.DataSHA.String() {
			t.Errorf("snapshot %d summary %v, want version %s data_sha %s", i, props, w.Version, w.DataSHA)
		}
		if props["added-records"] != strconv.FormatInt(rows[i], 10) || props[SummaryMessage] == "" || props[SummaryAuthor] == "" || props[SummaryTimestamp] == "" {
			t.Errorf("snapshot %d summary %v", i, props)
		}
		if s.Summary.Operation != table.OpOverwrite {
			t.Errorf("snapshot %d operation %s", i, s.Summary.Operation)
		}
		if tag := md.SnapshotByName(w.Version.Short()); tag == nil || tag.SnapshotID != id {
			t.Errorf("tag %s does not name snapshot %d", w.Version.Short(), id)
		}
		wantSchema := 0
		if i == 2 {
			wantSchema = 1
		}
		if *s.SchemaID != wantSchema {
			t.Errorf("snapshot %d schema %d, want %d", i, *s.SchemaID, wantSchema)
		}
		// The manifest list holds one manifest: this version's object
		// added, the previous one's deleted.
		lst, err := ice.ReadManifestList(bytes.NewReader(storeFile(t, fx.Store, strings.TrimPrefix(s.ManifestList, "file://"+fx.Store+"/"))))
		if err != nil {
			t.Fatal(err)
		}
		if len(lst) != 1 {
			t.Fatalf("snapshot %d: %d manifests", i, len(lst))
		}
		entries, err := ice.ReadManifest(lst[0], bytes.NewReader(storeFile(t, fx.Store, strings.TrimPrefix(lst[0].FilePath(), "file://"+fx.Store+"/"))), false)
		if err != nil {
			t.Fatal(err)
		}
		wantEntries := 2
		if i == 0 {
			wantEntries = 1
		}
		if len(entries) != wantEntries {
			t.Fatalf("snapshot %d: %d entries, want %d", i, len(entries), wantEntries)
		}
		wantPath := "file://" + filepath.Join(fx.Store, p.Key(versions.Version{Table: name, DataSHA: w.DataSHA}))
		if e := entries[0]; e.Status() != ice.EntryStatusADDED || e.DataFile().FilePath() != wantPath || e.DataFile().Count() != rows[i] {
			t.Errorf("snapshot %d entry %v %s %d, want added %s %d", i, e.Status(), e.DataFile().FilePath(), e.DataFile().Count(), wantPath, rows[i])
		}
		if i > 0 && entries[1].Status() != ice.EntryStatusDELETED {
			t.Errorf("snapshot %d second entry %v, want deleted", i, entries[1].Status())
		}
	}
	if cur := md.CurrentSnapshot(); cur == nil || cur.SnapshotID != snaps[2].SnapshotID {
		t.Fatalf("current snapshot is not the newest version")
	}
	if md.CurrentSchema().ID != 1 {
		t.Fatalf("current schema %d, want 1", md.CurrentSchema().ID)
	}
	// Field ids by name: id and name keep theirs in the second schema.
	s0, s1 := md.Schemas()[0], md.Schemas()[1]
	for _, col := range []string{"id", "name"} {
		a, _ := s0.FindFieldByName(col)
		b, _ := s1.FindFieldByName(col)
		if a.ID != b.ID {
			t.Errorf("column %s: id %d then %d", col, a.ID, b.ID)
		}
	}
	if nm := md.Properties()[table.DefaultNameMappingKey]; !strings.Contains(nm, `"extra"`) || !strings.Contains(nm, `"id"`) {
		t.Errorf("name mapping %s lacks a column", nm)
	}

	// Again: nothing new to write, same bytes.
	res, err = SyncTable(ctx, p, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesWritten != 0 || res.FootersRead != 0 {
		t.Fatalf("second sync wrote %d files, read %d footers; want none", res.FilesWritten, res.FootersRead)
	}
	// From scratch: the same metadata, byte for byte.
	if err := os.RemoveAll(filepath.Join(fx.Store, "iceberg")); err != nil {
		t.Fatal(err)
	}
	res, err = SyncTable(ctx, p, name, Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("PEEK") != "" {
		t.Logf("%s", first)
	}
	if again := storeFile(t, fx.Store, metaKey); !bytes.Equal(again, first) {
		t.Fatalf("rebuild differs:\n%s\n%s", first, again)
	}
	if res.FootersRead != 3 {
		t.Fatalf("full rebuild read %d footers", res.FootersRead)
	}
}

func TestAfterWriteKeepsCurrent(t *testing.T) {
	ctx := context.Background()
	var opts versions.Options
	opts.AfterWrites = AfterWrites(Options{})
	fx := projecttest.New(t, projecttest.Options{Versions: opts})
	p := fx.Project
	in := t.TempDir()
	a, b := filepath.Join(in, "a.parquet"), filepath.Join(in, "b.parquet")
	writeParquet(t, a, 4, 0)
	writeParquet(t, b, 6, 0)
	first := write(t, p, "ae", a)
	if got := string(storeFile(t, fx.Store, "iceberg/ae/metadata/version-hint.text")); got != "1" {
		t.Fatalf("hint after the first write %q", got)
	}
	w := write(t, p, "ae", b)
	if got := string(storeFile(t, fx.Store, "iceberg/ae/metadata/version-hint.text")); got != "2" {
		t.Fatalf("hint after the second write %q", got)
	}
	// The same content again is no new version and changes nothing.
	write(t, p, "ae", b)
	infos, err := Locate(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || !infos[0].UpToDate || infos[0].CurrentVersion != w.Version.Short() || infos[0].Snapshots != 2 {
		t.Fatalf("locate: %+v", infos)
	}
	// Writing the first content back with its message makes the first
	// version current again, with no new history entry (contract 2.5):
	// main goes back to its snapshot.
	if back := write(t, p, "ae", a); back.Version != first.Version {
		t.Fatalf("writing a back gave version %s, not %s", back.Version.Short(), first.Version.Short())
	}
	infos, err = Locate(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || !infos[0].UpToDate || infos[0].CurrentVersion != first.Version.Short() || infos[0].Snapshots != 2 {
		t.Fatalf("locate after the revert: %+v", infos)
	}
	// The incremental metadata equals a rebuild from scratch.
	inc := storeFile(t, fx.Store, "iceberg/ae/metadata/v2.metadata.json")
	os.RemoveAll(filepath.Join(fx.Store, "iceberg"))
	name, _ := meta.ParseTableName("ae")
	if _, err := SyncTable(ctx, p, name, Options{Full: true}); err != nil {
		t.Fatal(err)
	}
	if full := storeFile(t, fx.Store, "iceberg/ae/metadata/v2.metadata.json"); !bytes.Equal(inc, full) {
		t.Fatalf("incremental and full metadata differ:\n%s\n%s", inc, full)
	}
	md, err := table.ParseMetadataBytes(inc)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := SnapshotID(first.Version.String())
	if cur := md.CurrentSnapshot(); cur == nil || cur.SnapshotID != want {
		t.Fatalf("main is not at the first version's snapshot %d", want)
	}
}

func TestSnapshotID(t *testing.T) {
	tests := []struct {
		id      string
		want    int64
		wantErr bool
	}{
		{"0000000000000001aa", 1, false},
		{"ffffffffffffffff00", 1<<63 - 1, false},
		{"8000000000000000", 1, false}, // the top bit is dropped; 0 becomes 1
		{"19f44e3a5b6c7d8e9f", 0x19f44e3a5b6c7d8e, false},
		{"19f44e3a", 0, true},
		{"zz", 0, true},
	}
	for _, tt := range tests {
		got, err := SnapshotID(tt.id)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("SnapshotID(%q) = %d, %v; want %d, err %v", tt.id, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFieldIDsByPath(t *testing.T) {
	f := newFieldIDs()
	s1 := ice.NewSchema(0,
		ice.NestedField{ID: 9, Name: "a", Type: ice.PrimitiveTypes.Int64},
		ice.NestedField{ID: 8, Name: "l", Type: &ice.ListType{ElementID: 7, Element: ice.PrimitiveTypes.String}},
	)
	s2 := ice.NewSchema(0,
		ice.NestedField{ID: 1, Name: "b", Type: ice.PrimitiveTypes.String},
		ice.NestedField{ID: 2, Name: "a", Type: ice.PrimitiveTypes.Int64},
		ice.NestedField{ID: 3, Name: "l", Type: &ice.ListType{ElementID: 4, Element: ice.PrimitiveTypes.String}},
	)
	o1, err := f.assign(s1, 0)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := f.assign(s2, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		schema *ice.Schema
		name   string
		want   int
	}{
		{o1, "a", 1}, {o1, "l", 2}, {o1, "l.element", 3},
		{o2, "a", 1}, {o2, "l", 2}, {o2, "l.element", 3}, {o2, "b", 4},
	}
	for _, tt := range tests {
		got, ok := tt.schema.FindFieldByName(tt.name)
		if !ok || got.ID != tt.want {
			t.Errorf("schema %d field %s: id %d (found %v), want %d", tt.schema.ID, tt.name, got.ID, ok, tt.want)
		}
	}
	if o2.ID != 1 {
		t.Errorf("schema id %d", o2.ID)
	}
	if n := len(f.nameMapping()); n != 3 {
		t.Errorf("name mapping has %d top-level fields, want 3", n)
	}
}

// TestLocateUnreadableMetadata: a table whose metadata file is damaged is
// reported (not up to date, with the reason); the others are still listed,
// and a sync repairs it.
func TestLocateUnreadableMetadata(t *testing.T) {
	ctx := context.Background()
	var opts versions.Options
	opts.AfterWrites = AfterWrites(Options{})
	fx := projecttest.New(t, projecttest.Options{Versions: opts})
	in := t.TempDir()
	a := filepath.Join(in, "a.parquet")
	writeParquet(t, a, 4, 0)
	write(t, fx.Project, "ae", a)
	write(t, fx.Project, "lb", a)
	bad := filepath.Join(fx.Store, "iceberg", "lb", "metadata", "v1.metadata.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	infos, err := Locate(ctx, fx.Project)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || !infos[0].UpToDate || infos[1].UpToDate || !strings.Contains(infos[1].Error, "v1.metadata.json") {
		t.Fatalf("locate: %+v", infos)
	}
	if _, err := Sync(ctx, fx.Project, Options{}); err != nil {
		t.Fatal(err)
	}
	if infos, err = Locate(ctx, fx.Project); err != nil || !infos[1].UpToDate || infos[1].Error != "" {
		t.Fatalf("after sync: %+v %v", infos, err)
	}
}

// TestAfterWriteFailureOnlyWarns: when the metadata cannot be written (here
// a file stands where the iceberg folder goes), the write still succeeds
// and the hook logs one warning that names the way out.
func TestAfterWriteFailureOnlyWarns(t *testing.T) {
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, nil))
	var opts versions.Options
	opts.AfterWrites = AfterWrites(Options{Logger: logger})
	fx := projecttest.New(t, projecttest.Options{Versions: opts})
	if err := os.WriteFile(filepath.Join(fx.Store, "iceberg"), []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(t.TempDir(), "a.parquet")
	writeParquet(t, a, 4, 0)
	res := write(t, fx.Project, "ae", a) // fails the test if the write fails
	if res.Change != versions.ChangeFull {
		t.Fatalf("write: %+v", res)
	}
	log := logBuf.String()
	if strings.Count(log, "level=WARN") != 1 || !strings.Contains(log, "datomfs iceberg sync") || !strings.Contains(log, "table=ae") {
		t.Fatalf("log: %s", log)
	}
	vs, err := fx.Project.Versions(context.Background(), res.Table)
	if err != nil || len(vs) != 1 || vs[0].ID != res.Version {
		t.Fatalf("versions after the write: %v %v", vs, err)
	}
}

// TestAfterWritesMatchesSyncTable: a sync's batch hook leaves each table's
// Iceberg metadata exactly as a full rebuild of that table writes it.
func TestAfterWritesMatchesSyncTable(t *testing.T) {
	ctx := context.Background()
	var opts versions.Options
	opts.AfterWrites = AfterWrites(Options{})
	fx := projecttest.New(t, projecttest.Options{Versions: opts})
	p := fx.Project
	in := t.TempDir()
	tables := []string{"ae", "dm", "lb"}
	for i, tbl := range tables {
		writeParquet(t, filepath.Join(in, tbl+".parquet"), 3+i, i)
	}
	res, err := p.Sync(ctx, in, nil)
	if err != nil || res.Count("new") != len(tables) {
		t.Fatalf("sync: %+v %v", res, err)
	}
	got := map[string][]byte{}
	for _, tbl := range tables {
		if h := string(storeFile(t, fx.Store, "iceberg/"+tbl+"/metadata/version-hint.text")); h != "1" {
			t.Fatalf("%s: hint %q", tbl, h)
		}
		got[tbl] = storeFile(t, fx.Store, "iceberg/"+tbl+"/metadata/v1.metadata.json")
	}
	os.RemoveAll(filepath.Join(fx.Store, "iceberg"))
	for _, tbl := range tables {
		name, _ := meta.ParseTableName(tbl)
		if _, err := SyncTable(ctx, p, name, Options{Full: true}); err != nil {
			t.Fatal(err)
		}
		if full := storeFile(t, fx.Store, "iceberg/"+tbl+"/metadata/v1.metadata.json"); !bytes.Equal(got[tbl], full) {
			t.Errorf("%s: the sync's metadata and a full rebuild differ:\n%s\n%s", tbl, got[tbl], full)
		}
	}
}
