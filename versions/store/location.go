package store

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Store types, as written in project.yaml's storage.data.type.
const (
	TypeLocal = "local"
	TypeS3    = "s3"
)

// Location says where a store lives, as project.yaml and ref.json describe
// it: a type, a root (an absolute directory or a bucket), a prefix and, for
// S3, a region.
type Location struct {
	Type   string // TypeLocal or TypeS3
	Root   string // absolute, tidied directory; or the bucket name
	Prefix string // verbatim ("proj/" keeps its slash); empty for none
	Region string // S3 only; empty means the SDK's configuration or us-east-1
}

// ParseLocation reads a location from a command line or a config:
//
//	/abs/path, ./rel, rel     a local directory (made absolute and tidied)
//	file:///abs/path          a local directory
//	s3://bucket               an S3 bucket, no prefix
//	s3://bucket/prefix/       an S3 bucket and prefix (kept verbatim)
//	s3://bucket/p?region=r    with a region
//
// Strings with credentials (s3://key:secret@bucket) are refused without
// being echoed. Errors wrap ErrBadLocation.
func ParseLocation(s string) (Location, error) {
	if s == "" {
		return Location{}, fmt.Errorf("%w: empty", ErrBadLocation)
	}
	scheme, rest, isURL := strings.Cut(s, "://")
	if !isURL {
		if l := strings.ToLower(s); strings.HasPrefix(l, "s3:") || strings.HasPrefix(l, "file:") {
			return Location{}, fmt.Errorf("%w: want s3://bucket/prefix or file:///path (or a plain path)", ErrBadLocation)
		}
		abs, err := filepath.Abs(s)
		if err != nil {
			return Location{}, fmt.Errorf("%w: local path %q: %w", ErrBadLocation, s, err)
		}
		return Location{Type: TypeLocal, Root: abs}, nil
	}
	switch strings.ToLower(scheme) {
	case "s3":
		return parseS3(rest)
	case "file":
		return parseFile(s)
	default:
		if strings.Contains(rest, "@") {
			return Location{}, fmt.Errorf("%w: unsupported scheme %q", ErrBadLocation, scheme)
		}
		return Location{}, fmt.Errorf("%w: unsupported scheme %q in %q (want a path, file:// or s3://)", ErrBadLocation, scheme, s)
	}
}

func parseS3(rest string) (Location, error) {
	rest, query, _ := strings.Cut(rest, "?")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if strings.Contains(bucket, "@") {
		return Location{}, fmt.Errorf("%w: s3 locations must not carry credentials; use the environment or a profile", ErrBadLocation)
	}
	if bucket == "" {
		return Location{}, fmt.Errorf("%w: s3://%s has no bucket", ErrBadLocation, rest)
	}
	if strings.ContainsAny(bucket, " \t\n:\\") {
		return Location{}, fmt.Errorf("%w: bad bucket name %q", ErrBadLocation, bucket)
	}
	loc := Location{Type: TypeS3, Root: bucket, Prefix: prefix}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return Location{}, fmt.Errorf("%w: s3://%s: query: %w", ErrBadLocation, rest, err)
		}
		for k, v := range q {
			if k != "region" || len(v) != 1 {
				return Location{}, fmt.Errorf("%w: s3://%s: unknown or repeated parameter %q (only region= is accepted)", ErrBadLocation, rest, k)
			}
			loc.Region = v[0]
		}
	}
	return loc, nil
}

func parseFile(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Location{}, fmt.Errorf("%w: %w", ErrBadLocation, err)
	}
	if u.User != nil {
		return Location{}, fmt.Errorf("%w: file URL with a user part", ErrBadLocation)
	}
	if u.Host != "" && u.Host != "localhost" {
		return Location{}, fmt.Errorf("%w: %q names host %q; only local files are supported", ErrBadLocation, s, u.Host)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Location{}, fmt.Errorf("%w: %q has a query or fragment", ErrBadLocation, s)
	}
	if !strings.HasPrefix(u.Path, "/") {
		return Location{}, fmt.Errorf("%w: %q is not an absolute file URL (want file:///path)", ErrBadLocation, s)
	}
	return Location{Type: TypeLocal, Root: filepath.Clean(u.Path)}, nil
}

// String names the location for messages: "/abs/path" (with the prefix
// appended when there is one, which is where the objects live) or
// "s3://bucket/prefix". The region is not shown. No credentials are ever part
// of a Location.
func (l Location) String() string {
	p := strings.Trim(l.Prefix, "/")
	switch l.Type {
	case TypeS3:
		if p == "" {
			return "s3://" + l.Root
		}
		return "s3://" + l.Root + "/" + p
	case TypeLocal:
		if p == "" {
			return l.Root
		}
		return filepath.Join(l.Root, p)
	default:
		return fmt.Sprintf("%s:%s/%s", l.Type, l.Root, p)
	}
}

// Layout is the key layout of the store at this location.
func (l Location) Layout() Layout { return Layout{Prefix: l.Prefix} }

// FrameJSON turns JSON text (without a trailing newline) into the bytes of a
// stored object (contract 1.1): local stores end the text with exactly one
// "\n", S3 objects have none.
func (l Location) FrameJSON(text []byte) []byte {
	text = []byte(strings.TrimRight(string(text), "\n"))
	if l.Type == TypeLocal {
		return append(text, '\n')
	}
	return text
}
