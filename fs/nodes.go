package fs

import (
	"context"
	"os"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/datomfs/datomfs/versions"
)

// The FUSE adapter: each node embeds gofs.Inode and holds only the shared
// state and its identity. Every operation is one call into state; errors go
// through state.errno.

// Kernel cache lifetimes: versions never change; listings, current.parquet
// and history.json do (and are invalidated after a refresh that changes them).
const (
	immutableTimeout = 24 * time.Hour
	mutableTimeout   = time.Second
	// uncached is "do not cache" (go-fuse reads a zero timeout as "use
	// the default").
	uncached = time.Nanosecond
)

// ---- attributes ----

func (s *state) setAttr(a *fuse.Attr, mode uint32, size int64, mtime time.Time) {
	a.Mode = mode
	a.Size = uint64(size)
	a.Blocks = (uint64(size) + 511) / 512
	a.Blksize = 4096
	a.Nlink = 1
	if mode&syscall.S_IFDIR != 0 {
		a.Nlink = 2
	}
	a.Owner = fuse.Owner{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
	a.SetTimes(&mtime, &mtime, &mtime)
}

// dirMode is the mode of folders: writable (by the mounting user) only on a
// developer mount.
func (s *state) dirMode() uint32 {
	if s.readOnly {
		return syscall.S_IFDIR | 0o555
	}
	return syscall.S_IFDIR | 0o755
}

// ---- / ----

type rootNode struct {
	gofs.Inode
	s      *state
	tables func(*gofs.Inode) // hands the tables/ inode to the Server
}

var (
	_ gofs.InodeEmbedder = (*rootNode)(nil)
	_ gofs.NodeOnAdder   = (*rootNode)(nil)
	_ gofs.NodeGetattrer = (*rootNode)(nil)
)

func (n *rootNode) OnAdd(ctx context.Context) {
	t := n.NewPersistentInode(ctx, &tablesNode{s: n.s}, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: 2})
	n.AddChild("tables", t, false)
	if n.tables != nil {
		n.tables(t)
	}
}

func (n *rootNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.s.setAttr(&out.Attr, syscall.S_IFDIR|0o555, 0, n.s.started)
	out.SetTimeout(immutableTimeout)
	return 0
}

// ---- tables/ ----

type tablesNode struct {
	gofs.Inode
	s *state
}

var (
	_ gofs.NodeGetattrer = (*tablesNode)(nil)
	_ gofs.NodeLookuper  = (*tablesNode)(nil)
	_ gofs.NodeReaddirer = (*tablesNode)(nil)
	_ gofs.NodeMkdirer   = (*tablesNode)(nil)
	_ gofs.NodeRmdirer   = (*tablesNode)(nil)
	_ gofs.NodeCreater   = (*tablesNode)(nil)
	_ gofs.NodeUnlinker  = (*tablesNode)(nil)
	_ gofs.NodeRenamer   = (*tablesNode)(nil)
	_ gofs.NodeSetattrer = (*tablesNode)(nil)
)

func (n *tablesNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.s.setAttr(&out.Attr, n.s.dirMode(), 0, n.s.started)
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *tablesNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.s.errno("setattr", "", "tables", n.s.immutable("tables/"))
}

func (n *tablesNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if st := n.s.lookupStaged("", name); st != nil {
		return n.s.stagedInode(ctx, &n.Inode, st, out)
	}
	exists, updated, err := n.s.tableInfo(ctx, name)
	if err != nil {
		return nil, n.s.errno("lookup", name, "tables/"+name, err)
	}
	if !exists {
		return nil, syscall.ENOENT
	}
	return n.tableInode(ctx, name, updated, out), 0
}

func (n *tablesNode) tableInode(ctx context.Context, name string, updated time.Time, out *fuse.EntryOut) *gofs.Inode {
	n.s.setAttr(&out.Attr, n.s.dirMode(), 0, updated)
	out.SetEntryTimeout(mutableTimeout)
	out.SetAttrTimeout(mutableTimeout)
	return n.NewInode(ctx, &tableNode{s: n.s, table: name}, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: inoOf("table", name)})
}

func (n *tablesNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	names, err := n.s.tableNames(ctx)
	if err != nil {
		return nil, n.s.errno("readdir", "", "tables", err)
	}
	entries := make([]fuse.DirEntry, 0, len(names))
	for _, t := range names {
		entries = append(entries, fuse.DirEntry{Name: t, Mode: syscall.S_IFDIR, Ino: inoOf("table", t)})
	}
	for name, ino := range n.s.stagedIn("") {
		entries = append(entries, fuse.DirEntry{Name: name, Mode: syscall.S_IFREG, Ino: ino})
	}
	return gofs.NewListDirStream(entries), 0
}

func (n *tablesNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if err := n.s.mkdirTable(ctx, name); err != nil {
		return nil, n.s.errno("mkdir", name, "tables/"+name, err)
	}
	return n.tableInode(ctx, name, n.s.started, out), 0
}

func (n *tablesNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	return n.s.errno("rmdir", name, "tables/"+name, n.s.rmdirTable(ctx, name))
}

func (n *tablesNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return n.s.createNode(ctx, &n.Inode, "", name, out)
}

func (n *tablesNode) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.s.unlinkNode(ctx, "", name)
}

func (n *tablesNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return n.s.renameNode(ctx, "", name, newParent, newName, flags)
}

// ---- tables/<t>/ ----

type tableNode struct {
	gofs.Inode
	s     *state
	table string
}

var (
	_ gofs.NodeGetattrer = (*tableNode)(nil)
	_ gofs.NodeLookuper  = (*tableNode)(nil)
	_ gofs.NodeReaddirer = (*tableNode)(nil)
	_ gofs.NodeMkdirer   = (*tableNode)(nil)
	_ gofs.NodeCreater   = (*tableNode)(nil)
	_ gofs.NodeUnlinker  = (*tableNode)(nil)
	_ gofs.NodeRenamer   = (*tableNode)(nil)
	_ gofs.NodeSetattrer = (*tableNode)(nil)
)

func (n *tableNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	exists, updated, err := n.s.tableInfo(ctx, n.table)
	if err == nil && !exists {
		err = versions.ErrNotFound
	}
	if err != nil {
		return n.s.errno("getattr", n.table, "tables/"+n.table, err)
	}
	n.s.setAttr(&out.Attr, n.s.dirMode(), 0, updated)
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *tableNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.s.errno("setattr", n.table, "tables/"+n.table, n.s.immutable("table folder "+n.table))
}

func (n *tableNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	s, path := n.s, "tables/"+n.table+"/"+name
	switch name {
	case currentName:
		target, err := s.current(ctx, n.table)
		if err != nil {
			return nil, s.errno("lookup", n.table, path, err)
		}
		s.setAttr(&out.Attr, syscall.S_IFLNK|0o777, int64(len(target)), s.tableUpdated(n.table))
		out.SetEntryTimeout(mutableTimeout)
		out.SetAttrTimeout(mutableTimeout)
		return n.NewInode(ctx, &linkNode{s: s, table: n.table}, gofs.StableAttr{Mode: syscall.S_IFLNK, Ino: inoOf("current", n.table)}), 0
	case historyName:
		body, err := s.historyJSON(ctx, n.table)
		if err != nil {
			return nil, s.errno("lookup", n.table, path, err)
		}
		s.setAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(body)), s.tableUpdated(n.table))
		out.SetEntryTimeout(mutableTimeout)
		out.SetAttrTimeout(mutableTimeout)
		return n.NewInode(ctx, &historyNode{s: s, table: n.table}, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: inoOf("history", n.table)}), 0
	}
	if prefix, kind, ok := versionName(name); ok {
		v, err := s.resolve(ctx, n.table, prefix)
		if err != nil {
			return nil, s.errno("lookup", n.table, path, err)
		}
		vn := &versionNode{s: s, v: v, csv: kind == "csv"}
		timeout, err := vn.attr(ctx, &out.Attr)
		if err != nil {
			return nil, s.errno("lookup", n.table, path, err)
		}
		out.SetEntryTimeout(timeout)
		out.SetAttrTimeout(timeout)
		return n.NewInode(ctx, vn, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: inoOf("version", n.table, string(v.ID), kind)}), 0
	}
	if st := s.lookupStaged(n.table, name); st != nil {
		return s.stagedInode(ctx, &n.Inode, st, out)
	}
	return nil, syscall.ENOENT
}

func (n *tableNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	t, err := n.s.tableVersions(ctx, n.table)
	if err != nil {
		return nil, n.s.errno("readdir", n.table, "tables/"+n.table, err)
	}
	var entries []fuse.DirEntry
	for i, v := range t.versions {
		entries = append(entries, fuse.DirEntry{Name: "@" + t.names[i] + ".parquet", Mode: syscall.S_IFREG, Ino: inoOf("version", n.table, string(v.ID), "parquet")})
		if n.s.conv != nil {
			entries = append(entries, fuse.DirEntry{Name: "@" + t.names[i] + ".csv", Mode: syscall.S_IFREG, Ino: inoOf("version", n.table, string(v.ID), "csv")})
		}
	}
	if len(t.versions) > 0 {
		entries = append(entries,
			fuse.DirEntry{Name: currentName, Mode: syscall.S_IFLNK, Ino: inoOf("current", n.table)},
			fuse.DirEntry{Name: historyName, Mode: syscall.S_IFREG, Ino: inoOf("history", n.table)})
	}
	for name, ino := range n.s.stagedIn(n.table) {
		entries = append(entries, fuse.DirEntry{Name: name, Mode: syscall.S_IFREG, Ino: ino})
	}
	return gofs.NewListDirStream(entries), 0
}

func (n *tableNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, n.s.errno("mkdir", n.table, "tables/"+n.table+"/"+name, n.s.immutable("a table folder holds no folders"))
}

func (n *tableNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return n.s.createNode(ctx, &n.Inode, n.table, name, out)
}

func (n *tableNode) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.s.unlinkNode(ctx, n.table, name)
}

func (n *tableNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return n.s.renameNode(ctx, n.table, name, newParent, newName, flags)
}

// ---- shared folder operations ----

// immutable is the refusal for changing history: EPERM, or EROFS on a
// reader mount.
func (s *state) immutable(what string) error {
	if s.readOnly {
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

func (s *state) tableUpdated(table string) time.Time {
	_, updated, _ := s.tableInfo(context.Background(), table)
	return updated
}

func dirPath(dir, name string) string {
	if dir == "" {
		return "tables/" + name
	}
	return "tables/" + dir + "/" + name
}

func (s *state) createNode(ctx context.Context, parent *gofs.Inode, dir, name string, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	st, f, err := s.create(ctx, dir, name)
	if err != nil {
		return nil, nil, 0, s.errno("create", targetTable(dir, name), dirPath(dir, name), err)
	}
	ch, errno := s.stagedInode(ctx, parent, st, out)
	if errno != 0 {
		f.Close()
		s.unlinkStaged(st)
		return nil, nil, 0, errno
	}
	return ch, &stagedFile{w: &writeFile{s: s, st: st, f: f, dirty: true}}, 0, 0
}

func (s *state) unlinkNode(ctx context.Context, dir, name string) syscall.Errno {
	path := dirPath(dir, name)
	if s.readOnly {
		return s.errno("unlink", dir, path, versions.ErrReadOnly)
	}
	if st := s.lookupStaged(dir, name); st != nil {
		s.unlinkStaged(st)
		return 0
	}
	if dir != "" && s.isHistoryName(ctx, dir, name) {
		return s.errno("unlink", dir, path, s.immutable(path))
	}
	if dir == "" {
		if exists, _, _ := s.tableInfo(ctx, name); exists {
			return syscall.EISDIR
		}
	}
	return syscall.ENOENT
}

func (s *state) renameNode(ctx context.Context, dir, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	path := dirPath(dir, name)
	if s.readOnly {
		return s.errno("rename", dir, path, versions.ErrReadOnly)
	}
	var dstDir string
	switch p := newParent.(type) {
	case *tablesNode:
	case *tableNode:
		dstDir = p.table
	default:
		return s.errno("rename", dir, path, s.immutable("only tables/ and table folders take files"))
	}
	if flags&^uint32(unixRenameNoReplace) != 0 {
		return s.errno("rename", dir, path, errBadFlags)
	}
	st := s.lookupStaged(dir, name)
	if st == nil {
		if dir != "" && s.isHistoryName(ctx, dir, name) {
			return s.errno("rename", dir, path, s.immutable(path))
		}
		if dir == "" {
			if exists, _, _ := s.tableInfo(ctx, name); exists {
				return s.errno("rename", name, path, s.immutable("table "+name))
			}
		}
		return syscall.ENOENT
	}
	if flags&unixRenameNoReplace != 0 && s.lookupStaged(dstDir, newName) != nil {
		return s.errno("rename", dir, path, versions.ErrExists)
	}
	if err := s.rename(ctx, st, dstDir, newName); err != nil {
		return s.errno("rename", targetTable(dstDir, newName), path+" -> "+dirPath(dstDir, newName), err)
	}
	return 0
}

// RENAME_NOREPLACE from renameat2(2).
const unixRenameNoReplace = 1

// ---- versions: @<id>.parquet and @<id>.csv ----

type versionNode struct {
	gofs.Inode
	s   *state
	v   versions.Version
	csv bool
}

var (
	_ gofs.NodeGetattrer = (*versionNode)(nil)
	_ gofs.NodeSetattrer = (*versionNode)(nil)
	_ gofs.NodeOpener    = (*versionNode)(nil)
)

func (n *versionNode) path() string {
	ext := ".parquet"
	if n.csv {
		ext = ".csv"
	}
	return "tables/" + n.v.Table + "/@" + n.v.ID.Short() + ext
}

// attr fills a version's attributes and says how long they may be cached:
// long, except for a CSV rendition not generated yet (size unknown: 0).
func (n *versionNode) attr(ctx context.Context, a *fuse.Attr) (time.Duration, error) {
	if n.csv {
		size, ok := n.s.csvSize(n.v)
		n.s.setAttr(a, syscall.S_IFREG|0o444, size, n.v.Time())
		if !ok {
			return uncached, nil
		}
		return immutableTimeout, nil
	}
	size, err := n.s.p.VersionSize(ctx, n.v)
	if err != nil {
		return 0, err
	}
	n.s.setAttr(a, syscall.S_IFREG|0o444, size, n.v.Time())
	return immutableTimeout, nil
}

func (n *versionNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	timeout, err := n.attr(ctx, &out.Attr)
	if err != nil {
		return n.s.errno("getattr", n.v.Table, n.path(), err)
	}
	out.SetTimeout(timeout)
	return 0
}

func (n *versionNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.s.errno("setattr", n.v.Table, n.path(), n.s.immutable(n.path()))
}

func (n *versionNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0 {
		return nil, 0, n.s.errno("open", n.v.Table, n.path(), n.s.immutable(n.path()))
	}
	if n.csv {
		// Pinned before the rendition is made from the cached copy.
		unpin := n.s.p.PinVersion(n.v)
		path, err := n.s.csv(ctx, n.v)
		if err != nil {
			unpin()
			return nil, 0, n.s.errno("open", n.v.Table, n.path(), err)
		}
		f, err := os.Open(path)
		if err != nil {
			unpin()
			return nil, 0, n.s.errno("open", n.v.Table, n.path(), err)
		}
		n.s.p.PinVersion(n.v)() // a use; also accounts for the rendition's size
		// The size the kernel saw may predate the rendition: read around
		// the page cache.
		return &localFile{f: f, unpin: unpin}, fuse.FOPEN_DIRECT_IO, 0
	}
	r, err := n.s.p.OpenVersion(ctx, n.v, versions.OpenOptions{NoFill: n.s.noFill, Detached: n.s.bg})
	if err != nil {
		return nil, 0, n.s.errno("open", n.v.Table, n.path(), err)
	}
	if r.Local() == nil {
		// A remote version still being fetched.
		return &remoteFile{r: r}, fuse.FOPEN_KEEP_CACHE, 0
	}
	// go-fuse turns this into passthrough when the kernel and our
	// privileges allow it (and then drops KEEP_CACHE: the page cache is the
	// cache file's own); otherwise (Options.NoPassthrough, or the kernel
	// refused a backing file once) reads come to versionFile.Read and the
	// kernel keeps the pages across opens. Server.Passthrough says which.
	return &versionFile{r: r}, fuse.FOPEN_KEEP_CACHE, 0
}

// ---- current.parquet ----

type linkNode struct {
	gofs.Inode
	s     *state
	table string
}

var (
	_ gofs.NodeReadlinker = (*linkNode)(nil)
	_ gofs.NodeGetattrer  = (*linkNode)(nil)
	_ gofs.NodeSetattrer  = (*linkNode)(nil)
)

func (n *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	target, err := n.s.current(ctx, n.table)
	if err != nil {
		return nil, n.s.errno("readlink", n.table, "tables/"+n.table+"/"+currentName, err)
	}
	return []byte(target), 0
}

func (n *linkNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	target, err := n.s.current(ctx, n.table)
	if err != nil {
		return n.s.errno("getattr", n.table, "tables/"+n.table+"/"+currentName, err)
	}
	n.s.setAttr(&out.Attr, syscall.S_IFLNK|0o777, int64(len(target)), n.s.tableUpdated(n.table))
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *linkNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.s.errno("setattr", n.table, "tables/"+n.table+"/"+currentName, n.s.immutable(currentName))
}

// ---- history.json ----

type historyNode struct {
	gofs.Inode
	s     *state
	table string
}

var (
	_ gofs.NodeGetattrer = (*historyNode)(nil)
	_ gofs.NodeSetattrer = (*historyNode)(nil)
	_ gofs.NodeOpener    = (*historyNode)(nil)
)

func (n *historyNode) path() string { return "tables/" + n.table + "/" + historyName }

func (n *historyNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if b, ok := f.(*bytesFile); ok {
		n.s.setAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(b.data)), n.s.tableUpdated(n.table))
		out.SetTimeout(mutableTimeout)
		return 0
	}
	body, err := n.s.historyJSON(ctx, n.table)
	if err != nil {
		return n.s.errno("getattr", n.table, n.path(), err)
	}
	n.s.setAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(body)), n.s.tableUpdated(n.table))
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *historyNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.s.errno("setattr", n.table, n.path(), n.s.immutable(n.path()))
}

func (n *historyNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0 {
		return nil, 0, n.s.errno("open", n.table, n.path(), n.s.immutable(n.path()))
	}
	body, err := n.s.historyJSON(ctx, n.table)
	if err != nil {
		return nil, 0, n.s.errno("open", n.table, n.path(), err)
	}
	// One snapshot per open, read around the page cache: the content
	// changes with every version.
	return &bytesFile{data: body}, fuse.FOPEN_DIRECT_IO, 0
}

type bytesFile struct{ data []byte }

var _ gofs.FileReader = (*bytesFile)(nil)

func (b *bytesFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(b.data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := off + int64(len(dest))
	if end > int64(len(b.data)) {
		end = int64(len(b.data))
	}
	return fuse.ReadResultData(b.data[off:end]), 0
}

// ---- files being written ----

type stagedNode struct {
	gofs.Inode
	s  *state
	st *staged
}

var (
	_ gofs.NodeGetattrer = (*stagedNode)(nil)
	_ gofs.NodeSetattrer = (*stagedNode)(nil)
	_ gofs.NodeOpener    = (*stagedNode)(nil)
)

// stagedInode makes the inode of a staged file. Its entry is never cached,
// so it disappears from the tree the moment it is published.
func (s *state) stagedInode(ctx context.Context, parent *gofs.Inode, st *staged, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	size, mode, mtime, err := s.stagedAttr(st)
	if err != nil {
		return nil, syscall.ENOENT
	}
	s.setAttr(&out.Attr, syscall.S_IFREG|mode, size, mtime)
	out.SetEntryTimeout(uncached)
	out.SetAttrTimeout(uncached)
	return parent.NewInode(ctx, &stagedNode{s: s, st: st}, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: st.ino}), 0
}

func (n *stagedNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	size, mode, mtime, err := n.s.stagedAttr(n.st)
	if err != nil {
		if h, ok := f.(*stagedFile); ok {
			// Published while open: describe the handle's bytes.
			if fi, ferr := h.w.f.Stat(); ferr == nil {
				n.s.setAttr(&out.Attr, syscall.S_IFREG|0o644, fi.Size(), fi.ModTime())
				out.SetTimeout(uncached)
				return 0
			}
		}
		return syscall.ENOENT
	}
	n.s.setAttr(&out.Attr, syscall.S_IFREG|mode, size, mtime)
	out.SetTimeout(uncached)
	return 0
}

func (n *stagedNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	var size *int64
	var mode *uint32
	var atime, mtime *time.Time
	if sz, ok := in.GetSize(); ok {
		v := int64(sz)
		size = &v
		if h, ok := f.(*stagedFile); ok {
			h.w.touched()
		}
	}
	if m, ok := in.GetMode(); ok {
		mode = &m
	}
	if t, ok := in.GetATime(); ok {
		atime = &t
	}
	if t, ok := in.GetMTime(); ok {
		mtime = &t
	}
	dir, name, _ := n.s.place(n.st)
	if err := n.s.setStaged(n.st, size, mode, atime, mtime); err != nil {
		return n.s.errno("setattr", targetTable(dir, name), dirPath(dir, name), err)
	}
	return n.Getattr(ctx, f, out)
}

func (n *stagedNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	dir, name, ok := n.s.place(n.st)
	if !ok {
		return nil, 0, syscall.ENOENT
	}
	mode := os.O_RDWR
	if flags&syscall.O_ACCMODE == syscall.O_RDONLY {
		mode = os.O_RDONLY
	}
	f, err := os.OpenFile(n.st.path, mode, 0)
	if err != nil {
		return nil, 0, n.s.errno("open", targetTable(dir, name), dirPath(dir, name), err)
	}
	w := &writeFile{s: n.s, st: n.st, f: f}
	if flags&syscall.O_TRUNC != 0 && mode == os.O_RDWR {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, 0, n.s.errno("open", targetTable(dir, name), dirPath(dir, name), err)
		}
		w.dirty = true
	}
	return &stagedFile{w: w}, 0, 0
}

// stagedFile is an open handle on a file being written.
type stagedFile struct{ w *writeFile }

var (
	_ gofs.FileReader   = (*stagedFile)(nil)
	_ gofs.FileWriter   = (*stagedFile)(nil)
	_ gofs.FileFlusher  = (*stagedFile)(nil)
	_ gofs.FileFsyncer  = (*stagedFile)(nil)
	_ gofs.FileReleaser = (*stagedFile)(nil)

	_ gofs.FilePassthroughFder = (*stagedFile)(nil)
)

// PassthroughFd lets the kernel write a new file straight into its staging
// copy, with no round trip per write, when this handle already counts as
// having written (created, or truncated by this open): its close still
// reaches Flush, which publishes. Other opens stay on the FUSE path, where
// their first write marks them.
func (h *stagedFile) PassthroughFd() (int, bool) {
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	if !h.w.dirty {
		return -1, false
	}
	return int(h.w.f.Fd()), true
}

func (h *stagedFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.w.f.ReadAt(dest, off)
	if err != nil && n == 0 && !isEOF(err) {
		return nil, Errno(err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *stagedFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, err := h.w.write(data, off)
	if err != nil {
		dir, name, _ := h.w.s.place(h.w.st)
		return uint32(n), h.w.s.errno("write", targetTable(dir, name), dirPath(dir, name), err)
	}
	return uint32(n), 0
}

// Flush is close(2): the first one after writes publishes the file.
func (h *stagedFile) Flush(ctx context.Context) syscall.Errno {
	dir, name, _ := h.w.s.place(h.w.st)
	if err := h.w.flush(ctx); err != nil {
		return h.w.s.errno("close", targetTable(dir, name), dirPath(dir, name), err)
	}
	return 0
}

// Fsync makes the staged bytes durable; publishing waits for close.
func (h *stagedFile) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return Errno(h.w.f.Sync())
}

func (h *stagedFile) Release(ctx context.Context) syscall.Errno {
	h.w.release()
	return 0
}
