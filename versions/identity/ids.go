// Package identity computes datom's identities: the datom-cv1 data_sha of a
// table, the metadata_sha of a version and the SHA-256 of raw bytes. It does
// no I/O beyond reading the inputs it is handed.
package identity

import (
	"errors"
	"fmt"
)

// DataSHA is the datom-cv1 content hash of a table's values (64 lowercase hex).
type DataSHA string

// MetadataSHA identifies a version: the SHA-256 of its canonical metadata.
type MetadataSHA string

// ParquetSHA is the SHA-256 of a stored parquet object's exact bytes
// (contract 4.4): integrity only, never identity. The zero value "" means
// none was recorded (versions written before datom-cv1): no integrity check
// (contract 2.4, 6.3). Documents keep the value as written.
type ParquetSHA string

// ErrBadSHA reports a string that is not a lowercase hex digest.
var ErrBadSHA = errors.New("not a lowercase hex sha")

// ValidKeySHA reports whether s may be spliced into a store key (contract
// 7.2): 6 to 64 lowercase hex digits.
func ValidKeySHA(s string) bool { return len(s) >= 6 && len(s) <= 64 && lowerHex(s) }

// lowerHex reports whether s is only lowercase hex digits. (A loop, not a
// regexp: a listing of 10,000 versions checks every id on every lookup.)
func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func parseFull(s string) error {
	if len(s) != 64 {
		return fmt.Errorf("%q: %w (want 64 characters, got %d)", s, ErrBadSHA, len(s))
	}
	if !lowerHex(s) {
		return fmt.Errorf("%q: %w", s, ErrBadSHA)
	}
	return nil
}

// ParseDataSHA accepts a full 64-hex data_sha.
func ParseDataSHA(s string) (DataSHA, error) {
	if err := parseFull(s); err != nil {
		return "", fmt.Errorf("data_sha %w", err)
	}
	return DataSHA(s), nil
}

// ParseMetadataSHA accepts a full 64-hex metadata_sha.
func ParseMetadataSHA(s string) (MetadataSHA, error) {
	if err := parseFull(s); err != nil {
		return "", fmt.Errorf("version %w", err)
	}
	return MetadataSHA(s), nil
}

// ParseParquetSHA accepts a full 64-hex parquet_sha, or "" (none recorded:
// no integrity check).
func ParseParquetSHA(s string) (ParquetSHA, error) {
	if s == "" {
		return "", nil
	}
	if err := parseFull(s); err != nil {
		return "", fmt.Errorf("parquet_sha %w", err)
	}
	return ParquetSHA(s), nil
}

func (d DataSHA) String() string     { return string(d) }
func (m MetadataSHA) String() string { return string(m) }
func (p ParquetSHA) String() string  { return string(p) }

// Short is the 8-hex form shown to people.
func (d DataSHA) Short() string { return short(string(d)) }

// Short is the 8-hex form shown to people and used in mount file names.
func (m MetadataSHA) Short() string { return short(string(m)) }

// Short is the 8-hex form shown to people ("" when none was recorded).
func (p ParquetSHA) Short() string { return short(string(p)) }

// IsZero reports whether no parquet_sha was recorded: no integrity check.
func (p ParquetSHA) IsZero() bool { return p == "" }

// Verifies reports whether bytes whose SHA-256 is sum (64 lowercase hex,
// as SHA256File returns) pass the integrity check: always when no
// parquet_sha was recorded, else only when it is exactly sum.
func (p ParquetSHA) Verifies(sum string) bool { return p == "" || string(p) == sum }

func short(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// MarshalText / UnmarshalText make the IDs plain JSON strings.
func (d DataSHA) MarshalText() ([]byte, error)     { return []byte(d), nil }
func (m MetadataSHA) MarshalText() ([]byte, error) { return []byte(m), nil }
func (p ParquetSHA) MarshalText() ([]byte, error)  { return []byte(p), nil }

func (d *DataSHA) UnmarshalText(b []byte) error {
	v, err := ParseDataSHA(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (m *MetadataSHA) UnmarshalText(b []byte) error {
	v, err := ParseMetadataSHA(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// UnmarshalText accepts what ParseParquetSHA does: "" is "none recorded".
func (p *ParquetSHA) UnmarshalText(b []byte) error {
	v, err := ParseParquetSHA(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
