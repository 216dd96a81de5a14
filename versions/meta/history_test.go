package meta

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/versions/datomjson"
	"github.com/datomfs/datomfs/versions/identity"
)

func TestHistoryRoundTrip(t *testing.T) {
	want := readTestdata(t, "version_history.json")
	h, err := ParseHistory(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.File(); !bytes.Equal(got, want) {
		t.Errorf("round trip:\n%s\nwant\n%s", got, want)
	}
	es := h.Entries()
	if len(es) != 3 || h.Len() != 3 {
		t.Fatalf("entries = %d", len(es))
	}
	if es[0].Author != (Author{"Ada Lovelace", "ada@example.org"}) || es[0].Author.IsUnknown() {
		t.Errorf("object author = %+v", es[0].Author)
	}
	if !es[1].Author.IsUnknown() || es[1].OriginalFileSHA != sha0 || es[1].CommitMessage != "Sync lb (changed)" {
		t.Errorf("entry 2 = %+v", es[1])
	}
	if es[2].ParquetSHA != "" || !es[2].Timestamp.Equal(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("entry 3 = %+v", es[2])
	}
	if latest, ok := h.Latest(); !ok || latest.Version != es[0].Version {
		t.Errorf("Latest = %v %v", latest, ok)
	}
}

func TestHistoryPrepend(t *testing.T) {
	var h History
	if got := string(h.File()); got != "[]\n" {
		t.Errorf("empty history = %q", got)
	}
	m, err := ParseMetadata(readTestdata(t, "metadata_1col.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := EntryFor(m, Author{Name: "Ada", Email: "ada@x"}, "Update x")
	h1 := h.Prepend(e)
	want := "[\n  {\n    \"version\": \"" + string(m.Version()) + "\",\n    \"data_sha\": \"" + string(shaD) +
		"\",\n    \"timestamp\": \"2026-01-02T03:04:05Z\",\n    \"author\": {\n      \"name\": \"Ada\",\n      \"email\": \"ada@x\"\n    },\n" +
		"    \"commit_message\": \"Update x\",\n    \"parquet_sha\": \"" + shaP + "\"\n  }\n]\n"
	if got := string(h1.File()); got != want {
		t.Errorf("prepended:\n%s\nwant\n%s", got, want)
	}
	if h.Len() != 0 {
		t.Errorf("Prepend modified the receiver")
	}
	// Full-history dedup: the same version anywhere is not added again.
	old, err := ParseHistory(readTestdata(t, "version_history.json"))
	if err != nil {
		t.Fatal(err)
	}
	dup := old.Entries()[2]
	dup.CommitMessage = "again"
	if got := old.Prepend(dup); got.Len() != 3 || !bytes.Equal(got.File(), old.File()) {
		t.Errorf("duplicate version was prepended")
	}
	unknown := EntryFor(m.WithParquetSHA(""), Author{Name: "only name"}, "m")
	h2 := old.Prepend(unknown)
	if h2.Len() != 4 || h2.Entries()[0].Version != m.Version() || !h2.Contains(m.Version()) {
		t.Fatalf("prepend to parsed history failed")
	}
	text := string(h2.File())
	if !strings.Contains(text, "\"author\": \"unknown\",\n    \"commit_message\": \"m\"\n  },") {
		t.Errorf("unknown author / absent parquet_sha not written as expected:\n%s", text)
	}
	if !strings.HasSuffix(text, string(old.File()[1:])) {
		t.Errorf("older entries not kept verbatim")
	}
	reparsed, err := ParseHistory(h2.File())
	if err != nil || reparsed.Len() != 4 {
		t.Errorf("reparse: %v", err)
	}
}

func TestHistoryFind(t *testing.T) {
	h, err := ParseHistory(readTestdata(t, "version_history.json"))
	if err != nil {
		t.Fatal(err)
	}
	full := strings.Repeat("a", 64)
	tests := []struct {
		prefix string
		want   string
		err    error
	}{
		{"1", strings.Repeat("1", 64), nil},
		{"1111111", strings.Repeat("1", 64), nil},
		{strings.Repeat("1", 64), strings.Repeat("1", 64), nil},
		{full, full, nil},
		{strings.Repeat("a", 63) + "b", strings.Repeat("a", 63) + "b", nil},
		{"a", "", ErrAmbiguousVersion},
		{strings.Repeat("a", 63), "", ErrAmbiguousVersion},
		{"2", "", ErrVersionNotFound},
		{"A", "", ErrVersionNotFound}, // case-sensitive
		{"", "", ErrVersionNotFound},
		{strings.Repeat("1", 65), "", ErrVersionNotFound},
	}
	for _, tt := range tests {
		e, err := h.Find(tt.prefix)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Find(%q) error = %v, want %v", tt.prefix, err, tt.err)
			}
			continue
		}
		if err != nil || string(e.Version) != tt.want {
			t.Errorf("Find(%q) = %s, %v; want %s", tt.prefix, e.Version, err, tt.want)
		}
	}
	_, err = h.Find("a")
	if !strings.Contains(err.Error(), "aaaaaaaa, aaaaaaaa") {
		t.Errorf("ambiguous message lacks candidates: %v", err)
	}
}

func TestHistoryFindDataSHA(t *testing.T) {
	h, err := ParseHistory(readTestdata(t, "version_history.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := h.FindDataSHA(shaD); !ok || p != identity.ParquetSHA(shaP) {
		t.Errorf("FindDataSHA(d) = %s %v", p, ok)
	}
	// The only entry with data_sha 000… has no parquet_sha.
	if p, ok := h.FindDataSHA(identity.DataSHA(sha0)); ok {
		t.Errorf("FindDataSHA(0) = %s, want none", p)
	}
	if _, ok := h.FindDataSHA(identity.DataSHA(sha3)); ok {
		t.Errorf("FindDataSHA(unknown) found")
	}
}

func TestParseHistoryErrors(t *testing.T) {
	bad := []string{`{"a":1}`, `[1]`, `[{"version":"XYZ"}]`, `[{"data_sha":"abc"}]`, `[`}
	for _, in := range bad {
		if _, err := ParseHistory([]byte(in)); err == nil {
			t.Errorf("ParseHistory(%s) succeeded", in)
		}
	}
	if _, err := ParseHistory([]byte(`[{}]`)); !errors.Is(err, ErrInvalidHistory) {
		t.Errorf("entry without version: %v", err)
	}
	for _, in := range []string{"[]", "[]\n", "{}"} {
		if h, err := ParseHistory([]byte(in)); err != nil || h.Len() != 0 {
			t.Errorf("ParseHistory(%q) = %d, %v", in, h.Len(), err)
		}
	}
}

// A new entry is spliced in front of the parsed text: on a document datomfs
// (or datom) wrote, the result is byte for byte the whole document written
// again; on other layouts it is the same history to a parser, old entries
// verbatim.
func TestHistoryPrependSplices(t *testing.T) {
	m, err := ParseMetadata(readTestdata(t, "metadata_1col.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := EntryFor(m, Author{Name: "Ada", Email: "ada@x"}, "Update x\nwith \"quotes\" and é")
	old, err := ParseHistory(readTestdata(t, "version_history.json"))
	if err != nil {
		t.Fatal(err)
	}
	canonical := old.File()
	cases := []struct {
		name, doc string
		spliced   bool // the old text is kept verbatim after the new entry
	}{
		{"as written", string(canonical), true},
		{"no trailing newline", strings.TrimSuffix(string(canonical), "\n"), true},
		{"wider indent", strings.ReplaceAll(string(canonical), "\n  ", "\n    "), true},
		{"compact", strings.Join(strings.Fields(strings.ReplaceAll(string(canonical), ": ", ":")), ""), false},
		{"empty, pretty", "[\n  ]\n", false},
		{"empty", "[]\n", false},
		{"empty object", "{}\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := ParseHistory([]byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			got := h.Prepend(e)
			full := datomjson.Pretty(got.Value())
			text := got.JSON()
			reparsed, err := ParseHistory(text)
			if err != nil {
				t.Fatalf("spliced document does not parse: %v\n%s", err, text)
			}
			if !bytes.Equal(datomjson.Pretty(reparsed.Value()), full) {
				t.Fatalf("spliced document is another history:\n%s", text)
			}
			if c.name == "as written" && !bytes.Equal(append(text, '\n'), append(full, '\n')) {
				t.Fatalf("splice differs from the whole document written again:\n%s\nwant\n%s", text, full)
			}
			if c.spliced && !strings.HasSuffix(string(text), strings.TrimRight(c.doc, "\n")[len("[\n  "):]) {
				t.Fatalf("old entries not kept verbatim:\n%s", text)
			}
			if !c.spliced && !bytes.Equal(text, full) {
				t.Fatalf("not the whole document written again:\n%s", text)
			}
			// A second Prepend on the result (no text of its own) writes
			// the whole document.
			e2 := e
			e2.Version = identity.MetadataSHA(strings.Repeat("c", 64))
			if two := got.Prepend(e2); !bytes.Equal(two.JSON(), datomjson.Pretty(two.Value())) {
				t.Fatalf("a second prepend spliced:\n%s\nwant\n%s", two.JSON(), datomjson.Pretty(two.Value()))
			}
		})
	}
}
