package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/datomfs/datomfs/versions/identity"
)

// A remote version is served before it is fully cached (design §5): the
// footer is fetched at once on open (readers ask for it first), the ranges
// that are asked for are fetched with priority, and the rest is filled in
// the background with parallel ranged GETs. One S3 GET costs ~25 ms
// whatever its size, so misses fetch a generous window, not the 128 KiB the
// kernel asks for. Until the whole object is there and its sha256 matches
// parquet_sha, bytes come from ranged GETs unverified; the finished copy
// becomes the verified cache entry, and a mismatch fails every later read.
const (
	partialBlock  = 256 << 10 // bookkeeping granularity
	partialWindow = 4 << 20   // bytes fetched on a miss, at least
	partialFooter = 64 << 10  // fetched on open
	fillChunk     = 8 << 20   // one background GET
	fillWorkers   = 4
)

// Partial is a version being filled into the cache. It is shared by every
// open of the same object and safe for concurrent use.
type Partial struct {
	c          *Cache
	key        string
	parquetSHA identity.ParquetSHA
	size       int64
	dst        string // the cache entry it becomes
	f          *os.File
	unpin      func() // the entry is not evicted while the Partial is open

	mu       sync.Mutex
	have     []bool // per block
	refs     int
	filling  bool
	complete chan struct{} // closed once the fill is done: verified in place, or failed
	err      error         // set before complete is closed, on failure
}

// OpenPartial returns a reader of the object at key that fetches ranges on
// demand. With fill, the rest is fetched in the background and, once
// verified, becomes the cache entry (see Cached). Close it when done.
func (c *Cache) OpenPartial(ctx context.Context, key string, parquetSHA identity.ParquetSHA, size int64, fill bool) (*Partial, error) {
	c.mu.Lock()
	if c.partials == nil {
		c.partials = map[string]*Partial{}
	}
	id := key + "\x00" + parquetSHA.String()
	p, ok := c.partials[id]
	if ok {
		p.mu.Lock()
		p.refs++
		p.mu.Unlock()
		c.mu.Unlock()
	} else {
		dst := c.PathFor(key, parquetSHA)
		if err := os.MkdirAll(filepath.Dir(dst), cacheDirPerm); err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("cache dir: %w", err)
		}
		f, err := os.CreateTemp(filepath.Dir(dst), ".partial-*")
		if err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("cache %s: %w", key, err)
		}
		if err := f.Truncate(size); err != nil {
			f.Close()
			os.Remove(f.Name())
			c.mu.Unlock()
			return nil, fmt.Errorf("cache %s: %w", key, err)
		}
		p = &Partial{
			c: c, key: key, parquetSHA: parquetSHA, size: size, dst: dst, f: f, unpin: c.Pin(dst),
			have: make([]bool, (size+partialBlock-1)/partialBlock), refs: 1,
			complete: make(chan struct{}),
		}
		c.partials[id] = p
		c.mu.Unlock()
	}
	// The footer first: every parquet reader starts there.
	if size > 0 {
		start := max(size-partialFooter, 0)
		if err := p.ensure(ctx, start, size-start); err != nil {
			p.Close()
			return nil, err
		}
	}
	if fill {
		p.startFill()
	}
	return p, nil
}

// Size is the object's size.
func (p *Partial) Size() int64 { return p.size }

// ReadAt serves bytes, fetching what is missing first.
func (p *Partial) ReadAt(ctx context.Context, b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	n := int64(len(b))
	if off+n > p.size {
		n = p.size - off
	}
	if err := p.ensure(ctx, off, n); err != nil {
		return 0, err
	}
	m, err := p.f.ReadAt(b[:n], off)
	if err == nil && int64(m) < int64(len(b)) {
		err = io.EOF
	}
	return m, err
}

// Close drops one reference. The background fill holds one of its own, so
// it finishes after the last reader has gone; the last reference removes
// the working file (the verified copy is already linked into the cache).
func (p *Partial) Close() {
	p.c.mu.Lock()
	p.mu.Lock()
	p.refs--
	last := p.refs == 0
	p.mu.Unlock()
	if last {
		delete(p.c.partials, p.key+"\x00"+p.parquetSHA.String())
	}
	p.c.mu.Unlock()
	if !last {
		return
	}
	p.f.Close()
	os.Remove(p.f.Name()) // no-op once renamed into place
	p.unpin()
}

// Wait blocks until the background fill has finished (or ctx ends) and
// returns its error.
func (p *Partial) Wait(ctx context.Context) error {
	select {
	case <-p.complete:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// missing returns the first run of missing blocks within [off, off+n),
// extended forward to at least window bytes, as a byte range.
func (p *Partial) missing(off, n, window int64) (int64, int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first, last := off/partialBlock, (off+n-1)/partialBlock
	for b := first; b <= last; b++ {
		if p.have[b] {
			continue
		}
		end := b
		for end+1 < int64(len(p.have)) && !p.have[end+1] && (end+1-b)*partialBlock < max(window, (last-b+1)*partialBlock) {
			end++
		}
		start := b * partialBlock
		stop := min((end+1)*partialBlock, p.size)
		return start, stop - start, true
	}
	return 0, 0, false
}

// ensure fetches every missing block of [off, off+n).
func (p *Partial) ensure(ctx context.Context, off, n int64) error {
	for {
		if p.failed() != nil {
			return p.failed()
		}
		start, length, ok := p.missing(off, n, partialWindow)
		if !ok {
			return nil
		}
		if err := p.fetch(ctx, start, length); err != nil {
			return err
		}
	}
}

func (p *Partial) failed() error {
	select {
	case <-p.complete:
		return p.err
	default:
		return nil
	}
}

// fetch GETs one block-aligned range into the file and marks it present.
func (p *Partial) fetch(ctx context.Context, start, length int64) error {
	rc, err := p.c.store.Open(ctx, p.key, start, length)
	if err != nil {
		return fmt.Errorf("read %s: %w", p.key, err)
	}
	defer rc.Close()
	buf := make([]byte, length)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return fmt.Errorf("read %s [%d+%d]: %w", p.key, start, length, err)
	}
	if _, err := p.f.WriteAt(buf, start); err != nil {
		return fmt.Errorf("cache %s: %w", p.key, err)
	}
	p.mu.Lock()
	for b := start / partialBlock; b*partialBlock < start+length; b++ {
		p.have[b] = true
	}
	p.mu.Unlock()
	return nil
}

// startFill fetches the rest in the background, then verifies and publishes
// the copy as the cache entry.
func (p *Partial) startFill() {
	p.mu.Lock()
	if p.filling {
		p.mu.Unlock()
		return
	}
	p.filling = true
	p.refs++ // the fill's own reference
	p.mu.Unlock()
	go func() {
		err := p.fill(context.Background())
		if err != nil {
			p.c.log.Error("fill cache", "key", p.key, "err", err)
		}
		p.err = err
		// The fill's reference goes before Wait returns: whoever waited
		// sees the entry as only its own readers hold it.
		p.Close()
		close(p.complete)
	}()
}

func (p *Partial) fill(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fillWorkers)
	for off := int64(0); off < p.size; off += fillChunk {
		n := min(int64(fillChunk), p.size-off)
		g.Go(func() error { return p.ensure(gctx, off, n) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("cache %s: %w", p.key, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(p.f, 0, p.size)); err != nil {
		return fmt.Errorf("verify %s: %w", p.key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !p.parquetSHA.Verifies(got) {
		return fmt.Errorf("%s: %w: sha256 %s, recorded parquet_sha %q", p.key, ErrIntegrity, got[:12], prefix12(p.parquetSHA.String()))
	}
	if err := os.Link(p.f.Name(), p.dst); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cache %s: %w", p.key, err)
	}
	p.c.added(p.dst)
	return nil
}
