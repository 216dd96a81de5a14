package meta

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/datomfs/datomfs/versions/datomjson"
	"github.com/datomfs/datomfs/versions/identity"
)

// ErrInvalidManifest reports a manifest.json that breaks contract 2.3.
var ErrInvalidManifest = errors.New("invalid manifest")

// ManifestEntry is one table's line in manifest.json.
type ManifestEntry struct {
	CurrentVersion  identity.MetadataSHA
	CurrentDataSHA  identity.DataSHA
	LastUpdated     time.Time // zero if the stored text is malformed
	SizeBytes       int64
	VersionCount    int
	OriginalFileSHA string // imported tables only
	OriginalFormat  string // imported tables only: source extension as written
}

// ManifestTable is a table name with its entry.
type ManifestTable struct {
	Name TableName
	ManifestEntry
}

func (e ManifestEntry) value() datomjson.Value {
	ms := []datomjson.Member{
		datomjson.M("current_version", datomjson.Str(string(e.CurrentVersion))),
		datomjson.M("current_data_sha", datomjson.Str(string(e.CurrentDataSHA))),
		datomjson.M("last_updated", datomjson.Str(FormatTimestamp(e.LastUpdated))),
		datomjson.M("size_bytes", datomjson.Dbl(float64(e.SizeBytes))),
		datomjson.M("version_count", datomjson.Int(clampInt32(e.VersionCount))),
	}
	if e.OriginalFileSHA != "" {
		ms = append(ms, datomjson.M("original_file_sha", datomjson.Str(e.OriginalFileSHA)))
	}
	if e.OriginalFormat != "" {
		ms = append(ms, datomjson.M("original_format", datomjson.Str(e.OriginalFormat)))
	}
	return datomjson.Obj(ms...)
}

func clampInt32(n int) int32 {
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	if n < -math.MaxInt32 {
		return -math.MaxInt32
	}
	return int32(n)
}

func numberOf(v datomjson.Value, key string) float64 {
	x, _ := v.Get(key)
	f, ok := x.AsFloat()
	if !ok || f != f {
		return 0
	}
	return f
}

func manifestEntryFromValue(v datomjson.Value) ManifestEntry {
	e := ManifestEntry{
		CurrentVersion:  identity.MetadataSHA(str(v, "current_version")),
		CurrentDataSHA:  identity.DataSHA(str(v, "current_data_sha")),
		SizeBytes:       int64(numberOf(v, "size_bytes")),
		VersionCount:    int(numberOf(v, "version_count")),
		OriginalFileSHA: str(v, "original_file_sha"),
		OriginalFormat:  str(v, "original_format"),
	}
	if t, err := ParseTimestamp(str(v, "last_updated")); err == nil {
		e.LastUpdated = t
	}
	return e
}

type manifestItem struct {
	table ManifestTable
	raw   datomjson.Value
}

// Manifest is .datom/manifest.json: the project catalogue, tables in file
// order. Parsed content (unknown keys included) is written back as read,
// except what WithTable replaces.
type Manifest struct {
	doc   datomjson.Value // top-level object; its "tables" member is rebuilt from items
	items []manifestItem
}

// NewManifest is the manifest written at init, with updated_at in UTC
// (upstream writes local time with a Z; contract 10.2.1 lets us fix that).
func NewManifest(project ProjectName, now time.Time) Manifest {
	return Manifest{doc: datomjson.Obj(
		datomjson.M("project_name", datomjson.Str(project.String())),
		datomjson.M("updated_at", datomjson.Str(FormatTimestamp(now))),
		datomjson.M("tables", datomjson.Obj()),
		datomjson.M("summary", summaryValue(nil)),
	)}
}

// ParseManifest reads a manifest.json.
func ParseManifest(data []byte) (Manifest, error) {
	v, err := datomjson.Parse(data)
	if err != nil {
		return Manifest{}, fmt.Errorf("parse manifest: %w", err)
	}
	if v.Kind() != datomjson.KindObject {
		return Manifest{}, fmt.Errorf("parse manifest: %w: not a JSON object", ErrInvalidManifest)
	}
	tables, ok := v.Get("tables")
	if !ok {
		tables = datomjson.Obj()
	}
	// An empty "tables" read back by R is an empty list and may be written
	// as [] by a repair path; accept it.
	if tables.Kind() == datomjson.KindList && tables.Len() == 0 {
		tables = datomjson.Obj()
	}
	if tables.Kind() != datomjson.KindObject {
		return Manifest{}, fmt.Errorf("parse manifest: %w: tables is not an object", ErrInvalidManifest)
	}
	var items []manifestItem
	for _, m := range tables.Members() {
		name, err := ParseTableName(m.Key)
		if err != nil {
			return Manifest{}, fmt.Errorf("parse manifest: %w", err)
		}
		if m.Value.Kind() != datomjson.KindObject {
			return Manifest{}, fmt.Errorf("parse manifest: %w: table %q is not an object", ErrInvalidManifest, m.Key)
		}
		items = append(items, manifestItem{
			table: ManifestTable{Name: name, ManifestEntry: manifestEntryFromValue(m.Value)},
			raw:   m.Value,
		})
	}
	return Manifest{doc: v, items: items}, nil
}

// ProjectName is project_name as written.
func (m Manifest) ProjectName() string { return str(m.doc, "project_name") }

// UpdatedAt is updated_at (zero if malformed).
func (m Manifest) UpdatedAt() time.Time {
	t, err := ParseTimestamp(str(m.doc, "updated_at"))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Tables returns the tables in file order.
func (m Manifest) Tables() []ManifestTable {
	out := make([]ManifestTable, len(m.items))
	for i, it := range m.items {
		out[i] = it.table
	}
	return out
}

// Table returns the entry of one table.
func (m Manifest) Table(name TableName) (ManifestEntry, bool) {
	for _, it := range m.items {
		if it.table.Name == name {
			return it.table.ManifestEntry, true
		}
	}
	return ManifestEntry{}, false
}

// WithTable returns the manifest after a write of table name (contract
// 2.3): the table's entry is replaced in place (not merged) or appended,
// updated_at is set to now in UTC and summary is recomputed.
func (m Manifest) WithTable(name TableName, e ManifestEntry, now time.Time) Manifest {
	return m.WithTables([]ManifestTable{{Name: name, ManifestEntry: e}}, now)
}

// WithTables is WithTable for each of tables in turn (a sync's batch),
// in one pass over the manifest instead of one per table.
func (m Manifest) WithTables(tables []ManifestTable, now time.Time) Manifest {
	items := make([]manifestItem, len(m.items), len(m.items)+len(tables))
	copy(items, m.items)
	at := make(map[TableName][]int, len(items)+len(tables))
	for i, it := range items {
		at[it.table.Name] = append(at[it.table.Name], i)
	}
	for _, t := range tables {
		it := manifestItem{table: t, raw: t.ManifestEntry.value()}
		// Keep what was decoded consistent with what is written.
		it.table.ManifestEntry = manifestEntryFromValue(it.raw)
		if idx, ok := at[t.Name]; ok {
			for _, i := range idx {
				items[i] = it
			}
			continue
		}
		at[t.Name] = []int{len(items)}
		items = append(items, it)
	}
	doc := m.doc
	if doc.Kind() != datomjson.KindObject {
		doc = datomjson.Obj()
	}
	doc = doc.With("updated_at", datomjson.Str(FormatTimestamp(now)))
	doc = doc.With("summary", summaryValue(items))
	return Manifest{doc: doc, items: items}
}

func summaryValue(items []manifestItem) datomjson.Value {
	var size float64
	versions := 0
	for _, it := range items {
		size += numberOf(it.raw, "size_bytes")
		versions += int(numberOf(it.raw, "version_count"))
	}
	return datomjson.Obj(
		datomjson.M("total_tables", datomjson.Int(clampInt32(len(items)))),
		datomjson.M("total_size_bytes", datomjson.Dbl(size)),
		datomjson.M("total_versions", datomjson.Int(clampInt32(versions))),
	)
}

// Value is the manifest as a JSON object.
func (m Manifest) Value() datomjson.Value {
	ms := make([]datomjson.Member, len(m.items))
	for i, it := range m.items {
		ms[i] = datomjson.M(it.table.Name.String(), it.raw)
	}
	doc := m.doc
	if doc.Kind() != datomjson.KindObject {
		doc = datomjson.Obj()
	}
	return doc.With("tables", datomjson.Obj(ms...))
}

// JSON is the pretty document without a trailing newline (S3 form).
func (m Manifest) JSON() []byte { return datomjson.Pretty(m.Value()) }

// File is the pretty document plus "\n" (git and local-store form).
func (m Manifest) File() []byte { return append(m.JSON(), '\n') }
