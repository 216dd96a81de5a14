package cache

import (
	"container/list"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// A bounded cache (Options.CacheMaxBytes) evicts the least recently used
// complete entries once the entries together exceed the bound.
//
//   - An entry is a verified (or, for pre-cv1 versions, per-key) parquet
//     copy under objects/ or unverified/ plus the renditions the mount
//     keeps next to it (same name, .csv and .rds); all count and all go
//     together.
//     Files being filled (.dl-*, .partial-*, *.add-tmp) are not entries:
//     they are neither counted nor evicted.
//   - Recency is an in-memory LRU, seeded on start from the files' mtimes
//     (oldest first) and updated on every use (Get of a cached object, Pin,
//     an entry added). A use also sets the parquet file's mtime to now, so
//     the order survives a restart.
//   - An entry that is pinned (Pin: a file the mount has open, a Partial
//     being filled or read) is never evicted, and neither is the entry
//     whose arrival triggered the eviction: a single version larger than
//     the bound stays until something newer arrives. When only such entries
//     are left, the cache stays over its bound until they are released.
//   - Eviction runs when an entry is added and when a pin is released.
//     Pins and recency are per process: another process sharing the folder
//     may remove a file this one has open (reads of the open file go on;
//     the next open fetches it again).
type evictor struct {
	max int64

	mu      sync.Mutex
	total   int64
	lru     *list.List               // of *evictEntry, most recent at the front
	entries map[string]*list.Element // by base path (no extension)
	pins    map[string]int           // by base path
}

type evictEntry struct {
	base string
	size int64 // parquet + renditions
}

// WithMaxBytes bounds the cache at max bytes of complete entries (0 or
// less: unbounded) and returns c. It seeds the LRU from the cache folder
// and evicts at once if the folder is already over the bound.
func (c *Cache) WithMaxBytes(max int64) *Cache {
	if max <= 0 {
		return c
	}
	e := &evictor{max: max, lru: list.New(), entries: map[string]*list.Element{}, pins: map[string]int{}}
	e.seed(c.root)
	c.evict = e
	c.log.Debug("cache bound", "root", c.root, "max", max, "used", e.total, "entries", e.lru.Len())
	c.runEviction("")
	return c
}

// MaxBytes is the cache's bound (0: unbounded).
func (c *Cache) MaxBytes() int64 {
	if c.evict == nil {
		return 0
	}
	return c.evict.max
}

// Used is the size of the complete entries the cache accounts for (0 for an
// unbounded cache, which keeps no account).
func (c *Cache) Used() int64 {
	if c.evict == nil {
		return 0
	}
	c.evict.mu.Lock()
	defer c.evict.mu.Unlock()
	return c.evict.total
}

// Pin marks the cache entry at path (a PathFor path, or a rendition's)
// as in use: it is not evicted until the returned function is called (once;
// later calls do nothing). Pinning counts as a use. Pin an entry before
// fetching it, so that it cannot go between the fetch and the open.
func (c *Cache) Pin(path string) (unpin func()) {
	e := c.evict
	if e == nil {
		return func() {}
	}
	base := entryBase(path)
	e.mu.Lock()
	e.pins[base]++
	e.mu.Unlock()
	c.touch(path)
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			if e.pins[base]--; e.pins[base] <= 0 {
				delete(e.pins, base)
			}
			e.mu.Unlock()
			c.runEviction("")
		})
	}
}

// added accounts for a complete entry that just arrived at path and evicts
// older ones if the cache is now over its bound.
func (c *Cache) added(path string) {
	if c.evict == nil {
		return
	}
	c.touch(path)
	c.runEviction(entryBase(path))
}

// touch records a use of the entry at path (re-reading its size: a CSV
// rendition may have appeared next to it) and sets its mtime to now.
func (c *Cache) touch(path string) {
	e := c.evict
	if e == nil {
		return
	}
	base := entryBase(path)
	size, ok := entrySize(base)
	e.mu.Lock()
	el, known := e.entries[base]
	switch {
	case !ok && known:
		e.total -= el.Value.(*evictEntry).size
		e.lru.Remove(el)
		delete(e.entries, base)
	case ok && known:
		ent := el.Value.(*evictEntry)
		e.total += size - ent.size
		ent.size = size
		e.lru.MoveToFront(el)
	case ok:
		e.entries[base] = e.lru.PushFront(&evictEntry{base: base, size: size})
		e.total += size
	}
	e.mu.Unlock()
	if ok {
		now := time.Now()
		_ = os.Chtimes(base+".parquet", now, now)
	}
}

// runEviction removes least recently used entries, never a pinned one nor
// keep, until the cache is within its bound.
func (c *Cache) runEviction(keep string) {
	e := c.evict
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for el := e.lru.Back(); el != nil && e.total > e.max; {
		ent := el.Value.(*evictEntry)
		prev := el.Prev()
		if ent.base != keep && e.pins[ent.base] == 0 {
			if err := removeEntry(ent.base); err != nil {
				c.log.Warn("evict cache entry", "path", ent.base+".parquet", "err", err)
			} else {
				c.log.Debug("evicted", "path", ent.base+".parquet", "size", ent.size)
				e.total -= ent.size
				e.lru.Remove(el)
				delete(e.entries, ent.base)
			}
		}
		el = prev
	}
	if e.total > e.max {
		c.log.Debug("cache over its bound: the rest is in use", "used", e.total, "max", e.max)
	}
}

// seed accounts for the complete entries under root, oldest mtime first.
func (e *evictor) seed(root string) {
	type found struct {
		base  string
		size  int64
		mtime time.Time
	}
	byBase := map[string]*found{}
	for _, sub := range []string{"objects", "unverified"} {
		_ = filepath.WalkDir(filepath.Join(root, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isEntryFile(d.Name()) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			base := entryBase(path)
			f := byBase[base]
			if f == nil {
				f = &found{base: base}
				byBase[base] = f
			}
			f.size += info.Size()
			if info.ModTime().After(f.mtime) { // the latest use of either file
				f.mtime = info.ModTime()
			}
			return nil
		})
	}
	all := make([]*found, 0, len(byBase))
	for _, f := range byBase {
		all = append(all, f)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mtime.Before(all[j].mtime) })
	for _, f := range all { // oldest first: each goes to the front
		e.entries[f.base] = e.lru.PushFront(&evictEntry{base: f.base, size: f.size})
		e.total += f.size
	}
}

// isEntryFile: a complete cache file (temporary ones start with a dot or end
// in -tmp).
func isEntryFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	if strings.HasSuffix(name, ".parquet") {
		return true
	}
	for _, ext := range renditionExts {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// renditionExts are the renditions the mount keeps next to a parquet copy.
var renditionExts = []string{".csv", ".rds"}

func entryBase(path string) string {
	if base, ok := strings.CutSuffix(path, ".parquet"); ok {
		return base
	}
	for _, ext := range renditionExts {
		if base, ok := strings.CutSuffix(path, ext); ok {
			return base
		}
	}
	return path
}

// entrySize is the size of an entry's files; ok is false when it has no
// parquet file (evicted, or removed by someone else).
func entrySize(base string) (int64, bool) {
	info, err := os.Stat(base + ".parquet")
	if err != nil {
		return 0, false
	}
	size := info.Size()
	for _, ext := range renditionExts {
		if r, err := os.Stat(base + ext); err == nil {
			size += r.Size()
		}
	}
	return size, true
}

// removeEntry removes an entry's files; the parquet goes last, so that an
// entry is never seen as cached without it.
func removeEntry(base string) error {
	for _, ext := range renditionExts {
		if err := os.Remove(base + ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.Remove(base + ".parquet"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
