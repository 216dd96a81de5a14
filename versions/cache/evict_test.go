package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
)

// evictFixture is a local store holding objects "o0".."o<n-1>" of size
// bytes each, and a cache folder over it.
type evictFixture struct {
	st   store.Store
	root string
	shas []identity.ParquetSHA
}

func newEvictFixture(t *testing.T, n, size int) *evictFixture {
	t.Helper()
	st, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fx := &evictFixture{st: st, root: t.TempDir()}
	for i := range n {
		body := bytes.Repeat([]byte{byte('a' + i)}, size)
		if err := st.Put(context.Background(), fx.key(i), bytes.NewReader(body), int64(size), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		fx.shas = append(fx.shas, identity.ParquetSHA(hex.EncodeToString(sum[:])))
	}
	return fx
}

func (fx *evictFixture) key(i int) string { return fmt.Sprintf("datom/t/o%d.parquet", i) }

func (fx *evictFixture) cache(max int64) *Cache {
	return New(fx.root, fx.st, slog.New(slog.DiscardHandler)).WithMaxBytes(max)
}

func (fx *evictFixture) get(t *testing.T, c *Cache, i int) string {
	t.Helper()
	path, err := c.Get(context.Background(), fx.key(i), fx.shas[i], nil)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// cached lists which objects are in the cache folder, as "0110…".
func (fx *evictFixture) cached(c *Cache) string {
	var b []byte
	for i := range fx.shas {
		if _, ok := c.Cached(fx.key(i), fx.shas[i]); ok {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	return string(b)
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	fx := newEvictFixture(t, 5, 100)
	c := fx.cache(250)
	fx.get(t, c, 0)
	fx.get(t, c, 1)
	if got := fx.cached(c); got != "11000" {
		t.Fatalf("within the bound: cached %s, want 11000", got)
	}
	fx.get(t, c, 2) // 300 > 250: the oldest (0) goes
	if got := fx.cached(c); got != "01100" {
		t.Fatalf("after a third entry: cached %s, want 01100", got)
	}
	fx.get(t, c, 1) // a use: 2 is now the least recent
	fx.get(t, c, 3)
	if got := fx.cached(c); got != "01010" {
		t.Fatalf("after using 1 and adding 3: cached %s, want 01010", got)
	}
	if c.Used() != 200 || c.MaxBytes() != 250 {
		t.Errorf("used %d of %d, want 200 of 250", c.Used(), c.MaxBytes())
	}
	// An evicted entry is fetched again on demand.
	fx.get(t, c, 0)
	if got := fx.cached(c); got != "10010" {
		t.Fatalf("after fetching 0 again: cached %s, want 10010", got)
	}
}

func TestCacheKeepsPinnedEntries(t *testing.T) {
	fx := newEvictFixture(t, 5, 100)
	c := fx.cache(250)
	// Pinned before the fetch, as the mount does on open.
	unpin := c.Pin(c.PathFor(fx.key(0), fx.shas[0]))
	fx.get(t, c, 0)
	fx.get(t, c, 1)
	fx.get(t, c, 2)
	fx.get(t, c, 3)
	if got := fx.cached(c); got != "10010" {
		t.Fatalf("with 0 open: cached %s, want 10010 (the open entry stays, though oldest)", got)
	}
	// Everything else in use too: over the bound, nothing goes.
	unpin3 := c.Pin(c.PathFor(fx.key(3), fx.shas[3]))
	fx.get(t, c, 4)
	if got := fx.cached(c); got != "10011" {
		t.Fatalf("with 0 and 3 open: cached %s, want 10011", got)
	}
	if c.Used() != 300 {
		t.Errorf("used %d, want 300 (over the bound while entries are open)", c.Used())
	}
	unpin()
	unpin() // a second call does nothing
	if got := fx.cached(c); got != "00011" {
		t.Fatalf("after closing 0: cached %s, want 00011", got)
	}
	unpin3()
	if got := fx.cached(c); got != "00011" {
		t.Fatalf("after closing 3 (within the bound): cached %s, want 00011", got)
	}
}

func TestCacheKeepsAPartialBeingFilled(t *testing.T) {
	fx := newEvictFixture(t, 3, 100)
	c := fx.cache(150)
	fx.get(t, c, 0)
	p, err := c.OpenPartial(context.Background(), fx.key(1), fx.shas[1], 100, FillNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 1 is complete and still open; 0 went to make room.
	if got := fx.cached(c); got != "010" {
		t.Fatalf("after the fill: cached %s, want 010", got)
	}
	fx.get(t, c, 2)
	if got := fx.cached(c); got != "011" {
		t.Fatalf("with the partial open: cached %s, want 011", got)
	}
	p.Close()
	if got := fx.cached(c); got != "001" {
		t.Fatalf("after closing the partial: cached %s, want 001", got)
	}
}

func TestCacheEntryLargerThanTheBoundStays(t *testing.T) {
	fx := newEvictFixture(t, 2, 100)
	c := fx.cache(50)
	fx.get(t, c, 0)
	if got := fx.cached(c); got != "10" {
		t.Fatalf("cached %s, want 10 (the newest entry stays)", got)
	}
	fx.get(t, c, 1)
	if got := fx.cached(c); got != "01" {
		t.Fatalf("cached %s, want 01", got)
	}
}

// The mount keeps renditions (.csv, .rds) next to a version's copy: they
// count and go with it.
func TestCacheCountsAndEvictsRenditions(t *testing.T) {
	for _, exts := range [][]string{{".csv"}, {".rds"}, {".csv", ".rds"}} {
		t.Run(strings.Join(exts, "+"), func(t *testing.T) {
			fx := newEvictFixture(t, 3, 100)
			k := int64(len(exts))
			c := fx.cache(100*k + 250)
			p0 := fx.get(t, c, 0)
			var renditions []string
			for _, ext := range exts {
				r := p0[:len(p0)-len(".parquet")] + ext
				if err := os.WriteFile(r, bytes.Repeat([]byte("x"), 100), 0o644); err != nil {
					t.Fatal(err)
				}
				c.Pin(r)() // the mount pins the rendition when it opens it
				renditions = append(renditions, r)
			}
			if c.Used() != 100*(1+k) {
				t.Fatalf("used %d, want %d (parquet + %v)", c.Used(), 100*(1+k), exts)
			}
			fx.get(t, c, 1)
			fx.get(t, c, 2) // over the bound
			if got := fx.cached(c); got != "011" {
				t.Fatalf("cached %s, want 011", got)
			}
			for _, r := range renditions {
				if _, err := os.Stat(r); !os.IsNotExist(err) {
					t.Errorf("the evicted entry's rendition %s is still there (%v)", filepath.Base(r), err)
				}
			}
			if c.Used() != 200 {
				t.Errorf("used %d, want 200", c.Used())
			}
		})
	}
}

func TestCacheSeedsFromTheFolder(t *testing.T) {
	fx := newEvictFixture(t, 4, 100)
	c := fx.cache(0) // unbounded: fill it
	for i := range 4 {
		fx.get(t, c, i)
	}
	if c.Used() != 0 || c.MaxBytes() != 0 {
		t.Errorf("an unbounded cache keeps an account: used %d, max %d", c.Used(), c.MaxBytes())
	}
	// Ages by mtime: 2 oldest, then 0, 3, 1.
	base := time.Now().Add(-time.Hour)
	for rank, i := range []int{2, 0, 3, 1} {
		mt := base.Add(time.Duration(rank) * time.Minute)
		if err := os.Chtimes(c.PathFor(fx.key(i), fx.shas[i]), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	// Files being filled are neither counted nor removed.
	tmp := filepath.Join(fx.root, "objects", fx.shas[0].String()[:2], ".dl-123")
	if err := os.WriteFile(tmp, bytes.Repeat([]byte("x"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	c = fx.cache(250) // a restart with a bound: over it at once
	if got := fx.cached(c); got != "0101" {
		t.Fatalf("after the restart: cached %s, want 0101 (2 and 0 were oldest)", got)
	}
	if c.Used() != 200 {
		t.Errorf("used %d, want 200", c.Used())
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("a file being filled was touched: %v", err)
	}
	// A use updates the mtime, so the order survives the next restart.
	fx.get(t, c, 3)
	c = fx.cache(150)
	if got := fx.cached(c); got != "0001" {
		t.Fatalf("after using 3 and restarting with 150: cached %s, want 0001", got)
	}
}
