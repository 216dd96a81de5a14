package meta

import (
	"bytes"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/datomfs/datomfs/versions/datomjson"
	"github.com/datomfs/datomfs/versions/identity"
)

// checkScanHistory compares ParseHistory's scanner with the generic path
// (parseHistoryValue, the oracle): the same documents accepted, the same
// entries, the same Value, the same text written back, before and after
// a Prepend.
func checkScanHistory(t testing.TB, data []byte) {
	t.Helper()
	want, wantErr := parseHistoryValue(data)
	got, ok := scanHistory(data)
	if wantErr != nil {
		if ok {
			t.Fatalf("scanner accepts a document the parser refuses (%v):\n%q", wantErr, data)
		}
		if _, err := ParseHistory(data); err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("ParseHistory error = %v, want %v", err, wantErr)
		}
		return
	}
	if !ok {
		// Only a non-array document ({}) is left to the generic path.
		if v, _ := datomjson.Parse(data); v.Kind() != datomjson.KindObject {
			t.Fatalf("scanner refuses a history the parser accepts:\n%q", data)
		}
		got, _ = ParseHistory(data)
	}
	compareHistories(t, data, got, want)
	// A write: the new entry spliced in front of the old text.
	e := HistoryEntry{Version: "abcdef", DataSHA: shaD, Author: Author{"N", "e@x"}, CommitMessage: "new \"one\"\n"}
	compareHistories(t, data, got.Prepend(e), want.Prepend(e))
	compareHistories(t, data, got.From(1), want.From(1))
}

func compareHistories(t testing.TB, data []byte, got, want History) {
	t.Helper()
	if !reflect.DeepEqual(got.Entries(), want.Entries()) {
		t.Fatalf("entries differ:\n got %+v\nwant %+v\ndocument %q", got.Entries(), want.Entries(), data)
	}
	if g, w := datomjson.Pretty(got.Value()), datomjson.Pretty(want.Value()); !bytes.Equal(g, w) {
		t.Fatalf("values differ:\n%s\nwant\n%s", g, w)
	}
	if !datomjson.Equal(got.Value(), want.Value()) {
		t.Fatalf("values differ in kinds")
	}
	if g, w := got.File(), want.File(); !bytes.Equal(g, w) {
		t.Fatalf("documents differ:\n%s\nwant\n%s", g, w)
	}
}

func TestScanHistoryTable(t *testing.T) {
	hex := strings.Repeat("a", 64)
	entry := `{"version":"` + hex + `","data_sha":"d","timestamp":"2026-01-02T03:04:05Z","author":{"name":"A","email":"a@x"},"commit_message":"m"}`
	tests := []struct {
		name, doc string
	}{
		{"testdata", string(readTestdata(t, "version_history.json"))},
		{"empty", "[]"},
		{"empty pretty", "[\n  ]\n"},
		{"empty object", "{}"},
		{"empty object spaced", " {\n}\n"},
		{"compact", "[" + entry + "," + entry + "]"},
		{"odd whitespace", " \t\r\n[ \r\n" + strings.ReplaceAll(entry, ",", " \t,\r\n ") + "\n]\t\n"},
		{"unknown keys", `[{"x":{"a":[1,2.5e3,-0,null,true,false,{"b":[]}]},"version":"` + hex + `","y":[[["z"]]],"n":-1.5E-7}]`},
		{"author unknown", `[{"version":"` + hex + `","author":"unknown"}]`},
		{"author null", `[{"version":"` + hex + `","author":null}]`},
		{"author array", `[{"version":"` + hex + `","author":["a","b"]}]`},
		{"author partial", `[{"version":"` + hex + `","author":{"name":"A"}}]`},
		{"author extra", `[{"version":"` + hex + `","author":{"name":"A","x":{"name":"B"},"email":"e","name":"C","email":1}}]`},
		{"author non-string name", `[{"version":"` + hex + `","author":{"name":1,"name":"B","email":"e"}}]`},
		{"duplicate author", `[{"author":"unknown","version":"` + hex + `","author":{"name":"A","email":"e"}}]`},
		{"duplicate keys", `[{"version":"` + hex + `","commit_message":"one","commit_message":"two","version":"bad"}]`},
		{"duplicate after non-string", `[{"version":"` + hex + `","commit_message":null,"commit_message":"two","data_sha":1,"data_sha":"d"}]`},
		{"escapes", `[{"version":"` + hex + `","commit_message":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x\udc00","author":{"name":"\u0041da","email":"e\u0000"}}]`},
		{"unicode", `[{"version":"` + hex + `","commit_message":"é 😀 日本"}]`},
		{"bad timestamp", `[{"version":"` + hex + `","timestamp":"2026-02-30T00:00:00Z"}]`},
		{"timestamp with zone", `[{"version":"` + hex + `","timestamp":"2026-01-02T03:04:05+01:00"}]`},
		{"inline arrays kept", "[{\"version\":\"" + hex + "\",\"x\":[1, \"a\"],\"y\":[\n1]}]"},
		{"short version", `[{"version":"abcdef"}]`},
		// Invalid documents: the same error as the generic path.
		{"truncated", "[" + entry},
		{"truncated in entry", "[" + entry[:40]},
		{"trailing garbage", "[" + entry + "]x"},
		{"trailing comma", "[" + entry + ",]"},
		{"trailing comma in entry", `[{"version":"` + hex + `",}]`},
		{"two documents", "[][]"},
		{"bad escape", `[{"version":"` + hex + `","commit_message":"\x"}]`},
		{"bad escape in unknown", `[{"version":"` + hex + `","z":"\u12"}]`},
		{"bad unicode escape pair", `[{"version":"` + hex + `","z":"\ud800\u12"}]`},
		{"control character", "[{\"version\":\"" + hex + "\",\"commit_message\":\"a\nb\"}]"},
		{"invalid utf-8", "[{\"version\":\"" + hex + "\",\"commit_message\":\"\xc3\"}]"},
		{"invalid utf-8 around escape", "[{\"version\":\"" + hex + "\",\"z\":\"\xc3\\u00a9\"}]"},
		{"invalid utf-8 key", "[{\"version\":\"" + hex + "\",\"\xff\":1}]"},
		{"non-object entry", `[1]`},
		{"non-object entry later", "[" + entry + `,"x"]`},
		{"empty entry", `[{}]`},
		{"missing version", `[{"data_sha":"abc"}]`},
		{"upper-case version", `[{"version":"ABCDEF"}]`},
		{"non-string version", `[{"version":123456}]`},
		{"version not first", `[{"version":7,"version":"` + hex + `"}]`},
		{"object", `{"a":1}`},
		{"string", `"x"`},
		{"bad number", `[{"version":"` + hex + `","n":01}]`},
		{"bad number 2", `[{"version":"` + hex + `","n":1.}]`},
		{"bad number 3", `[{"version":"` + hex + `","n":-}]`},
		{"bad literal", `[{"version":"` + hex + `","n":nul}]`},
		{"missing colon", `[{"version" "` + hex + `"}]`},
		{"unquoted key", `[{version:"` + hex + `"}]`},
		{"open", "["},
		{"nothing", ""},
		{"deep", `[{"version":"` + hex + `","x":` + strings.Repeat("[", 9997) + strings.Repeat("]", 9997) + `}]`},
		{"too deep", `[{"version":"` + hex + `","x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}]`},
		{"too deep author", `[{"version":"` + hex + `","author":{"x":` + strings.Repeat("{\"a\":", 9998) + "1" + strings.Repeat("}", 9998) + `}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkScanHistory(t, []byte(tt.doc)) })
	}
}

// randomHistory writes a history of n entries with random layout,
// strings, keys and author shapes; mostly valid entries.
type historyGen struct {
	r       *rand.Rand
	b       strings.Builder
	compact bool
}

func (g *historyGen) space() {
	if g.compact {
		return
	}
	for n := g.r.Intn(3); n > 0; n-- {
		g.b.WriteByte(" \t\n\r"[g.r.Intn(4)])
	}
}

var genRunes = []rune{'a', 'Z', '0', ' ', 'é', '日', '😀', '"', '\\', '/', '\n', '\t', '\x00', '\x1f', 0x7f, 0xfffd, 0x2028}

func (g *historyGen) str(s string) {
	g.b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			g.b.WriteByte('\\')
			g.b.WriteRune(c)
		case c < 0x20:
			fmt.Fprintf(&g.b, "\\u%04x", c)
		case g.r.Intn(8) == 0 && c < 0x10000:
			fmt.Fprintf(&g.b, "\\u%04X", c)
		case g.r.Intn(8) == 0 && c >= 0x10000:
			c -= 0x10000
			fmt.Fprintf(&g.b, "\\u%04x\\u%04x", 0xd800+(c>>10), 0xdc00+(c&0x3ff))
		case c == '/' && g.r.Intn(2) == 0:
			g.b.WriteString(`\/`)
		default:
			g.b.WriteRune(c)
		}
	}
	switch g.r.Intn(30) {
	case 0:
		g.b.WriteString(`\ud800`) // a lone surrogate reads as U+FFFD
	case 1:
		g.b.WriteString(`\b\f\r\n\t`)
	}
	g.b.WriteByte('"')
}

func (g *historyGen) randString() string {
	var sb strings.Builder
	for n := g.r.Intn(12); n > 0; n-- {
		sb.WriteRune(genRunes[g.r.Intn(len(genRunes))])
	}
	return sb.String()
}

func (g *historyGen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.Intn(16)]
	}
	return string(b)
}

// value writes a random JSON value (depth bounds nesting).
func (g *historyGen) value(depth int) {
	k := g.r.Intn(9)
	if depth > 3 && k >= 7 {
		k = 0
	}
	switch k {
	case 0:
		g.str(g.randString())
	case 1:
		g.b.WriteString([]string{"0", "-0", "1", "-12", "3.25", "1e400", "-0.0", "2147483648", "6.02E+23", "1e-5"}[g.r.Intn(10)])
	case 2:
		g.b.WriteString("null")
	case 3:
		g.b.WriteString("true")
	case 4:
		g.b.WriteString("false")
	case 5:
		g.str(g.hex(64))
	case 6:
		g.str("unknown")
	case 7:
		g.b.WriteByte('[')
		for i, n := 0, g.r.Intn(4); i < n; i++ {
			if i > 0 {
				g.b.WriteByte(',')
			}
			g.space()
			g.value(depth + 1)
			g.space()
		}
		g.b.WriteByte(']')
	case 8:
		g.object(depth+1, []string{"name", "email", "x", "version"}, nil)
	}
}

// object writes an object with random members named from keys; fixed
// members are written first, in random places.
func (g *historyGen) object(depth int, keys []string, fixed map[string]func()) {
	type member struct {
		key string
		val func()
	}
	var ms []member
	for k, f := range fixed {
		ms = append(ms, member{k, f})
	}
	for n := g.r.Intn(4); n > 0; n-- {
		k := keys[g.r.Intn(len(keys))]
		ms = append(ms, member{k, func() { g.value(depth) }})
	}
	g.r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	g.b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.space()
		g.str(m.key)
		g.space()
		g.b.WriteByte(':')
		g.space()
		m.val()
		g.space()
	}
	g.b.WriteByte('}')
}

func (g *historyGen) entry() {
	fixed := map[string]func(){}
	if g.r.Intn(50) != 0 {
		fixed["version"] = func() { g.str(g.hex(6 + g.r.Intn(59))) }
	}
	if g.r.Intn(4) != 0 {
		fixed["data_sha"] = func() { g.str(g.hex(64)) }
	}
	if g.r.Intn(4) != 0 {
		fixed["timestamp"] = func() {
			g.str(fmt.Sprintf("20%02d-%02d-%02dT%02d:%02d:%02dZ", g.r.Intn(100), 1+g.r.Intn(12), 1+g.r.Intn(31), g.r.Intn(25), g.r.Intn(60), g.r.Intn(61)))
		}
	}
	if g.r.Intn(4) != 0 {
		fixed["author"] = func() {
			switch g.r.Intn(3) {
			case 0:
				g.str("unknown")
			case 1:
				g.object(3, []string{"name", "email", "x"}, map[string]func(){
					"name":  func() { g.str(g.randString()) },
					"email": func() { g.str(g.randString()) },
				})
			default:
				g.value(2)
			}
		}
	}
	if g.r.Intn(4) != 0 {
		fixed["commit_message"] = func() { g.str(g.randString()) }
	}
	if g.r.Intn(3) == 0 {
		fixed["parquet_sha"] = func() { g.str(g.hex(64)) }
	}
	if g.r.Intn(5) == 0 {
		fixed["original_file_sha"] = func() { g.str(g.hex(64)) }
	}
	g.object(2, []string{"version", "data_sha", "timestamp", "author", "commit_message", "parquet_sha", "original_file_sha", "reviewed_by", "x"}, fixed)
}

func (g *historyGen) history(n int) []byte {
	g.b.Reset()
	g.compact = g.r.Intn(4) == 0
	g.space()
	g.b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.space()
		g.entry()
		g.space()
	}
	g.b.WriteByte(']')
	g.space()
	return []byte(g.b.String())
}

func TestScanHistoryRandom(t *testing.T) {
	g := &historyGen{r: rand.New(rand.NewSource(1))}
	n := 3000
	if testing.Short() {
		n = 300
	}
	valid := 0
	for i := 0; i < n; i++ {
		doc := g.history(g.r.Intn(5))
		if _, err := parseHistoryValue(doc); err == nil {
			valid++
		}
		checkScanHistory(t, doc)
		// Also pretty-printed, as datom writes it, and mutated.
		if v, err := datomjson.Parse(doc); err == nil {
			checkScanHistory(t, datomjson.Pretty(v))
		}
		checkScanHistory(t, doc[:g.r.Intn(len(doc)+1)])
		mut := append([]byte(nil), doc...)
		if len(mut) > 0 {
			const mutBytes = "{}[]\",:\\ 0-ex\xc3"
			mut[g.r.Intn(len(mut))] = mutBytes[g.r.Intn(len(mutBytes))]
		}
		checkScanHistory(t, mut)
		checkScanHistory(t, append(doc, "x]},\" "[g.r.Intn(6)]))
	}
	if valid < n/2 {
		t.Errorf("only %d of %d random histories are valid", valid, n)
	}
}

func FuzzScanHistory(f *testing.F) {
	g := &historyGen{r: rand.New(rand.NewSource(2))}
	for i := 0; i < 20; i++ {
		f.Add(g.history(g.r.Intn(3)))
	}
	for _, s := range []string{"[]", "{}", `[{"version":"abcdef","author":{"name":"\u00e9"}}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) && len(data) > 4096 {
			return
		}
		checkScanHistory(t, data)
	})
}

// benchHistory is a history of n entries as datom writes them (about
// 430 bytes each).
func benchHistory(n int) []byte {
	vs := make([]datomjson.Value, n)
	for i := range vs {
		sha := func(tag int) string { return fmt.Sprintf("%016x", i*7+tag) + strings.Repeat("0", 48) }
		vs[i] = HistoryEntry{
			Version:       identity.MetadataSHA(sha(1)),
			DataSHA:       shaD,
			Author:        Author{"Ada Lovelace", "ada@example.org"},
			CommitMessage: fmt.Sprintf("Update big (%d)", n-i),
			ParquetSHA:    identity.ParquetSHA(shaP),
		}.value()
		vs[i] = vs[i].With("timestamp", datomjson.Str(fmt.Sprintf("2026-01-%02dT%02d:%02d:%02dZ", 1+i%28, i%24, i%60, i%60)))
	}
	return append(datomjson.Pretty(datomjson.List(vs...)), '\n')
}

// BenchmarkParseHistory: a 10,000-version history read by ParseHistory
// ("scan") and through the generic Value tree ("value", the old path).
func BenchmarkParseHistory(b *testing.B) {
	data := benchHistory(10000)
	b.Logf("%d bytes", len(data))
	for _, c := range []struct {
		name  string
		parse func([]byte) (History, error)
	}{{"scan", ParseHistory}, {"value", parseHistoryValue}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if h, err := c.parse(data); err != nil || h.Len() != 10000 {
					b.Fatal(h.Len(), err)
				}
			}
		})
		b.Run(c.name+"/JSON", func(b *testing.B) {
			h, err := c.parse(data)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				h.JSON()
			}
		})
	}
}

// quickTimestamp agrees with time.Parse wherever it answers, and answers
// for every well-formed timestamp.
func TestQuickTimestamp(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const digits = "0123456789"
	cases := []string{"2026-01-02T03:04:05Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
		"2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z", "2026-13-01T00:00:00Z",
		"2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z", "2026-01-01T00:00:00",
		"2026-01-01 00:00:00Z", "2026-01-01T00:00:00+00:00", "+026-01-01T00:00:00Z", "2026-1-01T00:00:00Z", ""}
	for i := 0; i < 200000; i++ {
		b := []byte("2026-01-02T03:04:05Z")
		for j := r.Intn(4); j >= 0; j-- {
			b[r.Intn(len(b))] = digits[r.Intn(10)]
		}
		if r.Intn(50) == 0 {
			b[r.Intn(len(b))] = "-T:Z +x"[r.Intn(7)]
		}
		cases = append(cases, string(b))
	}
	answered := 0
	for _, s := range cases {
		want, err := time.Parse(TimestampLayout, s)
		got, ok := quickTimestamp(s)
		if ok {
			answered++
			if err != nil || !reflect.DeepEqual(got, want) || got != want {
				t.Fatalf("quickTimestamp(%q) = %v, time.Parse = %v, %v", s, got, want, err)
			}
		} else if err == nil {
			t.Fatalf("quickTimestamp(%q) did not answer; time.Parse = %v", s, want)
		}
	}
	if answered < len(cases)/4 {
		t.Errorf("quickTimestamp answered only %d of %d", answered, len(cases))
	}
}
