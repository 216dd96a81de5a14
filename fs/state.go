package fs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// The mount's core: what the tree holds and what each operation does, free
// of FUSE types. Nodes (nodes.go) make one call into it and hand any error to
// state.errno.

// Fixed names inside a table folder.
const (
	currentName = "current.parquet"
	historyName = "history.json"
)

// CSVConverter renders a parquet file as CSV (the @<id>.csv files). The CLI
// passes query.Converter.
type CSVConverter interface {
	ParquetToCSV(ctx context.Context, parquetPath, csvPath string) error
}

// state is shared by every node of one mount.
type state struct {
	p        *versions.Project
	log      *slog.Logger
	conv     CSVConverter
	readOnly bool
	noFill   bool      // remote versions: fetch only the ranges read
	staging  string    // per-mount staging folder (outside the mount)
	started  time.Time // mtime of the skeleton folders
	bg       context.Context
	// onChange tells the FUSE layer what a reload changed (invalidations).
	onChange func(changes)

	// syncMu serialises reloads of the snapshot (refresh and after writes).
	syncMu sync.Mutex

	mu      sync.Mutex
	loaded  bool
	tables  map[string]*tableSnap
	empty   map[string]bool     // mkdir'd tables without a version yet
	staged  map[string]*staged  // dirKey(dir, name) → staged file
	csvRuns map[string]*csvCall // csv path → running conversion
	nextIno uint64
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
}

type csvCall struct {
	done chan struct{}
	err  error
}

func newState(p *versions.Project, log *slog.Logger, conv CSVConverter, staging string) *state {
	return &state{
		p: p, log: log, conv: conv, staging: staging,
		readOnly: p.Role() != versions.Developer,
		started:  time.Now(),
		bg:       context.Background(),
		tables:   map[string]*tableSnap{},
		empty:    map[string]bool{},
		staged:   map[string]*staged{},
		csvRuns:  map[string]*csvCall{},
	}
}

// ---- inode numbers ----

// inoOf derives a stable inode number from identities (table, version, kind).
// Hashed numbers stay below 1<<62; staged files count up from 1<<62.
func inoOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	ino := h.Sum64() & (1<<62 - 1)
	if ino < 16 {
		ino += 16
	}
	return ino
}

func (s *state) newStagedIno() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextIno++
	return 1<<62 + s.nextIno
}

// ---- the snapshot ----

// changes says what a reload changed, for the kernel invalidations.
type changes struct {
	added, removed, changed []string
}

func (c changes) empty() bool { return len(c.added)+len(c.removed)+len(c.changed) == 0 }

// ensureLoaded reads the table list once.
func (s *state) ensureLoaded(ctx context.Context) error {
	s.mu.Lock()
	loaded := s.loaded
	s.mu.Unlock()
	if loaded {
		return nil
	}
	_, err := s.reload(ctx)
	return err
}

// reload re-reads the table list (the clone's manifest, or the store mirror
// for readers) and drops the versions of every table whose entry changed.
func (s *state) reload(ctx context.Context) (changes, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	list, err := s.p.List(ctx)
	if err != nil {
		return changes{}, fmt.Errorf("list tables: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var c changes
	seen := map[string]bool{}
	for _, t := range list {
		name := fmt.Sprint(t.Name)
		seen[name] = true
		cur := fmt.Sprint(t.CurrentVersion)
		upd := asTime(t.LastUpdated)
		old, ok := s.tables[name]
		switch {
		case !ok:
			s.tables[name] = &tableSnap{current: cur, count: t.VersionCount, updated: upd}
			delete(s.empty, name)
			if s.loaded {
				c.added = append(c.added, name)
			}
		case old.current != cur || old.count != t.VersionCount:
			s.tables[name] = &tableSnap{current: cur, count: t.VersionCount, updated: upd}
			c.changed = append(c.changed, name)
		}
	}
	for name := range s.tables {
		if !seen[name] {
			delete(s.tables, name)
			c.removed = append(c.removed, name)
		}
	}
	s.loaded = true
	return c, nil
}

// tableNames lists the tables: known ones and mkdir'd empty ones.
func (s *state) tableNames(ctx context.Context) ([]string, error) {
	if err := s.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tables)+len(s.empty))
	for n := range s.tables {
		out = append(out, n)
	}
	for n := range s.empty {
		if _, ok := s.tables[n]; !ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// tableInfo says whether a table exists (with versions, or mkdir'd) and
// when it last changed.
func (s *state) tableInfo(ctx context.Context, table string) (exists bool, updated time.Time, err error) {
	if err := s.ensureLoaded(ctx); err != nil {
		return false, time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tables[table]; ok {
		return true, t.updated, nil
	}
	return s.empty[table], s.started, nil
}

// tableVersions returns a table's versions (newest first) with their listed
// names, loading them if needed. A mkdir'd table has none.
func (s *state) tableVersions(ctx context.Context, table string) (*tableSnap, error) {
	if err := s.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	t, ok := s.tables[table]
	isEmpty := s.empty[table]
	if ok && t.versions != nil {
		s.mu.Unlock()
		return t, nil
	}
	s.mu.Unlock()
	if !ok {
		if isEmpty {
			return &tableSnap{byName: map[string]versions.Version{}}, nil
		}
		return nil, fmt.Errorf("table %q: %w", table, versions.ErrNotFound)
	}
	vs, err := s.p.Versions(ctx, table)
	if err != nil {
		return nil, err
	}
	loaded := &tableSnap{current: t.current, count: t.count, updated: t.updated, versions: vs}
	loaded.names, loaded.byName = listedNames(vs)
	s.mu.Lock()
	if cur, ok := s.tables[table]; ok && cur == t {
		s.tables[table] = loaded
	}
	s.mu.Unlock()
	return loaded, nil
}

// listedNames gives each version the shortest listed id of at least 8 hex
// digits that no other version of the table shares.
func listedNames(vs []versions.Version) ([]string, map[string]versions.Version) {
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = string(v.ID)
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	need := map[string]int{}
	for i, id := range sorted {
		n := 8
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(sorted) && sorted[j] != id {
				if l := commonPrefix(id, sorted[j]) + 1; l > n {
					n = l
				}
			}
		}
		if n > len(id) {
			n = len(id)
		}
		need[id] = n
	}
	names := make([]string, len(vs))
	byName := make(map[string]versions.Version, len(vs))
	for i, v := range vs {
		names[i] = ids[i][:need[ids[i]]]
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

// versionName parses "@<prefix>.parquet" or "@<prefix>.csv".
func versionName(name string) (prefix, kind string, ok bool) {
	if !strings.HasPrefix(name, "@") {
		return "", "", false
	}
	for _, k := range []string{".parquet", ".csv"} {
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

// resolve finds the version a name in a table folder means: a listed name,
// else any unique prefix through Project.Resolve, the one prefix resolver.
func (s *state) resolve(ctx context.Context, table, prefix string) (versions.Version, error) {
	t, err := s.tableVersions(ctx, table)
	if err != nil {
		return versions.Version{}, err
	}
	if v, ok := t.byName[prefix]; ok {
		return v, nil
	}
	return s.p.Resolve(ctx, table, prefix)
}

// current returns the listed name of the current version ("" if none).
func (s *state) current(ctx context.Context, table string) (string, error) {
	t, err := s.tableVersions(ctx, table)
	if err != nil {
		return "", err
	}
	if len(t.versions) == 0 {
		return "", fmt.Errorf("table %q has no versions: %w", table, versions.ErrNotFound)
	}
	return "@" + t.names[0] + ".parquet", nil
}

// historyJSON is history.json: the table's version history, newest first,
// as the project's version_history.json holds it.
func (s *state) historyJSON(ctx context.Context, table string) ([]byte, error) {
	h, err := s.p.History(ctx, table)
	if err != nil {
		return nil, err
	}
	return append(h.JSON(), '\n'), nil
}

// ---- version bytes ----

// csvPathFor is where the CSV rendition of a version is cached: next to the
// verified parquet copy.
func (s *state) csvPathFor(v versions.Version) string { return s.p.RenditionPath(v, ".csv") }

// csvSize is the rendition's size if it was generated already.
func (s *state) csvSize(v versions.Version) (int64, bool) {
	fi, err := os.Stat(s.csvPathFor(v))
	if err != nil {
		return 0, false
	}
	return fi.Size(), true
}

// csv returns the CSV rendition of a version, generating it once.
func (s *state) csv(ctx context.Context, v versions.Version) (string, error) {
	dst := s.csvPathFor(v)
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if s.conv == nil {
		return "", fmt.Errorf("CSV rendition of %s@%s: no converter: %w", v.Table, v.ID.Short(), errUnsupport)
	}
	s.mu.Lock()
	call, running := s.csvRuns[dst]
	if !running {
		call = &csvCall{done: make(chan struct{})}
		s.csvRuns[dst] = call
	}
	s.mu.Unlock()
	if !running {
		go func() {
			call.err = s.makeCSV(v, dst)
			s.mu.Lock()
			delete(s.csvRuns, dst)
			s.mu.Unlock()
			close(call.done)
		}()
	}
	select {
	case <-call.done:
		return dst, call.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (s *state) makeCSV(v versions.Version, dst string) error {
	src, err := s.p.Fetch(s.bg, v)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, time.Now().UnixNano())
	defer os.Remove(tmp)
	if err := s.conv.ParquetToCSV(s.bg, src, tmp); err != nil {
		return fmt.Errorf("CSV rendition of %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	// DuckDB creates it by the umask; the cache is private.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("CSV rendition of %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("CSV rendition of %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	return nil
}

// ---- names and tables ----

// checkTableName validates a table name (datom's rules) as versions does.
func checkTableName(name string) error {
	if _, err := meta.ParseTableName(name); err != nil {
		return fmt.Errorf("table name %q: %w: %w", name, versions.ErrInvalidName, err)
	}
	return nil
}

// mkdirTable makes an empty table that exists only in the mount until a
// version is written to it.
func (s *state) mkdirTable(ctx context.Context, name string) error {
	if s.readOnly {
		return versions.ErrReadOnly
	}
	if err := checkTableName(name); err != nil {
		return err
	}
	exists, _, err := s.tableInfo(ctx, name)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("table %q: %w", name, versions.ErrExists)
	}
	s.mu.Lock()
	s.empty[name] = true
	s.mu.Unlock()
	return nil
}

// rmdirTable removes a mkdir'd table; tables with versions are history.
func (s *state) rmdirTable(ctx context.Context, name string) error {
	if s.readOnly {
		return versions.ErrReadOnly
	}
	if err := s.ensureLoaded(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tables[name]; ok {
		return fmt.Errorf("table %q has versions: %w", name, versions.ErrImmutable)
	}
	if !s.empty[name] {
		return fmt.Errorf("table %q: %w", name, versions.ErrNotFound)
	}
	for _, st := range s.staged {
		if st.dir == name {
			return fmt.Errorf("table %q: %w", name, errNotEmpty)
		}
	}
	delete(s.empty, name)
	return nil
}

// errImmutableName reports whether name in a table folder is part of the
// history (a version, current.parquet, history.json).
func (s *state) isHistoryName(ctx context.Context, table, name string) bool {
	if name == currentName || name == historyName {
		return true
	}
	if prefix, _, ok := versionName(name); ok {
		_, err := s.resolve(ctx, table, prefix)
		return err == nil || errors.Is(err, versions.ErrAmbiguous)
	}
	return false
}

// asTime reads a manifest timestamp (a time, or datom's text form).
func asTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case string:
		tt, _ := time.Parse("2006-01-02T15:04:05Z", t)
		return tt
	}
	return time.Time{}
}
