package meta

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/datomfs/datomfs/versions/datomjson"
	"github.com/datomfs/datomfs/versions/identity"
)

// ErrInvalidMetadata reports a metadata document or input that breaks
// contract 2.4.
var ErrInvalidMetadata = errors.New("invalid metadata")

// HashAlgo is the value of metadata.json's hash_algo.
const HashAlgo = "datom-cv1"

// Table types (metadata.json table_type).
const (
	TableDerived  = "derived"
	TableImported = "imported"
)

// MetadataSHA computes a version id: SHA-256 of the canonical metadata
// text (contract 4.3). v is a metadata object, built or parsed.
func MetadataSHA(v datomjson.Value) (identity.MetadataSHA, error) {
	canon, err := datomjson.CanonicalMetadata(v)
	if err != nil {
		return "", fmt.Errorf("metadata_sha: %w", err)
	}
	sum := sha256.Sum256(canon)
	return identity.MetadataSHA(hex.EncodeToString(sum[:])), nil
}

// ColumnHash is one entry of column_hashes.
type ColumnHash struct {
	Name string
	SHA  string
}

// Parent is one entry of parents (contract 7.4).
type Parent struct {
	Source  string // the parent's project name
	Table   string
	Version identity.MetadataSHA
	DataSHA identity.DataSHA
}

func (p Parent) value() datomjson.Value {
	return datomjson.Obj(
		datomjson.M("source", datomjson.Str(p.Source)),
		datomjson.M("table", datomjson.Str(p.Table)),
		datomjson.M("version", datomjson.Str(string(p.Version))),
		datomjson.M("data_sha", datomjson.Str(string(p.DataSHA))),
	)
}

// LineageEntry is one source_lineage entry: an object with at least
// project, table and version_sha (a data_sha). Extra keys and the member
// order of a parsed entry are kept, as they enter metadata_sha.
type LineageEntry struct{ v datomjson.Value }

// NewLineageEntry builds the entry datom writes for an imported table
// (member order project, table, version_sha).
func NewLineageEntry(project, table string, versionSHA identity.DataSHA) (LineageEntry, error) {
	return LineageEntryFromValue(datomjson.Obj(
		datomjson.M("project", datomjson.Str(project)),
		datomjson.M("table", datomjson.Str(table)),
		datomjson.M("version_sha", datomjson.Str(string(versionSHA))),
	))
}

// LineageEntryFromValue validates a parsed source_lineage entry.
func LineageEntryFromValue(v datomjson.Value) (LineageEntry, error) {
	if v.Kind() != datomjson.KindObject {
		return LineageEntry{}, fmt.Errorf("source_lineage entry %s: %w: not an object", v, ErrInvalidMetadata)
	}
	for _, k := range []string{"project", "table", "version_sha"} {
		if s := str(v, k); s == "" {
			return LineageEntry{}, fmt.Errorf("source_lineage entry %s: %w: %s must be a non-empty string", v, ErrInvalidMetadata, k)
		}
	}
	return LineageEntry{v}, nil
}

// Project is the entry's project name.
func (e LineageEntry) Project() string { return str(e.v, "project") }

// Table is the entry's table name.
func (e LineageEntry) Table() string { return str(e.v, "table") }

// VersionSHA is the entry's version_sha (a data_sha).
func (e LineageEntry) VersionSHA() string { return str(e.v, "version_sha") }

// Value is the entry as a JSON object.
func (e LineageEntry) Value() datomjson.Value { return e.v }

// UnionLineage is the source_lineage of a derived table with parents
// (contract 7.4): the parents' lists concatenated in order, de-duplicated on
// (project, table, version_sha) keeping the first occurrence. The result is
// never nil, so an empty union is written as [].
func UnionLineage(lists ...[]LineageEntry) []LineageEntry {
	type key struct{ p, t, v string }
	seen := map[key]bool{}
	out := []LineageEntry{}
	for _, l := range lists {
		for _, e := range l {
			k := key{e.Project(), e.Table(), e.VersionSHA()}
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// MetadataInput holds what a write knows about a new version.
type MetadataInput struct {
	DataSHA         identity.DataSHA
	ParquetSHA      identity.ParquetSHA // "" omits the key
	TableType       string              // TableDerived or TableImported
	NRow, NCol      int
	Colnames        []string
	ColumnHashes    []ColumnHash
	CreatedAt       time.Time
	DatomVersion    string
	OriginalFileSHA string // imported tables only; "" omits the key
	// Parents: nil omits the key; a non-nil empty slice writes "parents": [].
	Parents []Parent
	// SourceLineage: nil omits the key; non-nil empty writes [].
	SourceLineage []LineageEntry
	SizeBytes     int64
	Custom        *datomjson.Value // must be an object when set
}

// Metadata is one version's metadata.json. It wraps the ordered JSON
// object, so unknown keys and custom content survive a parse/serialize
// cycle; its version id is computed once at construction.
type Metadata struct {
	doc     datomjson.Value
	version identity.MetadataSHA
}

func isSHA256(s string) bool {
	_, err := identity.ParseMetadataSHA(s)
	return err == nil
}

// NewMetadata validates in and builds the document with the keys in
// exactly the order of contract 2.4 (a one-column table stores colnames as
// a bare string; absent optional keys are omitted, never null).
func NewMetadata(in MetadataInput) (Metadata, error) {
	bad := func(format string, args ...any) (Metadata, error) {
		return Metadata{}, fmt.Errorf("build metadata: %w: %s", ErrInvalidMetadata, fmt.Sprintf(format, args...))
	}
	if _, err := identity.ParseDataSHA(string(in.DataSHA)); err != nil {
		return bad("%v", err)
	}
	if _, err := identity.ParseParquetSHA(string(in.ParquetSHA)); err != nil {
		return bad("parquet_sha %q is not a 64-hex sha", in.ParquetSHA)
	}
	if in.TableType != TableDerived && in.TableType != TableImported {
		return bad("table_type %q (want %q or %q)", in.TableType, TableDerived, TableImported)
	}
	if in.NRow < 0 || in.NRow > math.MaxInt32 || in.NCol < 0 || in.NCol > math.MaxInt32 {
		return bad("nrow %d / ncol %d out of range", in.NRow, in.NCol)
	}
	if len(in.Colnames) != in.NCol {
		return bad("%d colnames for ncol %d", len(in.Colnames), in.NCol)
	}
	if len(in.ColumnHashes) != in.NCol {
		return bad("%d column_hashes for ncol %d", len(in.ColumnHashes), in.NCol)
	}
	if in.CreatedAt.IsZero() {
		return bad("created_at is not set")
	}
	if in.DatomVersion == "" {
		return bad("datom_version is empty")
	}
	if in.OriginalFileSHA != "" && !isSHA256(in.OriginalFileSHA) {
		return bad("original_file_sha %q is not a 64-hex sha", in.OriginalFileSHA)
	}
	for i, p := range in.Parents {
		if p.Source == "" || p.Table == "" || p.Version == "" || p.DataSHA == "" {
			return bad("parent %d: source, table, version and data_sha must be non-empty", i+1)
		}
	}
	for i, e := range in.SourceLineage {
		if e.v.Kind() != datomjson.KindObject {
			return bad("source_lineage entry %d is empty", i+1)
		}
	}
	if in.SizeBytes < 0 {
		return bad("size_bytes %d is negative", in.SizeBytes)
	}
	if in.Custom != nil && in.Custom.Kind() != datomjson.KindObject {
		return bad("custom must be an object, got %s", in.Custom.Kind())
	}

	m := []datomjson.Member{
		datomjson.M("data_sha", datomjson.Str(string(in.DataSHA))),
		datomjson.M("hash_algo", datomjson.Str(HashAlgo)),
	}
	if !in.ParquetSHA.IsZero() {
		m = append(m, datomjson.M("parquet_sha", datomjson.Str(in.ParquetSHA.String())))
	}
	hashes := make([]datomjson.Value, len(in.ColumnHashes))
	for i, h := range in.ColumnHashes {
		hashes[i] = datomjson.Obj(datomjson.M("name", datomjson.Str(h.Name)), datomjson.M("sha", datomjson.Str(h.SHA)))
	}
	m = append(m,
		datomjson.M("table_type", datomjson.Str(in.TableType)),
		datomjson.M("nrow", datomjson.Int(int32(in.NRow))),
		datomjson.M("ncol", datomjson.Int(int32(in.NCol))),
		datomjson.M("colnames", datomjson.Strings(in.Colnames...)),
		datomjson.M("column_hashes", datomjson.List(hashes...)),
		datomjson.M("created_at", datomjson.Str(FormatTimestamp(in.CreatedAt))),
		datomjson.M("datom_version", datomjson.Str(in.DatomVersion)),
	)
	if in.OriginalFileSHA != "" {
		m = append(m, datomjson.M("original_file_sha", datomjson.Str(in.OriginalFileSHA)))
	}
	if in.Parents != nil {
		ps := make([]datomjson.Value, len(in.Parents))
		for i, p := range in.Parents {
			ps[i] = p.value()
		}
		m = append(m, datomjson.M("parents", datomjson.List(ps...)))
	}
	if in.SourceLineage != nil {
		ls := make([]datomjson.Value, len(in.SourceLineage))
		for i, e := range in.SourceLineage {
			ls[i] = e.v
		}
		m = append(m, datomjson.M("source_lineage", datomjson.List(ls...)))
	}
	m = append(m, datomjson.M("size_bytes", datomjson.Dbl(float64(in.SizeBytes))))
	if in.Custom != nil {
		m = append(m, datomjson.M("custom", *in.Custom))
	}
	return metadataFrom(datomjson.Obj(m...))
}

// ParseMetadata reads a metadata.json (either array layout, with or
// without trailing newline). It must be an object whose data_sha is a
// 6–64 lowercase hex string.
func ParseMetadata(data []byte) (Metadata, error) {
	v, err := datomjson.Parse(data)
	if err != nil {
		return Metadata{}, fmt.Errorf("parse metadata: %w", err)
	}
	m, err := MetadataFromValue(v)
	if err != nil {
		return Metadata{}, fmt.Errorf("parse metadata: %w", err)
	}
	return m, nil
}

// MetadataFromValue validates an already parsed metadata object.
func MetadataFromValue(v datomjson.Value) (Metadata, error) {
	if v.Kind() != datomjson.KindObject {
		return Metadata{}, fmt.Errorf("%w: not a JSON object", ErrInvalidMetadata)
	}
	d, ok := v.Get("data_sha")
	s, isStr := d.AsString()
	if !ok || !isStr || !identity.ValidKeySHA(s) {
		return Metadata{}, fmt.Errorf("%w: data_sha %s is not 6-64 lowercase hex", ErrInvalidMetadata, d)
	}
	return metadataFrom(v)
}

func metadataFrom(v datomjson.Value) (Metadata, error) {
	ver, err := MetadataSHA(v)
	if err != nil {
		return Metadata{}, err
	}
	return Metadata{doc: v, version: ver}, nil
}

func str(v datomjson.Value, key string) string {
	x, _ := v.Get(key)
	s, _ := x.AsString()
	return s
}

// Value is the whole document as an ordered JSON object.
func (m Metadata) Value() datomjson.Value { return m.doc }

// Version is the version id (metadata_sha) of this document.
func (m Metadata) Version() identity.MetadataSHA { return m.version }

// DataSHA is the content hash, also the parquet object's address.
func (m Metadata) DataSHA() identity.DataSHA { return identity.DataSHA(str(m.doc, "data_sha")) }

// HashAlgo is hash_algo ("" in pre-cv1 metadata).
func (m Metadata) HashAlgo() string { return str(m.doc, "hash_algo") }

// ParquetSHA is the SHA-256 of the stored parquet object, as written; ""
// (absent, empty or not a string) means no integrity check.
func (m Metadata) ParquetSHA() identity.ParquetSHA {
	return identity.ParquetSHA(str(m.doc, "parquet_sha"))
}

// TableType is "derived" or "imported".
func (m Metadata) TableType() string { return str(m.doc, "table_type") }

func (m Metadata) intKey(key string) int64 {
	x, _ := m.doc.Get(key)
	if n, ok := x.AsInt(); ok {
		return n
	}
	if f, ok := x.AsFloat(); ok && f == f && math.Abs(f) < 9e18 {
		return int64(f)
	}
	return 0
}

// NRow is the row count (0 if absent).
func (m Metadata) NRow() int64 { return m.intKey("nrow") }

// NCol is the column count (0 if absent).
func (m Metadata) NCol() int64 { return m.intKey("ncol") }

// SizeBytes is size_bytes (0 if absent).
func (m Metadata) SizeBytes() int64 { return m.intKey("size_bytes") }

// Colnames returns the column names; a bare string is one column.
func (m Metadata) Colnames() []string {
	x, ok := m.doc.Get("colnames")
	if !ok {
		return nil
	}
	if s, ok := x.AsString(); ok {
		return []string{s}
	}
	var out []string
	for _, it := range x.Items() {
		s, _ := it.AsString()
		out = append(out, s)
	}
	return out
}

// ColumnHashes returns column_hashes (nil in pre-cv1 metadata).
func (m Metadata) ColumnHashes() []ColumnHash {
	x, _ := m.doc.Get("column_hashes")
	var out []ColumnHash
	for _, it := range x.Items() {
		out = append(out, ColumnHash{Name: str(it, "name"), SHA: str(it, "sha")})
	}
	return out
}

// CreatedAt is created_at (zero if absent or malformed).
func (m Metadata) CreatedAt() time.Time {
	t, err := ParseTimestamp(str(m.doc, "created_at"))
	if err != nil {
		return time.Time{}
	}
	return t
}

// CreatedAtText is created_at as written.
func (m Metadata) CreatedAtText() string { return str(m.doc, "created_at") }

// DatomVersion is the writer's version.
func (m Metadata) DatomVersion() string { return str(m.doc, "datom_version") }

// OriginalFileSHA is the SHA-256 of the imported source file ("" if none).
func (m Metadata) OriginalFileSHA() string { return str(m.doc, "original_file_sha") }

// Parents returns the declared parents (nil when the key is absent).
func (m Metadata) Parents() []Parent {
	x, ok := m.doc.Get("parents")
	if !ok {
		return nil
	}
	out := []Parent{}
	for _, it := range x.Items() {
		out = append(out, Parent{
			Source:  str(it, "source"),
			Table:   str(it, "table"),
			Version: identity.MetadataSHA(str(it, "version")),
			DataSHA: identity.DataSHA(str(it, "data_sha")),
		})
	}
	return out
}

// SourceLineage returns source_lineage (nil when absent); malformed
// entries are skipped.
func (m Metadata) SourceLineage() []LineageEntry {
	x, ok := m.doc.Get("source_lineage")
	if !ok {
		return nil
	}
	out := []LineageEntry{}
	for _, it := range x.Items() {
		if e, err := LineageEntryFromValue(it); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// Custom returns the caller's custom metadata, if any.
func (m Metadata) Custom() (datomjson.Value, bool) { return m.doc.Get("custom") }

// JSON is the pretty document without a trailing newline (the S3 object
// form).
func (m Metadata) JSON() []byte { return datomjson.Pretty(m.doc) }

// File is the pretty document plus "\n" (git and local-store form).
func (m Metadata) File() []byte { return append(m.JSON(), '\n') }

// WithParquetSHA returns a copy with parquet_sha set to sha, or with the
// key removed when sha is "" (the metadata-only carry-forward of 6.1). A
// new key goes to its 2.4 position, after hash_algo. The version does not
// change: parquet_sha is volatile.
func (m Metadata) WithParquetSHA(sha identity.ParquetSHA) Metadata {
	if sha.IsZero() {
		return Metadata{doc: m.doc.Without("parquet_sha"), version: m.version}
	}
	val := datomjson.Str(sha.String())
	if m.doc.Has("parquet_sha") {
		return Metadata{doc: m.doc.With("parquet_sha", val), version: m.version}
	}
	ms := m.doc.Members()
	at := 0
	for i, x := range ms {
		if x.Key == "hash_algo" || (x.Key == "data_sha" && at == 0) {
			at = i + 1
		}
	}
	out := make([]datomjson.Member, 0, len(ms)+1)
	out = append(out, ms[:at]...)
	out = append(out, datomjson.M("parquet_sha", val))
	out = append(out, ms[at:]...)
	return Metadata{doc: datomjson.Obj(out...), version: m.version}
}
