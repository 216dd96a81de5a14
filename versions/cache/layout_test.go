package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// chunk is one column chunk's bytes in a parquet file.
type chunk struct{ start, n int64 }

// parquetObject writes a parquet file of cols float64 columns in row groups
// of rowGroup rows (plain, uncompressed: a chunk is 8 bytes a row and some
// page headers) and returns it with its column chunks, [row group][column].
func parquetObject(t *testing.T, cols, rowGroups, rowGroup int) ([]byte, [][]chunk) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	var fields []arrow.Field
	var arrs []arrow.Array
	for c := range cols {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("c%d", c), Type: arrow.PrimitiveTypes.Float64})
		b := array.NewFloat64Builder(memory.DefaultAllocator)
		for range rowGroups * rowGroup {
			b.Append(r.Float64())
		}
		arrs = append(arrs, b.NewArray())
	}
	sc := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(sc, arrs, int64(rowGroups*rowGroup))
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(false), parquet.WithCompression(compress.Codecs.Uncompressed))
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, int64(rowGroup), props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	rdr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	md := rdr.MetaData()
	chunks := make([][]chunk, md.NumRowGroups())
	for rg := range chunks {
		for c := range cols {
			cc, err := md.RowGroup(rg).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			chunks[rg] = append(chunks[rg], chunk{cc.DataPageOffset(), cc.TotalCompressedSize()})
		}
	}
	return buf.Bytes(), chunks
}

// openObject stores body and opens it as a Partial that fetches only what
// is read, with a store that counts its GETs.
func openObject(t *testing.T, body []byte) (*Partial, *countingStore) {
	t.Helper()
	c, cs, sha := objectFixture(t, body)
	p, err := c.OpenPartial(context.Background(), "datom/t/x.parquet", sha, int64(len(body)), FillNever)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, cs
}

// readLikeKernel reads [off, off+n) in 128 KiB requests, as the kernel's
// readahead asks a FUSE mount for a large pread, and checks the bytes.
func readLikeKernel(t *testing.T, p *Partial, body []byte, off, n int64) {
	t.Helper()
	const req = 128 << 10
	for o := off; o < off+n; o += req {
		b := make([]byte, min(req, off+n-o))
		if m, err := p.ReadAt(context.Background(), b, o); err != nil || m != len(b) || !bytes.Equal(b, body[o:o+int64(m)]) {
			t.Fatalf("ReadAt(%d, %d): n=%d err=%v", o, len(b), m, err)
		}
	}
}

// landed waits until no GET is under way.
func landed(t *testing.T, p *Partial) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		p.mu.Lock()
		n := 0
		for _, fl := range p.inflight {
			if fl != nil {
				n++
			}
		}
		p.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d blocks still in flight", n)
		}
	}
}

// A reader of one column reads one chunk per row group: each is fetched
// whole on its first read (in one GET beside the read's own: it is under
// fillChunk), and the kernel's readahead past its end, into the next
// column's chunk, costs the blocks it reads, not a window.
func TestPartialReadsOneColumnChunkByChunk(t *testing.T) {
	body, chunks := parquetObject(t, 6, 4, 96<<10) // 768 KiB chunks: 3 blocks and some
	p, cs := openObject(t, body)
	if got, want := len(p.bounds), 6*4+1; got != want {
		t.Fatalf("layout: %d boundaries, want %d (a chunk start each, and the footer's)", got, want)
	}
	gets0, bytes0 := cs.gets.Load(), cs.bytes.Load()
	var want int64
	for rg := range chunks {
		ch := chunks[rg][2]
		// From the page it starts in, in the chunk before (the kernel
		// reads whole pages), to 256 KiB past its end, as the kernel's
		// readahead may ask.
		from, end := ch.start&^4095, ch.start+ch.n+256<<10
		readLikeKernel(t, p, body, from, end-from)
		// Block-aligned: the blocks those reads touch.
		want += (end+partialBlock-1)/partialBlock*partialBlock - from/partialBlock*partialBlock
	}
	// Each chunk: the first read's blocks, the rest of it beside them,
	// and the block past it (unless its last block holds that).
	if gets := cs.gets.Load() - gets0; gets < 2*int64(len(chunks)) || gets > 3*int64(len(chunks)) {
		t.Errorf("%d GETs for %d column chunks, want two or three each", gets, len(chunks))
	}
	if got := cs.bytes.Load() - bytes0; got > want {
		t.Errorf("fetched %d bytes for chunks that touch %d bytes of blocks", got, want)
	}
}

// A chunk larger than fillChunk comes in parallel GETs of fillChunk.
func TestPartialFetchesLargeChunkInPieces(t *testing.T) {
	body, chunks := parquetObject(t, 2, 1, 2<<20) // one 16 MiB chunk per column
	p, cs := openObject(t, body)
	gets0, bytes0 := cs.gets.Load(), cs.bytes.Load()
	ch := chunks[0][0]
	readLikeKernel(t, p, body, ch.start, 128<<10) // its first read only
	landed(t, p)
	// The first read's blocks, then the rest of the chunk in fillChunk pieces.
	if gets, want := cs.gets.Load()-gets0, 1+(ch.n+fillChunk-1)/fillChunk; gets < 2 || gets > want+1 {
		t.Errorf("%d GETs for a %d-byte chunk's first read, want about %d", gets, ch.n, want)
	}
	end := (ch.start + ch.n + partialBlock - 1) / partialBlock * partialBlock
	if got := cs.bytes.Load() - bytes0; got > end-ch.start/partialBlock*partialBlock || got < ch.n*3/4 {
		t.Errorf("fetched %d bytes on the first read of a %d-byte chunk, want the chunk", got, ch.n)
	}
	readLikeKernel(t, p, body, ch.start, ch.n)
}

// A sequential reader of the whole file reads on across chunks, each byte
// fetched once.
func TestPartialSequentialReaderCrossesChunks(t *testing.T) {
	body, _ := parquetObject(t, 4, 3, 128<<10)
	p, cs := openObject(t, body)
	readLikeKernel(t, p, body, 0, int64(len(body)))
	landed(t, p)
	if got, max := cs.bytes.Load(), int64(len(body))+partialBlock; got > max {
		t.Errorf("fetched %d bytes reading a %d-byte file once", got, len(body))
	}
}

// The footer metadata of a wide table is longer than what open fetches:
// the rest is fetched on open, and the layout is learnt all the same.
func TestPartialLayoutFromLongFooter(t *testing.T) {
	body, chunks := parquetObject(t, 600, 2, 16)
	metaLen := int64(binary.LittleEndian.Uint32(body[len(body)-8:]))
	if metaLen <= partialFooter {
		t.Fatalf("footer metadata is %d bytes: the test needs more than %d", metaLen, partialFooter)
	}
	p, _ := openObject(t, body)
	if got, want := len(p.bounds), 600*2+1; got != want {
		t.Fatalf("layout: %d boundaries, want %d", got, want)
	}
	if s, e := p.chunkAround(chunks[1][7].start + 3); s != chunks[1][7].start || e != chunks[1][8].start {
		t.Errorf("chunk around row group 1 column 7: [%d, %d), want [%d, %d)", s, e, chunks[1][7].start, chunks[1][8].start)
	}
}

// An object whose footer is not parquet metadata has no layout; it reads
// as any object does.
func TestPartialNoLayoutFromBadFooter(t *testing.T) {
	cases := map[string]func(b []byte){
		"no magic":       func(b []byte) {},
		"garbage thrift": func(b []byte) { binary.LittleEndian.PutUint32(b[len(b)-8:], 1000); copy(b[len(b)-4:], "PAR1") },
		"length past start": func(b []byte) {
			binary.LittleEndian.PutUint32(b[len(b)-8:], uint32(len(b)))
			copy(b[len(b)-4:], "PAR1")
		},
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			body := make([]byte, 3<<20)
			r := rand.New(rand.NewPCG(5, 6))
			for i := range body {
				body[i] = byte(r.Uint32())
			}
			spoil(body)
			p, _ := openObject(t, body)
			if p.bounds != nil {
				t.Fatalf("layout from a bad footer: %v", p.bounds[:min(len(p.bounds), 5)])
			}
			readLikeKernel(t, p, body, 1<<20, 1<<20)
		})
	}
}

// A reader of two adjacent column chunks (two columns of one row group)
// goes on from the first into the second: past the kernel's readahead,
// the rest of the second comes whole, not in windows that grow again.
func TestPartialRunIntoNextChunkReadsIt(t *testing.T) {
	body, chunks := parquetObject(t, 4, 1, 512<<10) // 4 MiB chunks
	p, cs := openObject(t, body)
	first, second := chunks[0][1], chunks[0][2]
	readLikeKernel(t, p, body, first.start, first.n)
	landed(t, p)
	gets0 := cs.gets.Load()
	readLikeKernel(t, p, body, second.start, second.n)
	landed(t, p)
	// Growing windows from the boundary (256 KiB, 512 KiB, ...) until the
	// run is chunkConfirm into the chunk, then the rest at once: a few
	// GETs, where windows of 4 MiB at most would take one per window.
	if gets := cs.gets.Load() - gets0; gets > 5 {
		t.Errorf("%d GETs for the second of two adjacent %d-byte chunks, want at most 5", gets, second.n)
	}
}
