package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

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
	body := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	c, cs, sha := objectFixture(t, body)
	return c, cs, body, sha
}

// objectFixture stores body at datom/t/x.parquet in a local store whose
// GETs are counted, and returns a cache over it and body's sha256.
func objectFixture(t *testing.T, body []byte) (*Cache, *countingStore, identity.ParquetSHA) {
	t.Helper()
	ls, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ls.Put(context.Background(), "datom/t/x.parquet", bytes.NewReader(body), int64(len(body)), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: ls}
	sum := sha256.Sum256(body)
	return New(t.TempDir(), cs, slog.New(slog.DiscardHandler)), cs, identity.ParquetSHA(hex.EncodeToString(sum[:]))
}

func TestPartialReadsOnlyWhatIsAsked(t *testing.T) {
	ctx := context.Background()
	c, cs, body, sha := partialFixture(t, 40<<20)
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), FillNever)
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
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), FillNow)
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
	p, err = c.OpenPartial(ctx, "datom/t/x.parquet", bad, int64(len(body)), FillNow)
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
	// The object is now suspect (its next readers check it whole first),
	// and only that object.
	if !c.Suspect("datom/t/x.parquet", bad) || c.Suspect("datom/t/x.parquet", sha) {
		t.Errorf("Suspect after a failed fill = %v, of the verified object %v; want true, false",
			c.Suspect("datom/t/x.parquet", bad), c.Suspect("datom/t/x.parquet", sha))
	}
}

// TestSuspectUntilADownloadMatches: a fill that finds the stored bytes
// wrong makes the object suspect; a download that fails the check too
// leaves it so, and one that passes (the store repaired) clears it.
func TestSuspectUntilADownloadMatches(t *testing.T) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("datom"), 200_000)
	c, cs, sha := objectFixture(t, body)
	put := func(b []byte) {
		t.Helper()
		if err := cs.Store.Put(ctx, "datom/t/x.parquet", bytes.NewReader(b), int64(len(b)), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wrong := bytes.Clone(body)
	wrong[len(wrong)/2] ^= 1
	put(wrong)
	if c.Suspect("datom/t/x.parquet", sha) {
		t.Fatal("suspect before any check")
	}
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), FillNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("fill of wrong bytes: %v, want ErrIntegrity", err)
	}
	p.Close()
	if !c.Suspect("datom/t/x.parquet", sha) {
		t.Fatal("not suspect after a failed fill")
	}
	if _, err := c.Get(ctx, "datom/t/x.parquet", sha, nil); !errors.Is(err, ErrIntegrity) || !c.Suspect("datom/t/x.parquet", sha) {
		t.Fatalf("download of the same wrong bytes: %v, suspect %v; want ErrIntegrity, true", err, c.Suspect("datom/t/x.parquet", sha))
	}
	put(body)
	if _, err := c.Get(ctx, "datom/t/x.parquet", sha, nil); err != nil || c.Suspect("datom/t/x.parquet", sha) {
		t.Fatalf("download of the right bytes: %v, suspect %v; want nil, false", err, c.Suspect("datom/t/x.parquet", sha))
	}
}

// haveBytes is how many bytes of p are present.
func haveBytes(p *Partial) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for b, ok := range p.have {
		if ok {
			n += min(int64(partialBlock), p.size-int64(b)*partialBlock)
		}
	}
	return n
}

// quiesce waits until no read-ahead GET is under way.
func quiesce(t *testing.T, p *Partial) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		p.mu.Lock()
		n := p.ahead
		p.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d read-ahead GETs still under way", n)
		}
	}
}

// slowStore adds latency to every GET, as S3 has.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s slowStore) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	time.Sleep(s.delay)
	return s.Store.Open(ctx, key, off, n)
}

// A reader well into a sequential run finds the next windows already being
// fetched (it waits for GETs it did not start); a reader of column-chunk
// sized runs gets no read-ahead; either way no byte is fetched twice.
func TestPartialReadsAhead(t *testing.T) {
	ctx := context.Background()
	c, cs, body, sha := partialFixture(t, 48<<20)
	c.store = slowStore{Store: cs, delay: 20 * time.Millisecond}
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), FillNever)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	read := func(off, n int64) {
		t.Helper()
		for end := off + n; off < end; off += 128 << 10 {
			b := make([]byte, 128<<10)
			if m, err := p.ReadAt(ctx, b, off); err != nil || !bytes.Equal(b[:m], body[off:off+int64(m)]) {
				t.Fatalf("ReadAt(%d): %d, %v", off, m, err)
			}
		}
	}
	read(0, 8<<20) // one column chunk
	quiesce(t, p)
	if got := haveBytes(p); got > 8<<20+partialWindow+partialFooter {
		t.Fatalf("an 8 MiB run fetched %d bytes: read-ahead before aheadAfter", got)
	}
	start := cs.gets.Load()
	read(8<<20, 40<<20-partialFooter) // on to the end: a long sequential run
	quiesce(t, p)
	gets := cs.gets.Load() - start
	if got, want := cs.bytes.Load(), haveBytes(p); got != want {
		t.Fatalf("fetched %d bytes for %d distinct bytes", got, want)
	}
	if haveBytes(p) != int64(len(body)) {
		t.Fatalf("have %d of %d bytes after reading everything", haveBytes(p), len(body))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.aheadGets == 0 {
		t.Fatalf("no read-ahead GET in a %d-GET sequential run", gets)
	}
}

// Concurrent overlapping reads (the kernel's readahead, several readers,
// the fill) fetch each block once: the bytes fetched are the bytes present.
func TestPartialFetchesEachBlockOnce(t *testing.T) {
	for _, fill := range []Fill{FillNever, FillNow} {
		t.Run(map[Fill]string{FillNever: "no fill", FillNow: "fill"}[fill], func(t *testing.T) {
			ctx := context.Background()
			c, cs, body, sha := partialFixture(t, 40<<20+4321)
			p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), fill)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			var g errgroup.Group
			for r := range 8 {
				g.Go(func() error {
					// Each reader walks the same region in 128 KiB reads,
					// starting a little apart: they overlap all the time.
					for off := int64(r) * 100 << 10; off < 24<<20; off += 128 << 10 {
						b := make([]byte, 128<<10)
						n, err := p.ReadAt(ctx, b, off)
						if err != nil || !bytes.Equal(b[:n], body[off:off+int64(n)]) {
							return fmt.Errorf("ReadAt(%d): %d, %v, equal %v", off, n, err, bytes.Equal(b[:n], body[off:off+int64(n)]))
						}
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			if fill == FillNow {
				if err := p.Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			quiesce(t, p)
			if got, want := cs.bytes.Load(), haveBytes(p); got != want {
				t.Fatalf("fetched %d bytes in %d GETs for %d distinct bytes", got, cs.gets.Load(), want)
			}
			if fill == FillNow && haveBytes(p) != int64(len(body)) {
				t.Fatalf("filled %d of %d bytes", haveBytes(p), len(body))
			}
		})
	}
}

// gatedStore holds every GET that starts before gateBelow until open is
// closed.
type gatedStore struct {
	store.Store
	gateBelow int64
	open      chan struct{}
	held      atomic.Int64
}

func (g *gatedStore) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if off < g.gateBelow {
		g.held.Add(1)
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Store.Open(ctx, key, off, n)
}

// A demand read is served while the fill's GETs are still under way.
func TestPartialDemandBeforeFill(t *testing.T) {
	ctx := context.Background()
	c, cs, body, sha := partialFixture(t, 48<<20)
	gs := &gatedStore{Store: cs, gateBelow: 32 << 20, open: make(chan struct{})}
	c.store = gs
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), FillNow)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// The fill's workers take the first chunks and are held there.
	for gs.held.Load() < fillWorkers {
		time.Sleep(time.Millisecond)
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b := make([]byte, 1<<20)
	off := int64(40 << 20)
	if n, err := p.ReadAt(rctx, b, off); err != nil || !bytes.Equal(b[:n], body[off:off+int64(n)]) {
		t.Fatalf("demand read during the fill: %d, %v", n, err)
	}
	select {
	case <-p.complete:
		t.Fatal("the fill finished while its GETs were held")
	default:
	}
	close(gs.open)
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := cs.bytes.Load(); got != int64(len(body)) {
		t.Fatalf("fetched %d bytes for a %d-byte object", got, len(body))
	}
}

// A reader of a few column chunks starts no fill; a sequential reader
// does, and the fill fetches only what the reader has not.
func TestPartialFillsWhenSequential(t *testing.T) {
	ctx := context.Background()
	c, cs, body, sha := partialFixture(t, 64<<20)
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), FillAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	read := func(off, n int64) {
		t.Helper()
		for end := off + n; off < end; off += 128 << 10 { // as the kernel asks
			b := make([]byte, 128<<10)
			if m, err := p.ReadAt(ctx, b, off); err != nil || !bytes.Equal(b[:m], body[off:off+int64(m)]) {
				t.Fatalf("ReadAt(%d): %d, %v", off, m, err)
			}
		}
	}
	chunks := []int64{3 << 20, 13 << 20, 23 << 20, 43 << 20, 53 << 20}
	for _, off := range chunks {
		read(off, 1<<20)
	}
	p.mu.Lock()
	filling := p.filling
	p.mu.Unlock()
	if filling {
		t.Fatal("reading a few column chunks started the fill")
	}
	if got, most := cs.bytes.Load(), int64(len(chunks))*2<<20+partialFooter+partialBlock; got > most {
		t.Fatalf("fetched %d bytes for %d 1 MiB reads (at most %d)", got, len(chunks), most)
	}
	read(0, p.fillAt()+1<<20)
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("a sequential reader did not start the fill: %v", err)
	}
	if _, cached := c.Cached("datom/t/x.parquet", sha); !cached {
		t.Fatal("the filled copy is not a cache entry")
	}
	if got := cs.bytes.Load(); got != int64(len(body)) {
		t.Fatalf("fetched %d bytes for a %d-byte object", got, len(body))
	}
}

// stallingStore's GETs deliver their first stallAfter bytes, then stop
// until release is closed.
type stallingStore struct {
	store.Store
	stallAfter int64
	release    chan struct{}
}

type stallingBody struct {
	io.ReadCloser
	left    int64
	release chan struct{}
}

func (s *stallingStore) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := s.Store.Open(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return &stallingBody{ReadCloser: rc, left: s.stallAfter, release: s.release}, nil
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		<-b.release
		return b.ReadCloser.Read(p)
	}
	n, err := b.ReadCloser.Read(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	return n, err
}

// readAsync reads 4 KiB at off in the background and sends its error, or
// one for bytes that are not body's.
func readAsync(ctx context.Context, p *Partial, body []byte, off int64) <-chan error {
	done := make(chan error, 1)
	go func() {
		b := make([]byte, 4096)
		n, err := p.ReadAt(ctx, b, off)
		if err == nil && !bytes.Equal(b[:n], body[off:off+int64(n)]) {
			err = fmt.Errorf("read at %d: wrong bytes", off)
		}
		done <- err
	}()
	return done
}

// A reader goes on as soon as its own blocks are here: the window a
// sequential read claims past them comes in a GET of its own, which lands
// block by block; a later read of a block of it waits for that GET
// instead of fetching again.
func TestPartialReaderGoesOnAsItsBlockLands(t *testing.T) {
	ctx := context.Background()
	c, cs, body, sha := partialFixture(t, 16<<20)
	ss := &stallingStore{Store: cs, stallAfter: partialBlock, release: make(chan struct{})}
	c.store = ss
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), FillNever)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// A sequential run from 0: the next read's window is several blocks.
	p.mu.Lock()
	p.observe(0, 2*partialBlock)
	p.mu.Unlock()
	read := readAsync(ctx, p, body, 2*partialBlock)
	select {
	case err := <-read:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read waited for the whole window's GET, not for its block")
	}
	// The footer's GET, the read's own, and the window's past it, which
	// stalls after its first block.
	for deadline := time.Now().Add(10 * time.Second); cs.gets.Load() < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d GETs, want the window's GET besides the read's", cs.gets.Load())
		}
		time.Sleep(time.Millisecond)
	}
	p.mu.Lock()
	ahead := p.have[3] || p.inflight[3] != nil
	stalled := p.inflight[4] != nil
	p.mu.Unlock()
	if !ahead || !stalled {
		t.Fatalf("block 3 present or in flight: %v, block 4 in flight: %v", ahead, stalled)
	}
	later := readAsync(ctx, p, body, 4*partialBlock)
	select {
	case err := <-later:
		t.Fatalf("a read of a stalled block returned (%v) before its GET went on", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(ss.release)
	if err := <-later; err != nil {
		t.Fatal(err)
	}
	if got := cs.gets.Load(); got != 3 {
		t.Fatalf("%d GETs, want 3: a read of a block in flight fetched it again", got)
	}
}

// failingStore fails every GET that starts before failBelow while failing
// is set.
type failingStore struct {
	store.Store
	failBelow int64
	failing   atomic.Bool
}

func (f *failingStore) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if f.failing.Load() && off < f.failBelow {
		return nil, errors.New("store down")
	}
	return f.Store.Open(ctx, key, off, n)
}

// A fill that fails because the store does (not because the bytes are
// wrong) does not fail the reads of that open version: once the store is
// back they are served, and the fill starts again and publishes the copy.
func TestPartialFailedFillDoesNotFailReads(t *testing.T) {
	ctx := context.Background()
	c, cs, body, sha := partialFixture(t, 24<<20)
	fs := &failingStore{Store: cs, failBelow: 24<<20 - partialBlock} // the footer comes
	fs.failing.Store(true)
	c.store = fs
	p, err := c.OpenPartial(ctx, "datom/t/x.parquet", sha, int64(len(body)), FillNow)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		p.mu.Lock()
		filling := p.filling
		p.mu.Unlock()
		if !filling {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fill did not fail")
		}
	}
	if _, err := p.ReadAt(ctx, make([]byte, 10), 0); err == nil {
		t.Fatal("a read while the store is down succeeded")
	}
	fs.failing.Store(false)
	b := make([]byte, 1<<20)
	n, err := p.ReadAt(ctx, b, 5<<20)
	if err != nil || !bytes.Equal(b[:n], body[5<<20:5<<20+n]) {
		t.Fatalf("read after the store came back: %d, %v", n, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := p.Wait(wctx); err != nil {
		t.Fatalf("the fill did not start again and publish the copy: %v", err)
	}
	if _, cached := c.Cached("datom/t/x.parquet", sha); !cached {
		t.Fatal("the filled copy is not a cache entry")
	}
}
