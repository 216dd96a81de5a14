package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
)

// Fixed names inside a table folder.
const (
	currentName    = "current.parquet"
	currentRDSName = "current.rds"
	historyName    = "history.json"
)

// tree is the mount's view of the project: the table list (the clone's
// manifest, or the store mirror for readers), each table's history and
// versions loaded on demand, and the tables made by mkdir that have no
// version yet. Listings, lookups and history.json are served from it: the
// manifest is parsed once per change, each history once per change of its
// table. A reload (refresh, or after a write) re-reads the list, unless a
// developer clone's manifest file is the one already read, and drops the
// history of every table whose entry changed.
type tree struct {
	p       *versions.Project
	started time.Time // mtime of the skeleton folders and of mkdir'd tables
	// kinds are the renditions listed next to each version's parquet file
	// (renditions.kinds: fixed for the mount's life).
	kinds []string

	// syncMu serialises reloads.
	syncMu sync.Mutex

	mu     sync.Mutex
	loaded bool
	sig    manifestSig // the clone's manifest file when last read
	tables map[meta.TableName]*tableSnap
	empty  map[meta.TableName]bool // mkdir'd tables without a version yet
}

// tableSnap is what the mount knows of one table: its manifest entry and,
// loaded on demand, its versions.
type tableSnap struct {
	current string // current version id per the manifest
	count   int
	updated time.Time

	versions []versions.Version // newest first; nil until loaded
	byName   map[string]versions.Version
	names    []string // listed names, in history order
	history  meta.History
	histJSON []byte // history.json's bytes; nil until first asked
	// listing is the folder's listing (versions, renditions, current.*,
	// history.json), built once with the versions: a listing of a long
	// history formats and hashes nothing per readdir. Shared, read-only,
	// with no spare capacity (an append copies).
	listing []dirEntry
}

// manifestSig identifies a version of the clone's manifest file: writes
// and pulls replace it (a new file renamed over), which changes its inode,
// size or modification time. The zero value matches nothing.
type manifestSig struct {
	ok    bool
	ino   uint64
	size  int64
	mtime time.Time
}

// manifestSigOf is the signature of a developer clone's manifest file;
// zero (always reload) for readers, who read the store mirror.
func manifestSigOf(p *versions.Project) manifestSig {
	if p.Role() != versions.Developer {
		return manifestSig{}
	}
	fi, err := os.Stat(filepath.Join(p.Dir(), filepath.FromSlash(meta.ManifestPath)))
	if err != nil {
		return manifestSig{}
	}
	sig := manifestSig{ok: true, size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		sig.ino = st.Ino
	}
	return sig
}

// changes says what a reload changed, for the kernel invalidations.
type changes struct {
	added, removed, changed []meta.TableName
}

func (c changes) empty() bool { return len(c.added)+len(c.removed)+len(c.changed) == 0 }

func newTree(p *versions.Project, started time.Time, kinds []string) *tree {
	return &tree{p: p, started: started, kinds: kinds, tables: map[meta.TableName]*tableSnap{}, empty: map[meta.TableName]bool{}}
}

// ensureLoaded reads the table list once.
func (t *tree) ensureLoaded(ctx context.Context) error {
	t.mu.Lock()
	loaded := t.loaded
	t.mu.Unlock()
	if loaded {
		return nil
	}
	_, err := t.reload(ctx)
	return err
}

// reload re-reads the table list and drops the history of every table
// whose entry changed. A developer clone whose manifest file is the one
// read last time has changed nothing: every write and pull replaces it.
func (t *tree) reload(ctx context.Context) (changes, error) {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	sig := manifestSigOf(t.p)
	t.mu.Lock()
	same := t.loaded && sig.ok && sig == t.sig
	t.mu.Unlock()
	if same {
		return changes{}, nil
	}
	list, err := t.p.List(ctx)
	if err != nil {
		return changes{}, fmt.Errorf("list tables: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sig = sig
	var c changes
	seen := map[meta.TableName]bool{}
	for _, e := range list {
		name := e.Name
		seen[name] = true
		cur := e.CurrentVersion.String()
		upd := e.LastUpdated
		old, ok := t.tables[name]
		switch {
		case !ok:
			t.tables[name] = &tableSnap{current: cur, count: e.VersionCount, updated: upd}
			delete(t.empty, name)
			if t.loaded {
				c.added = append(c.added, name)
			}
		case old.current != cur || old.count != e.VersionCount || !old.updated.Equal(upd):
			t.tables[name] = &tableSnap{current: cur, count: e.VersionCount, updated: upd}
			c.changed = append(c.changed, name)
		}
	}
	for name := range t.tables {
		if !seen[name] {
			delete(t.tables, name)
			c.removed = append(c.removed, name)
		}
	}
	t.loaded = true
	return c, nil
}

// names lists the tables, sorted: known ones and mkdir'd empty ones.
func (t *tree) names(ctx context.Context) ([]meta.TableName, error) {
	if err := t.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]meta.TableName, 0, len(t.tables)+len(t.empty))
	for n := range t.tables {
		out = append(out, n)
	}
	for n := range t.empty {
		if _, ok := t.tables[n]; !ok {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// info says whether a table exists (with versions, or mkdir'd) and when
// it last changed.
func (t *tree) info(ctx context.Context, table meta.TableName) (exists bool, updated time.Time, err error) {
	if err := t.ensureLoaded(ctx); err != nil {
		return false, time.Time{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.tables[table]; ok {
		return true, s.updated, nil
	}
	return t.empty[table], t.started, nil
}

// updated is when a table last changed (zero if unknown).
func (t *tree) updated(table meta.TableName) time.Time {
	_, updated, _ := t.info(context.Background(), table)
	return updated
}

// versions returns a table's versions (newest first) with their listed
// names, loading them if needed. A mkdir'd table has none.
func (t *tree) versions(ctx context.Context, table meta.TableName) (*tableSnap, error) {
	if err := t.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	t.mu.Lock()
	s, ok := t.tables[table]
	isEmpty := t.empty[table]
	if ok && s.versions != nil {
		t.mu.Unlock()
		return s, nil
	}
	t.mu.Unlock()
	if !ok {
		if isEmpty {
			return &tableSnap{byName: map[string]versions.Version{}}, nil
		}
		return nil, fmt.Errorf("table %q: %w", table, versions.ErrNotFound)
	}
	// The current version is the manifest entry's (s.current): the
	// manifest is not parsed again per table.
	h, err := t.p.History(ctx, table)
	if err != nil {
		return nil, err
	}
	cur, err := identity.ParseMetadataSHA(s.current)
	if err != nil {
		return nil, fmt.Errorf("table %q: manifest: %w", table, err)
	}
	vs := versions.VersionsOf(table, h, cur)
	loaded := &tableSnap{current: s.current, count: s.count, updated: s.updated, versions: vs, history: h}
	loaded.names, loaded.byName = listedNames(vs)
	loaded.listing = tableListing(table, vs, loaded.names, t.kinds)
	t.mu.Lock()
	if cur, ok := t.tables[table]; ok && cur == s {
		t.tables[table] = loaded
	}
	t.mu.Unlock()
	return loaded, nil
}

// tableListing is a table folder's listing: each version's parquet file
// and renditions (newest first), then current.parquet, current.rds and
// history.json once there is a version. The names are cut from one
// string.
func tableListing(table meta.TableName, vs []versions.Version, names, kinds []string) []dirEntry {
	if len(vs) == 0 {
		return nil
	}
	exts := append([]string{"parquet"}, kinds...)
	size := 0
	for _, name := range names {
		for _, ext := range exts {
			size += len(name) + len(ext) + 2 // "@" name "." ext
		}
	}
	var b strings.Builder
	b.Grow(size)
	for _, name := range names {
		for _, ext := range exts {
			b.WriteByte('@')
			b.WriteString(name)
			b.WriteByte('.')
			b.WriteString(ext)
		}
	}
	all := b.String()
	d := table.String()
	out := make([]dirEntry, 0, len(vs)*len(exts)+3)
	at := 0
	for i, v := range vs {
		id := string(v.ID)
		for _, ext := range exts {
			n := len(names[i]) + len(ext) + 2
			out = append(out, dirEntry{all[at : at+n], syscall.S_IFREG, inoOf("version", d, id, ext)})
			at += n
		}
	}
	out = append(out,
		dirEntry{currentName, syscall.S_IFLNK, inoOf("current", d)},
		dirEntry{currentRDSName, syscall.S_IFLNK, inoOf("current", d, "rds")},
		dirEntry{historyName, syscall.S_IFREG, inoOf("history", d)})
	return out[:len(out):len(out)]
}

// resolve finds the version a name in a table folder means: a listed name,
// else any unique prefix through Project.Resolve, the one prefix resolver.
func (t *tree) resolve(ctx context.Context, table meta.TableName, prefix string) (versions.Version, error) {
	s, err := t.versions(ctx, table)
	if err != nil {
		return versions.Version{}, err
	}
	if v, ok := s.byName[prefix]; ok {
		return v, nil
	}
	return t.p.Resolve(ctx, table, prefix)
}

// current returns the listed name of the current version.
func (t *tree) current(ctx context.Context, table meta.TableName) (string, error) {
	s, err := t.versions(ctx, table)
	if err != nil {
		return "", err
	}
	if len(s.versions) == 0 {
		return "", fmt.Errorf("table %q has no versions: %w", table, versions.ErrNotFound)
	}
	return "@" + s.names[0] + ".parquet", nil
}

// currentRDS returns the listed name of the current version's .rds
// rendition (the target of current.rds).
func (t *tree) currentRDS(ctx context.Context, table meta.TableName) (string, error) {
	target, err := t.current(ctx, table)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(target, ".parquet") + ".rds", nil
}

// historyJSON is history.json: the table's version history, newest first,
// as the project's version_history.json holds it.
// The bytes are made once per loaded history and shared: callers must not
// modify them.
func (t *tree) historyJSON(ctx context.Context, table meta.TableName) ([]byte, error) {
	s, err := t.versions(ctx, table)
	if err != nil {
		return nil, err
	}
	if len(s.versions) == 0 {
		// A mkdir'd table has no history file.
		return nil, fmt.Errorf("table %q has no versions: %w", table, versions.ErrNotFound)
	}
	t.mu.Lock()
	body := s.histJSON
	t.mu.Unlock()
	if body != nil {
		return body, nil
	}
	body = append(s.history.JSON(), '\n')
	t.mu.Lock()
	s.histJSON = body
	t.mu.Unlock()
	return body, nil
}

// isHistoryName reports whether name in a table folder is part of the
// history (a version or its renditions, current.parquet, current.rds,
// history.json).
func (t *tree) isHistoryName(ctx context.Context, table meta.TableName, name string) bool {
	if name == currentName || name == currentRDSName || name == historyName {
		return true
	}
	if prefix, _, ok := versionName(name); ok {
		_, err := t.resolve(ctx, table, prefix)
		return err == nil || errors.Is(err, versions.ErrAmbiguous)
	}
	return false
}

// addEmpty records a mkdir'd table; a table that exists is ErrExists.
func (t *tree) addEmpty(ctx context.Context, name meta.TableName) error {
	if err := t.ensureLoaded(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.tables[name]; ok || t.empty[name] {
		return fmt.Errorf("table %q: %w", name, versions.ErrExists)
	}
	t.empty[name] = true
	return nil
}

// checkEmpty says whether name is a mkdir'd table without versions:
// a table with versions is ErrImmutable (history), none is ErrNotFound.
func (t *tree) checkEmpty(ctx context.Context, name meta.TableName) error {
	if err := t.ensureLoaded(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.tables[name]; ok {
		return fmt.Errorf("table %q has versions: %w", name, versions.ErrImmutable)
	}
	if !t.empty[name] {
		return fmt.Errorf("table %q: %w", name, versions.ErrNotFound)
	}
	return nil
}

// dropEmpty forgets a mkdir'd table.
func (t *tree) dropEmpty(name meta.TableName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.empty, name)
}

// listedNames gives each version the shortest listed id of at least 8 hex
// digits that no other version of the table shares.
func listedNames(vs []versions.Version) ([]string, map[string]versions.Version) {
	// Versions in id order: an id shares the longest prefix with one of
	// its nearest different neighbours.
	order := make([]int, len(vs))
	for i := range order {
		order[i] = i
	}
	id := func(k int) string { return string(vs[order[k]].ID) }
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(string(vs[a].ID), string(vs[b].ID)) })
	names := make([]string, len(vs))
	for k := range order {
		me, n := id(k), 8
		lo := k - 1
		for lo >= 0 && id(lo) == me {
			lo--
		}
		hi := k + 1
		for hi < len(order) && id(hi) == me {
			hi++
		}
		for _, j := range []int{lo, hi} {
			if j >= 0 && j < len(order) {
				n = max(n, commonPrefix(me, id(j))+1)
			}
		}
		names[order[k]] = me[:min(n, len(me))]
	}
	byName := make(map[string]versions.Version, len(vs))
	for i, v := range vs {
		byName[names[i]] = v
	}
	return names, byName
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// versionName parses "@<prefix>.parquet", "@<prefix>.csv" or
// "@<prefix>.rds".
func versionName(name string) (prefix, kind string, ok bool) {
	if !strings.HasPrefix(name, "@") {
		return "", "", false
	}
	for _, k := range []string{".parquet", ".csv", ".rds"} {
		if p, found := strings.CutSuffix(name[1:], k); found && p != "" && isHex(p) {
			return p, k[1:], true
		}
	}
	return "", "", false
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
