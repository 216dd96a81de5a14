package fs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// The mount's core: what the tree holds and the rules of every operation,
// free of FUSE types and testable without a mount. Its rooms are the tree
// of tables and versions (tree.go), the files being written (staging.go,
// published by write.go) and the renditions (renditions.go). Nodes
// (nodes.go) make one call into it per operation and hand any error to
// core.errno (errno.go). Errors wrap the versions sentinels (ErrNotFound,
// ErrImmutable, ErrReadOnly, ErrInvalidName, ErrInvalidInput, ErrExists)
// or the mount's own (errno.go).

// core is shared by every node of one mount.
type core struct {
	p        *versions.Project
	log      *slog.Logger
	readOnly bool
	noFill   bool // remote versions: fetch only the ranges read
	prefetch bool // remote versions: fill the cache from open
	// bg outlives requests: downloads and conversions run on it, so that an
	// interrupted reader does not abandon them. It ends at unmount.
	bg context.Context

	tree       *tree
	staging    *staging
	renditions *renditions
	points     points // snapshots/ and at/ (snapshots.go)

	// onChange tells the FUSE layer what a reload changed (invalidations).
	onChange func(changes)
}

// coreOptions are what a core needs besides its project.
type coreOptions struct {
	log      *slog.Logger
	conv     CSVConverter // nil: no renditions
	staging  string       // the mount's staging folder
	bg       context.Context
	noFill   bool
	prefetch bool
}

func newCore(p *versions.Project, o coreOptions) *core {
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.bg == nil {
		o.bg = context.Background()
	}
	r := newRenditions(p, o.conv, o.bg)
	return &core{
		p: p, log: o.log, noFill: o.noFill, prefetch: o.prefetch, bg: o.bg,
		readOnly:   p.Role() != versions.Developer,
		tree:       newTree(p, time.Now(), r.kinds()),
		staging:    newStaging(o.staging),
		renditions: r,
	}
}

// ---- inode numbers ----

// inoOf derives a stable inode number from identities (table, version, kind).
// Hashed numbers stay below 1<<62; staged files count up from 1<<62.
// The hash is 64-bit FNV-1a of the parts, each followed by a zero byte,
// computed inline: a listing hashes two or three names per version.
func inoOf(parts ...string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037) // FNV-1a offset basis
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= prime
		}
		h *= prime // the zero separator: h ^= 0 changes nothing
	}
	ino := h & (1<<62 - 1)
	if ino < 16 {
		ino += 16
	}
	return ino
}

// ---- errors ----

// immutable is the refusal for changing history: ErrImmutable, or
// ErrReadOnly on a reader mount.
func (c *core) immutable(what string) error {
	if c.readOnly {
		return versions.ErrReadOnly
	}
	return &pathError{what: what, err: versions.ErrImmutable}
}

type pathError struct {
	what string
	err  error
}

func (e *pathError) Error() string { return e.what + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// Table names come in as names in tables/ (a lookup, mkdir, a created
// file's name there): each is parsed once, where it comes in (tableNamed,
// versions.ParseTableName), and the typed name travels on: in the nodes'
// identity, the tree, the staged files' targets and the write request.
// A folder of the mount that takes files is a meta.TableName: its table,
// or the zero name for tables/ itself.

// tableNamed is the table a name in tables/ would be, if it is a valid
// table name.
func tableNamed(name string) (meta.TableName, bool) {
	t, err := meta.ParseTableName(name)
	return t, err == nil
}

// dirPath is the path of name in dir (zero = tables/), for messages.
func dirPath(dir meta.TableName, name string) string {
	if dir.IsZero() {
		return "tables/" + name
	}
	return "tables/" + dir.String() + "/" + name
}

// ---- listings ----

// dirEntry is one name in a listing.
type dirEntry struct {
	name string
	mode uint32 // syscall.S_IFDIR, S_IFREG or S_IFLNK
	ino  uint64
}

// readdir lists tables/ (dir zero) or a table folder: versions (and their
// renditions), current.parquet and history.json once there is a version,
// and the files being written there. A table folder's listing is the
// tree's, built once per loaded history: callers must not modify it.
func (c *core) readdir(ctx context.Context, dir meta.TableName) ([]dirEntry, error) {
	var out []dirEntry
	if dir.IsZero() {
		names, err := c.tree.names(ctx)
		if err != nil {
			return nil, err
		}
		out = make([]dirEntry, 0, len(names))
		for _, t := range names {
			out = append(out, dirEntry{t.String(), syscall.S_IFDIR, inoOf("table", t.String())})
		}
	} else {
		t, err := c.tree.versions(ctx, dir)
		if err != nil {
			return nil, err
		}
		out = t.listing // no spare capacity: the appends below copy
	}
	for name, ino := range c.staging.in(dir) {
		out = append(out, dirEntry{name, syscall.S_IFREG, ino})
	}
	return out, nil
}

// ---- folders ----

// mkdir makes an empty table that exists only in the mount until a version
// is written to it, and returns its name.
func (c *core) mkdir(ctx context.Context, name string) (meta.TableName, error) {
	if c.readOnly {
		return meta.TableName{}, versions.ErrReadOnly
	}
	t, err := versions.ParseTableName(name)
	if err != nil {
		return meta.TableName{}, err
	}
	return t, c.tree.addEmpty(ctx, t)
}

// rmdir removes a mkdir'd table while it is empty; tables with versions
// are history.
func (c *core) rmdir(ctx context.Context, name string) error {
	if c.readOnly {
		return versions.ErrReadOnly
	}
	t, ok := tableNamed(name)
	if !ok {
		return fmt.Errorf("table %q: %w", name, versions.ErrNotFound)
	}
	if err := c.tree.checkEmpty(ctx, t); err != nil {
		return err
	}
	if len(c.staging.in(t)) > 0 {
		return fmt.Errorf("table %q: %w", name, errNotEmpty)
	}
	c.tree.dropEmpty(t)
	return nil
}

// isTable reports whether a name in tables/ is a table (with versions, or
// mkdir'd).
func (c *core) isTable(ctx context.Context, name string) bool {
	t, ok := tableNamed(name)
	if !ok {
		return false
	}
	exists, _, _ := c.tree.info(ctx, t)
	return exists
}

// ---- names in folders ----

// unlink removes name from dir (zero = tables/): only files being written
// can go; the history refuses.
func (c *core) unlink(ctx context.Context, dir meta.TableName, name string) error {
	path := dirPath(dir, name)
	if c.readOnly {
		return versions.ErrReadOnly
	}
	if st := c.staging.lookup(dir, name); st != nil {
		c.staging.remove(st)
		return nil
	}
	if !dir.IsZero() && c.tree.isHistoryName(ctx, dir, name) {
		return c.immutable(path)
	}
	if dir.IsZero() && c.isTable(ctx, name) {
		return fmt.Errorf("%s: %w", path, errIsDir)
	}
	return fmt.Errorf("%s: %w", path, versions.ErrNotFound)
}

// RENAME_NOREPLACE from renameat2(2).
const unixRenameNoReplace = 1

// renameOut is a rename out of tables/ and the table folders (to the
// mount's root), which take no files.
func (c *core) renameOut() error {
	if c.readOnly {
		return versions.ErrReadOnly
	}
	return c.immutable("only tables/ and table folders take files")
}

// rename moves name in dir to dstName in dstDir (zero = tables/). Only
// files being written move: to a table file name the rename publishes
// (and returns the write's error), to a temporary name it just moves.
// Flags are renameat2's; only RENAME_NOREPLACE is known.
func (c *core) rename(ctx context.Context, dir meta.TableName, name string, dstDir meta.TableName, dstName string, flags uint32) error {
	path := dirPath(dir, name)
	if c.readOnly {
		return versions.ErrReadOnly
	}
	if flags&^uint32(unixRenameNoReplace) != 0 {
		return errBadFlags
	}
	st := c.staging.lookup(dir, name)
	if st == nil {
		if !dir.IsZero() && c.tree.isHistoryName(ctx, dir, name) {
			return c.immutable(path)
		}
		if dir.IsZero() && c.isTable(ctx, name) {
			return c.immutable("table " + name)
		}
		return fmt.Errorf("%s: %w", path, versions.ErrNotFound)
	}
	if flags&unixRenameNoReplace != 0 && c.staging.lookup(dstDir, dstName) != nil {
		return fmt.Errorf("%s: %w", dirPath(dstDir, dstName), versions.ErrExists)
	}
	tgt, err := c.checkNewName(ctx, dstDir, dstName)
	if err != nil {
		return err
	}
	if isTempName(dstName) {
		if !c.staging.move(st, dstDir, dstName) {
			return versions.ErrNotFound
		}
		return nil
	}
	if !c.staging.take(st) {
		return versions.ErrNotFound
	}
	return c.publish(ctx, st, tgt, dstName)
}

// checkNewName says whether a file may be created (or renamed to) name in
// dir (zero = tables/), and what a table file name publishes to (zero for
// a temporary name).
func (c *core) checkNewName(ctx context.Context, dir meta.TableName, name string) (target, error) {
	if c.readOnly {
		return target{}, versions.ErrReadOnly
	}
	if !dir.IsZero() {
		exists, _, err := c.tree.info(ctx, dir)
		if err != nil {
			return target{}, err
		}
		if !exists {
			return target{}, fmt.Errorf("table %q: %w", dir, versions.ErrNotFound)
		}
		if strings.HasPrefix(name, "@") || c.tree.isHistoryName(ctx, dir, name) {
			return target{}, fmt.Errorf("%s/%s is part of the history: %w", dir, name, versions.ErrImmutable)
		}
	}
	if isTempName(name) {
		return target{}, nil
	}
	format, ok := tableFileFormat(name)
	if !ok {
		return target{}, fmt.Errorf("%q: %w: only %s files (or temporary names) can be written here", name, versions.ErrInvalidInput, versions.ExtensionList("and"))
	}
	if !dir.IsZero() {
		return target{table: dir, format: format}, nil
	}
	// A file in tables/ makes or updates the table its name names.
	t, err := versions.ParseTableName(tableLabel(dir, name))
	if err != nil {
		return target{}, err
	}
	return target{table: t, format: format}, nil
}

// ---- opening files ----

// writeFlags are the open flags that would change a file.
const writeFlags = syscall.O_WRONLY | syscall.O_RDWR | syscall.O_TRUNC | syscall.O_APPEND

// create stages a new file name in dir and returns a handle that counts as
// having written (its first flush from opener, the calling process,
// publishes).
func (c *core) create(ctx context.Context, dir meta.TableName, name string, opener int) (*writeFile, error) {
	tgt, err := c.checkNewName(ctx, dir, name)
	if err != nil {
		return nil, err
	}
	st, f, err := c.staging.create(dir, name, tgt)
	if err != nil {
		return nil, err
	}
	c.staging.opened(st)
	return &writeFile{c: c, st: st, f: f, opener: opener, dirty: true}, nil
}

// openStaged opens a file being written for opener, the calling process;
// O_TRUNC on a writable open empties it and counts as a write.
func (c *core) openStaged(st *staged, flags uint32, opener int) (*writeFile, error) {
	if _, _, ok := c.staging.place(st); !ok {
		return nil, versions.ErrNotFound
	}
	mode := os.O_RDWR
	if flags&syscall.O_ACCMODE == syscall.O_RDONLY {
		mode = os.O_RDONLY
	}
	f, err := os.OpenFile(st.path, mode, 0)
	if err != nil {
		return nil, err
	}
	w := &writeFile{c: c, st: st, f: f, opener: opener}
	if flags&syscall.O_TRUNC != 0 && mode == os.O_RDWR {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
		w.dirty = true
	}
	c.staging.opened(st)
	return w, nil
}

// setStaged applies truncate, chmod and utimes to a file being written.
func (c *core) setStaged(st *staged, size *int64, mode *uint32, atime, mtime *time.Time) error {
	if c.readOnly {
		return versions.ErrReadOnly
	}
	return c.staging.set(st, size, mode, atime, mtime)
}

// openVersion opens a version for reading (Project.OpenVersion decides
// how); versions never open for writing.
func (c *core) openVersion(ctx context.Context, v versions.Version, flags uint32) (*versions.VersionReader, error) {
	if flags&writeFlags != 0 {
		return nil, c.immutable(versionPath(v, "parquet"))
	}
	return c.p.OpenVersion(ctx, v, versions.OpenOptions{NoFill: c.noFill, Prefetch: c.prefetch, Detached: c.bg})
}

// openRendition opens a version's rendition of a kind (csv, rds), making
// it first if needed; the version's cache entry stays pinned until unpin.
func (c *core) openRendition(ctx context.Context, v versions.Version, kind string, flags uint32) (*os.File, func(), error) {
	if flags&writeFlags != 0 {
		return nil, nil, c.immutable(versionPath(v, kind))
	}
	return c.renditions.open(ctx, v, kind)
}

// openHistory returns history.json's bytes for one open.
func (c *core) openHistory(ctx context.Context, table meta.TableName, flags uint32) ([]byte, error) {
	if flags&writeFlags != 0 {
		return nil, c.immutable(dirPath(table, historyName))
	}
	return c.tree.historyJSON(ctx, table)
}

// versionPath is a version file's path in the mount, for messages.
func versionPath(v versions.Version, kind string) string {
	return "tables/" + v.Table.String() + "/@" + v.ID.Short() + "." + kind
}
