package meta

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/versions/identity"
)

func mustTable(t *testing.T, s string) TableName {
	t.Helper()
	n, err := ParseTableName(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestManifestInit(t *testing.T) {
	p, _ := ParseProjectName("STUDY1")
	m := NewManifest(p, t0.In(time.FixedZone("X", -5*3600)))
	want := readTestdata(t, "manifest_init.json")
	if got := m.File(); !bytes.Equal(got, want) {
		t.Errorf("init manifest:\n%s\nwant\n%s", got, want)
	}
	parsed, err := ParseManifest(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(parsed.File(), want) || len(parsed.Tables()) != 0 || parsed.ProjectName() != "STUDY1" || !parsed.UpdatedAt().Equal(t0) {
		t.Errorf("parsed init manifest wrong")
	}
}

func TestManifestWithTable(t *testing.T) {
	p, _ := ParseProjectName("STUDY1")
	dm := ManifestEntry{
		CurrentVersion: identity.MetadataSHA(sha1), CurrentDataSHA: identity.DataSHA(sha0),
		LastUpdated: t0, SizeBytes: 3000000000, VersionCount: 1, OriginalFileSHA: sha0, OriginalFormat: "CSV",
	}
	lb := ManifestEntry{
		CurrentVersion: identity.MetadataSHA(strings.Repeat("a", 64)), CurrentDataSHA: shaD,
		LastUpdated: time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC), SizeBytes: 1, VersionCount: 2,
	}
	m := NewManifest(p, t0).
		WithTable(mustTable(t, "dm"), dm, t0).
		WithTable(mustTable(t, "lb"), lb, t0)
	// A later write of lb replaces its entry in place.
	lb.SizeBytes, lb.VersionCount = 2048, 3
	m = m.WithTable(mustTable(t, "lb"), lb, time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC))
	want := readTestdata(t, "manifest_two.json")
	if got := m.File(); !bytes.Equal(got, want) {
		t.Errorf("manifest:\n%s\nwant\n%s", got, want)
	}
	parsed, err := ParseManifest(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(parsed.File(), want) {
		t.Errorf("round trip:\n%s", parsed.File())
	}
	tables := parsed.Tables()
	if len(tables) != 2 || tables[0].Name.String() != "dm" || tables[1].Name.String() != "lb" {
		t.Fatalf("tables = %v", tables)
	}
	if tables[0].ManifestEntry != dm || tables[1].ManifestEntry != lb {
		t.Errorf("decoded entries differ:\n%+v\n%+v", tables[0].ManifestEntry, tables[1].ManifestEntry)
	}
	if e, ok := parsed.Table(mustTable(t, "lb")); !ok || e.VersionCount != 3 {
		t.Errorf("Table(lb) = %+v %v", e, ok)
	}
	if _, ok := parsed.Table(mustTable(t, "ae")); ok {
		t.Errorf("Table(ae) found")
	}
	// A derived write to an imported table drops the import keys; order kept.
	derived := ManifestEntry{CurrentVersion: identity.MetadataSHA(sha2), CurrentDataSHA: identity.DataSHA(sha2), LastUpdated: t0, SizeBytes: 10, VersionCount: 2}
	m2 := parsed.WithTable(mustTable(t, "dm"), derived, t0.Add(time.Hour))
	text := string(m2.JSON())
	if strings.Contains(text, "original_format") || strings.Index(text, `"dm"`) > strings.Index(text, `"lb"`) {
		t.Errorf("dm not replaced in place:\n%s", text)
	}
	if !strings.Contains(text, "\"total_tables\": 2,\n    \"total_size_bytes\": 2058,\n    \"total_versions\": 5") {
		t.Errorf("summary not recomputed:\n%s", text)
	}
	if !strings.Contains(text, `"updated_at": "2026-01-02T04:04:05Z"`) {
		t.Errorf("updated_at not set:\n%s", text)
	}
	if !bytes.Equal(parsed.File(), want) {
		t.Errorf("WithTable changed the receiver")
	}
}

// TestManifestWithTables: one WithTables writes what WithTable for each
// table in turn writes, byte for byte.
func TestManifestWithTables(t *testing.T) {
	p, _ := ParseProjectName("STUDY1")
	entry := func(n int) ManifestEntry {
		return ManifestEntry{
			CurrentVersion: identity.MetadataSHA(strings.Repeat(string(rune('a'+n)), 64)), CurrentDataSHA: shaD,
			LastUpdated: t0.Add(time.Duration(n) * time.Hour), SizeBytes: int64(n), VersionCount: n,
		}
	}
	base := NewManifest(p, t0).WithTable(mustTable(t, "dm"), entry(1), t0).WithTable(mustTable(t, "lb"), entry(2), t0)
	dup, err := ParseManifest([]byte(`{"project_name":"P","tables":{"t":{"size_bytes":1},"u":{},"t":{"size_bytes":2}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		m      Manifest
		tables []string
	}{
		{"none", base, nil},
		{"new tables", base, []string{"ae", "ex"}},
		{"replaced in place", base, []string{"lb", "dm"}},
		{"mixed, one twice", base, []string{"ex", "lb", "ae", "ex"}},
		{"into an empty manifest", NewManifest(p, t0), []string{"a", "b", "c"}},
		{"a name the file holds twice", dup, []string{"t", "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0.Add(48 * time.Hour)
			want, got := tt.m, tt.m
			var tables []ManifestTable
			for i, name := range tt.tables {
				want = want.WithTable(mustTable(t, name), entry(i+3), now)
				tables = append(tables, ManifestTable{Name: mustTable(t, name), ManifestEntry: entry(i + 3)})
			}
			if len(tables) > 0 {
				got = got.WithTables(tables, now)
			}
			if !bytes.Equal(got.File(), want.File()) {
				t.Errorf("WithTables:\n%s\nWithTable in turn:\n%s", got.File(), want.File())
			}
			if !slices.Equal(got.Tables(), want.Tables()) {
				t.Errorf("tables %v, want %v", got.Tables(), want.Tables())
			}
		})
	}
}

func TestManifestUnknownKeysKept(t *testing.T) {
	in := `{"project_name":"P","updated_at":"x","extra":[1,2],"tables":{"t":{"current_version":"abc","zzz":true}},"summary":{}}`
	m, err := ParseManifest([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.Value().String()); got != in {
		t.Errorf("got %s", got)
	}
	m2 := m.WithTable(mustTable(t, "u"), ManifestEntry{}, t0)
	if got := m2.Value().String(); !strings.Contains(got, `"extra":[1,2]`) || !strings.Contains(got, `"zzz":true`) {
		t.Errorf("unknown keys lost: %s", got)
	}
}

func TestParseManifestErrors(t *testing.T) {
	bad := []string{`[]`, `{"tables":[1]}`, `{"tables":{"a/b":{}}}`, `{"tables":{"t":1}}`, `{"tables":5}`, `{`}
	for _, in := range bad {
		if _, err := ParseManifest([]byte(in)); err == nil {
			t.Errorf("ParseManifest(%s) succeeded", in)
		}
	}
	if _, err := ParseManifest([]byte(`{"tables":{"datom":{}}}`)); !errors.Is(err, ErrInvalidName) {
		t.Errorf("reserved table name: %v", err)
	}
	if m, err := ParseManifest([]byte(`{"project_name":"P","tables":[]}`)); err != nil || len(m.Tables()) != 0 {
		t.Errorf("tables [] rejected: %v", err)
	}
}
