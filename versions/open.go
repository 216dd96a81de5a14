package versions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/datomfs/datomfs/versions/cache"
	"github.com/datomfs/datomfs/versions/meta"
)

// Reading a version's bytes: OpenVersion decides how, and is the one place
// that does (the mount, the CLI and SQL read through it or through Fetch).
//
//   - A verified copy in the cache: opened, pinned while open.
//   - A local store: the whole object is copied into the cache and verified
//     against parquet_sha first (Fetch), then opened.
//   - A remote (S3) store, not cached yet: served before it is complete
//     (cache.Partial): the footer at once, ranged GETs for what is read,
//     the rest filled in the background once the reads look sequential
//     (Prefetch: at once; NoFill: never). Those bytes are not
//     verified when they are served; the filled copy becomes the cache
//     entry only once its SHA-256 matches parquet_sha, and a mismatch fails
//     every later read of the reader with ErrIntegrity.
//   - A remote version whose bytes a fill found wrong (cache.Suspect): its
//     unverified bytes are not served again; it is read as from a local
//     store, downloaded whole and checked before open returns (an open
//     fails with ErrIntegrity while the store keeps the wrong bytes).

// OpenOptions tune OpenVersion.
type OpenOptions struct {
	// NoFill serves a remote version that is not cached yet by ranged reads
	// only, without filling the cache in the background (to measure what
	// readers fetch).
	NoFill bool
	// Prefetch fills the cache with a remote version in the background as
	// soon as it is opened. Without it (and without NoFill) the fill starts
	// once the reads look sequential, so that a reader of a few columns
	// fetches only those.
	Prefetch bool
	// Detached, when set, carries the download of a whole copy instead of
	// the ctx of OpenVersion: a caller that stops waiting (an interrupted
	// open) gets ctx's error at once, and the download goes on and fills
	// the cache until it is done or Detached ends.
	Detached context.Context
}

// VersionReader reads the bytes of one version. It keeps the version's
// cache entry from eviction until Close. It is safe for concurrent use.
type VersionReader struct {
	v     Version
	size  int64
	local *os.File       // the verified complete copy, or nil
	part  *cache.Partial // a remote version being fetched, or nil
	unpin func()

	closeOnce sync.Once
	closeErr  error
}

var _ io.ReaderAt = (*VersionReader)(nil)

// OpenVersion opens v for reading (see the top of this file for how).
// Close the reader when done.
func (p *Project) OpenVersion(ctx context.Context, v Version, o OpenOptions) (*VersionReader, error) {
	key := p.Key(v)
	// Pinned before the fetch: a bounded cache does not evict the entry
	// between the fetch and the open, nor while it is open.
	unpin := p.cache.Pin(p.cache.PathFor(key, v.ParquetSHA))
	if _, cached := p.cache.Cached(key, v.ParquetSHA); !cached && p.isS3() && !p.cache.Suspect(key, v.ParquetSHA) {
		size, err := p.VersionSize(ctx, v)
		if err != nil {
			unpin()
			return nil, err
		}
		fill := cache.FillAuto
		switch {
		case o.NoFill:
			fill = cache.FillNever
		case o.Prefetch:
			fill = cache.FillNow
		}
		part, err := p.cache.OpenPartial(ctx, key, v.ParquetSHA, size, fill)
		unpin() // the Partial pins the entry itself
		if err != nil {
			return nil, fmt.Errorf("read %s@%s: %w", v.Table, v.ID.Short(), mapStoreErr(err))
		}
		return &VersionReader{v: v, size: size, part: part}, nil
	}
	path, err := p.fetchDetached(ctx, v, o.Detached)
	if err != nil {
		unpin()
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		unpin()
		return nil, fmt.Errorf("read %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		unpin()
		return nil, fmt.Errorf("read %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	return &VersionReader{v: v, size: fi.Size(), local: f, unpin: unpin}, nil
}

// fetchDetached is Fetch on detached (when set), waited for on ctx.
func (p *Project) fetchDetached(ctx context.Context, v Version, detached context.Context) (string, error) {
	if detached == nil {
		return p.Fetch(ctx, v)
	}
	type result struct {
		path string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		path, err := p.Fetch(detached, v)
		ch <- result{path, err}
	}()
	select {
	case r := <-ch:
		return r.path, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Size is the version's size in bytes.
func (r *VersionReader) Size() int64 { return r.size }

// Local is the verified complete copy the reader reads, or nil while the
// bytes come from the store (a remote version not cached yet). Its Name is
// the cache path; its descriptor may be handed to the kernel (FUSE
// passthrough). The reader owns it: do not close it.
func (r *VersionReader) Local() *os.File { return r.local }

// ReadAt reads len(b) bytes at off (io.ReaderAt).
func (r *VersionReader) ReadAt(b []byte, off int64) (int, error) {
	return r.ReadAtContext(context.Background(), b, off)
}

// ReadAtContext is ReadAt that stops waiting for the store when ctx ends.
func (r *VersionReader) ReadAtContext(ctx context.Context, b []byte, off int64) (int, error) {
	return cache.ReadSpan(b, off, func(off, n int64) (*os.File, int64, error) { return r.Span(ctx, off, n) })
}

// Span makes [off, off+n) of the version readable from a local file and
// returns that file (at the same offsets) and how many bytes of the range
// the version has: fewer at its end, io.EOF past it. It is for a caller
// that copies the bytes itself, without a buffer of its own (the mount
// splices them to the kernel). The reader owns the file: do not close it.
func (r *VersionReader) Span(ctx context.Context, off, n int64) (*os.File, int64, error) {
	if r.local != nil {
		if off >= r.size {
			return nil, 0, io.EOF
		}
		return r.local, min(n, r.size-off), nil
	}
	f, m, err := r.part.Span(ctx, off, n)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("read %s@%s: %w", r.v.Table, r.v.ID.Short(), mapStoreErr(err))
	}
	return f, m, err
}

// Close releases the reader and unpins the cache entry. Later calls do
// nothing and return the first call's error.
func (r *VersionReader) Close() error {
	r.closeOnce.Do(func() {
		if r.part != nil {
			r.part.Close()
			return
		}
		r.closeErr = r.local.Close()
		r.unpin()
	})
	return r.closeErr
}

// VersionSize is the size of v's stored object: the cached copy's when
// there is one, else the store's, remembered (versions never change). A
// listing asks for every version of a table: from a remote store the
// second miss of a table lists the table's objects once (a LIST page
// carries 1,000 sizes) instead of one HEAD per version.
func (p *Project) VersionSize(ctx context.Context, v Version) (int64, error) {
	key := p.Key(v)
	if size, ok := p.sizes.Load(key); ok {
		return size.(int64), nil
	}
	// A remote store's object: the cached copy's size spares a HEAD. A
	// local store is asked directly (one stat either way).
	if p.RemoteStore() {
		if path, ok := p.cache.Cached(key, v.ParquetSHA); ok {
			if fi, err := os.Stat(path); err == nil {
				p.sizes.Store(key, fi.Size())
				return fi.Size(), nil
			}
		}
	}
	if p.RemoteStore() && p.sizeMisses(v.Table) > 1 {
		p.primeSizes(ctx, v.Table)
		if size, ok := p.sizes.Load(key); ok {
			return size.(int64), nil
		}
	}
	info, err := p.store.Stat(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("stat %s@%s: %w", v.Table, v.ID.Short(), mapStoreErr(err))
	}
	p.sizes.Store(key, info.Size)
	return info.Size, nil
}

// tableSizes is what VersionSize knows of one table's listing.
type tableSizes struct {
	mu     sync.Mutex
	misses int
	primed bool
}

func (p *Project) tableSizes(table meta.TableName) *tableSizes {
	ts, _ := p.sizeTables.LoadOrStore(table.String(), &tableSizes{})
	return ts.(*tableSizes)
}

// sizeMisses counts a size the project did not know for table.
func (p *Project) sizeMisses(table meta.TableName) int {
	ts := p.tableSizes(table)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.misses++
	return ts.misses
}

// primeSizes remembers the size of every parquet object of table, from
// one listing of its prefix (once per table; concurrent callers wait for
// it). A failed listing is not an error: the caller stats the object.
func (p *Project) primeSizes(ctx context.Context, table meta.TableName) {
	ts := p.tableSizes(table)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.primed {
		return
	}
	infos, err := p.store.List(ctx, p.layout.TablePrefix(table))
	if err != nil {
		p.opts.Logger.Debug("list table objects for their sizes", "table", table.String(), "err", err)
		return
	}
	ts.primed = true
	for _, in := range infos {
		if strings.HasSuffix(in.Key, ".parquet") {
			p.sizes.Store(in.Key, in.Size)
		}
	}
}

// RenditionPath is where a file derived from v's bytes (ext ".csv": the
// mount's CSV rendition) is kept: in the cache next to v's verified copy,
// so that it counts toward the cache's bound and is evicted with it.
func (p *Project) RenditionPath(v Version, ext string) string {
	return strings.TrimSuffix(p.cache.PathFor(p.Key(v), v.ParquetSHA), ".parquet") + ext
}

// PinVersion keeps v's cache entry (its copy and renditions) from eviction
// until unpin is called. It counts as a use and re-reads the entry's size
// (a rendition may have appeared next to the copy).
func (p *Project) PinVersion(v Version) (unpin func()) {
	return p.cache.Pin(p.cache.PathFor(p.Key(v), v.ParquetSHA))
}

// CacheDir is the folder of the verified cache (FUSE passthrough needs
// the file system it lives on).
func (p *Project) CacheDir() string { return p.cache.Root() }
