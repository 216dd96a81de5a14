package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/s3"
)

// TestReadPathNotResponding: reads that a store which stopped answering
// cannot serve (a ranged read of a partially cached version, the background
// fill, a whole download) fail with ErrUnreachable instead of blocking, and
// work again once the store answers.
func TestReadPathNotResponding(t *testing.T) {
	v := testenv.Versity(t)
	v.CreateBucket(t, "read-path")
	p := testenv.NewProxy(t, strings.TrimPrefix(v.Endpoint, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	st, err := s3.New(ctx, s3.Options{
		Bucket: "read-path", Endpoint: "http://" + p.Addr, IdleTimeout: 2 * time.Second,
		Credentials: &s3.Credentials{AccessKeyID: v.AccessKey, SecretAccessKey: v.SecretKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	const key = "datom/t/x.parquet"
	body := make([]byte, 12<<20)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	sum := sha256.Sum256(body)
	sha := identity.ParquetSHA(hex.EncodeToString(sum[:]))
	if err := st.Put(ctx, key, bytes.NewReader(body), int64(len(body)), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	check := func(op string, err error) {
		t.Helper()
		if ctx.Err() != nil {
			t.Fatalf("%s hung until the test's deadline: %v", op, err)
		}
		if !errors.Is(err, store.ErrUnreachable) || !strings.Contains(err.Error(), "not responding") {
			t.Fatalf("%s with the store not responding: %v; want ErrUnreachable, not responding", op, err)
		}
	}

	c := New(t.TempDir(), st, slog.New(slog.DiscardHandler))
	part, err := c.OpenPartial(ctx, key, sha, int64(len(body)), FillNever)
	if err != nil {
		t.Fatal(err)
	}
	p.Pause()
	_, err = part.ReadAt(ctx, make([]byte, 128<<10), 0)
	check("ReadAt", err)
	part.Close()

	// The background fill fails too, and a whole download.
	p.Resume()
	part, err = c.OpenPartial(ctx, key, sha, int64(len(body)), FillNever)
	if err != nil {
		t.Fatal(err)
	}
	p.AfterBytes(3<<20, p.Pause) // the fill is under way
	var logged testenv.SyncBuffer
	c.log = slog.New(slog.NewTextHandler(&logged, nil))
	part.startFill(0)
	for !strings.Contains(logged.String(), "fill cache") && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	// A failed fill is logged and leaves reads to fetch what they need.
	if ctx.Err() != nil {
		t.Fatal("the fill hung until the test's deadline")
	}
	if out := logged.String(); !strings.Contains(out, "not responding") {
		t.Fatalf("the fill's failure was logged as %q; want the store not responding", out)
	}
	part.Close()
	_, err = c.Get(ctx, key, sha, nil)
	check("Get", err)
	if _, cached := c.Cached(key, sha); cached {
		t.Fatal("a failed download left a cache entry")
	}

	p.DropAll() // the stale connections, as after a server restart
	p.Resume()
	if _, err := c.Get(ctx, key, sha, nil); err != nil {
		t.Fatalf("Get after Resume: %v", err)
	}
	part, err = c.OpenPartial(ctx, key, sha, int64(len(body)), FillNever)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Close()
	b := make([]byte, 1000)
	if _, err := part.ReadAt(ctx, b, 5<<20); err != nil || !bytes.Equal(b, body[5<<20:5<<20+1000]) {
		t.Fatalf("ReadAt after Resume: %v", err)
	}
}
