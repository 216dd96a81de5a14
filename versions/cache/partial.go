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
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/datomfs/datomfs/versions/identity"
)

// A remote version is served before it is fully cached (design §5): the
// footer is fetched at once on open (readers ask for it first), the ranges
// that are asked for are fetched with priority, and the rest is filled in
// the background with parallel ranged GETs once the reads look sequential
// (or at once when asked). Until the whole object is there and its sha256
// matches parquet_sha, bytes come from ranged GETs unverified; the finished
// copy becomes the verified cache entry, and a mismatch fails every later
// read (and makes the object Suspect: it is not served unverified again).
//
// No byte is fetched twice: a block is missing, in flight (one GET carries
// it, and whoever needs it waits for that GET) or present. Demand reads go
// first: the fill issues no new GET while a reader waits for one.
//
// One S3 GET costs ~25 ms whatever its size, so a reader that goes on where
// it stopped gets a window ahead that grows with its run (up to
// partialWindow); a read elsewhere fetches only the blocks it asks for.
//
// Parquet readers read whole column chunks, so the footer's chunk offsets
// (learnt on open) shape the windows: a read at a chunk's start fetches
// the chunk to its end at once (in parallel GETs), and a run inside one
// chunk fetches nothing past its end, where a reader of one column jumps
// to the next row group. A run that goes on into the next chunk grows its
// window again from the boundary, so the kernel's readahead just past a
// chunk costs what it reads; once the run is well into that chunk
// (chunkConfirm), it fetches the rest of it as a jump to its start would.
const (
	partialBlock  = 256 << 10 // bookkeeping granularity
	partialWindow = 4 << 20   // most fetched ahead of a sequential reader
	partialFooter = 64 << 10  // fetched on open
	fillChunk     = 8 << 20   // one background GET, and one piece of a window
	chunkWindow   = 32 << 20  // most of a column chunk fetched on its first read
	// chunkConfirm is how far a run goes into the next chunk before it
	// counts as reading it: past the kernel's readahead (2 x 128 KiB).
	chunkConfirm = 512 << 10
	// maxLayoutFooter bounds the footer metadata fetched on open to learn
	// the chunks (a reader fetches it next anyway; one this long is rare).
	maxLayoutFooter = 16 << 20
	fillWorkers     = 4
	fillAfter       = 32 << 20 // a sequential run that starts the fill (see fillAt)
	seqSlack        = 1 << 20  // a read this close to where a run ended continues it
	maxStreams      = 8        // sequential runs tracked at once
	aheadWindows    = 2        // windows a sequential reader's GETs run ahead
	// aheadAfter is the run after which GETs run ahead of a reader: longer
	// than the column chunks of common row group sizes (1Mi rows of
	// float64: 8 MiB), so that reading one column fetches no more than it.
	aheadAfter = 16 << 20
)

// Fill says when a Partial fetches the whole object in the background.
type Fill int

const (
	// FillAuto fills once reads look sequential (a run of fillAt bytes).
	FillAuto Fill = iota
	// FillNow fills at once, from open.
	FillNow
	// FillNever fetches only what is read.
	FillNever
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

	mu        sync.Mutex
	idle      *sync.Cond // on mu: broadcast when demand drops to 0
	have      []bool     // per block
	nhave     int
	inflight  []*flight // per block: the GET carrying it, or nil
	demand    int       // readers fetching or waiting for a GET
	streams   []stream  // recent sequential runs of reads
	ahead     int       // read-ahead GETs under way
	aheadGets int       // read-ahead GETs started (tests)
	tick      uint64
	mode      Fill
	refs      int
	filling   bool
	complete  chan struct{} // closed once the copy is verified and published, or found wrong
	err       error         // ErrIntegrity, set before complete is closed, or nil

	layoutOnce sync.Once
	bounds     []int64 // on mu: parquet column chunk starts and the footer's, sorted; nil if unknown
}

// flight is one GET under way; done is closed when it has ended.
type flight struct{ done chan struct{} }

// stream is a run of reads, each starting near where the last ended.
type stream struct {
	end, run int64 // run: bytes advanced so far
	used     uint64
}

// OpenPartial returns a reader of the object at key that fetches ranges on
// demand and fills the rest in the background as fill says; once verified,
// the filled copy becomes the cache entry (see Cached). Close it when done.
func (c *Cache) OpenPartial(ctx context.Context, key string, parquetSHA identity.ParquetSHA, size int64, fill Fill) (*Partial, error) {
	c.mu.Lock()
	if c.partials == nil {
		c.partials = map[string]*Partial{}
	}
	id := objectID(key, parquetSHA)
	p, ok := c.partials[id]
	if ok {
		p.mu.Lock()
		p.refs++
		if fill < p.mode { // a later open may ask for more filling
			p.mode = fill
		}
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
		blocks := (size + partialBlock - 1) / partialBlock
		p = &Partial{
			c: c, key: key, parquetSHA: parquetSHA, size: size, dst: dst, f: f, unpin: c.Pin(dst),
			have: make([]bool, blocks), inflight: make([]*flight, blocks), mode: fill, refs: 1,
			complete: make(chan struct{}),
		}
		p.idle = sync.NewCond(&p.mu)
		c.partials[id] = p
		c.mu.Unlock()
	}
	// The footer first: every parquet reader starts there.
	if size > 0 {
		start := max(size-partialFooter, 0)
		if err := p.ensure(ctx, start, size-start, 0, true); err != nil {
			p.Close()
			return nil, err
		}
		p.layoutOnce.Do(func() { p.learnLayout(ctx) })
	}
	if fill == FillNow {
		p.startFill(0)
	}
	return p, nil
}

// Size is the object's size.
func (p *Partial) Size() int64 { return p.size }

// ReadAt serves bytes, fetching what is missing first.
func (p *Partial) ReadAt(ctx context.Context, b []byte, off int64) (int, error) {
	return ReadSpan(b, off, func(off, n int64) (*os.File, int64, error) { return p.Span(ctx, off, n) })
}

// ReadSpan is ReadAt over a Span-like function (span returns the file
// holding [off, off+n) at the same offsets and how much of it exists).
func ReadSpan(b []byte, off int64, span func(off, n int64) (*os.File, int64, error)) (int, error) {
	f, n, err := span(off, int64(len(b)))
	if err != nil {
		return 0, err
	}
	m, err := f.ReadAt(b[:n], off)
	if err == nil && m < len(b) {
		err = io.EOF
	}
	return m, err
}

// Span is ReadAt for a caller that copies the bytes itself (the mount
// splices them to the kernel, one copy fewer): it fetches what is missing
// of [off, off+n) and returns the file that holds the range at the same
// offsets, and how much of it the object has (less at its end; io.EOF
// past it). The file stays valid until Close.
func (p *Partial) Span(ctx context.Context, off, n int64) (*os.File, int64, error) {
	if off >= p.size {
		return nil, 0, io.EOF
	}
	if off+n > p.size {
		n = p.size - off
	}
	p.mu.Lock()
	run, seq := p.observe(off, n)
	// The chunk a read is for holds its last byte: the kernel asks from
	// the page before a chunk's start, in the chunk before it.
	chunkStart, chunkEnd := p.chunkAround(off + n - 1)
	began := off + n - run // where the run began
	// (A fill that failed is started again: FillNow's at the next read.)
	fill := !p.filling && (p.mode == FillNow || p.mode == FillAuto && run >= p.fillAt())
	p.mu.Unlock()
	if fill {
		p.startFill(off)
	}
	var window int64 // a read elsewhere fetches what it asks for
	ahead := p.size  // how far GETs may run ahead of this reader
	switch {
	case chunkEnd == 0: // no layout
		if seq {
			window = min(max(run, partialBlock), partialWindow)
		}
	case !seq && off-chunkStart < partialBlock:
		// A jump to a chunk's start: the reader wants the chunk.
		window = min(chunkEnd-off, chunkWindow)
	case seq && began > chunkStart-partialBlock:
		// A run inside one chunk ends with it.
		window = min(max(run, partialBlock), partialWindow, chunkEnd-off)
		ahead = chunkEnd
	case seq && off+n-chunkStart >= chunkConfirm:
		// A run well into the next chunk reads that chunk too.
		window = min(chunkEnd-off, chunkWindow)
	case seq:
		// A run just into the next chunk: a reader of the whole file, or
		// the kernel's readahead just past the chunk a reader of one
		// column wanted. The window grows again from the boundary, so
		// the latter costs what it reads.
		window = min(max(off+n-chunkStart, partialBlock), partialWindow)
	}
	if err := p.ensure(ctx, off, n, window, true); err != nil {
		return nil, 0, err
	}
	if seq && run >= aheadAfter {
		p.readAhead(off+n, ahead)
	}
	return p.f, n, nil
}

// chunkAround returns the parquet column chunk (or footer) that holds off,
// as [start, end), or 0, 0 if the layout is unknown. p.mu is held.
func (p *Partial) chunkAround(off int64) (start, end int64) {
	i, found := slices.BinarySearch(p.bounds, off)
	if found {
		i++
	}
	// p.bounds[i-1] <= off < p.bounds[i]; the footer's chunk ends the file.
	if i == 0 {
		return 0, 0 // before the first chunk: the magic bytes
	}
	end = p.size
	if i < len(p.bounds) {
		end = p.bounds[i]
	}
	return p.bounds[i-1], end
}

// learnLayout reads the parquet footer's column chunk offsets into
// p.bounds, fetching the rest of the footer metadata if it is longer than
// what open fetched (a reader asks for it next anyway). An object that is
// not parquet, or whose footer does not parse, has no layout: its reads
// are windowed by their runs alone.
func (p *Partial) learnLayout(ctx context.Context) {
	var tail [8]byte
	if _, err := p.f.ReadAt(tail[:], max(p.size-8, 0)); err != nil {
		return
	}
	metaStart, err := identity.MetadataStart(tail[:], p.size)
	if err != nil || p.size-8-metaStart > maxLayoutFooter {
		return
	}
	if err := p.ensure(ctx, metaStart, p.size-metaStart, 0, true); err != nil {
		return
	}
	meta := make([]byte, p.size-8-metaStart)
	if _, err := p.f.ReadAt(meta, metaStart); err != nil {
		return
	}
	bounds, err := identity.ChunkStarts(meta, metaStart)
	if err != nil {
		p.c.log.Debug("parquet layout unknown; reads are windowed by their runs", "key", p.key, "err", err)
		return
	}
	p.mu.Lock()
	p.bounds = bounds
	p.mu.Unlock()
}

// readAhead starts, for a reader well into a sequential run, the GET of
// the next window past from that is neither present nor in flight (within
// aheadWindows windows, and before upTo), so that the reader finds it under
// way instead of waiting a whole GET at every window's end. It is not a
// demand read: the background fill does not wait for it.
func (p *Partial) readAhead(from, upTo int64) {
	if from >= upTo {
		return
	}
	p.mu.Lock()
	limit := min(from+aheadWindows*partialWindow, upTo)
	b := from / partialBlock
	for b*partialBlock < limit && (p.have[b] || p.inflight[b] != nil) {
		b++
	}
	if b*partialBlock >= limit || p.ahead >= aheadWindows {
		p.mu.Unlock()
		return
	}
	start, length, wait := p.claim(b*partialBlock, 1, min(partialWindow, upTo-b*partialBlock))
	if wait != nil || length == 0 {
		p.mu.Unlock()
		return
	}
	p.ahead++
	p.aheadGets++
	p.goFetch(start, length, func() { p.ahead-- })
	p.mu.Unlock()
}

// goFetch GETs a claimed range in the background; readers wait for its
// blocks as they land. On failure the blocks not landed are missing again
// and whoever needs them fetches them. after runs with p.mu held once it
// has ended. p.mu is held.
func (p *Partial) goFetch(start, length int64, after func()) {
	p.refs++ // the GET's own reference
	go func() {
		if err := p.fetch(context.Background(), start, length); err != nil {
			p.c.log.Debug("fetch ahead", "key", p.key, "err", err)
		}
		p.mu.Lock()
		after()
		p.mu.Unlock()
		p.Close()
	}()
}

// fillAt is the sequential run that starts a FillAuto fill: long enough
// that reading one column chunk does not, and at most half of a small
// object.
func (p *Partial) fillAt() int64 {
	return min(max(fillAfter, p.size/8), max(p.size/2, 1))
}

// observe records a read of [off, off+n) and returns the length of the
// sequential run it belongs to and whether it continues one. p.mu is held.
func (p *Partial) observe(off, n int64) (run int64, seq bool) {
	p.tick++
	best := -1 // of the runs this read continues, the longest
	for i, s := range p.streams {
		if off >= s.end-seqSlack && off <= s.end+seqSlack && (best < 0 || s.run > p.streams[best].run) {
			best = i
		}
	}
	if best >= 0 {
		s := &p.streams[best]
		s.run += max(off+n-s.end, 0)
		s.end = max(s.end, off+n)
		s.used = p.tick
		return s.run, true
	}
	s := stream{end: off + n, run: n, used: p.tick}
	if len(p.streams) < maxStreams {
		p.streams = append(p.streams, s)
		return n, false
	}
	old := 0
	for i := range p.streams {
		if p.streams[i].used < p.streams[old].used {
			old = i
		}
	}
	p.streams[old] = s
	return n, false
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
		delete(p.c.partials, objectID(p.key, p.parquetSHA))
	}
	p.c.mu.Unlock()
	if !last {
		return
	}
	p.f.Close()
	os.Remove(p.f.Name()) // no-op once renamed into place
	p.unpin()
}

// Wait blocks until the background fill has published the verified copy
// (nil) or found the bytes wrong (ErrIntegrity), or ctx ends. A fill that
// fails otherwise (the store, the disk) is started again by a later read:
// Wait goes on waiting for that one.
func (p *Partial) Wait(ctx context.Context) error {
	select {
	case <-p.complete:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// claim finds the first block of [off, off+n) that is not present. If a GET
// carries it, that block's flight is returned to wait for. Else the run of
// blocks from there that are neither present nor in flight, extended
// forward to off+window at least, is marked in flight (one flight per
// block: a GET lands block by block, and a reader waits only for its own)
// and returned to fetch. p.mu is held.
func (p *Partial) claim(off, n, window int64) (start, length int64, wait *flight) {
	first, last := off/partialBlock, (off+n-1)/partialBlock
	for b := first; b <= last; b++ {
		if p.have[b] {
			continue
		}
		if p.inflight[b] != nil {
			return 0, 0, p.inflight[b]
		}
		end := b
		for end+1 < int64(len(p.have)) && !p.have[end+1] && p.inflight[end+1] == nil &&
			(end+1)*partialBlock < max(off+window, (last+1)*partialBlock) {
			end++
		}
		for i := b; i <= end; i++ {
			p.inflight[i] = &flight{done: make(chan struct{})}
		}
		start = b * partialBlock
		stop := min((end+1)*partialBlock, p.size)
		return start, stop - start, nil
	}
	return 0, 0, nil
}

// ensure makes every block of [off, off+n) present: it fetches those that
// are missing (with window, see claim) and waits for those in flight. A
// demand read counts as waiting while it does, and the fill (demand false)
// claims nothing new while any reader waits.
func (p *Partial) ensure(ctx context.Context, off, n, window int64, demand bool) error {
	if demand {
		p.mu.Lock()
		p.demand++
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.demand--
			if p.demand == 0 {
				p.idle.Broadcast()
			}
			p.mu.Unlock()
		}()
	}
	for {
		if err := p.failed(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p.mu.Lock()
		for !demand && p.demand > 0 {
			p.idle.Wait()
		}
		start, length, wait := p.claim(off, n, window)
		if need := min((off+n+partialBlock-1)/partialBlock*partialBlock, p.size); wait == nil && start+length > need {
			// The window past what this read needs comes in GETs of
			// its own (one per fillChunk, in parallel), beside this
			// one: the reader goes on as soon as its own blocks are
			// here, and the next reads find theirs landing block by
			// block.
			for s := need; s < start+length; s += fillChunk {
				p.goFetch(s, min(fillChunk, start+length-s), func() {})
			}
			length = need - start
		}
		p.mu.Unlock()
		switch {
		case wait != nil:
			// A failed GET leaves its blocks missing: the next claim
			// fetches them again, for this read.
			select {
			case <-wait.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		case length == 0:
			return nil
		default:
			if err := p.fetch(ctx, start, length); err != nil {
				return err
			}
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

// fetch GETs one claimed block-aligned range into the file. Each block is
// marked present, and its flight ended, as soon as its bytes are written:
// a reader waiting for the first block of a 4 MiB GET goes on after 256
// KiB, not after the whole GET. On failure the blocks not yet written are
// missing again.
func (p *Partial) fetch(ctx context.Context, start, length int64) error {
	landed := start // blocks before it are present
	err := p.get(ctx, start, length, func(upTo int64) {
		p.mu.Lock()
		var done []*flight
		for ; landed < upTo; landed += partialBlock {
			b := landed / partialBlock
			done = append(done, p.inflight[b])
			p.inflight[b] = nil
			if !p.have[b] {
				p.have[b] = true
				p.nhave++
			}
		}
		p.mu.Unlock()
		for _, fl := range done {
			close(fl.done)
		}
	})
	p.mu.Lock()
	var done []*flight
	for ; landed < start+length; landed += partialBlock {
		b := landed / partialBlock
		done = append(done, p.inflight[b])
		p.inflight[b] = nil
	}
	// Everything read without a fill: verify and publish it all the same.
	all := p.nhave == len(p.have) && p.mode != FillNever
	p.mu.Unlock()
	for _, fl := range done {
		close(fl.done)
	}
	if all {
		p.startFill(0)
	}
	return err
}

// copyBufs are get's buffers: one block each, reused so that a 1 GB read
// allocates (and clears) no 1 GB of garbage, and small enough to stay in
// the CPU cache between the socket's copy into it and the file's copy out.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, partialBlock); return &b }}

// get copies [start, start+length) of the object into the file, block by
// block, and calls landed with the end of what is written after each block
// (the last may be short: the object's end).
func (p *Partial) get(ctx context.Context, start, length int64, landed func(upTo int64)) error {
	rc, err := p.c.store.Open(ctx, p.key, start, length)
	if err != nil {
		return fmt.Errorf("read %s: %w", p.key, err)
	}
	defer rc.Close()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	for off := start; off < start+length; {
		n := min(int64(len(*bp)), start+length-off)
		buf := (*bp)[:n]
		if _, err := io.ReadFull(rc, buf); err != nil {
			return fmt.Errorf("read %s [%d+%d]: %w", p.key, start, length, err)
		}
		if _, err := p.f.WriteAt(buf, off); err != nil {
			return fmt.Errorf("cache %s: %w", p.key, err)
		}
		off += n
		landed(off)
	}
	return nil
}

// startFill fetches the rest in the background, from off onwards and then
// from the start, then verifies and publishes the copy as the cache entry.
func (p *Partial) startFill(off int64) {
	p.mu.Lock()
	if p.filling {
		p.mu.Unlock()
		return
	}
	p.filling = true
	p.refs++ // the fill's own reference
	p.mu.Unlock()
	go func() {
		err := p.fill(context.Background(), off)
		if err != nil && !errors.Is(err, ErrIntegrity) {
			// A GET or the cache's disk failed, not the bytes: reads go
			// on fetching what they ask for (and fail on their own if the
			// store is gone), and a later read starts the fill again.
			p.c.log.Warn("fill cache; reads go on from the store", "key", p.key, "err", err)
			p.mu.Lock()
			p.filling = false
			p.mu.Unlock()
			p.Close()
			return
		}
		if err != nil {
			p.c.log.Error("fill cache", "key", p.key, "err", err)
			p.c.setSuspect(p.key, p.parquetSHA, true)
		}
		p.err = err
		// The fill's reference goes before Wait returns: whoever waited
		// sees the entry as only its own readers hold it.
		p.Close()
		close(p.complete)
	}()
}

func (p *Partial) fill(ctx context.Context, from int64) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fillWorkers)
	from = from / fillChunk * fillChunk
	chunks := (p.size + fillChunk - 1) / fillChunk
	for i := range chunks {
		off := (from + i*fillChunk) % (chunks * fillChunk)
		n := min(int64(fillChunk), p.size-off)
		g.Go(func() error { return p.ensure(gctx, off, n, n, false) })
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
