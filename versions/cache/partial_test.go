package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
)

// countingStore counts ranged reads and the bytes they carry.
type countingStore struct {
	store.Store
	gets, bytes atomic.Int64
}

func (c *countingStore) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	c.gets.Add(1)
	if n > 0 {
		c.bytes.Add(n)
	}
	return c.Store.Open(ctx, key, off, n)
}

func partialFixture(t *testing.T, size int) (*Cache, *countingStore, []byte, identity.ParquetSHA) {
	t.Helper()
	ls, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	if err := ls.Put(context.Background(), "datom/t/x.parquet", bytes.NewReader(body), int64(size), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: ls}
	sum := sha256.Sum256(body)
	return New(t.TempDir(), cs, slog.New(slog.DiscardHandler)), cs, body, identity.ParquetSHA(hex.EncodeToString(sum[:]))
}

func TestPartialReadsOnlyWhatIsAsked(t *testing.T) {
	ctx := context.Background()
	c, cs, body, sha := partialFixture(t, 40<<20)
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// The footer, rounded out to whole blocks.
	if got := cs.bytes.Load(); got < partialFooter || got > partialFooter+partialBlock {
		t.Fatalf("open fetched %d bytes, want the %d-byte footer in whole blocks", got, partialFooter)
	}
	cases := []struct{ off, n int64 }{{0, 100}, {5 << 20, 128 << 10}, {int64(len(body)) - 10, 10}, {12345, 3 << 20}}
	for _, c := range cases {
		b := make([]byte, c.n)
		n, err := p.ReadAt(ctx, b, c.off)
		if err != nil || int64(n) != c.n || !bytes.Equal(b, body[c.off:c.off+c.n]) {
			t.Fatalf("ReadAt(%d, %d): n=%d err=%v, bytes equal: %v", c.off, c.n, n, err, bytes.Equal(b[:n], body[c.off:c.off+int64(n)]))
		}
	}
	if got := cs.bytes.Load(); got >= int64(len(body))/2 {
		t.Fatalf("fetched %d of %d bytes for a few small reads", got, len(body))
	}
	if _, cached := c.Cached("datom/t/x.parquet", sha); cached {
		t.Fatal("a partial copy became a cache entry without a fill")
	}
}

func TestPartialFillVerifies(t *testing.T) {
	ctx := context.Background()
	c, cs, body, sha := partialFixture(t, 20<<20+123)
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), true)
	if err != nil {
		t.Fatal(err)
	}
	p.Close() // the fill goes on without readers
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	path, cached := c.Cached("datom/t/x.parquet", sha)
	if !cached {
		t.Fatal("the filled copy is not a cache entry")
	}
	if got, err := c.Get(ctx, "datom/t/x.parquet", sha, nil); err != nil || got != path {
		t.Fatalf("Get after fill: %s %v", got, err)
	}
	if cs.bytes.Load() > int64(len(body))*3/2 {
		t.Errorf("fill fetched %d bytes for a %d-byte object", cs.bytes.Load(), len(body))
	}

	// A wrong parquet_sha: the fill fails, reads fail, nothing is cached.
	bad := "00" + sha[2:]
	p, err = c.OpenPartial(ctx, "datom/t/x.parquet", bad, int64(len(body)), true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Wait(ctx); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("fill with a wrong parquet_sha: %v, want ErrIntegrity", err)
	}
	if _, err := p.ReadAt(ctx, make([]byte, 10), 0); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("read after a failed verification: %v", err)
	}
	if _, cached := c.Cached("datom/t/x.parquet", bad); cached {
		t.Fatal("a copy that failed verification was cached")
	}
}
