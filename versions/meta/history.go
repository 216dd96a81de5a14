package meta

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/datomfs/datomfs/versions/datomjson"
	"github.com/datomfs/datomfs/versions/identity"
)

var (
	// ErrVersionNotFound: no version in the history starts with the prefix.
	ErrVersionNotFound = errors.New("version not found")
	// ErrAmbiguousVersion: several versions start with the prefix.
	ErrAmbiguousVersion = errors.New("ambiguous version prefix")
	// ErrInvalidHistory reports a version_history.json that breaks 2.5.
	ErrInvalidHistory = errors.New("invalid version history")
)

// Author is the git identity recorded with a version. An author without
// both a name and an email is written as the string "unknown".
type Author struct {
	Name  string
	Email string
}

// IsUnknown reports whether the author is recorded as "unknown".
func (a Author) IsUnknown() bool { return a.Name == "" || a.Email == "" }

func (a Author) value() datomjson.Value {
	if a.IsUnknown() {
		return datomjson.Str("unknown")
	}
	return datomjson.Obj(datomjson.M("name", datomjson.Str(a.Name)), datomjson.M("email", datomjson.Str(a.Email)))
}

// HistoryEntry is one version in version_history.json.
type HistoryEntry struct {
	Version         identity.MetadataSHA
	DataSHA         identity.DataSHA
	Timestamp       time.Time // zero if the stored text is malformed
	Author          Author
	CommitMessage   string
	ParquetSHA      identity.ParquetSHA // "" when the version's metadata had none
	OriginalFileSHA string              // imported versions only
}

// EntryFor is the history entry datom writes for a new version m.
func EntryFor(m Metadata, author Author, message string) HistoryEntry {
	return HistoryEntry{
		Version:         m.Version(),
		DataSHA:         m.DataSHA(),
		Timestamp:       m.CreatedAt(),
		Author:          author,
		CommitMessage:   message,
		ParquetSHA:      m.ParquetSHA(),
		OriginalFileSHA: m.OriginalFileSHA(),
	}
}

func (e HistoryEntry) value() datomjson.Value {
	ms := []datomjson.Member{
		datomjson.M("version", datomjson.Str(string(e.Version))),
		datomjson.M("data_sha", datomjson.Str(string(e.DataSHA))),
		datomjson.M("timestamp", datomjson.Str(FormatTimestamp(e.Timestamp))),
		datomjson.M("author", e.Author.value()),
		datomjson.M("commit_message", datomjson.Str(e.CommitMessage)),
	}
	if !e.ParquetSHA.IsZero() {
		ms = append(ms, datomjson.M("parquet_sha", datomjson.Str(e.ParquetSHA.String())))
	}
	if e.OriginalFileSHA != "" {
		ms = append(ms, datomjson.M("original_file_sha", datomjson.Str(e.OriginalFileSHA)))
	}
	return datomjson.Obj(ms...)
}

func entryFromValue(v datomjson.Value) (HistoryEntry, error) {
	if v.Kind() != datomjson.KindObject {
		return HistoryEntry{}, fmt.Errorf("%w: entry is not an object", ErrInvalidHistory)
	}
	ver := str(v, "version")
	if !identity.ValidKeySHA(ver) {
		return HistoryEntry{}, fmt.Errorf("%w: entry version %q is not lowercase hex", ErrInvalidHistory, ver)
	}
	e := HistoryEntry{
		Version:         identity.MetadataSHA(ver),
		DataSHA:         identity.DataSHA(str(v, "data_sha")),
		CommitMessage:   str(v, "commit_message"),
		ParquetSHA:      identity.ParquetSHA(str(v, "parquet_sha")),
		OriginalFileSHA: str(v, "original_file_sha"),
	}
	if t, err := ParseTimestamp(str(v, "timestamp")); err == nil {
		e.Timestamp = t
	}
	if a, ok := v.Get("author"); ok && a.Kind() == datomjson.KindObject {
		e.Author = Author{Name: str(a, "name"), Email: str(a, "email")}
	}
	return e, nil
}

// historyItem is one entry, written back verbatim: entries are never
// rewritten. A parsed entry keeps its text and is parsed again only when
// its Value is needed (a write splices the new entry in front of the old
// text, so most never are); a new entry has its Value.
type historyItem struct {
	entry HistoryEntry
	text  string           // the entry's JSON text, or "" for a new entry
	raw   *datomjson.Value // when text is "" (a pointer: most items have text)
}

// History is a table's version_history.json, newest first. The zero value
// is an empty history. Parsed entries are written back exactly as read
// (unknown keys included).
//
// A write adds one entry to a document that grows with every version (4 MB
// at 10,000): JSON splices the new entry in front of the text it was
// parsed from rather than writing every entry again. The old entries keep
// their text byte for byte; a layout datomfs would not have written is
// still the same document to every reader (contract 10.2, quirk 3).
type History struct {
	items []historyItem
	// src is the document items[1:] were parsed from when added is set
	// (items[0:] when not), without trailing whitespace, or nil.
	src   []byte
	added bool // items[0] is new: not in src
}

// ParseHistory reads a version_history.json.
func ParseHistory(data []byte) (History, error) {
	if h, ok := scanHistory(data); ok {
		return h, nil
	}
	// Not a well-formed list of valid entries: the generic path says why
	// (and is the rule scanHistory must agree with on every document).
	return parseHistoryValue(data)
}

// parseHistoryValue is ParseHistory through the document's Value tree.
func parseHistoryValue(data []byte) (History, error) {
	v, err := datomjson.Parse(data)
	if err != nil {
		return History{}, fmt.Errorf("parse version history: %w", err)
	}
	if v.Kind() == datomjson.KindObject && v.Len() == 0 {
		// jsonlite writes an empty R list as []; tolerate {} too.
		return History{}, nil
	}
	if v.Kind() != datomjson.KindList {
		return History{}, fmt.Errorf("parse version history: %w: not an array", ErrInvalidHistory)
	}
	items := make([]historyItem, 0, v.Len())
	for i, it := range v.Items() {
		e, err := entryFromValue(it)
		if err != nil {
			return History{}, fmt.Errorf("parse version history entry %d: %w", i+1, err)
		}
		items = append(items, historyItem{entry: e, raw: &it})
	}
	return History{items: items, src: bytes.TrimRight(data, " \t\r\n")}, nil
}

// scanHistory is ParseHistory for a document that is an array of valid
// entries, without building the Value tree: it reads only an entry's
// fields, with entryFromValue's rules (the first member of a name counts;
// a member that is not a string counts as ""), and keeps each entry's
// text. It reports false for any other document, valid or not.
func scanHistory(data []byte) (History, bool) {
	sc := datomjson.NewScanner(data)
	sc.SkipSpace()
	if !sc.Consume('[') {
		return History{}, false
	}
	// About 430 bytes an entry as datom writes them.
	items := make([]historyItem, 0, len(data)/400+1)
	sc.SkipSpace()
	if !sc.Consume(']') {
		for {
			sc.SkipSpace()
			start := sc.Pos()
			e, ok := scanEntry(sc)
			if !ok {
				return History{}, false
			}
			items = append(items, historyItem{entry: e, text: sc.Text(start, sc.Pos())})
			sc.SkipSpace()
			if sc.Consume(',') {
				continue
			}
			if sc.Consume(']') {
				break
			}
			return History{}, false
		}
	}
	if sc.End() != nil {
		return History{}, false
	}
	return History{items: items, src: bytes.TrimRight(data, " \t\r\n")}, true
}

// The members of an entry (depth 2: inside the top-level array) and of its
// author object (depth 3).
const (
	entryDepth  = 2
	authorDepth = 3
)

// scanMembers reads an object: member reads the value of each member
// (the scanner is at it) and says whether it could.
func scanMembers(sc *datomjson.Scanner, member func(key string) bool) bool {
	if !sc.Consume('{') {
		return false
	}
	sc.SkipSpace()
	if sc.Consume('}') {
		return true
	}
	for {
		sc.SkipSpace()
		key, err := sc.String()
		if err != nil {
			return false
		}
		sc.SkipSpace()
		if !sc.Consume(':') {
			return false
		}
		sc.SkipSpace()
		if !member(key) {
			return false
		}
		sc.SkipSpace()
		if sc.Consume(',') {
			continue
		}
		return sc.Consume('}')
	}
}

// scanEntry reads one entry object.
func scanEntry(sc *datomjson.Scanner) (HistoryEntry, bool) {
	var (
		e                                      HistoryEntry
		version, timestamp                     string
		seenVer, seenData, seenTime, seenAuth  bool
		seenMsg, seenParquet, seenOrig, failed bool
	)
	// field reads the value of a member named by a field: the first such
	// member's string, or "" when it is not a string.
	field := func(seen *bool) string {
		var s string
		var err error
		if sc.Peek() == '"' {
			s, err = sc.String()
		} else {
			err = sc.SkipValue(entryDepth)
		}
		failed = failed || err != nil
		if *seen {
			return ""
		}
		*seen = true
		return s
	}
	ok := scanMembers(sc, func(key string) bool {
		switch key {
		case "version":
			if s := field(&seenVer); s != "" {
				version = s
			}
		case "data_sha":
			if s := field(&seenData); s != "" {
				e.DataSHA = identity.DataSHA(s)
			}
		case "timestamp":
			if s := field(&seenTime); s != "" {
				timestamp = s
			}
		case "commit_message":
			if s := field(&seenMsg); s != "" {
				e.CommitMessage = s
			}
		case "parquet_sha":
			if s := field(&seenParquet); s != "" {
				e.ParquetSHA = identity.ParquetSHA(s)
			}
		case "original_file_sha":
			if s := field(&seenOrig); s != "" {
				e.OriginalFileSHA = s
			}
		case "author":
			if !seenAuth && sc.Peek() == '{' {
				a, ok := scanAuthor(sc)
				if !ok {
					return false
				}
				e.Author = a
			} else if sc.SkipValue(entryDepth) != nil {
				return false
			}
			seenAuth = true
		default:
			return sc.SkipValue(entryDepth) == nil
		}
		return !failed
	})
	if !ok || !identity.ValidKeySHA(version) {
		return HistoryEntry{}, false
	}
	e.Version = identity.MetadataSHA(version)
	if t, err := ParseTimestamp(timestamp); err == nil {
		e.Timestamp = t
	}
	return e, true
}

// scanAuthor reads an author object: its first name and email members.
func scanAuthor(sc *datomjson.Scanner) (Author, bool) {
	var a Author
	var seenName, seenEmail bool
	ok := scanMembers(sc, func(key string) bool {
		var s string
		var err error
		if sc.Peek() == '"' {
			s, err = sc.String()
		} else {
			err = sc.SkipValue(authorDepth)
		}
		if err != nil {
			return false
		}
		switch key {
		case "name":
			if !seenName {
				a.Name, seenName = s, true
			}
		case "email":
			if !seenEmail {
				a.Email, seenEmail = s, true
			}
		}
		return true
	})
	if !ok {
		return Author{}, false
	}
	return a, true
}

// Len is the number of entries.
func (h History) Len() int { return len(h.items) }

// Entries returns the entries, newest first.
func (h History) Entries() []HistoryEntry {
	out := make([]HistoryEntry, len(h.items))
	for i, it := range h.items {
		out[i] = it.entry
	}
	return out
}

// From returns the history from its i-th newest entry on (0: all of it),
// entries kept exactly as read.
func (h History) From(i int) History {
	if i <= 0 {
		return h
	}
	if i >= len(h.items) {
		return History{}
	}
	return History{items: h.items[i:]}
}

// Latest returns the newest entry.
func (h History) Latest() (HistoryEntry, bool) {
	if len(h.items) == 0 {
		return HistoryEntry{}, false
	}
	return h.items[0].entry, true
}

// Contains reports whether any entry has exactly this version.
func (h History) Contains(v identity.MetadataSHA) bool {
	for _, it := range h.items {
		if it.entry.Version == v {
			return true
		}
	}
	return false
}

// Prepend returns the history with e as the newest entry, unless an entry
// anywhere in the history already has e's version (full-history dedup,
// contract 6.2 step 6), in which case h is returned unchanged.
func (h History) Prepend(e HistoryEntry) History {
	if h.Contains(e.Version) {
		return h
	}
	items := make([]historyItem, 0, len(h.items)+1)
	v := e.value()
	items = append(items, historyItem{entry: e, raw: &v})
	items = append(items, h.items...)
	out := History{items: items}
	if !h.added && len(h.src) > 0 {
		out.src, out.added = h.src, true
	}
	return out
}

// Find resolves a version argument (contract 7.3): the entries whose
// version starts with prefix (case-sensitive, any length >= 1). None gives
// ErrVersionNotFound, several distinct versions ErrAmbiguousVersion. This
// is the one prefix resolver for the CLI, the mount and SQL.
func (h History) Find(prefix string) (HistoryEntry, error) {
	if prefix == "" {
		return HistoryEntry{}, fmt.Errorf("empty version: %w", ErrVersionNotFound)
	}
	var found []HistoryEntry
	for _, it := range h.items {
		if strings.HasPrefix(string(it.entry.Version), prefix) {
			dup := false
			for _, f := range found {
				dup = dup || f.Version == it.entry.Version
			}
			if !dup {
				found = append(found, it.entry)
			}
		}
	}
	switch len(found) {
	case 0:
		return HistoryEntry{}, fmt.Errorf("version %q: %w", prefix, ErrVersionNotFound)
	case 1:
		return found[0], nil
	}
	shorts := make([]string, 0, 3)
	for i, f := range found {
		if i == 3 {
			shorts = append(shorts, "…")
			break
		}
		shorts = append(shorts, f.Version.Short())
	}
	return HistoryEntry{}, fmt.Errorf("version %q matches %d versions (%s): %w",
		prefix, len(found), strings.Join(shorts, ", "), ErrAmbiguousVersion)
}

// FindDataSHA returns the parquet_sha recorded by the newest entry with
// this data_sha and a non-empty parquet_sha (contract 6.2 step 5: such a
// parquet object need not be uploaded again).
func (h History) FindDataSHA(d identity.DataSHA) (parquetSHA identity.ParquetSHA, ok bool) {
	for _, it := range h.items {
		if it.entry.DataSHA == d && !it.entry.ParquetSHA.IsZero() {
			return it.entry.ParquetSHA, true
		}
	}
	return "", false
}

// Value is the history as a JSON list.
func (h History) Value() datomjson.Value {
	vs := make([]datomjson.Value, len(h.items))
	// The parsed entries' texts are read again as one array: one parse,
	// not one per entry.
	size, n := 2, 0
	for i, it := range h.items {
		if it.text == "" {
			vs[i] = *it.raw
		} else {
			size += len(it.text) + 1
			n++
		}
	}
	if n == 0 {
		return datomjson.List(vs...)
	}
	doc := make([]byte, 0, size)
	for _, it := range h.items {
		if it.text != "" {
			doc = append(append(doc, ','), it.text...)
		}
	}
	doc[0] = '['
	v, err := datomjson.Parse(append(doc, ']'))
	if err != nil || v.Len() != n {
		// ParseHistory read each text as an entry of a valid document.
		panic(fmt.Sprintf("version history entries no longer parse: %v", err))
	}
	parsed := v.Items()
	for i, it := range h.items {
		if it.text != "" {
			vs[i], parsed = parsed[0], parsed[1:]
		}
	}
	return datomjson.List(vs...)
}

// JSON is the pretty document without a trailing newline (S3 form).
func (h History) JSON() []byte {
	// A list pretty-printed as "[\n" + its elements at level 1: the new
	// entry goes in front of them as Pretty would write it there.
	// (An old document with no entries, "[\n  ]", gets no splice.)
	if old, ok := bytes.CutPrefix(h.src, []byte("[\n  ")); ok && h.added && len(h.items) > 1 {
		entry := datomjson.Pretty(datomjson.List(*h.items[0].raw)) // new: no text
		entry = entry[:len(entry)-len("\n]")]
		out := make([]byte, 0, len(entry)+len(",\n  ")+len(old))
		return append(append(append(out, entry...), ",\n  "...), old...)
	}
	return datomjson.Pretty(h.Value())
}

// File is the pretty document plus "\n" (git and local-store form).
func (h History) File() []byte { return append(h.JSON(), '\n') }
