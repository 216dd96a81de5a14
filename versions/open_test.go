package versions

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
)

// remoteLike is a local store that calls itself S3, so that a project over
// it reads the way it reads a remote store; it counts ranged reads.
type remoteLike struct {
	store.Store
	gets, stats, lists atomic.Int64
}

func (r *remoteLike) Stat(ctx context.Context, key string) (store.Info, error) {
	r.stats.Add(1)
	return r.Store.Stat(ctx, key)
}

func (r *remoteLike) List(ctx context.Context, prefix string) ([]store.Info, error) {
	r.lists.Add(1)
	return r.Store.List(ctx, prefix)
}

func (r *remoteLike) Location() string { return "s3://bucket/" + r.Store.Location() }

func (r *remoteLike) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	r.gets.Add(1)
	return r.Store.Open(ctx, key, off, n)
}

// openAsRemote opens p's clone again as if its store were S3 (remoteLike
// over the same folder), with a fresh cache.
func openAsRemote(t *testing.T, p *Project) (*Project, *remoteLike) {
	t.Helper()
	storeRoot := p.store.Location()
	rs := &remoteLike{}
	q, err := Open(context.Background(), p.Dir(), Options{CacheDir: t.TempDir(), OpenStore: func(ctx context.Context, loc store.Location) (store.Store, error) {
		ls, err := local.New(storeRoot, local.Options{})
		rs.Store = ls
		return rs, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	return q, rs
}

// TestOpenVersion covers the read paths: a verified local copy (after a
// download from a local store, or already cached), and a remote version
// served before it is cached, with and without the background fill.
func TestOpenVersion(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	files := extractFiles(t, "2026-01-31")
	res, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: files["lb"], Format: FormatParquet})
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Resolve(ctx, tn("lb"), string(res.Version))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(p.store.Location(), p.Key(v)))
	if err != nil {
		t.Fatal(err)
	}
	remote := func(t *testing.T) (*Project, *remoteLike) { return openAsRemote(t, p) }

	for _, c := range []struct {
		name      string
		open      func(t *testing.T) (*Project, *remoteLike)
		opts      OpenOptions
		local     bool // served from a verified local copy
		cachedNow bool // a verified cache entry once the reader is closed (and filled)
	}{
		{"local store", func(t *testing.T) (*Project, *remoteLike) { return p, nil }, OpenOptions{}, true, true},
		{"local store, detached", func(t *testing.T) (*Project, *remoteLike) { return p, nil }, OpenOptions{Detached: ctx}, true, true},
		{"remote, filled", remote, OpenOptions{}, false, true},
		{"remote, prefetch", remote, OpenOptions{Prefetch: true}, false, true},
		{"remote, no fill", remote, OpenOptions{NoFill: true}, false, false},
		{"remote, cached first", func(t *testing.T) (*Project, *remoteLike) {
			q, rs := remote(t)
			if _, err := q.Fetch(ctx, v); err != nil {
				t.Fatal(err)
			}
			return q, rs
		}, OpenOptions{}, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, _ := c.open(t)
			r, err := q.OpenVersion(ctx, v, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if (r.Local() != nil) != c.local {
				t.Fatalf("Local() = %v, want a local copy: %v", r.Local(), c.local)
			}
			if r.Size() != int64(len(want)) {
				t.Errorf("Size() = %d, want %d", r.Size(), len(want))
			}
			if size, err := q.VersionSize(ctx, v); err != nil || size != int64(len(want)) {
				t.Errorf("VersionSize = %d, %v; want %d", size, err, len(want))
			}
			got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes (%v), want the stored %d", len(got), err, len(want))
			}
			if n, err := r.ReadAt(make([]byte, 10), r.Size()); n != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("ReadAt at the end: %d, %v; want 0, EOF", n, err)
			}
			if !c.local && !c.opts.NoFill {
				if err := r.part.Wait(ctx); err != nil {
					t.Fatalf("fill: %v", err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if _, cached := q.cache.Cached(q.Key(v), v.ParquetSHA); cached != c.cachedNow {
				t.Errorf("cached after close: %v, want %v", cached, c.cachedNow)
			}
		})
	}
}

// A remote object whose bytes do not match parquet_sha fails its reads
// with ErrIntegrity once the fill has checked it, and is never cached.
func TestOpenVersionIntegrity(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	files := extractFiles(t, "2026-01-31")
	res, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: files["lb"], Format: FormatParquet})
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Resolve(ctx, tn("lb"), string(res.Version))
	if err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(p.store.Location(), p.Key(v))
	body, err := os.ReadFile(obj)
	if err != nil {
		t.Fatal(err)
	}
	body[len(body)/2] ^= 0xff
	if err := os.WriteFile(obj, body, 0o644); err != nil {
		t.Fatal(err)
	}
	// Local store: the open verifies the whole copy first.
	q, err := Open(ctx, p.Dir(), Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.OpenVersion(ctx, v, OpenOptions{}); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("open of a corrupted object on a local store: %v, want ErrIntegrity", err)
	}
	// Remote: reads are served unverified until the fill has checked.
	storeRoot := p.store.Location()
	rq, err := Open(ctx, p.Dir(), Options{CacheDir: t.TempDir(), OpenStore: func(ctx context.Context, loc store.Location) (store.Store, error) {
		ls, err := local.New(storeRoot, local.Options{})
		return &remoteLike{Store: ls}, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rq.OpenVersion(ctx, v, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := rq.Fetch(ctx, v); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("fetch of a corrupted object: %v, want ErrIntegrity", err)
	}
	if err := r.part.Wait(ctx); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("fill of a corrupted object: %v, want ErrIntegrity", err)
	}
	if _, err := r.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("read after a failed fill: %v, want ErrIntegrity", err)
	}
	if _, cached := rq.cache.Cached(rq.Key(v), v.ParquetSHA); cached {
		t.Error("a corrupted object was cached")
	}
}

// NewMountStaging sweeps what dead processes left, under the given base
// and in the cache, keeps a live owner's folder, and makes the mount's own.
func TestNewMountStaging(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	for _, base := range []string{"", filepath.Join(t.TempDir(), "elsewhere")} {
		dead := map[string]*StagingDir{}
		for _, b := range []string{base, p.cache.StagingBase()} {
			if b == "" {
				continue
			}
			d, err := NewStagingDir(b, "write")
			if err != nil {
				t.Fatal(err)
			}
			d.lock.Close() // its process was killed
			dead[d.Path] = d
		}
		live, err := NewStagingDir(p.cache.StagingBase(), "mount")
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.NewMountStaging(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		want := base
		if want == "" {
			want = p.cache.StagingBase()
		}
		if filepath.Dir(d.Path) != want || !strings.HasPrefix(filepath.Base(d.Path), "mount-") {
			t.Errorf("staging folder %s, want mount-* under %s", d.Path, want)
		}
		for path := range dead {
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a dead process's folder %s survived", path)
			}
		}
		if _, err := os.Stat(live.Path); err != nil {
			t.Errorf("a live owner's folder was swept: %v", err)
		}
		d.Remove()
		live.Remove()
	}
}

// TestVersionSizesFromOneListing: a listing of a table's versions on a
// remote store costs one HEAD and one LIST, not a HEAD per version, and
// gives each object's true size.
func TestVersionSizesFromOneListing(t *testing.T) {
	ctx := context.Background()
	p, _ := testProject(t)
	for _, cut := range []string{"2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"} {
		if _, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: extractFiles(t, cut)["lb"], Format: FormatParquet}); err != nil {
			t.Fatal(err)
		}
	}
	storeRoot := p.store.Location()
	q, rs := openAsRemote(t, p)
	vs, err := q.Versions(ctx, tn("lb"))
	if err != nil || len(vs) != 4 {
		t.Fatalf("versions: %v %v", vs, err)
	}
	stats, lists := rs.stats.Load(), rs.lists.Load()
	for _, v := range vs {
		got, err := q.VersionSize(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(storeRoot, q.Key(v)))
		if err != nil {
			t.Fatal(err)
		}
		if got != fi.Size() {
			t.Errorf("%s: size %d, object is %d bytes", v.ID.Short(), got, fi.Size())
		}
	}
	if s, l := rs.stats.Load()-stats, rs.lists.Load()-lists; s != 1 || l != 1 {
		t.Errorf("sizes of 4 versions took %d HEADs and %d LISTs, want 1 and 1", s, l)
	}
}

// A remote store's write keeps the uploaded file in the cache: by a copy
// when the file is the caller's, by a hard link of the caller's file once
// it hands it over (CacheLater, then CacheWritten), and never before.
func TestWriteCacheLater(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "cachelater")
	srv.SetEnv(t)
	ctx := context.Background()
	p, _ := pointsProject(t, "s3://cachelater/study001")
	files := extractFiles(t, "2026-01-31")
	cached := func(res WriteResult) (string, bool) {
		t.Helper()
		v, err := p.Resolve(ctx, res.Table, string(res.Version))
		if err != nil {
			t.Fatal(err)
		}
		return p.cache.Cached(p.Key(v), v.ParquetSHA)
	}
	sameFile := func(a, b string) bool {
		t.Helper()
		fa, err := os.Stat(a)
		if err != nil {
			t.Fatal(err)
		}
		fb, err := os.Stat(b)
		if err != nil {
			t.Fatal(err)
		}
		return os.SameFile(fa, fb)
	}

	copied, err := p.Write(ctx, WriteRequest{Table: tn("lb"), Path: files["lb"], Format: FormatParquet})
	if err != nil {
		t.Fatal(err)
	}
	if path, ok := cached(copied); !ok || sameFile(path, files["lb"]) {
		t.Errorf("a caller's file is cached by a copy after its write: cached %v, linked %v", ok, ok && sameFile(path, files["lb"]))
	}
	p.CacheWritten(copied, files["lb"]) // not a CacheLater write: nothing
	if path, _ := cached(copied); sameFile(path, files["lb"]) {
		t.Error("CacheWritten linked the file of a write that copied it")
	}

	later, err := p.Write(ctx, WriteRequest{Table: tn("ae"), Path: files["ae"], Format: FormatParquet, CacheLater: true})
	if err != nil {
		t.Fatal(err)
	}
	if !later.Uploaded {
		t.Fatal("the write uploaded nothing")
	}
	if _, ok := cached(later); ok {
		t.Error("a CacheLater write cached the file before it was handed over")
	}
	p.CacheWritten(later, files["ae"])
	path, ok := cached(later)
	if !ok || !sameFile(path, files["ae"]) {
		t.Fatalf("after CacheWritten: cached %v, want the caller's file linked", ok)
	}
	// The linked file serves reads of the version.
	v, err := p.Resolve(ctx, tn("ae"), string(later.Version))
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.OpenVersion(ctx, v, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Local() == nil {
		t.Error("the version is not served from the linked cache file")
	}
}
