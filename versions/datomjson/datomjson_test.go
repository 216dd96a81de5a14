package datomjson

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/bits"
	"math/rand"
	"strings"
	"testing"
)

func TestAppendDouble(t *testing.T) {
	// Every example of contract 1.1, plus values checked against jsonlite.
	tests := []struct {
		in   float64
		want string
	}{
		{3.14159265, "3.1416"},
		{2.5e-5, "0"},
		{0.00015, "0.0001"},
		{123456.78915, "123456.7891"},
		{1.0, "1"},
		{-0.00002, "-0"},
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{1e-6, "1e-06"},
		{1e10, "10000000000"},
		{-2147483648, "-2147483648"},
		{2147483647, "2147483647"},
		{1.2345678901234567e29, "1.2345678901234568e+29"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{0.5, "0.5"},
		{0.99995, "1"},
		{0.99994999, "0.9999"},
		{2147483646.99999, "2147483647"},
		{1e-5, "1e-05"},
		{-1e-5, "-1e-05"},
		{0.00001000001, "0"},
		{1.5, "1.5"},
		{2048, "2048"},
		{3000000000, "3000000000"},
		{0.123456, "0.1235"},
		{-3.25, "-3.25"},
		{0.00125, "0.0012"}, // exact tie in binary? 12.5 -> diff 0.5, frac 12 even -> stays
		{math.NaN(), `"NaN"`},
		{math.Float64frombits(rNABits), `"NA"`},
		{math.Inf(1), `"Inf"`},
		{math.Inf(-1), `"-Inf"`},
	}
	for _, tt := range tests {
		if got := string(AppendDouble(nil, tt.in)); got != tt.want {
			t.Errorf("AppendDouble(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", `"plain"`},
		{`a\b`, `"a\\b"`},
		{`say "hi"`, `"say \"hi\""`},
		{"l1\nl2\r\t\b\f", `"l1\nl2\r\t\b\f"`},
		{"\x1b", `"\u001b"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"</script>", `"<\/script>"`},
		{"a/b//c", `"a/b//c"`},
		{"<</", `"<<\/"`},
		{"< /", `"< /"`},
		{"\x7f", "\"\x7f\""},
		{"é ü 日本", `"é ü 日本"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"<>&", `"<>&"`},
		// checked against jsonlite
		{"a</b\\c\"d\n\t\x01\x1b\x7f\b\f\r é \u2028 //</", "\"a<\\/b\\\\c\\\"d\\n\\t\\u0001\\u001b\x7f\\b\\f\\r é \u2028 //<\\/\""},
	}
	for _, tt := range tests {
		if got := string(AppendString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		i    int32
		f    float64
	}{
		{"0", KindInt, 0, 0},
		{"-0", KindInt, 0, 0},
		{"100", KindInt, 100, 0},
		{"2147483647", KindInt, math.MaxInt32, 0},
		{"-2147483647", KindInt, -math.MaxInt32, 0},
		{"-2147483648", KindDouble, 0, -2147483648},
		{"2147483648", KindDouble, 0, 2147483648},
		{"3000000000", KindDouble, 0, 3e9},
		{"9223372036854775807", KindDouble, 0, 9223372036854775807},
		{"9223372036854775808", KindDouble, 0, 9223372036854775808},
		{"123456789012345678901234567890", KindDouble, 0, 1.2345678901234568e29},
		{"3.0", KindDouble, 0, 3},
		{"1e3", KindDouble, 0, 1000},
		{"1E-2", KindDouble, 0, 0.01},
		{"0.1", KindDouble, 0, 0.1},
		{"1e400", KindDouble, 0, math.Inf(1)},
	}
	for _, tt := range tests {
		v, err := Parse([]byte(tt.in))
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.in, err)
			continue
		}
		if v.Kind() != tt.kind {
			t.Errorf("Parse(%s) kind = %s, want %s", tt.in, v.Kind(), tt.kind)
			continue
		}
		if tt.kind == KindInt && v.i != tt.i {
			t.Errorf("Parse(%s) = %d, want %d", tt.in, v.i, tt.i)
		}
		if tt.kind == KindDouble && v.f != tt.f {
			t.Errorf("Parse(%s) = %v, want %v", tt.in, v.f, tt.f)
		}
	}
	v, err := Parse([]byte("-0.0"))
	if err != nil || v.Kind() != KindDouble || !math.Signbit(v.f) || v.f != 0 {
		t.Errorf("Parse(-0.0) = %#v, %v; want double -0", v, err)
	}
	if got := string(Compact(v)); got != "-0" {
		t.Errorf("Compact(-0.0) = %s, want -0", got)
	}
}

func TestParseErrors(t *testing.T) {
	bad := []string{
		"", " ", "{", "[", `{"a"}`, `{"a":}`, `{"a":1,}`, "[1,]", "01", "1.", ".5", "-", "+1",
		"1e", "tru", "nul", `"abc`, `"\x"`, `"\u12"`, "\"a\x01b\"", "{} {}", "[1 2]", `{a:1}`,
		"\xef\xbb\xbf{}", "\"\xff\"", "NaN", "Infinity",
	}
	for _, in := range bad {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error = %v, want ErrSyntax", in, err)
		}
	}
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, err := Parse([]byte(deep)); !errors.Is(err, ErrSyntax) {
		t.Errorf("Parse(too deep) error = %v, want ErrSyntax", err)
	}
}

func TestParseStrings(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"a\/b"`, "a/b"},
		{`"\u00e9\u00E9"`, "éé"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\ud83dx"`, "\ufffdx"},
		{`"\ud83d\u0041"`, "\ufffdA"},
		{`"tab\there"`, "tab\there"},
		{`"raw é"`, "raw é"},
	}
	for _, tt := range tests {
		v, err := Parse([]byte(tt.in))
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.in, err)
			continue
		}
		if s, ok := v.AsString(); !ok || s != tt.want {
			t.Errorf("Parse(%s) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

func TestParseModel(t *testing.T) {
	v, err := Parse([]byte(` {"b": null, "a": [], "c": {}, "b": true, "d": [1, "x", [2]]} `))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.Keys(), ","); got != "b,a,c,b,d" {
		t.Errorf("keys = %s, want document order with duplicates", got)
	}
	b, _ := v.Get("b")
	if b.Kind() != KindNull {
		t.Errorf("first b kind = %s, want null", b.Kind())
	}
	a, _ := v.Get("a")
	if a.Kind() != KindList || a.Len() != 0 {
		t.Errorf("a = %s/%d, want empty list", a.Kind(), a.Len())
	}
	c, _ := v.Get("c")
	if c.Kind() != KindObject || c.Len() != 0 {
		t.Errorf("c = %s, want empty object", c.Kind())
	}
	d, _ := v.Get("d")
	if d.Kind() != KindList || d.Items()[2].Kind() != KindList {
		t.Errorf("d = %s, want list containing a list", d)
	}
	// null re-serializes as {} and duplicates become b.1 (jsonlite).
	want := `{"b":{},"a":[],"c":{},"b.1":true,"d":[1,"x",[2]]}`
	if got := string(Compact(v)); got != want {
		t.Errorf("Compact = %s, want %s", got, want)
	}
}

func TestPrettyLayout(t *testing.T) {
	// Built the way R builds it; expected text checked against jsonlite.
	v := Obj(
		M("data_sha", Str("abc")),
		M("nrow", Int(3)),
		M("colnames", Strings("a", "b")),
		M("one", Strings("x")),
		M("column_hashes", List(
			Obj(M("name", Str("a")), M("sha", Str("1"))),
			Obj(M("name", Str("b")), M("sha", Str("2"))),
		)),
		M("parents", List()),
		M("size_bytes", Dbl(2048)),
		M("custom", Obj(
			M("k", Vector(Dbl(1.5), Dbl(2))),
			M("n", Null()),
			M("e", Obj()),
			M("na", NA()),
			M("nas", Vector(Str("a"), NA())),
			M("ni", IntNA()),
			M("nd", Vector(DblNA(), Dbl(math.NaN()), Dbl(math.Inf(1)))),
			M("dup", Int(1)),
			M("dup", Int(2)),
			M("", Int(3)),
		)),
	)
	want := `{
  "data_sha": "abc",
  "nrow": 3,
  "colnames": ["a", "b"],
  "one": "x",
  "column_hashes": [
    {
      "name": "a",
      "sha": "1"
    },
    {
      "name": "b",
      "sha": "2"
    }
  ],
  "parents": [],
  "size_bytes": 2048,
  "custom": {
    "k": [1.5, 2],
    "n": {},
    "e": {},
    "na": null,
    "nas": ["a", null],
    "ni": "NA",
    "nd": ["NA", "NaN", "Inf"],
    "dup": 1,
    "dup.1": 2,
    "10": 3
  }
}`
	if got := string(Pretty(v)); got != want {
		t.Errorf("Pretty =\n%s\nwant\n%s", got, want)
	}
	wantCompact := `{"data_sha":"abc","nrow":3,"colnames":["a","b"],"one":"x","column_hashes":[{"name":"a","sha":"1"},{"name":"b","sha":"2"}],"parents":[],"size_bytes":2048,"custom":{"k":[1.5,2],"n":{},"e":{},"na":null,"nas":["a",null],"ni":"NA","nd":["NA","NaN","Inf"],"dup":1,"dup.1":2,"10":3}}`
	if got := string(Compact(v)); got != wantCompact {
		t.Errorf("Compact =\n%s\nwant\n%s", got, wantCompact)
	}
	// R lists print multi-line (jsonlite output after a list-mode read).
	lists := Obj(M("a", List(Int(1), Int(2), List(Int(3)))), M("b", Null()), M("c", Obj()), M("d", List()))
	wantLists := "{\n  \"a\": [\n    1,\n    2,\n    [\n      3\n    ]\n  ],\n  \"b\": {},\n  \"c\": {},\n  \"d\": []\n}"
	if got := string(Pretty(lists)); got != wantLists {
		t.Errorf("Pretty(lists) =\n%s\nwant\n%s", got, wantLists)
	}
}

func TestParsedArrayLayoutKept(t *testing.T) {
	inline := "{\n  \"colnames\": [\"a\", \"b\"]\n}"
	multi := "{\n  \"colnames\": [\n    \"a\",\n    \"b\"\n  ]\n}"
	vi, err := Parse([]byte(inline))
	if err != nil {
		t.Fatal(err)
	}
	vm, err := Parse([]byte(multi))
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := vi.Get("colnames")
	cm, _ := vm.Get("colnames")
	if ci.Kind() != KindList || cm.Kind() != KindList {
		t.Errorf("parsed arrays must be lists: %s, %s", ci.Kind(), cm.Kind())
	}
	if !Equal(vi, vm) || !bytes.Equal(Compact(vi), Compact(vm)) {
		t.Errorf("layouts must not change the value")
	}
	if got := string(Pretty(vi)); got != inline {
		t.Errorf("inline layout not kept:\n%s", got)
	}
	if got := string(Pretty(vm)); got != multi {
		t.Errorf("multi-line layout not kept:\n%s", got)
	}
	// An inline array holding a container is a list of lists: multi-line.
	v, _ := Parse([]byte(`[[1], {"a": 1}]`))
	if got := string(Pretty(v)); got != "[\n  [1],\n  {\n    \"a\": 1\n  }\n]" {
		t.Errorf("nested = %q", got)
	}
}

func TestMakeUnique(t *testing.T) {
	tests := []struct {
		keys []string
		want string
	}{
		{[]string{"a", "a", "a.1"}, `{"a":1,"a.2":2,"a.1":3}`},
		{[]string{"a", "a", "a"}, `{"a":1,"a.1":2,"a.2":3}`},
		{[]string{"", "x", ""}, `{"1":1,"x":2,"3":3}`},
		{[]string{"2", ""}, `{"2":1,"2.1":2}`},
	}
	for _, tt := range tests {
		var ms []Member
		for i, k := range tt.keys {
			ms = append(ms, M(k, Int(int32(i+1))))
		}
		if got := string(Compact(Obj(ms...))); got != tt.want {
			t.Errorf("keys %q: got %s, want %s", tt.keys, got, tt.want)
		}
	}
}

func TestVectorConstructor(t *testing.T) {
	if v := Strings("x"); v.Kind() != KindString {
		t.Errorf("Strings(x) kind = %s, want string (auto_unbox)", v.Kind())
	}
	if v := Strings(); v.Kind() != KindVector || string(Pretty(v)) != "[]" {
		t.Errorf("Strings() = %s %s, want empty vector []", v.Kind(), Pretty(v))
	}
	if v := Vector(Str("a"), Obj()); v.Kind() != KindList {
		t.Errorf("Vector with an object = %s, want list", v.Kind())
	}
}

func TestAccessors(t *testing.T) {
	v, err := Parse([]byte(`{"i":5,"d":3.0,"f":2.5,"s":"x","b":false,"big":3000000000}`))
	if err != nil {
		t.Fatal(err)
	}
	get := func(k string) Value { x, _ := v.Get(k); return x }
	if n, ok := get("i").AsInt(); !ok || n != 5 {
		t.Errorf("i = %d %v", n, ok)
	}
	if n, ok := get("d").AsInt(); !ok || n != 3 {
		t.Errorf("d = %d %v", n, ok)
	}
	if _, ok := get("f").AsInt(); ok {
		t.Errorf("2.5 AsInt ok, want not ok")
	}
	if n, ok := get("big").AsInt(); !ok || n != 3000000000 {
		t.Errorf("big = %d %v", n, ok)
	}
	if f, ok := get("f").AsFloat(); !ok || f != 2.5 {
		t.Errorf("f = %v %v", f, ok)
	}
	if s, ok := get("s").AsString(); !ok || s != "x" {
		t.Errorf("s = %q %v", s, ok)
	}
	if _, ok := get("i").AsString(); ok {
		t.Errorf("int AsString ok")
	}
	if b, ok := get("b").AsBool(); !ok || b {
		t.Errorf("b = %v %v", b, ok)
	}
	if _, ok := IntNA().AsInt(); ok {
		t.Errorf("IntNA AsInt ok")
	}
	if _, ok := v.Get("missing"); ok {
		t.Errorf("Get(missing) ok")
	}
	w := v.With("s", Str("y")).Without("i").With("new", Int(1))
	if got := w.String(); got != `{"d":3,"f":2.5,"s":"y","b":false,"big":3000000000,"new":1}` {
		t.Errorf("With/Without = %s", got)
	}
	if got := v.String(); !strings.HasPrefix(got, `{"i":5`) {
		t.Errorf("original changed: %s", got)
	}
	items := List(Int(1), Int(2))
	it := items.Items()
	it[0] = Int(9)
	if items.Items()[0].i != 1 {
		t.Errorf("Items() exposes internal storage")
	}
}

func TestCanonicalMetadata(t *testing.T) {
	// Golden (d), contract 9.
	in := Obj(
		M("data_sha", Str("abc123")),
		M("name", Str("mytable")),
		M("nrow", Int(100)),
		M("ncol", Int(5)),
		M("table_type", Str("imported")),
		M("hash_algo", Str("datom-cv1")),
	)
	const wantText = `{"data_sha":"abc123","hash_algo":"datom-cv1","name":"mytable","ncol":5,"nrow":100,"table_type":"imported"}`
	const wantSHA = "59f1f1d936c5d65472733a924493ce2362255d442ebea6d41f7c3c9e7069d326"
	got, err := CanonicalMetadata(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != wantText || len(got) != 106 {
		t.Errorf("canonical = %s (%d bytes), want %s", got, len(got), wantText)
	}
	if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != wantSHA {
		t.Errorf("sha = %x, want %s", sum, wantSHA)
	}
	// Parsed from its JSON (any layout) it canonicalises the same.
	parsed, err := Parse([]byte("{\n  \"data_sha\": \"abc123\",\n  \"name\": \"mytable\",\n  \"nrow\": 100,\n  \"ncol\": 5,\n  \"table_type\": \"imported\",\n  \"hash_algo\": \"datom-cv1\"\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := CanonicalMetadata(parsed); string(got) != wantText {
		t.Errorf("canonical(parsed) = %s", got)
	}

	tests := []struct {
		name string
		in   string
		want string
	}{
		{"volatile dropped", `{"size_bytes":1,"created_at":"x","datom_version":"0.1.1","parquet_sha":"p","column_hashes":[],"b":1}`, `{"b":1}`},
		{"byte order", `{"b":1,"_x":2,"Z":3,"a":4}`, `{"Z":3,"_x":2,"a":4,"b":1}`},
		{"nested order kept", `{"custom":{"z":1,"a":2}}`, `{"custom":{"z":1,"a":2}}`},
		{"null hashes as {}", `{"custom":null}`, `{"custom":{}}`},
		{"first duplicate kept", `{"a":1,"a":2}`, `{"a":1}`},
		{"3.0 prints 3", `{"nrow":3.0}`, `{"nrow":3}`},
		{"digits 4", `{"x":0.123456}`, `{"x":0.1235}`},
		{"array layouts equal", "{\"colnames\": [\n  \"a\",\n  \"b\"\n]}", `{"colnames":["a","b"]}`},
	}
	for _, tt := range tests {
		v, err := Parse([]byte(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := CanonicalMetadata(v)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
	if _, err := CanonicalMetadata(List()); !errors.Is(err, ErrNotObject) {
		t.Errorf("CanonicalMetadata(list) error = %v, want ErrNotObject", err)
	}
}

func TestRoundTripPretty(t *testing.T) {
	docs := []string{
		"{\n  \"a\": [\n    1,\n    2.5\n  ],\n  \"b\": {\n    \"c\": \"x<\\/y\"\n  },\n  \"d\": [],\n  \"e\": {}\n}",
		"[]",
		"[\n  {\n    \"version\": \"abc\",\n    \"author\": \"unknown\"\n  }\n]",
		`"just a string"`,
	}
	for _, d := range docs {
		v, err := Parse([]byte(d))
		if err != nil {
			t.Fatalf("Parse(%q): %v", d, err)
		}
		if got := string(Pretty(v)); got != d {
			t.Errorf("Pretty(Parse(x)) =\n%s\nwant\n%s", got, d)
		}
	}
}

func TestEqual(t *testing.T) {
	if Equal(Int(3), Dbl(3)) {
		t.Errorf("Int 3 equals Dbl 3")
	}
	if Equal(List(Str("a"), Str("b")), Strings("a", "b")) {
		t.Errorf("list equals vector")
	}
	if !Equal(Obj(M("a", List(Int(1)))), Obj(M("a", List(Int(1))))) {
		t.Errorf("identical objects differ")
	}
}

// The Scanner accepts exactly the documents Parse accepts.
func TestScannerSkipValue(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `null`, `true`, `false`, `"x"`, `-0`, `-0.0`, `1e400`, `2147483648`, `1.5E-3`,
		`{"a":[1,{"b":null}],"a":"\u00e9\ud83d\ude00<\/"}`, " [ 1 , \"a\" ,\n{ } ] ",
		`{`, `[`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `-`, `1e`, `nul`, `tru`,
		`"\x"`, `"\u12"`, "\"a\nb\"", "\"\xc3\"", "\"\xc3\\u00e9\"", "{\"\xff\":1}", `[] []`, `"`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
	}
	for _, d := range docs {
		_, err := Parse([]byte(d))
		sc := NewScanner([]byte(d))
		sc.SkipSpace()
		skipErr := sc.SkipValue(0)
		if skipErr == nil {
			skipErr = sc.End()
		}
		if (err == nil) != (skipErr == nil) {
			t.Errorf("%.40q: Parse error %v, Scanner error %v", d, err, skipErr)
		}
	}
}

// strSpecialMask marks exactly the first special byte of a word.
func TestStrSpecialMask(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var w [8]byte
	for i := 0; i < 300000; i++ {
		for j := range w {
			if r.Intn(3) == 0 {
				w[j] = byte(r.Intn(256))
			} else {
				w[j] = byte(0x20 + r.Intn(0x60))
			}
		}
		first := 8
		for j, c := range w {
			if strSpecial[c] {
				first = j
				break
			}
		}
		m := strSpecialMask(binary.LittleEndian.Uint64(w[:]))
		if got := bits.TrailingZeros64(m) / 8; got != first {
			t.Fatalf("% x: first special byte %d, mask says %d", w, first, got)
		}
	}
}
