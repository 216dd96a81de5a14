package datomjson

import (
	"bytes"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// re-serializes to text it accepts again and that is stable from then on.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `"x"`, `-0`, `-0.0`, `1e400`, `2147483648`,
		`{"a":[1,{"b":null}],"a":"\u00e9\ud83d\ude00<\/"}`,
		"{\n  \"colnames\": [\"a\", \"b\"]\n}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		sc := NewScanner(data)
		sc.SkipSpace()
		skipErr := sc.SkipValue(0)
		if skipErr == nil {
			skipErr = sc.End()
		}
		if (err == nil) != (skipErr == nil) {
			t.Fatalf("Parse error %v, Scanner error %v", err, skipErr)
		}
		if err != nil {
			return
		}
		p := Pretty(v)
		v2, err := Parse(p)
		if err != nil {
			t.Fatalf("Pretty output does not parse: %v\n%s", err, p)
		}
		// One write/read cycle may change kinds ("-0" comes back as an
		// integer, "Inf" as a string); after that the text is stable.
		c2 := Compact(v2)
		v3, err := Parse(c2)
		if err != nil {
			t.Fatalf("Compact output does not parse: %v\n%s", err, c2)
		}
		if c3 := Compact(v3); !bytes.Equal(c2, c3) {
			t.Fatalf("compact text not stable:\n%s\n%s", c2, c3)
		}
		_, _ = CanonicalMetadata(v)
	})
}
