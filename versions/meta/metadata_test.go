package meta

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/versions/datomjson"
	"github.com/datomfs/datomfs/versions/identity"
)

var (
	shaD = identity.DataSHA(strings.Repeat("d", 64))
	shaP = strings.Repeat("b", 64)
	sha0 = strings.Repeat("0", 64)
	sha1 = strings.Repeat("1", 64)
	sha2 = strings.Repeat("2", 64)
	sha3 = strings.Repeat("3", 64)
	t0   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMetadataSHAGolden(t *testing.T) {
	// Contract 9 (d).
	v := datomjson.Obj(
		datomjson.M("data_sha", datomjson.Str("abc123")),
		datomjson.M("name", datomjson.Str("mytable")),
		datomjson.M("nrow", datomjson.Int(100)),
		datomjson.M("ncol", datomjson.Int(5)),
		datomjson.M("table_type", datomjson.Str("imported")),
		datomjson.M("hash_algo", datomjson.Str("datom-cv1")),
	)
	got, err := MetadataSHA(v)
	if err != nil {
		t.Fatal(err)
	}
	if got != "59f1f1d936c5d65472733a924493ce2362255d442ebea6d41f7c3c9e7069d326" {
		t.Errorf("metadata_sha = %s", got)
	}
	if _, err := MetadataSHA(datomjson.List()); !errors.Is(err, datomjson.ErrNotObject) {
		t.Errorf("MetadataSHA(list) error = %v", err)
	}
}

// The testdata metadata files were written by R jsonlite (toJSON,
// auto_unbox, pretty) from the lists datom builds; the versions are SHA-256
// of jsonlite's canonical text of the same lists.
func TestMetadataBuildMatchesR(t *testing.T) {
	custom := datomjson.Obj(
		datomjson.M("cutoff", datomjson.Str("2026-01-01")),
		datomjson.M("pi", datomjson.Dbl(3.14159265)),
		datomjson.M("tags", datomjson.Strings("a", "b")),
		datomjson.M("flag", datomjson.Bool(true)),
		datomjson.M("n", datomjson.Null()),
		datomjson.M("nested", datomjson.Obj(datomjson.M("z", datomjson.Int(1)), datomjson.M("a", datomjson.List()))),
	)
	rawLineage, err := LineageEntryFromValue(datomjson.Obj(
		datomjson.M("project", datomjson.Str("STUDY1")),
		datomjson.M("table", datomjson.Str("raw_dm")),
		datomjson.M("version_sha", datomjson.Str(sha2)),
		datomjson.M("note", datomjson.Str("extra")),
	))
	if err != nil {
		t.Fatal(err)
	}
	selfLineage, err := NewLineageEntry("STUDY1", "ae", shaD)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file    string
		version string
		in      MetadataInput
	}{
		{"metadata_1col.json", "26b29f83a4f05c32bd82c54c791d86e890f1182f381bb852fe4c910b86c1089e", MetadataInput{
			DataSHA: shaD, ParquetSHA: identity.ParquetSHA(shaP), TableType: TableDerived, NRow: 3, NCol: 1,
			Colnames: []string{"x"}, ColumnHashes: []ColumnHash{{"x", strings.Repeat("c", 64)}},
			CreatedAt: t0, DatomVersion: "0.1.1", SizeBytes: 2048,
		}},
		{"metadata_derived_parents.json", "e01ba31a0fcaff84aef217bde7d43cfeff19e58d34ea091f7e571c747600769d", MetadataInput{
			DataSHA: shaD, ParquetSHA: identity.ParquetSHA(shaP), TableType: TableDerived, NRow: 1000000, NCol: 3,
			Colnames:     []string{"USUBJID", "AGE", "SEX"},
			ColumnHashes: []ColumnHash{{"USUBJID", sha1}, {"AGE", sha2}, {"SEX", sha3}},
			CreatedAt:    t0.In(time.FixedZone("CET", 3600)), DatomVersion: "0.1.1",
			Parents:       []Parent{{Source: "STUDY1", Table: "dm", Version: identity.MetadataSHA(sha1), DataSHA: identity.DataSHA(sha2)}},
			SourceLineage: UnionLineage([]LineageEntry{rawLineage}, []LineageEntry{rawLineage}),
			SizeBytes:     3000000000, Custom: &custom,
		}},
		{"metadata_imported.json", "5dfac899e9f8a1c70f442dea5e98e7613be7f30d9a93a1f542b1caa6ee646bee", MetadataInput{
			DataSHA: shaD, ParquetSHA: identity.ParquetSHA(shaP), TableType: TableImported, NRow: 2, NCol: 2,
			Colnames: []string{"a", "b"}, ColumnHashes: []ColumnHash{{"a", sha1}, {"b", sha2}},
			CreatedAt: t0, DatomVersion: "0.1.1", OriginalFileSHA: sha0,
			SourceLineage: []LineageEntry{selfLineage}, SizeBytes: 512,
		}},
	}
	for _, tt := range tests {
		want := readTestdata(t, tt.file)
		built, err := NewMetadata(tt.in)
		if err != nil {
			t.Fatalf("%s: NewMetadata: %v", tt.file, err)
		}
		if got := built.File(); !bytes.Equal(got, want) {
			t.Errorf("%s: built\n%s\nwant\n%s", tt.file, got, want)
		}
		if !bytes.Equal(built.JSON(), bytes.TrimSuffix(want, []byte("\n"))) {
			t.Errorf("%s: JSON() is not File() without the newline", tt.file)
		}
		if string(built.Version()) != tt.version {
			t.Errorf("%s: built version %s, want %s", tt.file, built.Version(), tt.version)
		}
		parsed, err := ParseMetadata(want)
		if err != nil {
			t.Fatalf("%s: parse: %v", tt.file, err)
		}
		if string(parsed.Version()) != tt.version {
			t.Errorf("%s: parsed version %s, want %s", tt.file, parsed.Version(), tt.version)
		}
		if got := parsed.File(); !bytes.Equal(got, want) {
			t.Errorf("%s: round trip\n%s\nwant\n%s", tt.file, got, want)
		}
		// Accessors agree with the input.
		if parsed.DataSHA() != tt.in.DataSHA || parsed.ParquetSHA() != tt.in.ParquetSHA ||
			parsed.TableType() != tt.in.TableType || parsed.NRow() != int64(tt.in.NRow) ||
			parsed.NCol() != int64(tt.in.NCol) || parsed.SizeBytes() != tt.in.SizeBytes ||
			!parsed.CreatedAt().Equal(tt.in.CreatedAt) || parsed.OriginalFileSHA() != tt.in.OriginalFileSHA ||
			parsed.DatomVersion() != "0.1.1" || parsed.HashAlgo() != HashAlgo {
			t.Errorf("%s: accessors disagree with input", tt.file)
		}
		if got := strings.Join(parsed.Colnames(), ","); got != strings.Join(tt.in.Colnames, ",") {
			t.Errorf("%s: colnames %s", tt.file, got)
		}
		hs := parsed.ColumnHashes()
		if len(hs) != len(tt.in.ColumnHashes) || hs[0] != tt.in.ColumnHashes[0] {
			t.Errorf("%s: column hashes %v", tt.file, hs)
		}
		if (parsed.Parents() == nil) != (tt.in.Parents == nil) || len(parsed.Parents()) != len(tt.in.Parents) {
			t.Errorf("%s: parents %v", tt.file, parsed.Parents())
		}
		if len(parsed.SourceLineage()) != len(tt.in.SourceLineage) {
			t.Errorf("%s: lineage %v", tt.file, parsed.SourceLineage())
		}
		if _, ok := parsed.Custom(); ok != (tt.in.Custom != nil) {
			t.Errorf("%s: custom presence %v", tt.file, ok)
		}
	}
}

func TestMetadataVersionIgnoresLayoutAndVolatile(t *testing.T) {
	want := readTestdata(t, "metadata_derived_parents.json")
	base, err := ParseMetadata(want)
	if err != nil {
		t.Fatal(err)
	}
	v := base.Value()
	// Multi-line colnames (an upstream repair rewrite) hash the same.
	relisted := v.With("colnames", datomjson.List(datomjson.Str("USUBJID"), datomjson.Str("AGE"), datomjson.Str("SEX")))
	reparsed, err := ParseMetadata(datomjson.Pretty(relisted))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(reparsed.JSON()), "\"colnames\": [\n    \"USUBJID\",") {
		t.Fatalf("expected a multi-line colnames layout:\n%s", reparsed.JSON())
	}
	if reparsed.Version() != base.Version() {
		t.Errorf("multi-line layout changed the version")
	}
	// Volatile keys do not matter; semantic ones do.
	changed := []struct {
		name string
		doc  datomjson.Value
		same bool
	}{
		{"created_at", v.With("created_at", datomjson.Str("2030-01-01T00:00:00Z")), true},
		{"size_bytes", v.With("size_bytes", datomjson.Dbl(1)), true},
		{"parquet_sha removed", v.Without("parquet_sha"), true},
		{"column_hashes", v.Without("column_hashes"), true},
		{"datom_version", v.With("datom_version", datomjson.Str("9")), true},
		{"nrow 1000000.0", v.With("nrow", datomjson.Dbl(1000000)), true},
		{"nrow", v.With("nrow", datomjson.Int(2)), false},
		{"unknown key", v.With("zzz", datomjson.Str("x")), false},
		{"hash_algo", v.Without("hash_algo"), false},
		{"nested order", v.With("custom", datomjson.Obj(datomjson.M("b", datomjson.Int(1)), datomjson.M("a", datomjson.Int(1)))), false},
	}
	for _, c := range changed {
		m, err := MetadataFromValue(c.doc)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if (m.Version() == base.Version()) != c.same {
			t.Errorf("%s: same version = %v, want %v", c.name, !c.same, c.same)
		}
	}
}

func TestMetadataColnamesQuirk(t *testing.T) {
	one, err := ParseMetadata([]byte(`{"data_sha":"abcdef","colnames":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	list, err := ParseMetadata([]byte(`{"data_sha":"abcdef","colnames":["x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if one.Version() == list.Version() {
		t.Errorf(`"colnames": "x" and ["x"] must hash differently`)
	}
	if got := strings.Join(one.Colnames(), ","); got != "x" {
		t.Errorf("colnames bare = %q", got)
	}
	if got := strings.Join(list.Colnames(), ","); got != "x" {
		t.Errorf("colnames list = %q", got)
	}
}

func TestMetadataNullHashesAsEmptyObject(t *testing.T) {
	withNull, err := ParseMetadata([]byte(`{"data_sha":"abcdef","custom":{"a":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	withObj, err := ParseMetadata([]byte(`{"data_sha":"abcdef","custom":{"a":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if withNull.Version() != withObj.Version() {
		t.Errorf("null and {} hash differently")
	}
	if !strings.Contains(string(withNull.JSON()), `"a": {}`) {
		t.Errorf("null not rewritten as {}: %s", withNull.JSON())
	}
}

func TestWithParquetSHA(t *testing.T) {
	m, err := ParseMetadata(readTestdata(t, "metadata_1col.json"))
	if err != nil {
		t.Fatal(err)
	}
	removed := m.WithParquetSHA("")
	if removed.ParquetSHA() != "" || strings.Contains(string(removed.JSON()), "parquet_sha") {
		t.Errorf("parquet_sha not removed:\n%s", removed.JSON())
	}
	if removed.Version() != m.Version() {
		t.Errorf("version changed on removal")
	}
	again := removed.WithParquetSHA(identity.ParquetSHA(shaP))
	if !bytes.Equal(again.File(), m.File()) {
		t.Errorf("re-adding parquet_sha:\n%s\nwant\n%s", again.File(), m.File())
	}
	other := m.WithParquetSHA(identity.ParquetSHA(sha1))
	if other.ParquetSHA() != identity.ParquetSHA(sha1) || m.ParquetSHA() != identity.ParquetSHA(shaP) {
		t.Errorf("WithParquetSHA changed the original or did not set the copy")
	}
	noneEver, _ := ParseMetadata([]byte(`{"data_sha":"abcdef","table_type":"derived"}`))
	if got := string(noneEver.WithParquetSHA(identity.ParquetSHA(sha1)).Value().Keys()[1]); got != "parquet_sha" {
		t.Errorf("parquet_sha inserted at %v", noneEver.WithParquetSHA(identity.ParquetSHA(sha1)).Value().Keys())
	}
}

func TestNewMetadataValidation(t *testing.T) {
	good := MetadataInput{
		DataSHA: shaD, TableType: TableDerived, NRow: 1, NCol: 1, Colnames: []string{"x"},
		ColumnHashes: []ColumnHash{{"x", sha1}}, CreatedAt: t0, DatomVersion: "0.1.1",
	}
	m, err := NewMetadata(good)
	if err != nil {
		t.Fatalf("good input: %v", err)
	}
	if strings.Contains(string(m.JSON()), "parquet_sha") || strings.Contains(string(m.JSON()), "null") {
		t.Errorf("absent parquet_sha must be omitted:\n%s", m.JSON())
	}
	bad := []struct {
		name string
		mod  func(*MetadataInput)
	}{
		{"short data_sha", func(in *MetadataInput) { in.DataSHA = "abc" }},
		{"bad parquet_sha", func(in *MetadataInput) { in.ParquetSHA = "xyz" }},
		{"table type", func(in *MetadataInput) { in.TableType = "raw" }},
		{"colnames count", func(in *MetadataInput) { in.Colnames = []string{"x", "y"} }},
		{"hash count", func(in *MetadataInput) { in.ColumnHashes = nil }},
		{"negative nrow", func(in *MetadataInput) { in.NRow = -1 }},
		{"huge nrow", func(in *MetadataInput) { in.NRow = 1 << 40 }},
		{"no created_at", func(in *MetadataInput) { in.CreatedAt = time.Time{} }},
		{"no version", func(in *MetadataInput) { in.DatomVersion = "" }},
		{"bad original sha", func(in *MetadataInput) { in.OriginalFileSHA = "1" }},
		{"empty parent", func(in *MetadataInput) { in.Parents = []Parent{{}} }},
		{"zero lineage", func(in *MetadataInput) { in.SourceLineage = []LineageEntry{{}} }},
		{"negative size", func(in *MetadataInput) { in.SizeBytes = -1 }},
		{"custom not object", func(in *MetadataInput) { c := datomjson.List(); in.Custom = &c }},
	}
	for _, b := range bad {
		in := good
		b.mod(&in)
		if _, err := NewMetadata(in); !errors.Is(err, ErrInvalidMetadata) {
			t.Errorf("%s: error = %v, want ErrInvalidMetadata", b.name, err)
		}
	}
	emptyParents := good
	emptyParents.Parents = []Parent{}
	emptyParents.SourceLineage = UnionLineage()
	m, err = NewMetadata(emptyParents)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.JSON()), "\"parents\": [],\n  \"source_lineage\": [],") {
		t.Errorf("empty parents/lineage must be written as []:\n%s", m.JSON())
	}
}

func TestParseMetadataErrors(t *testing.T) {
	for _, in := range []string{`[]`, `{}`, `{"data_sha":5}`, `{"data_sha":"ABCDEF"}`, `{"data_sha":"abc"}`, `{`} {
		if _, err := ParseMetadata([]byte(in)); err == nil {
			t.Errorf("ParseMetadata(%s) succeeded", in)
		}
	}
	if _, err := ParseMetadata([]byte(`{"data_sha":"abc`)); !errors.Is(err, datomjson.ErrSyntax) {
		t.Errorf("syntax error not wrapped: %v", err)
	}
	if _, err := ParseMetadata([]byte(`{}`)); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("missing data_sha: not ErrInvalidMetadata")
	}
}

func TestLineage(t *testing.T) {
	a, _ := NewLineageEntry("P", "t", shaD)
	b, _ := NewLineageEntry("P", "u", shaD)
	withExtra, err := LineageEntryFromValue(datomjson.Obj(
		datomjson.M("table", datomjson.Str("t")),
		datomjson.M("project", datomjson.Str("P")),
		datomjson.M("version_sha", datomjson.Str(string(shaD))),
		datomjson.M("x", datomjson.Int(1)),
	))
	if err != nil {
		t.Fatal(err)
	}
	u := UnionLineage([]LineageEntry{a, b}, []LineageEntry{withExtra, b})
	if len(u) != 2 || u[0].Table() != "t" || u[1].Table() != "u" || u[0].Value().Len() != 3 {
		t.Errorf("union = %v", u)
	}
	if _, err := NewLineageEntry("", "t", shaD); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("empty project accepted: %v", err)
	}
}
