package versions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/datomfs/datomfs/internal/atomicfile"
	"github.com/datomfs/datomfs/versions/datomjson"
	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/repo"
)

// Points in time. Each commit of the data repo is a consistent state of
// every table (its .datom/manifest.json names each table's current
// version), so "which versions were current at the lock?" is a commit.
// A point is named by a ref, accepted wherever a version is (T@ref):
//
//	HEAD                    the clone's tip (a reader: the store mirror)
//	<tag>                   a git tag (datomfs tag), mirrored to the store
//	                        for readers at .metadata/tags/<tag>.json
//	<ISO date or datetime>  the last commit at or before that instant, UTC;
//	                        a bare date means the end of that day
//	<commit prefix>         4 or more hex digits of a commit reachable from
//	                        HEAD
//
// beside version prefixes. A ref that more than one of these (or a version
// prefix) match is ErrAmbiguous, naming each. Readers have no git: they
// resolve tags from the store mirror and dates from the versions'
// timestamps (the newest version of the table created at or before the
// instant); commit prefixes need a clone.

// RefKind says how a ref was read.
type RefKind string

// Ref kinds.
const (
	RefVersion RefKind = "version"
	RefHead    RefKind = "head"
	RefTag     RefKind = "tag"
	RefDate    RefKind = "date"
	RefCommit  RefKind = "commit"
)

// minCommitPrefix is the shortest commit prefix accepted (git's minimum
// abbreviation).
const minCommitPrefix = 4

// PinnedTable is one table's version at a point in time.
type PinnedTable struct {
	Table   meta.TableName
	Version identity.MetadataSHA
	DataSHA identity.DataSHA
}

// TagInfo describes a tag and the table versions it pins.
type TagInfo struct {
	Name       string
	Commit     string    // full commit hash
	CommitTime time.Time // UTC
	Tagger     string    // "Name <email>", "" for a lightweight tag
	When       time.Time // when it was tagged (zero for a lightweight tag)
	Message    string
	Tables     []PinnedTable // in manifest order
}

// Point is a resolved point in time of the whole project.
type Point struct {
	Ref    string  // as given
	Kind   RefKind // RefHead, RefTag, RefDate or RefCommit
	Commit string  // full commit hash; "" when resolved without git
	// Time is the commit's time; for a reader's date, the instant asked.
	Time   time.Time
	Tag    *TagInfo      // for RefTag
	Tables []PinnedTable // in manifest order; nil when not loaded (a reader's date)
	// instant is the moment a date ref means (RefDate).
	instant time.Time
}

// Describe says what the point is, for messages: "tag db-lock (commit
// 1a2b3c4d, 2026-03-31T17:00:00Z)".
func (pt Point) Describe() string {
	var b strings.Builder
	switch pt.Kind {
	case RefTag:
		b.WriteString("tag " + pt.Ref)
	case RefDate:
		b.WriteString(meta.FormatTimestamp(pt.instant))
	case RefCommit:
		b.WriteString("commit " + pt.Ref)
	case RefHead:
		b.WriteString("HEAD")
	}
	switch {
	case pt.Commit != "" && pt.Kind != RefCommit:
		fmt.Fprintf(&b, " (commit %s, %s)", pt.Commit[:8], meta.FormatTimestamp(pt.Time))
	case pt.Commit != "":
		fmt.Fprintf(&b, " (%s)", meta.FormatTimestamp(pt.Time))
	}
	return b.String()
}

// Pinned returns the table's version at the point, if it had one.
func (pt Point) Pinned(table meta.TableName) (PinnedTable, bool) {
	for _, t := range pt.Tables {
		if t.Table == table {
			return t, true
		}
	}
	return PinnedTable{}, false
}

// ParseInstant reads an ISO date or datetime: YYYY-MM-DD (the end of that
// day, UTC), or YYYY-MM-DDTHH:MM[:SS[.frac]] with an optional zone (Z or
// ±hh:mm; none means UTC). ok is false when s is neither.
func ParseInstant(s string) (t time.Time, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Nanosecond), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if d, err := time.Parse(layout, s); err == nil {
			return d.UTC(), true
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		if d, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return d, true
		}
	}
	return time.Time{}, false
}

// CheckTagName refuses a name git cannot hold as a tag, and names that
// datomfs reads as something else or that cannot be one folder of the
// mount: HEAD, all hex digits (a version or commit prefix), a date, a
// "/". Errors match ErrInvalidName.
func CheckTagName(name string) error {
	if err := repo.ValidTagName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	switch _, isDate := ParseInstant(name); {
	case name == "HEAD":
		return fmt.Errorf("%w: tag name %q means the clone's tip", ErrInvalidName, name)
	case isHexString(name):
		return fmt.Errorf("%w: tag name %q is all hex digits and would read as a version or commit prefix", ErrInvalidName, name)
	case isDate:
		return fmt.Errorf("%w: tag name %q reads as a date", ErrInvalidName, name)
	case strings.Contains(name, "/"):
		return fmt.Errorf("%w: tag name %q has a \"/\" (a tag is one folder of the mount's snapshots/)", ErrInvalidName, name)
	}
	return nil
}

func isHexString(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// pointState is what a Project remembers about points in time.
type pointState struct {
	mu sync.Mutex
	// graph holds every commit seen (loaded from and saved to the clone's
	// commit index file); idx is the view at one HEAD.
	graph     map[string]repo.CommitNode
	idx       *commitIndex
	manifests map[string]meta.Manifest // by commit (immutable)
	// readerTags caches a reader's tag mirrors for a few seconds.
	readerTags     map[string]TagInfo
	readerTagsTime time.Time
}

// readerTagsTTL is how long a reader trusts its list of tag mirrors.
const readerTagsTTL = 5 * time.Second

// commitIndex is the clone's commits at one HEAD.
type commitIndex struct {
	head   string
	line   []repo.CommitNode // first-parent chain from HEAD, newest first
	sorted []repo.CommitNode // every commit reachable from HEAD, by hash
}

// commitIndexFile keeps the commit graph between runs (.git/datomfs/):
// a CLI call then reads only the commits made since the last one instead
// of walking the whole history. One line per commit: hash, committer time
// (Unix seconds), parents joined by ",". A damaged file is rebuilt.
const commitIndexFile = "commits"

func (p *Project) commitIndexPath() string {
	return filepath.Join(p.repo.GitDir(), "datomfs", commitIndexFile)
}

func (p *Project) loadCommitGraph() map[string]repo.CommitNode {
	graph := map[string]repo.CommitNode{}
	raw, err := os.ReadFile(p.commitIndexPath())
	if err != nil {
		return graph
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		sec, err := strconv.ParseInt(f[min(1, len(f)-1)], 10, 64)
		if len(f) != 3 || len(f[0]) != 40 || err != nil {
			return map[string]repo.CommitNode{} // damaged: rebuild
		}
		n := repo.CommitNode{Hash: f[0], When: time.Unix(sec, 0).UTC()}
		if f[2] != "" {
			n.Parents = strings.Split(f[2], ",")
		}
		graph[n.Hash] = n
	}
	return graph
}

func (p *Project) saveCommitGraph(graph map[string]repo.CommitNode) {
	var b strings.Builder
	for _, n := range graph {
		fmt.Fprintf(&b, "%s %d %s\n", n.Hash, n.When.Unix(), strings.Join(n.Parents, ","))
	}
	path := p.commitIndexPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
		err = atomicfile.Write(path, []byte(b.String()), 0o600, false)
		if err == nil {
			return
		}
	}
	p.opts.Logger.Debug("could not save the commit index (it is rebuilt when needed)", "path", path)
}

// commits returns the commit index at the clone's current HEAD, reading
// only the commits the saved graph lacks.
func (p *Project) commits(ctx context.Context) (*commitIndex, error) {
	head, err := p.repo.Head()
	if err != nil {
		return nil, err
	}
	p.pit.mu.Lock()
	defer p.pit.mu.Unlock()
	if p.pit.idx != nil && p.pit.idx.head == head {
		return p.pit.idx, nil
	}
	if p.pit.graph == nil {
		p.pit.graph = p.loadCommitGraph()
	}
	graph := p.pit.graph
	head, added, err := p.repo.NewCommits(ctx, func(h string) bool { _, ok := graph[h]; return ok })
	if err != nil {
		return nil, err
	}
	for _, n := range added {
		graph[n.Hash] = n
	}
	if len(added) > 0 {
		p.saveCommitGraph(graph)
	}
	idx := &commitIndex{head: head}
	for h := head; h != ""; {
		n, ok := graph[h]
		if !ok {
			break
		}
		idx.line = append(idx.line, n)
		h = ""
		if len(n.Parents) > 0 {
			h = n.Parents[0]
		}
	}
	seen := map[string]bool{}
	for stack := []string{head}; len(stack) > 0; {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, ok := graph[h]
		if !ok || seen[h] {
			continue
		}
		seen[h] = true
		idx.sorted = append(idx.sorted, n)
		stack = append(stack, n.Parents...)
	}
	sort.Slice(idx.sorted, func(i, j int) bool { return idx.sorted[i].Hash < idx.sorted[j].Hash })
	p.pit.idx = idx
	return idx, nil
}

// byPrefix lists the commits whose hash starts with prefix.
func (idx *commitIndex) byPrefix(prefix string) []repo.CommitNode {
	i := sort.Search(len(idx.sorted), func(i int) bool { return idx.sorted[i].Hash >= prefix })
	var out []repo.CommitNode
	for ; i < len(idx.sorted) && strings.HasPrefix(idx.sorted[i].Hash, prefix); i++ {
		out = append(out, idx.sorted[i])
	}
	return out
}

// atOrBefore is the newest commit of the first-parent line made at or
// before t.
func (idx *commitIndex) atOrBefore(t time.Time) (repo.CommitNode, bool) {
	for _, c := range idx.line {
		if !c.When.After(t) {
			return c, true
		}
	}
	return repo.CommitNode{}, false
}

func (idx *commitIndex) find(hash string) (repo.CommitNode, bool) {
	i := sort.Search(len(idx.sorted), func(i int) bool { return idx.sorted[i].Hash >= hash })
	if i < len(idx.sorted) && idx.sorted[i].Hash == hash {
		return idx.sorted[i], true
	}
	return repo.CommitNode{}, false
}

// manifestAt is the manifest as commit recorded it (empty before the
// first write).
func (p *Project) manifestAt(commit string) (meta.Manifest, error) {
	p.pit.mu.Lock()
	m, ok := p.pit.manifests[commit]
	p.pit.mu.Unlock()
	if ok {
		return m, nil
	}
	raw, err := p.repo.FileAt(commit, meta.ManifestPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		name, err := meta.ParseProjectName(p.name)
		if err != nil {
			return meta.Manifest{}, err
		}
		m = meta.NewManifest(name, time.Time{})
	case err != nil:
		return meta.Manifest{}, err
	default:
		if m, err = meta.ParseManifest(raw); err != nil {
			return meta.Manifest{}, fmt.Errorf("parse %s at %s: %w", meta.ManifestPath, commit[:8], err)
		}
	}
	p.pit.mu.Lock()
	if p.pit.manifests == nil {
		p.pit.manifests = map[string]meta.Manifest{}
	}
	p.pit.manifests[commit] = m
	p.pit.mu.Unlock()
	return m, nil
}

func pinnedOf(m meta.Manifest) []PinnedTable {
	ts := m.Tables()
	out := make([]PinnedTable, len(ts))
	for i, t := range ts {
		out[i] = PinnedTable{Table: t.Name, Version: t.CurrentVersion, DataSHA: t.CurrentDataSHA}
	}
	return out
}

// pointAtCommit is the point of commit c, named ref of kind.
func (p *Project) pointAtCommit(ref string, kind RefKind, c repo.CommitNode) (Point, error) {
	m, err := p.manifestAt(c.Hash)
	if err != nil {
		return Point{}, err
	}
	return Point{Ref: ref, Kind: kind, Commit: c.Hash, Time: c.When, Tables: pinnedOf(m)}, nil
}

// reading is one way a ref can be read.
type reading struct {
	kind  RefKind
	label string // for the ambiguity message
	point func(ctx context.Context) (Point, error)
}

// readings lists the ways ref names a point in time (not counting version
// prefixes).
func (p *Project) readings(ctx context.Context, ref string) ([]reading, error) {
	var out []reading
	if ref == "HEAD" {
		out = append(out, reading{kind: RefHead, label: "HEAD", point: func(ctx context.Context) (Point, error) { return p.headPoint(ctx) }})
	}
	tag, ok, err := p.lookupTag(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ok {
		out = append(out, reading{kind: RefTag, label: fmt.Sprintf("tag %s (commit %s)", ref, tag.Commit[:8]), point: func(ctx context.Context) (Point, error) {
			return Point{Ref: ref, Kind: RefTag, Commit: tag.Commit, Time: tag.CommitTime, Tag: &tag, Tables: tag.Tables}, nil
		}})
	}
	if t, ok := ParseInstant(ref); ok {
		out = append(out, reading{kind: RefDate, label: "date " + meta.FormatTimestamp(t), point: func(ctx context.Context) (Point, error) { return p.datePoint(ctx, ref, t) }})
	}
	if p.role == Developer && len(ref) >= minCommitPrefix && len(ref) <= 40 && isHexString(ref) {
		idx, err := p.commits(ctx)
		if err != nil {
			return nil, err
		}
		cs := idx.byPrefix(ref)
		switch {
		case len(cs) == 1:
			c := cs[0]
			out = append(out, reading{kind: RefCommit, label: fmt.Sprintf("commit %s (%s)", c.Hash[:8], meta.FormatTimestamp(c.When)), point: func(ctx context.Context) (Point, error) {
				return p.pointAtCommit(ref, RefCommit, c)
			}})
		case len(cs) > 1:
			names := make([]string, 0, 3)
			for i, c := range cs {
				if i == 3 {
					names = append(names, "…")
					break
				}
				names = append(names, c.Hash[:8])
			}
			out = append(out, reading{kind: RefCommit, label: fmt.Sprintf("%d commits (%s)", len(cs), strings.Join(names, ", "))})
		}
	}
	return out, nil
}

// At resolves a ref to a point in time of the whole project: HEAD, a tag,
// a date or a commit prefix (not a version prefix: those belong to one
// table). ErrNotFound when nothing matches, ErrAmbiguous when several do.
func (p *Project) At(ctx context.Context, ref string) (Point, error) {
	if ref == "" {
		ref = "HEAD"
	}
	rs, err := p.readings(ctx, ref)
	if err != nil {
		return Point{}, err
	}
	switch {
	case len(rs) == 0:
		what := "tag, date or commit"
		if p.role != Developer {
			what = "tag or date (commit prefixes need a clone)"
		}
		return Point{}, fmt.Errorf("@%s: no %s of that name: %w", ref, what, ErrNotFound)
	case len(rs) > 1 || rs[0].point == nil:
		return Point{}, ambiguous("@"+ref, nil, rs)
	}
	pt, err := rs[0].point(ctx)
	if err != nil {
		return Point{}, err
	}
	if pt.Tables == nil && p.role != Developer {
		// A reader's date: each table's newest version at the instant.
		if pt.Tables, err = p.readerPinnedAt(ctx, pt.instant); err != nil {
			return Point{}, err
		}
	}
	return pt, nil
}

// ambiguous is the error for a ref several readings match.
func ambiguous(what string, version *versionLabel, rs []reading) error {
	var labels []string
	if version != nil {
		labels = append(labels, version.String())
	}
	for _, r := range rs {
		labels = append(labels, r.label)
	}
	return fmt.Errorf("%s is ambiguous: %s: %w", what, strings.Join(labels, "; "), ErrAmbiguous)
}

// versionLabel names a version in an ambiguity message.
type versionLabel struct {
	Table meta.TableName
	ID    identity.MetadataSHA
}

func (l versionLabel) String() string {
	return fmt.Sprintf("version %s of %s", l.ID.Short(), l.Table)
}

// headPoint is the clone's tip, or a reader's current manifest.
func (p *Project) headPoint(ctx context.Context) (Point, error) {
	if p.role != Developer {
		m, err := p.storeManifest(ctx)
		if err != nil {
			return Point{}, err
		}
		return Point{Ref: "HEAD", Kind: RefHead, Time: m.UpdatedAt(), Tables: pinnedOf(m)}, nil
	}
	idx, err := p.commits(ctx)
	if err != nil {
		return Point{}, err
	}
	if len(idx.line) == 0 {
		return Point{}, fmt.Errorf("HEAD: the clone has no commits yet: %w", ErrNotFound)
	}
	return p.pointAtCommit("HEAD", RefHead, idx.line[0])
}

// datePoint is the last commit at or before t; for a reader, the instant
// itself (tables are looked up by version timestamps).
func (p *Project) datePoint(ctx context.Context, ref string, t time.Time) (Point, error) {
	if p.role != Developer {
		return Point{Ref: ref, Kind: RefDate, Time: t, instant: t}, nil
	}
	idx, err := p.commits(ctx)
	if err != nil {
		return Point{}, err
	}
	c, ok := idx.atOrBefore(t)
	if !ok {
		first := "the clone has no commits"
		if n := len(idx.line); n > 0 {
			first = "the first commit is from " + meta.FormatTimestamp(idx.line[n-1].When)
		}
		return Point{}, fmt.Errorf("@%s: nothing existed at %s (%s): %w", ref, meta.FormatTimestamp(t), first, ErrNotFound)
	}
	pt, err := p.pointAtCommit(ref, RefDate, c)
	pt.instant = t
	return pt, err
}

// readerPinnedAt is each table's newest version created at or before t,
// from the store mirrors.
func (p *Project) readerPinnedAt(ctx context.Context, t time.Time) ([]PinnedTable, error) {
	tables, err := p.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []PinnedTable
	for _, mt := range tables {
		h, err := p.History(ctx, mt.Name)
		if err != nil {
			return nil, err
		}
		if e, ok := entryAt(h, t); ok {
			out = append(out, PinnedTable{Table: mt.Name, Version: e.Version, DataSHA: e.DataSHA})
		}
	}
	return out, nil
}

// entryAt is the newest history entry created at or before t.
func entryAt(h meta.History, t time.Time) (meta.HistoryEntry, bool) {
	for _, e := range h.Entries() { // newest first
		if !e.Timestamp.IsZero() && !e.Timestamp.After(t) {
			return e, true
		}
	}
	return meta.HistoryEntry{}, false
}

// resolveRef is Resolve for a ref that is not "" (the current version):
// a version prefix or a point in time, exactly one of them.
func (p *Project) resolveRef(ctx context.Context, table meta.TableName, h meta.History, cur identity.MetadataSHA, ref string) (Version, error) {
	var version *meta.HistoryEntry
	if isHexString(ref) {
		e, err := h.Find(ref)
		switch {
		case errors.Is(err, meta.ErrAmbiguousVersion):
			return Version{}, fmt.Errorf("%s@%s: %w", table, ref, alsoIs(err, ErrAmbiguous))
		case err == nil:
			version = &e
		case !errors.Is(err, meta.ErrVersionNotFound):
			return Version{}, err
		}
	}
	rs, err := p.readings(ctx, ref)
	if err != nil {
		return Version{}, err
	}
	switch {
	case version != nil && len(rs) == 0:
		return versionOf(table, *version, version.Version == cur), nil
	case version != nil || len(rs) > 1 || (len(rs) == 1 && rs[0].point == nil):
		var label *versionLabel
		if version != nil {
			label = &versionLabel{Table: table, ID: version.Version}
		}
		return Version{}, ambiguous(table.String()+"@"+ref, label, rs)
	case len(rs) == 0:
		what := "version, tag, date or commit"
		if p.role != Developer {
			what = "version, tag or date (commit prefixes need a clone)"
		}
		return Version{}, fmt.Errorf("%s@%s: no %s of that name: %w", table, ref, what, ErrNotFound)
	}
	pt, err := rs[0].point(ctx)
	if err != nil {
		if strings.HasPrefix(err.Error(), "@"+ref+":") {
			return Version{}, fmt.Errorf("%s%w", table, err) // "lb@ref: ..."
		}
		return Version{}, fmt.Errorf("%s@%s: %w", table, ref, err)
	}
	return p.versionAtPoint(table, h, cur, pt)
}

// versionAtPoint is the table's version at pt, looked up in its history.
func (p *Project) versionAtPoint(table meta.TableName, h meta.History, cur identity.MetadataSHA, pt Point) (Version, error) {
	var id identity.MetadataSHA
	if pt.Tables == nil && pt.Kind == RefDate { // a reader's date
		e, ok := entryAt(h, pt.instant)
		if !ok {
			return Version{}, noVersionAt(table, h, pt)
		}
		id = e.Version
	} else {
		pin, ok := pt.Pinned(table)
		if !ok {
			return Version{}, noVersionAt(table, h, pt)
		}
		id = pin.Version
	}
	for _, e := range h.Entries() {
		if e.Version == id {
			return versionOf(table, e, e.Version == cur), nil
		}
	}
	return Version{}, fmt.Errorf("%s@%s: version %s recorded at %s is not in the table's history: %w", table, pt.Ref, id.Short(), pt.Describe(), ErrNotFound)
}

func noVersionAt(table meta.TableName, h meta.History, pt Point) error {
	first := ""
	if es := h.Entries(); len(es) > 0 {
		first = fmt.Sprintf(" (its first version is from %s)", meta.FormatTimestamp(es[len(es)-1].Timestamp))
	}
	return fmt.Errorf("%s@%s: %s had no version at %s%s: %w", table, pt.Ref, table, pt.Describe(), first, ErrNotFound)
}

// VersionsAt returns the version of every table at a point, in manifest
// order (the tables that existed then).
func (p *Project) VersionsAt(ctx context.Context, pt Point) ([]Version, error) {
	current, err := p.manifest(ctx)
	if err != nil {
		return nil, err
	}
	var out []Version
	for _, pin := range pt.Tables {
		h, err := p.History(ctx, pin.Table)
		if err != nil {
			return nil, fmt.Errorf("%s at %s: %w", pin.Table, pt.Describe(), err)
		}
		var cur identity.MetadataSHA
		if e, ok := current.Table(pin.Table); ok {
			cur = e.CurrentVersion
		}
		v, err := p.versionAtPoint(pin.Table, h, cur, pt)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ---- tags ----

// lookupTag finds a tag: in the clone, or a reader's store mirror.
func (p *Project) lookupTag(ctx context.Context, name string) (TagInfo, bool, error) {
	if p.role != Developer {
		tags, err := p.readerTags(ctx)
		if err != nil {
			return TagInfo{}, false, err
		}
		t, ok := tags[name]
		return t, ok, nil
	}
	t, ok, err := p.repo.LookupTag(name)
	if err != nil || !ok {
		return TagInfo{}, false, err
	}
	info, err := p.tagInfo(ctx, t)
	return info, err == nil, err
}

// tagInfo adds the commit's time and pinned tables to a git tag.
func (p *Project) tagInfo(ctx context.Context, t repo.Tag) (TagInfo, error) {
	info := TagInfo{Name: t.Name, Commit: t.Commit, When: t.When, Message: t.Message}
	if t.Tagger.Name != "" || t.Tagger.Email != "" {
		info.Tagger = t.Tagger.Name + " <" + t.Tagger.Email + ">"
	}
	idx, err := p.commits(ctx)
	if err != nil {
		return TagInfo{}, err
	}
	if c, ok := idx.find(t.Commit); ok {
		info.CommitTime = c.When
	}
	m, err := p.manifestAt(t.Commit)
	if err != nil {
		return TagInfo{}, fmt.Errorf("tag %s: %w", t.Name, err)
	}
	info.Tables = pinnedOf(m)
	return info, nil
}

// Tags lists the project's tags, oldest first (by the time they name).
// Developers read their clone (fetched by every pull); readers the
// store's tag mirrors.
func (p *Project) Tags(ctx context.Context) ([]TagInfo, error) {
	var out []TagInfo
	if p.role != Developer {
		tags, err := p.readerTags(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			out = append(out, t)
		}
	} else {
		tags, err := p.repo.Tags()
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			info, err := p.tagInfo(ctx, t)
			if err != nil {
				return nil, err
			}
			out = append(out, info)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CommitTime.Equal(out[j].CommitTime) {
			return out[i].CommitTime.Before(out[j].CommitTime)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// TagRequest asks for a new tag.
type TagRequest struct {
	Name    string
	Message string
	// At is the ref of the commit to tag (a commit prefix, a date, another
	// tag, HEAD); "" is the project's latest state (after a pull).
	At string
}

// TagResult says what Tag did.
type TagResult struct {
	Tag TagInfo
	// MirrorErr is set when the tag is on the remote but its store mirror
	// (for readers) could not be written; validate --fix writes it.
	MirrorErr error
}

// Tag creates an annotated tag on the data repo and pushes it, under the
// clone lock, after a pull. A name git cannot hold (or that would read as
// something else: CheckTagName) is ErrInvalidName; a tag that exists
// ErrExists; a push the remote refuses (another engineer pushed a tag of
// that name first) ErrPushRejected, and nothing is left behind. The tag is
// then mirrored to the store for readers.
func (p *Project) Tag(ctx context.Context, req TagRequest) (TagResult, error) {
	if err := p.requireDeveloper(); err != nil {
		return TagResult{}, err
	}
	if err := CheckTagName(req.Name); err != nil {
		return TagResult{}, err
	}
	var res TagResult
	err := p.withCloneLock(ctx, "tag "+req.Name, func() error {
		if _, err := p.pullLocked(ctx); err != nil {
			return fmt.Errorf("pull: %w", mapRepoErr(err))
		}
		if t, ok, err := p.repo.LookupTag(req.Name); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("tag %s already names commit %s: %w", req.Name, t.Commit[:8], ErrExists)
		}
		pt, err := p.At(ctx, req.At)
		if err != nil {
			return err
		}
		if pt.Commit == "" {
			return fmt.Errorf("tag %s: @%s names no commit: %w", req.Name, req.At, ErrNotFound)
		}
		if on, err := p.repo.RemoteHas(pt.Commit); err != nil {
			return err
		} else if !on {
			return fmt.Errorf("tag %s: commit %s is not on the remote yet (push it first): %w", req.Name, pt.Commit[:8], ErrNotFound)
		}
		t, err := p.repo.CreateTag(req.Name, pt.Commit, req.Message, p.now())
		if err != nil {
			return tagErr(err)
		}
		if err := p.repo.PushTag(ctx, req.Name); err != nil {
			if derr := p.repo.DeleteTag(req.Name); derr != nil {
				p.opts.Logger.Error("a rejected tag stays in the clone; delete it with git tag -d", "tag", req.Name, "err", derr)
			}
			return tagErr(err)
		}
		if res.Tag, err = p.tagInfo(ctx, t); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return TagResult{}, err
	}
	res.MirrorErr = p.mirrorTag(ctx, res.Tag)
	if res.MirrorErr != nil {
		p.opts.Logger.Warn("tag pushed but not mirrored to the store (readers do not see it yet); datomfs validate --fix writes it",
			"tag", req.Name, "err", res.MirrorErr)
	}
	return res, nil
}

func tagErr(err error) error {
	err = mapRepoErr(err)
	if errors.Is(err, repo.ErrTagExists) {
		err = fmt.Errorf("%w: %w", ErrExists, err)
	}
	return err
}

// ---- the store mirror of tags (for readers) ----

// tagDoc is a tag's mirror document.
func tagDoc(t TagInfo) []byte {
	tables := make([]datomjson.Member, len(t.Tables))
	for i, pin := range t.Tables {
		tables[i] = datomjson.M(pin.Table.String(), datomjson.Obj(
			datomjson.M("version", datomjson.Str(string(pin.Version))),
			datomjson.M("data_sha", datomjson.Str(string(pin.DataSHA))),
		))
	}
	return datomjson.Pretty(datomjson.Obj(
		datomjson.M("tag", datomjson.Str(t.Name)),
		datomjson.M("commit", datomjson.Str(t.Commit)),
		datomjson.M("commit_time", datomjson.Str(meta.FormatTimestamp(t.CommitTime))),
		datomjson.M("tagger", datomjson.Str(t.Tagger)),
		datomjson.M("tagged_at", datomjson.Str(meta.FormatTimestamp(t.When))),
		datomjson.M("message", datomjson.Str(t.Message)),
		datomjson.M("tables", datomjson.Obj(tables...)),
	))
}

func parseTagDoc(raw []byte) (TagInfo, error) {
	v, err := datomjson.Parse(raw)
	if err != nil {
		return TagInfo{}, err
	}
	s := func(v datomjson.Value, k string) string {
		x, _ := v.Get(k)
		str, _ := x.AsString()
		return str
	}
	t := TagInfo{Name: s(v, "tag"), Commit: s(v, "commit"), Tagger: s(v, "tagger"), Message: s(v, "message")}
	t.CommitTime, _ = meta.ParseTimestamp(s(v, "commit_time"))
	t.When, _ = meta.ParseTimestamp(s(v, "tagged_at"))
	if t.Name == "" || len(t.Commit) != 40 {
		return TagInfo{}, errors.New("not a tag mirror (no tag name or commit)")
	}
	tables, _ := v.Get("tables")
	for _, m := range tables.Members() {
		name, err := meta.ParseTableName(m.Key)
		if err != nil {
			return TagInfo{}, fmt.Errorf("table %q: %w", m.Key, err)
		}
		t.Tables = append(t.Tables, PinnedTable{Table: name,
			Version: identity.MetadataSHA(s(m.Value, "version")), DataSHA: identity.DataSHA(s(m.Value, "data_sha"))})
	}
	return t, nil
}

// mirrorTag writes a tag's mirror to the store.
func (p *Project) mirrorTag(ctx context.Context, t TagInfo) error {
	return p.putStoreJSON(ctx, p.layout.TagKey(t.Name), tagDoc(t))
}

// staleTagMirrors lists the clone's tags whose store mirror is missing or
// out of date (tags with a "/", which datomfs does not make, are left out).
func (p *Project) staleTagMirrors(ctx context.Context) ([]TagInfo, error) {
	tags, err := p.Tags(ctx)
	if err != nil {
		return nil, err
	}
	var out []TagInfo
	for _, t := range tags {
		if strings.Contains(t.Name, "/") {
			continue
		}
		if raw, err := p.getStoreFile(ctx, p.layout.TagKey(t.Name)); err == nil {
			if have, err := parseTagDoc(raw); err == nil && string(tagDoc(have)) == string(tagDoc(t)) {
				continue
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// readerTags reads the store's tag mirrors (cached for readerTagsTTL).
func (p *Project) readerTags(ctx context.Context) (map[string]TagInfo, error) {
	p.pit.mu.Lock()
	if p.pit.readerTags != nil && time.Since(p.pit.readerTagsTime) < readerTagsTTL {
		tags := p.pit.readerTags
		p.pit.mu.Unlock()
		return tags, nil
	}
	p.pit.mu.Unlock()
	prefix := p.layout.TagsPrefix()
	list, err := p.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list tags in the store: %w", mapStoreErr(err))
	}
	tags := map[string]TagInfo{}
	for _, o := range list {
		if !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		raw, err := p.getStoreFile(ctx, o.Key)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		t, err := parseTagDoc(raw)
		if err != nil {
			p.opts.Logger.Warn("ignoring a damaged tag mirror", "key", o.Key, "err", err)
			continue
		}
		tags[t.Name] = t
	}
	p.pit.mu.Lock()
	p.pit.readerTags, p.pit.readerTagsTime = tags, time.Now()
	p.pit.mu.Unlock()
	return tags, nil
}

// VersionAt is one table's version at a point (from At).
func (p *Project) VersionAt(ctx context.Context, table meta.TableName, pt Point) (Version, error) {
	h, err := p.History(ctx, table)
	if err != nil {
		return Version{}, err
	}
	cur, err := p.currentID(ctx, table)
	if err != nil {
		return Version{}, err
	}
	return p.versionAtPoint(table, h, cur, pt)
}
