package fs

import (
	"context"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// The FUSE adapter: each node embeds gofs.Inode and holds only the shared
// core and its identity. Every operation is one call into the core (core.go
// and its rooms); errors go through core.errno. File handles are in
// handles.go.

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

func setAttr(a *fuse.Attr, mode uint32, size int64, mtime time.Time) {
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
func dirMode(c *core) uint32 {
	if c.readOnly {
		return syscall.S_IFDIR | 0o555
	}
	return syscall.S_IFDIR | 0o755
}

// dirStream serves a listing as it is: entries are converted one at a time
// as the kernel reads them (a listing may be a table's shared one, of
// tens of thousands of names).
func dirStream(entries []dirEntry) gofs.DirStream {
	return &entryStream{entries: entries}
}

type entryStream struct {
	entries []dirEntry
	next    int
}

var _ gofs.FileSeekdirer = (*entryStream)(nil)

func (s *entryStream) HasNext() bool { return s.next < len(s.entries) }

func (s *entryStream) Next() (fuse.DirEntry, syscall.Errno) {
	e := s.entries[s.next]
	s.next++
	// Off is where a later read resumes: after this entry.
	return fuse.DirEntry{Name: e.name, Mode: e.mode, Ino: e.ino, Off: uint64(s.next)}, 0
}

func (s *entryStream) Close() {}

// Seekdir moves to an offset Next gave (0: the start).
func (s *entryStream) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off > uint64(len(s.entries)) {
		return syscall.EINVAL
	}
	s.next = int(off)
	return 0
}

// ---- / ----

type rootNode struct {
	gofs.Inode
	c      *core
	tables func(*gofs.Inode) // hands the tables/ inode to the Server
}

var (
	_ gofs.InodeEmbedder = (*rootNode)(nil)
	_ gofs.NodeOnAdder   = (*rootNode)(nil)
	_ gofs.NodeGetattrer = (*rootNode)(nil)
)

func (n *rootNode) OnAdd(ctx context.Context) {
	t := n.NewPersistentInode(ctx, &tablesNode{c: n.c}, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: 2})
	n.AddChild("tables", t, false)
	if n.tables != nil {
		n.tables(t)
	}
	for i, dir := range []string{snapshotsName, atName} {
		d := n.NewPersistentInode(ctx, newPointsNode(n.c, dir), gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: uint64(3 + i)})
		n.AddChild(dir, d, false)
	}
}

func (n *rootNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	setAttr(&out.Attr, syscall.S_IFDIR|0o555, 0, n.c.tree.started)
	out.SetTimeout(immutableTimeout)
	return 0
}

// ---- tables/ ----

type tablesNode struct {
	gofs.Inode
	c *core
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
	setAttr(&out.Attr, dirMode(n.c), 0, n.c.tree.started)
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *tablesNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.c.errno("setattr", "", "tables", n.c.immutable("tables/"))
}

func (n *tablesNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if st := n.c.staging.lookup(meta.TableName{}, name); st != nil {
		return stagedInode(ctx, n.c, &n.Inode, st, out)
	}
	table, ok := tableNamed(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	exists, updated, err := n.c.tree.info(ctx, table)
	if err != nil {
		return nil, n.c.errno("lookup", name, "tables/"+name, err)
	}
	if !exists {
		return nil, syscall.ENOENT
	}
	return n.tableInode(ctx, table, updated, out), 0
}

func (n *tablesNode) tableInode(ctx context.Context, table meta.TableName, updated time.Time, out *fuse.EntryOut) *gofs.Inode {
	setAttr(&out.Attr, dirMode(n.c), 0, updated)
	out.SetEntryTimeout(mutableTimeout)
	out.SetAttrTimeout(mutableTimeout)
	return n.NewInode(ctx, &tableNode{c: n.c, table: table}, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: inoOf("table", table.String())})
}

func (n *tablesNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	entries, err := n.c.readdir(ctx, meta.TableName{})
	if err != nil {
		return nil, n.c.errno("readdir", "", "tables", err)
	}
	return dirStream(entries), 0
}

func (n *tablesNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	table, err := n.c.mkdir(ctx, name)
	if err != nil {
		return nil, n.c.errno("mkdir", name, "tables/"+name, err)
	}
	return n.tableInode(ctx, table, n.c.tree.started, out), 0
}

func (n *tablesNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	return n.c.errno("rmdir", name, "tables/"+name, n.c.rmdir(ctx, name))
}

func (n *tablesNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return createNode(ctx, n.c, &n.Inode, meta.TableName{}, name, out)
}

func (n *tablesNode) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.c.errno("unlink", "", dirPath(meta.TableName{}, name), n.c.unlink(ctx, meta.TableName{}, name))
}

func (n *tablesNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return renameNode(ctx, n.c, meta.TableName{}, name, newParent, newName, flags)
}

// ---- tables/<t>/ ----

type tableNode struct {
	gofs.Inode
	c     *core
	table meta.TableName
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
	exists, updated, err := n.c.tree.info(ctx, n.table)
	if err == nil && !exists {
		err = versions.ErrNotFound
	}
	if err != nil {
		return n.c.errno("getattr", n.table.String(), "tables/"+n.table.String(), err)
	}
	setAttr(&out.Attr, dirMode(n.c), 0, updated)
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *tableNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.c.errno("setattr", n.table.String(), "tables/"+n.table.String(), n.c.immutable("table folder "+n.table.String()))
}

func (n *tableNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	c, path, table := n.c, dirPath(n.table, name), n.table.String()
	switch name {
	case currentName, currentRDSName:
		ln := &linkNode{c: c, table: n.table, rds: name == currentRDSName}
		target, err := ln.target(ctx)
		if err != nil {
			return nil, c.errno("lookup", table, path, err)
		}
		setAttr(&out.Attr, syscall.S_IFLNK|0o777, int64(len(target)), c.tree.updated(n.table))
		out.SetEntryTimeout(mutableTimeout)
		out.SetAttrTimeout(mutableTimeout)
		ino := inoOf("current", table)
		if ln.rds {
			ino = inoOf("current", table, "rds")
		}
		return n.NewInode(ctx, ln, gofs.StableAttr{Mode: syscall.S_IFLNK, Ino: ino}), 0
	case historyName:
		body, err := c.tree.historyJSON(ctx, n.table)
		if err != nil {
			return nil, c.errno("lookup", table, path, err)
		}
		setAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(body)), c.tree.updated(n.table))
		out.SetEntryTimeout(mutableTimeout)
		out.SetAttrTimeout(mutableTimeout)
		return n.NewInode(ctx, &historyNode{c: c, table: n.table}, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: inoOf("history", table)}), 0
	}
	if prefix, kind, ok := versionName(name); ok {
		v, err := c.tree.resolve(ctx, n.table, prefix)
		if err != nil {
			return nil, c.errno("lookup", table, path, err)
		}
		vn := &versionNode{c: c, v: v}
		if kind != "parquet" {
			vn.rendition = kind
		}
		timeout, err := vn.attr(ctx, &out.Attr)
		if err != nil {
			return nil, c.errno("lookup", table, path, err)
		}
		out.SetEntryTimeout(timeout)
		out.SetAttrTimeout(timeout)
		return n.NewInode(ctx, vn, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: inoOf("version", table, string(v.ID), kind)}), 0
	}
	if st := c.staging.lookup(n.table, name); st != nil {
		return stagedInode(ctx, c, &n.Inode, st, out)
	}
	return nil, syscall.ENOENT
}

func (n *tableNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	entries, err := n.c.readdir(ctx, n.table)
	if err != nil {
		return nil, n.c.errno("readdir", n.table.String(), "tables/"+n.table.String(), err)
	}
	return dirStream(entries), 0
}

func (n *tableNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, n.c.errno("mkdir", n.table.String(), dirPath(n.table, name), n.c.immutable("a table folder holds no folders"))
}

func (n *tableNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return createNode(ctx, n.c, &n.Inode, n.table, name, out)
}

func (n *tableNode) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.c.errno("unlink", n.table.String(), dirPath(n.table, name), n.c.unlink(ctx, n.table, name))
}

func (n *tableNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return renameNode(ctx, n.c, n.table, name, newParent, newName, flags)
}

// ---- shared folder operations ----

func createNode(ctx context.Context, c *core, parent *gofs.Inode, dir meta.TableName, name string, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	w, err := c.create(ctx, dir, name, callerProcess(ctx))
	if err != nil {
		return nil, nil, 0, c.errno("create", tableLabel(dir, name), dirPath(dir, name), err)
	}
	ch, errno := stagedInode(ctx, c, parent, w.st, out)
	if errno != 0 {
		w.discard()
		return nil, nil, 0, errno
	}
	return ch, &stagedFile{w: w}, 0, 0
}

func renameNode(ctx context.Context, c *core, dir meta.TableName, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	var dstDir meta.TableName
	switch p := newParent.(type) {
	case *tablesNode:
	case *tableNode:
		dstDir = p.table
	case *pointsNode, *pointNode, *pointTablesNode:
		return c.errno("rename", dir.String(), dirPath(dir, name)+" -> "+newName, c.frozen(newName))
	default: // out of tables/ and the table folders
		return c.errno("rename", dir.String(), dirPath(dir, name)+" -> "+newName, c.renameOut())
	}
	path := dirPath(dir, name) + " -> " + dirPath(dstDir, newName)
	return c.errno("rename", tableLabel(dstDir, newName), path, c.rename(ctx, dir, name, dstDir, newName, flags))
}

// ---- versions: @<id>.parquet and its renditions @<id>.csv, @<id>.rds ----

type versionNode struct {
	gofs.Inode
	c *core
	v versions.Version
	// rendition is the kind of rendition ("csv", "rds"); "" for the
	// parquet file itself.
	rendition string
	// unverifiedPages: the kernel may hold pages of this file read while
	// the version was not checked yet (a remote open). The next open of
	// the verified copy drops them: if that check failed and a later
	// download passed, they hold the wrong bytes.
	unverifiedPages atomic.Bool
}

var (
	_ gofs.NodeGetattrer = (*versionNode)(nil)
	_ gofs.NodeSetattrer = (*versionNode)(nil)
	_ gofs.NodeOpener    = (*versionNode)(nil)
)

func (n *versionNode) path() string {
	if n.rendition != "" {
		return versionPath(n.v, n.rendition)
	}
	return versionPath(n.v, "parquet")
}

// attr fills a version's attributes and says how long they may be cached:
// long, except for a rendition not generated yet (size unknown: 0).
func (n *versionNode) attr(ctx context.Context, a *fuse.Attr) (time.Duration, error) {
	if n.rendition != "" {
		size, ok := n.c.renditions.size(n.v, n.rendition)
		setAttr(a, syscall.S_IFREG|0o444, size, n.v.Timestamp)
		if !ok {
			return uncached, nil
		}
		return immutableTimeout, nil
	}
	size, err := n.c.p.VersionSize(ctx, n.v)
	if err != nil {
		return 0, err
	}
	setAttr(a, syscall.S_IFREG|0o444, size, n.v.Timestamp)
	return immutableTimeout, nil
}

func (n *versionNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	timeout, err := n.attr(ctx, &out.Attr)
	if err != nil {
		return n.c.errno("getattr", n.v.Table.String(), n.path(), err)
	}
	out.SetTimeout(timeout)
	return 0
}

func (n *versionNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.c.errno("setattr", n.v.Table.String(), n.path(), n.c.immutable(n.path()))
}

func (n *versionNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if n.rendition != "" {
		f, unpin, err := n.c.openRendition(ctx, n.v, n.rendition, flags)
		if err != nil {
			return nil, 0, n.c.errno("open", n.v.Table.String(), n.path(), err)
		}
		// The size the kernel saw may predate the rendition: read around
		// the page cache.
		return &localFile{f: f, unpin: unpin}, fuse.FOPEN_DIRECT_IO, 0
	}
	r, err := n.c.openVersion(ctx, n.v, flags)
	if err != nil {
		return nil, 0, n.c.errno("open", n.v.Table.String(), n.path(), err)
	}
	if r.Local() == nil {
		// Not cached yet: reads come here, fetched as they are asked,
		// through the page cache. Not direct I/O: it sends each read
		// of a program here as a round trip of its own, and programs
		// that read 10–128 KiB at a time (tar, sha256sum, cp) took
		// 1.2–2.4× as long, pyarrow reading every column 1.3×; only
		// large reads (dd bs=1M) were faster (fs/SEMANTICS.md).
		// Without KEEP_CACHE: the open drops the pages earlier opens
		// read unverified, so none that a failed check refused is
		// served from the kernel's cache; reads come here again.
		n.unverifiedPages.Store(true)
		return &remoteFile{r: r, c: n.c, table: n.v.Table.String(), path: n.path()}, 0, 0
	}
	// go-fuse turns this into passthrough when the kernel and our
	// privileges allow it (and then drops KEEP_CACHE: the page cache is the
	// cache file's own); otherwise (Options.NoPassthrough, or the kernel
	// refused a backing file once) reads come to versionFile.Read and the
	// kernel keeps the pages across opens. Server.Passthrough says which.
	if n.unverifiedPages.Swap(false) {
		return &versionFile{r: r}, 0, 0
	}
	return &versionFile{r: r}, fuse.FOPEN_KEEP_CACHE, 0
}

// ---- current.parquet, current.rds ----

type linkNode struct {
	gofs.Inode
	c     *core
	table meta.TableName
	rds   bool // current.rds → @<id>.rds
}

func (n *linkNode) name() string {
	if n.rds {
		return currentRDSName
	}
	return currentName
}

func (n *linkNode) target(ctx context.Context) (string, error) {
	if n.rds {
		return n.c.tree.currentRDS(ctx, n.table)
	}
	return n.c.tree.current(ctx, n.table)
}

var (
	_ gofs.NodeReadlinker = (*linkNode)(nil)
	_ gofs.NodeGetattrer  = (*linkNode)(nil)
	_ gofs.NodeSetattrer  = (*linkNode)(nil)
)

func (n *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	target, err := n.target(ctx)
	if err != nil {
		return nil, n.c.errno("readlink", n.table.String(), dirPath(n.table, n.name()), err)
	}
	return []byte(target), 0
}

func (n *linkNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	target, err := n.target(ctx)
	if err != nil {
		return n.c.errno("getattr", n.table.String(), dirPath(n.table, n.name()), err)
	}
	setAttr(&out.Attr, syscall.S_IFLNK|0o777, int64(len(target)), n.c.tree.updated(n.table))
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *linkNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.c.errno("setattr", n.table.String(), dirPath(n.table, n.name()), n.c.immutable(n.name()))
}

// ---- history.json ----

type historyNode struct {
	gofs.Inode
	c     *core
	table meta.TableName
}

var (
	_ gofs.NodeGetattrer = (*historyNode)(nil)
	_ gofs.NodeSetattrer = (*historyNode)(nil)
	_ gofs.NodeOpener    = (*historyNode)(nil)
)

func (n *historyNode) path() string { return dirPath(n.table, historyName) }

func (n *historyNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if b, ok := f.(*bytesFile); ok {
		setAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(b.data)), n.c.tree.updated(n.table))
		out.SetTimeout(mutableTimeout)
		return 0
	}
	body, err := n.c.tree.historyJSON(ctx, n.table)
	if err != nil {
		return n.c.errno("getattr", n.table.String(), n.path(), err)
	}
	setAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(body)), n.c.tree.updated(n.table))
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *historyNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.c.errno("setattr", n.table.String(), n.path(), n.c.immutable(n.path()))
}

func (n *historyNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	body, err := n.c.openHistory(ctx, n.table, flags)
	if err != nil {
		return nil, 0, n.c.errno("open", n.table.String(), n.path(), err)
	}
	// One snapshot per open, read around the page cache: the content
	// changes with every version.
	return &bytesFile{data: body}, fuse.FOPEN_DIRECT_IO, 0
}

// ---- files being written ----

type stagedNode struct {
	gofs.Inode
	c  *core
	st *staged
}

var (
	_ gofs.NodeGetattrer = (*stagedNode)(nil)
	_ gofs.NodeSetattrer = (*stagedNode)(nil)
	_ gofs.NodeOpener    = (*stagedNode)(nil)
)

// stagedInode makes the inode of a staged file. Its entry is never cached,
// so it disappears from the tree the moment it is published.
func stagedInode(ctx context.Context, c *core, parent *gofs.Inode, st *staged, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	size, mode, mtime, err := c.staging.attr(st)
	if err != nil {
		return nil, syscall.ENOENT
	}
	setAttr(&out.Attr, syscall.S_IFREG|mode, size, mtime)
	out.SetEntryTimeout(uncached)
	out.SetAttrTimeout(uncached)
	return parent.NewInode(ctx, &stagedNode{c: c, st: st}, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: st.ino}), 0
}

func (n *stagedNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	size, mode, mtime, err := n.c.staging.attr(n.st)
	if err != nil {
		if h, ok := f.(*stagedFile); ok {
			// Published while open: describe the handle's bytes.
			if fi, ferr := h.w.f.Stat(); ferr == nil {
				setAttr(&out.Attr, syscall.S_IFREG|0o644, fi.Size(), fi.ModTime())
				out.SetTimeout(uncached)
				return 0
			}
		}
		return syscall.ENOENT
	}
	setAttr(&out.Attr, syscall.S_IFREG|mode, size, mtime)
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
	if err := n.c.setStaged(n.st, size, mode, atime, mtime); err != nil {
		dir, name, _ := n.c.staging.place(n.st)
		return n.c.errno("setattr", tableLabel(dir, name), dirPath(dir, name), err)
	}
	return n.Getattr(ctx, f, out)
}

func (n *stagedNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	w, err := n.c.openStaged(n.st, flags, callerProcess(ctx))
	if err != nil {
		dir, name, _ := n.c.staging.place(n.st)
		return nil, 0, n.c.errno("open", tableLabel(dir, name), dirPath(dir, name), err)
	}
	return &stagedFile{w: w}, 0, 0
}
