package meta

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTableName(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		message string // substring of the error
	}{
		{"lb", true, ""},
		{"dm", true, ""},
		{"Study 1 (pilot)-v_2", true, ""},
		{"R", true, ""},
		{"a", true, ""},
		{strings.Repeat("a", 128), true, ""},
		{strings.Repeat("a", 129), false, "longer than 128"},
		{"", false, "must not be empty"},
		{"a/b", false, "only letters, digits, space, _ ( ) - allowed; must start with a letter"},
		{"1abc", false, "must start with a letter"},
		{"_x", false, "must start with a letter"},
		{" x", false, "must start with a letter"},
		{"a.b", false, "only letters"},
		{"é", false, "only letters"},
		{".datom", false, "only letters"},
		{"datom", false, `"datom" is reserved`},
		{"DATOM", false, "reserved"},
		{"Input_Files", false, "reserved"},
		{"renv", false, "reserved"},
		{"RENV", false, "reserved"},
	}
	for _, tt := range tests {
		n, err := ParseTableName(tt.in)
		if tt.ok {
			if err != nil || n.String() != tt.in || n.IsZero() {
				t.Errorf("ParseTableName(%q) = %v, %v; want ok", tt.in, n, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("ParseTableName(%q) error = %v, want ErrInvalidName", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.message) || !strings.HasPrefix(err.Error(), "table name ") {
			t.Errorf("ParseTableName(%q) error %q lacks %q", tt.in, err, tt.message)
		}
	}
	_, err := ParseTableName("a/b")
	if got := err.Error(); got != `table name "a/b": only letters, digits, space, _ ( ) - allowed; must start with a letter` {
		t.Errorf("message = %s", got)
	}
	if _, err := ParseProjectName("yes"); err != nil {
		t.Errorf("project yes: %v", err)
	}
	if _, err := ParseProjectName("x!"); !errors.Is(err, ErrInvalidName) || !strings.HasPrefix(err.Error(), "project name") {
		t.Errorf("project x!: %v", err)
	}
}

func TestNameText(t *testing.T) {
	var n TableName
	if err := n.UnmarshalText([]byte("ae")); err != nil || n.String() != "ae" {
		t.Errorf("UnmarshalText(ae) = %v, %v", n, err)
	}
	if err := n.UnmarshalText([]byte("a/e")); !errors.Is(err, ErrInvalidName) {
		t.Errorf("UnmarshalText(a/e) = %v", err)
	}
	if b, _ := n.MarshalText(); string(b) != "ae" {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestTimestamps(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	ts := time.Date(2026, 1, 2, 5, 4, 5, 999, loc)
	if got := FormatTimestamp(ts); got != "2026-01-02T03:04:05Z" {
		t.Errorf("FormatTimestamp = %s", got)
	}
	p, err := ParseTimestamp("2026-01-02T03:04:05Z")
	if err != nil || !p.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("ParseTimestamp = %v, %v", p, err)
	}
	for _, bad := range []string{"", "2026-01-02", "2026-01-02T03:04:05+01:00", "2026-01-02 03:04:05Z"} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) succeeded", bad)
		}
	}
}

func TestMustTableName(t *testing.T) {
	if got := MustTableName("lb (v2)"); got.String() != "lb (v2)" {
		t.Errorf("MustTableName = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustTableName of an invalid name did not panic")
		}
	}()
	MustTableName("a/b")
}

func TestRepoPaths(t *testing.T) {
	n := MustTableName("My Table (v2)")
	for got, want := range map[string]string{
		MetadataPath(n):   "My Table (v2)/metadata.json",
		HistoryPath(n):    "My Table (v2)/version_history.json",
		ManifestPath:      ".datom/manifest.json",
		GovernancePath:    ".datom/governance.json",
		ProjectConfigPath: ".datom/project.yaml",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
