// Package meta holds datom's repository documents as typed, immutable
// values: table and project names, metadata.json, version_history.json,
// manifest.json, project.yaml, governance.json and ref.json. Each document
// comes from a validating constructor or parser and serializes back to the
// bytes datom (R) writes (contract sections 2, 7 and 8).
package meta

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidName reports a table or project name that breaks contract 7.1.
var ErrInvalidName = errors.New("invalid name")

// MaxNameLength is the longest valid table or project name.
const MaxNameLength = 128

var reservedNames = []string{".metadata", ".datom", "input_files", "datom", ".git", ".gitignore", "renv"}

// TableName is a validated table name. It goes verbatim into git paths and
// object keys. The zero value is not a valid name.
type TableName struct{ s string }

// ProjectName is a validated project name (same rules as a table name).
type ProjectName struct{ s string }

// ParseTableName validates s as a table name (contract 7.1).
func ParseTableName(s string) (TableName, error) {
	if err := validateName("table", s); err != nil {
		return TableName{}, err
	}
	return TableName{s}, nil
}

// ParseProjectName validates s as a project name (contract 7.1).
func ParseProjectName(s string) (ProjectName, error) {
	if err := validateName("project", s); err != nil {
		return ProjectName{}, err
	}
	return ProjectName{s}, nil
}

// MustTableName is ParseTableName for a name known to be valid (a
// constant, a test); it panics on an invalid one.
func MustTableName(s string) TableName {
	n, err := ParseTableName(s)
	if err != nil {
		panic(err)
	}
	return n
}

func (n TableName) String() string   { return n.s }
func (n ProjectName) String() string { return n.s }

// IsZero reports whether n is the zero (unset) name.
func (n TableName) IsZero() bool { return n.s == "" }

// IsZero reports whether n is the zero (unset) name.
func (n ProjectName) IsZero() bool { return n.s == "" }

// MarshalText writes the name as plain text.
func (n TableName) MarshalText() ([]byte, error) { return []byte(n.s), nil }

// UnmarshalText parses and validates a name.
func (n *TableName) UnmarshalText(b []byte) error {
	v, err := ParseTableName(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// MarshalText writes the name as plain text.
func (n ProjectName) MarshalText() ([]byte, error) { return []byte(n.s), nil }

// UnmarshalText parses and validates a name.
func (n *ProjectName) UnmarshalText(b []byte) error {
	v, err := ParseProjectName(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// nameError says what is wrong with a name and matches ErrInvalidName.
type nameError struct{ msg string }

func (e *nameError) Error() string { return e.msg }
func (e *nameError) Unwrap() error { return ErrInvalidName }

func validateName(what, s string) error {
	fail := func(why string) error {
		return &nameError{msg: fmt.Sprintf("%s name %q: %s", what, s, why)}
	}
	if s == "" {
		return fail("must not be empty")
	}
	if len(s) > MaxNameLength {
		return fail(fmt.Sprintf("longer than %d characters", MaxNameLength))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		ok := letter || i > 0 && (c >= '0' && c <= '9' || c == '_' || c == ' ' || c == '(' || c == ')' || c == '-')
		if !ok {
			return fail("only letters, digits, space, _ ( ) - allowed; must start with a letter")
		}
	}
	for _, r := range reservedNames {
		if strings.EqualFold(s, r) {
			return fail(fmt.Sprintf("%q is reserved", r))
		}
	}
	return nil
}

// TimestampLayout is datom's UTC timestamp format (YYYY-MM-DDTHH:MM:SSZ).
const TimestampLayout = "2006-01-02T15:04:05Z"

// FormatTimestamp formats t in UTC as YYYY-MM-DDTHH:MM:SSZ (seconds
// truncated).
func FormatTimestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// ParseTimestamp parses a YYYY-MM-DDTHH:MM:SSZ timestamp as UTC.
func ParseTimestamp(s string) (time.Time, error) {
	if t, ok := quickTimestamp(s); ok {
		return t, nil
	}
	t, err := time.Parse(TimestampLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: want YYYY-MM-DDTHH:MM:SSZ: %w", s, err)
	}
	return t, nil
}

// quickTimestamp is time.Parse(TimestampLayout, s) for a timestamp of
// exactly that form with every field in range (a history of 10,000
// versions has 10,000); it reports false for anything else, which
// time.Parse then reads or refuses.
func quickTimestamp(s string) (time.Time, bool) {
	if len(s) != len(TimestampLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	ok := true
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				ok = false
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if !ok || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	if day > days {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

// windowsDeviceNames cannot name a file or folder on Windows, in any case
// and with any extension; git for Windows and go-git refuse such paths.
var windowsDeviceNames = []string{"CON", "PRN", "AUX", "NUL",
	"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
	"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"}

// CheckPortableName refuses a valid table name that git or a common file
// system cannot hold as a folder: a Windows device name (alone or followed
// by a space or a dot, as Windows reads it) or a trailing space (Windows
// drops it). datom (R) accepts these names, but a clone on Windows, where
// many R users work, could not check them out. Existing tables are read
// whatever their name; only new ones are refused.
func CheckPortableName(n TableName) error {
	s := n.s
	for _, d := range windowsDeviceNames {
		if len(s) >= len(d) && strings.EqualFold(s[:len(d)], d) && (len(s) == len(d) || s[len(d)] == ' ' || s[len(d)] == '.') {
			return &nameError{msg: fmt.Sprintf("table name %q: %s is a Windows device name, which git cannot check out on Windows; choose another name", s, d)}
		}
	}
	if strings.HasSuffix(s, " ") {
		return &nameError{msg: fmt.Sprintf("table name %q: ends with a space, which Windows drops from folder names; remove it", s)}
	}
	return nil
}
