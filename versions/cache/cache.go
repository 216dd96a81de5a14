package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/store"
)

// ErrIntegrity: stored bytes do not match the recorded parquet_sha. The
// versions package exports the same error as versions.ErrIntegrity.
var ErrIntegrity = errors.New("integrity check failed")

// Cache keeps verified local copies of stored parquet objects. Objects with
// a recorded parquet_sha are content-addressed by it and verified before they
// become visible; objects without one (pre-cv1 versions) are kept per store
// key. A file in the cache is complete: downloads land under a temporary name
// and are renamed into place.
type Cache struct {
	root  string
	store store.Store
	log   *slog.Logger

	mu       sync.Mutex
	inflight map[string]*fetchCall
	partials map[string]*Partial
	// wrong: objects (key and parquet_sha) whose bytes a background
	// fill found not to match, and none downloaded since has (Suspect).
	wrong map[string]bool

	evict *evictor // nil: unbounded (evict.go)
}

type fetchCall struct {
	done chan struct{}
	path string
	err  error
}

// The cache holds the project's data: it is private wherever it lives (the
// user cache dir, DATOMFS_CACHE or --cache). Every folder is created 0700
// and every file 0600, whatever the umask; so are the mount's staging files
// and CSV renditions kept in it.
const (
	cacheDirPerm  = 0o700
	cacheFilePerm = 0o600
)

// New returns a cache rooted at dir over st. An existing root that
// other users can open is made private (see tightenRoot); nothing is
// created until something is cached.
func New(dir string, st store.Store, log *slog.Logger) *Cache {
	c := &Cache{root: dir, store: st, log: log, inflight: map[string]*fetchCall{}, wrong: map[string]bool{}}
	c.tightenRoot()
	return c
}

// tightenRoot sets an existing cache root to 0700 when its mode lets other
// users in (a cache made by an older datomfs was 0755). Its subfolders need
// no change: nobody else can reach them through the root. A folder that is
// not ours to change (another owner, or sticky and shared like /tmp) is
// left alone, with a warning.
func (c *Cache) tightenRoot() {
	fi, err := os.Stat(c.root)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&os.ModeSticky != 0 || ok && int(st.Uid) != os.Geteuid() {
		c.log.Warn("the cache folder is open to other users and not ours to change; choose a private one with --cache or DATOMFS_CACHE",
			"root", c.root, "mode", fi.Mode().Perm().String())
		return
	}
	if err := os.Chmod(c.root, cacheDirPerm); err != nil {
		c.log.Warn("cannot make the cache folder private", "root", c.root, "err", err)
		return
	}
	c.log.Debug("cache folder made private", "root", c.root, "was", fi.Mode().Perm().String())
}

// Root is the cache directory.
func (c *Cache) Root() string { return c.root }

// StagingBase is where processes keep their staging folders (a mount's
// files being written, a write's converted CSV): inside the cache, private
// like it.
func (c *Cache) StagingBase() string { return filepath.Join(c.root, "staging") }

// PathFor is where the object would live in the cache.
func (c *Cache) PathFor(key string, parquetSHA identity.ParquetSHA) string {
	sha := parquetSHA.String()
	if _, err := identity.ParseParquetSHA(sha); err == nil && sha != "" {
		return filepath.Join(c.root, "objects", sha[:2], sha+".parquet")
	}
	// None recorded, or a value that is no SHA-256 (from a damaged or
	// hostile history: it must not name a path, and the check of the
	// bytes against it refuses them anyway): a place named by a hash.
	loc := sha256.Sum256([]byte(c.store.Location() + "\x00" + key + "\x00" + sha))
	return filepath.Join(c.root, "unverified", hex.EncodeToString(loc[:16])+".parquet")
}

// Cached reports whether the object is already complete in the cache.
func (c *Cache) Cached(key string, parquetSHA identity.ParquetSHA) (string, bool) {
	p := c.PathFor(key, parquetSHA)
	if _, err := os.Stat(p); err == nil {
		return p, true
	}
	return p, false
}

// Suspect reports whether a Partial's fill found the object's bytes wrong
// (ErrIntegrity), since this Cache was made and since the last download of
// it that matched. Its bytes must not be served unverified again: the
// next reader downloads and checks it whole first (Get), which fails as
// long as the store keeps the wrong bytes.
func (c *Cache) Suspect(key string, parquetSHA identity.ParquetSHA) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wrong[objectID(key, parquetSHA)]
}

// setSuspect records what Suspect reports for the object.
func (c *Cache) setSuspect(key string, parquetSHA identity.ParquetSHA, wrong bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if wrong {
		c.wrong[objectID(key, parquetSHA)] = true
	} else {
		delete(c.wrong, objectID(key, parquetSHA))
	}
}

// objectID names one object in the cache's maps: a store key and the
// parquet_sha its bytes must have.
func objectID(key string, parquetSHA identity.ParquetSHA) string {
	return key + "\x00" + parquetSHA.String()
}

// Get returns the path of a complete, verified local copy of the object at
// key, downloading it if needed. Concurrent calls for one object share one
// download. A parquet_sha mismatch returns ErrIntegrity and caches nothing.
func (c *Cache) Get(ctx context.Context, key string, parquetSHA identity.ParquetSHA, progress func(done, total int64)) (string, error) {
	if path, ok := c.Cached(key, parquetSHA); ok {
		c.touch(path)
		return path, nil
	}
	id := objectID(key, parquetSHA)
	c.mu.Lock()
	if call, ok := c.inflight[id]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
			return call.path, call.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	call := &fetchCall{done: make(chan struct{})}
	c.inflight[id] = call
	c.mu.Unlock()

	call.path, call.err = c.download(ctx, key, parquetSHA, progress)
	c.mu.Lock()
	delete(c.inflight, id)
	c.mu.Unlock()
	close(call.done)
	return call.path, call.err
}

func (c *Cache) download(ctx context.Context, key string, parquetSHA identity.ParquetSHA, progress func(done, total int64)) (string, error) {
	dst := c.PathFor(key, parquetSHA)
	if err := os.MkdirAll(filepath.Dir(dst), cacheDirPerm); err != nil {
		return "", fmt.Errorf("cache dir: %w", err)
	}
	var total int64 = -1
	if progress != nil {
		if info, err := c.store.Stat(ctx, key); err == nil {
			total = info.Size
		}
	}
	rc, err := c.store.Open(ctx, key, 0, -1)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", key, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".dl-*")
	if err != nil {
		return "", fmt.Errorf("cache %s: %w", key, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), store.ProgressReader(rc, total, progress)); err != nil {
		tmp.Close()
		return "", fmt.Errorf("download %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("cache %s: %w", key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !parquetSHA.Verifies(got) {
		return "", fmt.Errorf("%s: %w: sha256 %s, recorded parquet_sha %q", key, ErrIntegrity, got[:12], prefix12(parquetSHA.String()))
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("cache %s: %w", key, err)
	}
	c.log.Debug("cached", "key", key, "path", dst)
	c.setSuspect(key, parquetSHA, false)
	c.added(dst)
	return dst, nil
}

// Add places a local file whose sha256 is parquetSHA into the cache (after
// a write: the bytes we just uploaded need no download). Best effort.
//
// With link, src is a private file its owner never changes again (a
// mount's staging copy): the cache keeps it by a hard link instead of a copy
// when both are on one filesystem.
func (c *Cache) Add(key string, parquetSHA identity.ParquetSHA, src string, link bool) {
	dst := c.PathFor(key, parquetSHA)
	if _, err := os.Stat(dst); err == nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(dst), cacheDirPerm); err != nil {
		return
	}
	if link && os.Link(src, dst) == nil {
		os.Chmod(dst, cacheFilePerm) // src is ours and goes away: its mode may be the umask's
		c.added(dst)
		return
	}
	tmp := dst + ".add-tmp"
	if err := copyFile(src, tmp); err != nil {
		os.Remove(tmp)
		return
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return
	}
	c.added(dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, cacheFilePerm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// prefix12 is the start of a recorded parquet_sha for a message (it may be
// shorter than a SHA-256 when a history is damaged).
func prefix12(s string) string { return s[:min(12, len(s))] }
