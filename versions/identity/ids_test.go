package identity

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The SHA-256 of "abc" (contract 9 (e)): a well-formed 64-hex digest.
const shaABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

func TestParseParquetSHA(t *testing.T) {
	cases := []struct {
		in   string
		want ParquetSHA
		ok   bool
	}{
		{shaABC, ParquetSHA(shaABC), true},
		{"", "", true}, // none recorded: no integrity check (contract 2.4)
		{strings.ToUpper(shaABC), "", false},
		{shaABC[:63], "", false},
		{shaABC + "0", "", false},
		{shaABC[:8], "", false}, // a prefix is not a parquet_sha
		{strings.Repeat("g", 64), "", false},
	}
	for _, c := range cases {
		got, err := ParseParquetSHA(c.in)
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("ParseParquetSHA(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !errors.Is(err, ErrBadSHA) {
			t.Errorf("ParseParquetSHA(%q): %v does not match ErrBadSHA", c.in, err)
		}
	}
}

func TestParquetSHAMethods(t *testing.T) {
	p := ParquetSHA(shaABC)
	if p.String() != shaABC || p.Short() != "ba7816bf" || p.IsZero() {
		t.Errorf("String %q Short %q IsZero %v", p.String(), p.Short(), p.IsZero())
	}
	var none ParquetSHA
	if none.String() != "" || none.Short() != "" || !none.IsZero() {
		t.Errorf("zero: String %q Short %q IsZero %v", none.String(), none.Short(), none.IsZero())
	}
	if !p.Verifies(shaABC) || p.Verifies(strings.Repeat("0", 64)) {
		t.Error("a recorded parquet_sha must verify exactly its own digest")
	}
	if !none.Verifies(shaABC) || !none.Verifies("") {
		t.Error("no parquet_sha recorded must verify anything (no integrity check)")
	}
}

// JSON is the contract's: a plain string, absent (omitempty) or "" when
// none was recorded, never null.
func TestParquetSHAJSON(t *testing.T) {
	type doc struct {
		P ParquetSHA `json:"parquet_sha,omitempty"`
	}
	for _, c := range []struct {
		in   ParquetSHA
		want string
	}{
		{ParquetSHA(shaABC), `{"parquet_sha":"` + shaABC + `"}`},
		{"", `{}`},
	} {
		b, err := json.Marshal(doc{c.in})
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%q) = %s, %v; want %s", c.in, b, err, c.want)
		}
		var back doc
		if err := json.Unmarshal(b, &back); err != nil || back.P != c.in {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q", b, back.P, err, c.in)
		}
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"parquet_sha":""}`), &d); err != nil || !d.P.IsZero() {
		t.Errorf(`"" must read as none recorded: %q, %v`, d.P, err)
	}
	if err := json.Unmarshal([]byte(`{"parquet_sha":"XYZ"}`), &d); !errors.Is(err, ErrBadSHA) {
		t.Errorf("a malformed parquet_sha must be refused: %v", err)
	}
}

func TestValidKeySHA(t *testing.T) {
	for s, want := range map[string]bool{
		"abcdef":                true,
		"0123456789abcdef":      true,
		strings.Repeat("a", 64): true,
		strings.Repeat("a", 65): false,
		"abcde":                 false,
		"":                      false,
		"ABCDEF":                false,
		"abcdeg":                false,
		"abc/ef":                false,
		"abcde\n":               false,
		"../../x":               false,
		"abcdef\x00":            false,
		strings.Repeat("0", 6):  true,
		strings.Repeat("f", 63): true,
	} {
		if got := ValidKeySHA(s); got != want {
			t.Errorf("ValidKeySHA(%q) = %v, want %v", s, got, want)
		}
	}
	for s, ok := range map[string]bool{strings.Repeat("0", 64): true, strings.Repeat("G", 64): false, strings.Repeat("A", 64): false, "ab": false} {
		if _, err := ParseDataSHA(s); (err == nil) != ok {
			t.Errorf("ParseDataSHA(%q): %v", s, err)
		}
	}
}
