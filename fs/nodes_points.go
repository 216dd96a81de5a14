package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The adapter of snapshots/ and at/ (rules in snapshots.go): folders
// snapshots/ and at/, a point's folder, its tables/, and version files
// (pointFileNode, a versionNode). Every change is refused with EROFS.

// frozenDir gives a folder under a point in time the refusals of every
// change.
type frozenDir struct {
	c    *core
	path string
}

func (d frozenDir) refuse(op, name string) syscall.Errno {
	p := d.path + "/" + name
	return d.c.errno(op, "", p, d.c.frozen(p))
}

func (d frozenDir) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return d.c.errno("setattr", "", d.path, d.c.frozen(d.path))
}

func (d frozenDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, d.refuse("create", name)
}

func (d frozenDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, d.refuse("mkdir", name)
}

func (d frozenDir) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, d.refuse("mknod", name)
}

func (d frozenDir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, d.refuse("symlink", name)
}

func (d frozenDir) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, d.refuse("link", name)
}

func (d frozenDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.refuse("unlink", name)
}

func (d frozenDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	return d.refuse("rmdir", name)
}

func (d frozenDir) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return d.refuse("rename", name)
}

func frozenDirAttr(a *fuse.Attr, c *core, v *pointView) {
	mtime := c.tree.started
	if v != nil {
		mtime = v.mtime()
	}
	setAttr(a, syscall.S_IFDIR|0o555, 0, mtime)
}

// ---- snapshots/ and at/ ----

type pointsNode struct {
	gofs.Inode
	frozenDir
	dir string // snapshotsName or atName
}

var (
	_ gofs.NodeGetattrer = (*pointsNode)(nil)
	_ gofs.NodeLookuper  = (*pointsNode)(nil)
	_ gofs.NodeReaddirer = (*pointsNode)(nil)
	_ gofs.NodeSetattrer = (*pointsNode)(nil)
	_ gofs.NodeCreater   = (*pointsNode)(nil)
	_ gofs.NodeMkdirer   = (*pointsNode)(nil)
	_ gofs.NodeMknoder   = (*pointsNode)(nil)
	_ gofs.NodeSymlinker = (*pointsNode)(nil)
	_ gofs.NodeLinker    = (*pointsNode)(nil)
	_ gofs.NodeUnlinker  = (*pointsNode)(nil)
	_ gofs.NodeRmdirer   = (*pointsNode)(nil)
	_ gofs.NodeRenamer   = (*pointsNode)(nil)
)

func newPointsNode(c *core, dir string) *pointsNode {
	return &pointsNode{frozenDir: frozenDir{c: c, path: dir}, dir: dir}
}

func (n *pointsNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	frozenDirAttr(&out.Attr, n.c, nil)
	out.SetTimeout(mutableTimeout)
	return 0
}

func (n *pointsNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	v, err := n.c.pointFolder(ctx, n.dir, name)
	if err != nil {
		return nil, n.c.errno("lookup", "", n.dir+"/"+name, err)
	}
	frozenDirAttr(&out.Attr, n.c, v)
	out.SetEntryTimeout(mutableTimeout)
	out.SetAttrTimeout(mutableTimeout)
	child := &pointNode{pointDir: pointDir{frozenDir: frozenDir{c: n.c, path: n.dir + "/" + name}, dir: n.dir, name: name}}
	return n.NewInode(ctx, child, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: inoOf("point", n.dir, name)}), 0
}

func (n *pointsNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	if n.dir != snapshotsName {
		return dirStream(nil), 0 // at/ resolves on lookup only
	}
	entries, err := n.c.snapshotNames(ctx)
	if err != nil {
		return nil, n.c.errno("readdir", "", n.dir, err)
	}
	return dirStream(entries), 0
}

// ---- snapshots/<tag>/ and at/<date>/ ----

// pointDir is what snapshots/<tag>/ and its tables/ share: the point in
// time they show, and attributes frozen at it.
type pointDir struct {
	frozenDir
	dir, name string
}

func (n *pointDir) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	v, err := n.c.pointFolder(ctx, n.dir, n.name)
	if err != nil {
		return n.c.errno("getattr", "", n.path, err)
	}
	frozenDirAttr(&out.Attr, n.c, v)
	out.SetTimeout(mutableTimeout)
	return 0
}

type pointNode struct {
	gofs.Inode
	pointDir
}

var (
	_ gofs.NodeGetattrer = (*pointNode)(nil)
	_ gofs.NodeLookuper  = (*pointNode)(nil)
	_ gofs.NodeReaddirer = (*pointNode)(nil)
	_ gofs.NodeSetattrer = (*pointNode)(nil)
	_ gofs.NodeCreater   = (*pointNode)(nil)
	_ gofs.NodeMkdirer   = (*pointNode)(nil)
	_ gofs.NodeUnlinker  = (*pointNode)(nil)
	_ gofs.NodeRmdirer   = (*pointNode)(nil)
	_ gofs.NodeRenamer   = (*pointNode)(nil)
)

func (n *pointNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if name != "tables" {
		return nil, syscall.ENOENT
	}
	v, err := n.c.pointFolder(ctx, n.dir, n.name)
	if err != nil {
		return nil, n.c.errno("lookup", "", n.path+"/tables", err)
	}
	frozenDirAttr(&out.Attr, n.c, v)
	out.SetEntryTimeout(mutableTimeout)
	out.SetAttrTimeout(mutableTimeout)
	child := &pointTablesNode{pointDir: pointDir{frozenDir: frozenDir{c: n.c, path: n.path + "/tables"}, dir: n.dir, name: n.name}}
	return n.NewInode(ctx, child, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: inoOf("point-tables", n.dir, n.name)}), 0
}

func (n *pointNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	return dirStream([]dirEntry{{"tables", syscall.S_IFDIR, inoOf("point-tables", n.dir, n.name)}}), 0
}

// ---- <point>/tables/ ----

type pointTablesNode struct {
	gofs.Inode
	pointDir
}

var (
	_ gofs.NodeGetattrer = (*pointTablesNode)(nil)
	_ gofs.NodeLookuper  = (*pointTablesNode)(nil)
	_ gofs.NodeReaddirer = (*pointTablesNode)(nil)
	_ gofs.NodeSetattrer = (*pointTablesNode)(nil)
	_ gofs.NodeCreater   = (*pointTablesNode)(nil)
	_ gofs.NodeMkdirer   = (*pointTablesNode)(nil)
	_ gofs.NodeUnlinker  = (*pointTablesNode)(nil)
	_ gofs.NodeRmdirer   = (*pointTablesNode)(nil)
	_ gofs.NodeRenamer   = (*pointTablesNode)(nil)
)

func (n *pointTablesNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	path := n.path + "/" + name
	v, err := n.c.pointFolder(ctx, n.dir, n.name)
	if err != nil {
		return nil, n.c.errno("lookup", "", path, err)
	}
	ver, kind, err := n.c.pointFile(v, name)
	if err != nil {
		return nil, n.c.errno("lookup", "", path, err)
	}
	vn := &pointFileNode{versionNode{c: n.c, v: ver}}
	if kind != "parquet" {
		vn.rendition = kind
	}
	timeout, err := vn.attr(ctx, &out.Attr)
	if err != nil {
		return nil, n.c.errno("lookup", ver.Table.String(), path, err)
	}
	// The file a name means can change for at/<today> (and a tag could be
	// deleted and made again): short entry timeouts; the version's own
	// attributes never change.
	out.SetEntryTimeout(mutableTimeout)
	out.SetAttrTimeout(timeout)
	return n.NewInode(ctx, vn, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: pinnedIno(ver, kind)}), 0
}

func (n *pointTablesNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	v, err := n.c.pointFolder(ctx, n.dir, n.name)
	if err != nil {
		return nil, n.c.errno("readdir", "", n.path, err)
	}
	return dirStream(n.c.pointTables(v)), 0
}

// ---- <point>/tables/<t>.parquet, .csv and .rds ----

// pointFileNode is a version file under a point in time: read as the
// version's own file is, and any change is EROFS.
type pointFileNode struct{ versionNode }

var (
	_ gofs.NodeGetattrer = (*pointFileNode)(nil)
	_ gofs.NodeSetattrer = (*pointFileNode)(nil)
	_ gofs.NodeOpener    = (*pointFileNode)(nil)
)

func (n *pointFileNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.c.errno("setattr", n.v.Table.String(), n.path(), n.c.frozen(n.path()))
}

func (n *pointFileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if err := n.c.checkFrozenOpen(n.path(), flags); err != nil {
		return nil, 0, n.c.errno("open", n.v.Table.String(), n.path(), err)
	}
	return n.versionNode.Open(ctx, flags)
}
