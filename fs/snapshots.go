package fs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/datomfs/datomfs/versions"
)

// Points in time in the mount (FUSE-free rules; nodes_points.go adapts):
//
//	snapshots/<tag>/tables/<t>.parquet   every tag, listed
//	at/<date>/tables/<t>.parquet         resolved on lookup, not listed
//
// (and <t>.csv beside each parquet). A folder is a point in time
// (versions.Project.At); its tables are the versions every table had
// then. Nothing under snapshots/ or at/ can be written: EROFS.

// Fixed names of the point-in-time folders.
const (
	snapshotsName = "snapshots"
	atName        = "at"
)

// errFrozen refuses any change under snapshots/ and at/.
var errFrozen = errors.New("snapshots and points in time are read-only")

// frozen is the refusal for changing anything under snapshots/ or at/.
func (c *core) frozen(path string) error { return &pathError{what: path, err: errFrozen} }

// pointView is one point in time as the mount shows it.
type pointView struct {
	pt     versions.Point
	tables map[string]versions.Version // by table name
	names  []string                    // sorted table names
}

// points caches the views of points that name a commit (a commit's
// tables never change) and, for a few seconds, a reader's views of dates
// (each costs a read of every table's history from the store).
type points struct {
	mu     sync.Mutex
	views  map[string]*pointView // by commit
	recent map[string]recentView // a reader's dates, by folder path
}

type recentView struct {
	v    *pointView
	made time.Time
}

// recentTTL is how long a reader's view of a date is reused.
const recentTTL = 5 * time.Second

// pointFolder resolves a name in snapshots/ (a tag) or at/ (an ISO date
// or datetime) to its view. A name that is not a tag (snapshots/) or not
// a date (at/) is not found.
func (c *core) pointFolder(ctx context.Context, dir, name string) (*pointView, error) {
	switch dir {
	case snapshotsName:
		if versions.CheckTagName(name) != nil {
			return nil, fmt.Errorf("%s/%s: %w", dir, name, versions.ErrNotFound)
		}
	case atName:
		if _, ok := versions.ParseInstant(name); !ok {
			return nil, fmt.Errorf("%s/%s: not a date: %w", dir, name, versions.ErrNotFound)
		}
	}
	key := dir + "/" + name
	c.points.mu.Lock()
	r, ok := c.points.recent[key]
	c.points.mu.Unlock()
	if ok && time.Since(r.made) < recentTTL {
		return r.v, nil
	}
	pt, err := c.p.At(ctx, name)
	if err != nil {
		return nil, err
	}
	if dir == snapshotsName && pt.Kind != versions.RefTag {
		return nil, fmt.Errorf("%s/%s: %w", dir, name, versions.ErrNotFound)
	}
	if pt.Commit != "" {
		c.points.mu.Lock()
		v, ok := c.points.views[pt.Commit]
		c.points.mu.Unlock()
		if ok {
			return &pointView{pt: pt, tables: v.tables, names: v.names}, nil
		}
	}
	vs, err := c.p.VersionsAt(ctx, pt)
	if err != nil {
		return nil, err
	}
	v := &pointView{pt: pt, tables: map[string]versions.Version{}}
	for _, x := range vs {
		v.tables[x.Table.String()] = x
		v.names = append(v.names, x.Table.String())
	}
	sort.Strings(v.names)
	c.points.mu.Lock()
	if pt.Commit != "" {
		if c.points.views == nil {
			c.points.views = map[string]*pointView{}
		}
		c.points.views[pt.Commit] = v
	} else {
		if c.points.recent == nil {
			c.points.recent = map[string]recentView{}
		}
		for k, r := range c.points.recent {
			if time.Since(r.made) >= recentTTL {
				delete(c.points.recent, k)
			}
		}
		c.points.recent[key] = recentView{v: v, made: time.Now()}
	}
	c.points.mu.Unlock()
	return v, nil
}

// mtime is the folder's time: the commit's, or the instant asked.
func (v *pointView) mtime() time.Time { return v.pt.Time }

// snapshotNames lists snapshots/: the tags that can be one folder.
func (c *core) snapshotNames(ctx context.Context) ([]dirEntry, error) {
	tags, err := c.p.Tags(ctx)
	if err != nil {
		return nil, err
	}
	var out []dirEntry
	for _, t := range tags {
		if versions.CheckTagName(t.Name) != nil {
			continue // made by git with a name the mount cannot show (a "/")
		}
		out = append(out, dirEntry{t.Name, syscall.S_IFDIR, inoOf("point", snapshotsName, t.Name)})
	}
	return out, nil
}

// pointTables lists <point>/tables/: <t>.parquet and its renditions per
// table.
func (c *core) pointTables(v *pointView) []dirEntry {
	var out []dirEntry
	for _, name := range v.names {
		ver := v.tables[name]
		out = append(out, dirEntry{name + ".parquet", syscall.S_IFREG, pinnedIno(ver, "parquet")})
		for _, kind := range c.renditions.kinds() {
			out = append(out, dirEntry{name + "." + kind, syscall.S_IFREG, pinnedIno(ver, kind)})
		}
	}
	return out
}

// pointFile finds <t>.parquet (or a rendition, <t>.csv, <t>.rds) in a
// point's tables/.
func (c *core) pointFile(v *pointView, name string) (ver versions.Version, kind string, err error) {
	for _, k := range []string{".parquet", "." + kindCSV, "." + kindRDS} {
		table, ok := strings.CutSuffix(name, k)
		if !ok || (k != ".parquet" && !c.renditions.enabled(k[1:])) {
			continue
		}
		if ver, ok := v.tables[table]; ok {
			return ver, k[1:], nil
		}
	}
	return versions.Version{}, "", fmt.Errorf("%s at %s: %w", name, v.pt.Describe(), versions.ErrNotFound)
}

// pinnedIno is the inode of a version file under a point in time: one per
// version and kind, whichever point shows it.
func pinnedIno(v versions.Version, kind string) uint64 {
	return inoOf("pinned", v.Table.String(), string(v.ID), kind)
}

// checkFrozenOpen refuses opening a file under a point in time for writing.
func (c *core) checkFrozenOpen(path string, flags uint32) error {
	if flags&writeFlags != 0 {
		return c.frozen(path)
	}
	return nil
}
