package identity

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ColumnHash is one column's cv1 identity.
type ColumnHash struct {
	Name  string `json:"name"`
	Kind  Kind   `json:"kind"`
	Units string `json:"units,omitempty"` // drtn only ("secs" for parquet input)
	// Class is the column's Arrow type as read (for explanations only).
	Class string `json:"class"`
	// Rule is the row of the format contract (5.1/5.2) that decided Kind,
	// so that a user whose hash differs from R's can see why.
	Rule string `json:"rule"`
	SHA  string `json:"sha"` // 64 lowercase hex
}

// TableHash is the datom-cv1 identity of a table.
type TableHash struct {
	DataSHA DataSHA      `json:"data_sha"`
	NRow    int64        `json:"nrow"`
	NCol    int64        `json:"ncol"`
	Columns []ColumnHash `json:"columns"`
	// RMetadata: the file carries an `r` key-value entry (written by arrow R),
	// whose saved R attributes read_parquet re-applies; the data_sha computed
	// here may then differ from what R computes (contract 5.2).
	RMetadata bool `json:"r_metadata,omitempty"`
	// ArrowSchema: the file carries ARROW:schema, from which Arrow (and so
	// R) restores types parquet cannot express (contract 5.2).
	ArrowSchema bool `json:"arrow_schema"`
}

// ColumnSHAs returns the column digests in table order.
func (t TableHash) ColumnSHAs() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.SHA
	}
	return out
}

// HashOptions tunes HashParquet. The zero value is ready to use.
type HashOptions struct {
	// Workers is how many columns are hashed at once (default GOMAXPROCS).
	Workers int
	// BatchRows is how many rows of one column are decoded at a time
	// (default 64Ki); it bounds memory per worker.
	BatchRows int64
	// MaxAlloc caps any single buffer the decoder asks for (default 1 GiB);
	// a file claiming a bigger page or batch is reported as corrupt instead
	// of exhausting memory.
	MaxAlloc int
	// Progress, if set, is called (never concurrently) after each decoded
	// batch with the values read so far and the total nrow*ncol. Columns
	// read twice count their first pass too, so done is clamped to total.
	Progress func(done, total int64)
}

const (
	defaultBatchRows = 64 << 10
	defaultMaxAlloc  = 1 << 30
	// readBufferSize is the buffered stream of each column chunk reader.
	readBufferSize = 256 << 10
)

// HashParquetFile is HashParquet over the file at path.
func HashParquetFile(ctx context.Context, path string, opts HashOptions) (TableHash, error) {
	f, err := os.Open(path)
	if err != nil {
		return TableHash{}, fmt.Errorf("hash parquet: %w", err)
	}
	defer f.Close()
	th, err := HashParquet(ctx, f, opts)
	if err != nil {
		return TableHash{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return th, nil
}

// HashParquet computes the datom-cv1 data_sha of a parquet file as datom
// computes it for the data frame arrow::read_parquet returns (contract 5).
//
// It streams: each column is read in batches of BatchRows rows, columns are
// hashed in parallel (each is an independent SHA-256 stream), and memory is
// bounded by Workers × (one batch + one compressed and one decompressed
// page + a read buffer); neither the file nor a column chunk is held whole.
//
// A chr column's payload starts with its NA mask, so a chr column that may
// hold nulls is read twice (mask, then values); when the parquet statistics
// say no row is null, it is read once and a null met anyway restarts it.
// chr values are read straight from the BYTE_ARRAY pages (the bytes Arrow's
// utf8, large_utf8 and string-dictionary arrays would hold), not through
// Arrow arrays.
// An int64 column's kind depends on the range of the whole column; with
// statistics it is read once as the statistics predict (and restarted if
// they lie), without statistics it is read once into both possible digests.
//
// Errors: ErrNotParquet, ErrCorrupt, ErrEmptyTable, or *RefusedError listing
// every column that cannot be hashed. Decoder panics on malformed input are
// turned into ErrCorrupt.
func HashParquet(ctx context.Context, r parquet.ReaderAtSeeker, opts HashOptions) (TableHash, error) {
	size, err := checkMagic(r)
	if err != nil {
		return TableHash{}, err
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = defaultBatchRows
	}
	if opts.MaxAlloc <= 0 {
		opts.MaxAlloc = defaultMaxAlloc
	}
	t, err := openTable(r, size, opts)
	if err != nil {
		return TableHash{}, err
	}
	return t.hash(ctx)
}

// checkMagic tells parquet from other bytes before any decoding.
// It returns the input's size.
func checkMagic(r parquet.ReaderAtSeeker) (int64, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("size of input: %w", err)
	}
	if size < 12 {
		return 0, fmt.Errorf("%w: %d bytes is too short", ErrNotParquet, size)
	}
	var head, tail [4]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	if _, err := r.ReadAt(tail[:], size-4); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read footer: %w", err)
	}
	if string(head[:]) != "PAR1" {
		return 0, fmt.Errorf("%w: no PAR1 magic at start", ErrNotParquet)
	}
	if err := checkEndMagic(tail[:]); err != nil {
		return 0, err
	}
	return size, nil
}

// checkEndMagic checks the magic that closes a parquet file.
func checkEndMagic(magic []byte) error {
	switch string(magic) {
	case "PAR1":
		return nil
	case "PARE":
		return fmt.Errorf("%w: encrypted parquet footer is not supported", ErrCorrupt)
	default:
		return fmt.Errorf("%w: no PAR1 magic at end (truncated?)", ErrCorrupt)
	}
}

// table is one opened parquet file being hashed.
type table struct {
	pf    *file.Reader
	fr    *pqarrow.FileReader
	nrow  int64
	plans []colPlan
	rmeta bool
	// arrowSchema: the file has an ARROW:schema entry.
	arrowSchema bool
	opts        HashOptions

	progMu   sync.Mutex
	progDone int64
}

// cappedAllocator refuses absurd allocations (a corrupt page header can claim
// gigabytes) by panicking; the panic is recovered as ErrCorrupt.
type cappedAllocator struct {
	memory.Allocator
	max int
}

type allocTooBig struct{ size int }

func (c cappedAllocator) Allocate(size int) []byte {
	if size > c.max || size < 0 {
		panic(allocTooBig{size})
	}
	return c.Allocator.Allocate(size)
}

func (c cappedAllocator) Reallocate(size int, b []byte) []byte {
	if size > c.max || size < 0 {
		panic(allocTooBig{size})
	}
	return c.Allocator.Reallocate(size, b)
}

// recoverCorrupt turns a decoder panic into ErrCorrupt in *err.
func recoverCorrupt(what string, err *error) {
	if p := recover(); p != nil {
		if a, ok := p.(allocTooBig); ok {
			*err = fmt.Errorf("%w: %s: decoder asked for %d bytes", ErrCorrupt, what, a.size)
			return
		}
		*err = fmt.Errorf("%w: %s: decoder failed: %v", ErrCorrupt, what, p)
	}
}

func openTable(r parquet.ReaderAtSeeker, size int64, opts HashOptions) (t *table, err error) {
	defer recoverCorrupt("read footer", &err)
	mem := cappedAllocator{Allocator: memory.NewGoAllocator(), max: opts.MaxAlloc}
	props := parquet.NewReaderProperties(mem)
	// Column chunks are streamed through a buffer, page by page, so memory
	// does not grow with the size of a column chunk. (arrow-go before
	// v18.8.0 corrupted compressed pages larger than this buffer, which
	// forced whole-chunk reads.)
	props.BufferedStreamEnabled = true
	props.BufferSize = readBufferSize
	pf, err := file.NewParquetReader(r, file.WithReadProps(props))
	if err != nil {
		return nil, fmt.Errorf("%w: read footer: %v", ErrCorrupt, err)
	}
	if v := pf.MetaData().KeyValueMetadata().FindValue("ARROW:schema"); v != nil {
		if err := checkArrowSchema(*v); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		return nil, fmt.Errorf("%w: read schema: %v", ErrCorrupt, err)
	}
	md := pf.MetaData()
	t = &table{pf: pf, fr: fr, nrow: pf.NumRows(), opts: opts}
	t.rmeta = md.KeyValueMetadata().FindValue("r") != nil
	t.arrowSchema = md.KeyValueMetadata().FindValue("ARROW:schema") != nil
	var sum int64
	for i := 0; i < pf.NumRowGroups(); i++ {
		n := md.RowGroup(i).NumRows()
		if n < 0 {
			return nil, fmt.Errorf("%w: row group %d has %d rows", ErrCorrupt, i, n)
		}
		sum += n
	}
	if t.nrow < 0 || sum != t.nrow {
		return nil, fmt.Errorf("%w: file says %d rows, row groups hold %d", ErrCorrupt, t.nrow, sum)
	}
	fields := fr.Manifest.Fields
	if t.nrow == 0 || len(fields) == 0 {
		return nil, fmt.Errorf("%w (file has %d rows, %d columns)", ErrEmptyTable, t.nrow, len(fields))
	}
	if err := checkChunkRanges(md, size); err != nil {
		return nil, err
	}
	var refusals []Refusal
	for i := range fields {
		var origin *arrow.Field
		if os := fr.Manifest.OriginSchema; os != nil && i < os.NumFields() {
			f := os.Field(i)
			origin = &f
		}
		p, ref := planColumn(i, &fields[i], origin, md.Schema)
		if ref != nil {
			refusals = append(refusals, *ref)
			continue
		}
		statsHints(&p, md, &fields[i])
		t.plans = append(t.plans, p)
	}
	if len(refusals) > 0 {
		return nil, &RefusedError{Refusals: refusals}
	}
	return t, nil
}

// checkChunkRanges verifies that every column chunk lies inside the file
// before any of it is read.
func checkChunkRanges(md *metadata.FileMetaData, size int64) error {
	return eachChunk(md, func(rg, c int, start, n int64) error {
		if start < 4 || n < 0 || start > size || n > size-start {
			return fmt.Errorf("%w: row group %d column %d claims bytes [%d, +%d) of a %d-byte file",
				ErrCorrupt, rg, c, start, n, size)
		}
		return nil
	})
}

// eachChunk calls f with every column chunk's extent: where its bytes
// start (its dictionary page, if it comes first) and how many there are.
// An empty row group's chunks hold no bytes and are skipped.
func eachChunk(md *metadata.FileMetaData, f func(rg, c int, start, n int64) error) error {
	for rg := 0; rg < md.NumRowGroups(); rg++ {
		rgm := md.RowGroup(rg)
		for c := 0; c < rgm.NumColumns(); c++ {
			cc, err := rgm.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("%w: row group %d column %d: %v", ErrCorrupt, rg, c, err)
			}
			start, n := cc.DataPageOffset(), cc.TotalCompressedSize()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
			}
			if n == 0 && rgm.NumRows() == 0 {
				continue
			}
			if err := f(rg, c, start, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// MetadataStart reads a parquet file's last 8 bytes (the footer
// metadata's length and the closing magic) and returns where that
// metadata starts in a file of size bytes.
func MetadataStart(tail []byte, size int64) (int64, error) {
	if len(tail) != 8 || size < 12 {
		return 0, fmt.Errorf("%w: %d bytes is too short", ErrNotParquet, size)
	}
	if err := checkEndMagic(tail[4:]); err != nil {
		return 0, err
	}
	start := size - 8 - int64(binary.LittleEndian.Uint32(tail[:4]))
	if start < 4 {
		return 0, fmt.Errorf("%w: footer metadata of %d bytes in a %d-byte file", ErrCorrupt, size-8-start, size)
	}
	return start, nil
}

// ChunkStarts reads a parquet file's footer metadata (the thrift bytes
// that end 8 bytes before the file does, starting at metaStart) and
// returns where each column chunk starts, sorted, with metaStart last: the
// boundaries a reader of one column jumps between. It fails on metadata
// that does not parse or puts a chunk outside [4, metaStart).
func ChunkStarts(meta []byte, metaStart int64) (starts []int64, err error) {
	defer func() {
		// Unverified bytes from a store: a thrift decoder that panics on
		// them must not take the mount down.
		if r := recover(); r != nil {
			starts, err = nil, fmt.Errorf("%w: footer: %v", ErrCorrupt, r)
		}
	}()
	md, err := metadata.NewFileMetaData(meta, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: footer: %v", ErrCorrupt, err)
	}
	err = eachChunk(md, func(rg, c int, start, n int64) error {
		if start < 4 || start >= metaStart {
			return fmt.Errorf("%w: row group %d column %d starts at %d, outside [4, %d)", ErrCorrupt, rg, c, start, metaStart)
		}
		starts = append(starts, start)
		return nil
	})
	if err != nil {
		return nil, err
	}
	starts = append(starts, metaStart)
	slices.Sort(starts)
	return slices.Compact(starts), nil
}

// colResult is what a worker reports for one column.
type colResult struct {
	hash    ColumnHash
	refusal *Refusal
	err     error
}

func (t *table) hash(ctx context.Context) (TableHash, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make([]colResult, len(t.plans))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(t.opts.Workers, len(t.plans)); w++ {
		wg.Go(func() {
			for i := range next {
				res := t.hashColumn(ctx, t.plans[i])
				if res.err != nil {
					cancel(res.err)
				}
				results[i] = res
			}
		})
	}
feed:
	for i := range t.plans {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()

	if cause := context.Cause(ctx); cause != nil {
		// The first failure (or the caller's cancellation) wins over the
		// context errors it caused in other workers.
		for _, res := range results {
			if res.err != nil && res.err == cause {
				return TableHash{}, res.err
			}
		}
		return TableHash{}, cause
	}
	th := TableHash{NRow: t.nrow, NCol: int64(len(t.plans)), RMetadata: t.rmeta, ArrowSchema: t.arrowSchema}
	var refusals []Refusal
	for _, res := range results {
		if res.refusal != nil {
			refusals = append(refusals, *res.refusal)
			continue
		}
		th.Columns = append(th.Columns, res.hash)
	}
	if len(refusals) > 0 {
		return TableHash{}, &RefusedError{Refusals: refusals}
	}
	th.DataSHA = TableDigest(th.NRow, th.NCol, th.ColumnSHAs())
	return th, nil
}

func (t *table) progress(n int64) {
	if t.opts.Progress == nil {
		return
	}
	t.progMu.Lock()
	defer t.progMu.Unlock()
	total := t.nrow * int64(len(t.plans))
	t.progDone = min(t.progDone+n, total)
	t.opts.Progress(t.progDone, total)
}

// hashColumn hashes one column, turning decoder panics into ErrCorrupt.
func (t *table) hashColumn(ctx context.Context, p colPlan) (res colResult) {
	// recoverCorrupt must be the deferred call itself for recover to work.
	defer recoverCorrupt(p.String(), &res.err)
	var (
		ch  ColumnHash
		ref *Refusal
		err error
	)
	switch p.reading {
	case readNum, readDur, readDecimal:
		ch, ref, err = t.hashNum(ctx, p)
	case readInt64:
		ch, err = t.hashInt64(ctx, p)
	case readChr:
		ch, ref, err = t.hashChr(ctx, p)
	default:
		err = fmt.Errorf("%s: no reader for this plan", p)
	}
	ch.Name, ch.Class = p.name, p.class
	if ch.Rule == "" {
		ch.Rule = p.rule
	}
	if ref != nil {
		ref.Rule = p.rule
	}
	return colResult{hash: ch, refusal: ref, err: err}
}

// scan feeds every batch of column p to fn, checking that exactly nrow rows
// arrive.
func (t *table) scan(ctx context.Context, p colPlan, fn func(arrow.Array) error) error {
	cr, err := t.fr.GetColumn(ctx, p.idx)
	if err != nil {
		return fmt.Errorf("%w: open %s: %v", ErrCorrupt, p, err)
	}
	defer cr.Release()
	var got int64
	for got < t.nrow {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		want := min(t.opts.BatchRows, t.nrow-got)
		chunked, err := cr.NextBatch(want)
		if err != nil {
			return fmt.Errorf("%w: read %s at row %d: %v", ErrCorrupt, p, got, err)
		}
		n := int64(chunked.Len())
		if n == 0 || n > want {
			chunked.Release()
			return fmt.Errorf("%w: %s yields %d rows at row %d, file says %d", ErrCorrupt, p, got+n, got, t.nrow)
		}
		for _, c := range chunked.Chunks() {
			if err := fn(c); err != nil {
				chunked.Release()
				return err
			}
		}
		chunked.Release()
		got += n
		t.progress(n)
	}
	return nil
}

// errUnexpectedArray reports an array whose type planning did not foresee.
func errUnexpectedArray(p colPlan, a arrow.Array) error {
	return fmt.Errorf("%w: %s: decoder produced %s arrays", ErrCorrupt, p, a.DataType())
}

// refusalFromChr turns a chr hasher's NUL error into a refusal.
func chrOutcome(p colPlan, h *ChrHasher) (ColumnHash, *Refusal, error) {
	sum, err := h.Sum()
	switch {
	case errors.Is(err, ErrNULInString):
		r := newRefusal(p.name, p.class, RefuseText, err.Error())
		return ColumnHash{}, &r, nil
	case err != nil:
		return ColumnHash{}, nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, p, err)
	}
	return ColumnHash{Kind: KindChr, SHA: sum}, nil, nil
}

// errRestart aborts a pass whose statistics-based guess proved wrong.
var errRestart = errors.New("statistics were wrong; reading the column again")

func (t *table) hashChr(ctx context.Context, p colPlan) (ColumnHash, *Refusal, error) {
	if p.noNulls {
		h := NewChrHasher(p.name)
		h.AddMaskZeros(t.nrow)
		err := t.chrValues(ctx, p, h, true)
		switch {
		case err == nil || errors.Is(err, errStopNUL):
			return chrOutcome(p, h)
		case !errors.Is(err, errRestart):
			return ColumnHash{}, nil, err
		}
	}
	h := NewChrHasher(p.name)
	var err error
	if p.rawLeaf {
		err = scanRaw[parquet.ByteArray, bytesLeaf](ctx, t, p, func(b rawBatch[parquet.ByteArray]) error {
			b.feedMask(h)
			return nil
		})
	} else {
		err = t.scan(ctx, p, func(a arrow.Array) error {
			return feedChrMask(h, a, p)
		})
	}
	if err != nil {
		return ColumnHash{}, nil, err
	}
	if err := t.chrValues(ctx, p, h, false); err != nil && !errors.Is(err, errStopNUL) {
		return ColumnHash{}, nil, err
	}
	return chrOutcome(p, h)
}

// chrValues feeds the values of chr column p to h. With noNulls, a null
// stops the pass with errRestart (the statistics were wrong). A NUL byte
// stops it with errStopNUL (the column is refused).
func (t *table) chrValues(ctx context.Context, p colPlan, h *ChrHasher, noNulls bool) error {
	if p.rawLeaf {
		return scanRaw[parquet.ByteArray, bytesLeaf](ctx, t, p, func(b rawBatch[parquet.ByteArray]) error {
			if noNulls && b.nulls() > 0 {
				return errRestart
			}
			if err := feedRawChr(h, b); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrCorrupt, p, err)
			}
			if errors.Is(h.Err(), ErrNULInString) {
				return errStopNUL
			}
			return nil
		})
	}
	return t.scan(ctx, p, func(a arrow.Array) error {
		if noNulls && nullCount(a) > 0 {
			return errRestart
		}
		if err := feedChr(h, a); err != nil {
			return errUnexpectedArrayOr(p, a, err)
		}
		if errors.Is(h.Err(), ErrNULInString) {
			return errStopNUL
		}
		return nil
	})
}

// errStopNUL stops reading a chr column once a NUL byte made it unhashable.
var errStopNUL = errors.New("NUL byte in text")

func errUnexpectedArrayOr(p colPlan, a arrow.Array, err error) error {
	if errors.Is(err, errWrongArray) {
		return errUnexpectedArray(p, a)
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, p, err)
}

var errWrongArray = errors.New("unexpected array type")

// nullCount counts rows that are NA for R: null slots, and for dictionaries
// also slots whose dictionary value is null.
func nullCount(a arrow.Array) int {
	d, ok := a.(interface {
		Dictionary() arrow.Array
		GetValueIndex(int) int
	})
	if !ok || d.Dictionary().NullN() == 0 {
		return a.NullN()
	}
	n := 0
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) || d.Dictionary().IsNull(d.GetValueIndex(i)) {
			n++
		}
	}
	return n
}

// hashInt64 hashes an int64 column: kind num (R integer; INT32_MIN is NA) if
// every non-null value of the whole column fits R's integer, else i64.
func (t *table) hashInt64(ctx context.Context, p colPlan) (ColumnHash, error) {
	mode := modeBoth
	switch p.hint {
	case hintInRange:
		mode = modeNumOnly
	case hintOutOfRange:
		mode = modeI64Only
	}
	for attempt := 0; attempt < 3; attempt++ {
		ch, retry, err := t.int64Pass(ctx, p, mode)
		if err != nil || retry == 0 {
			return ch, err
		}
		mode = retry
	}
	return ColumnHash{}, fmt.Errorf("%w: %s: range changed between reads", ErrCorrupt, p)
}

type int64Mode int

const (
	modeBoth int64Mode = iota + 1
	modeNumOnly
	modeI64Only
)

// int64Pass reads the column once in the given mode; retry is non-zero when
// the mode proved wrong and the column must be read again in mode retry.
func (t *table) int64Pass(ctx context.Context, p colPlan, mode int64Mode) (ch ColumnHash, retry int64Mode, err error) {
	var (
		num        *NumHasher
		i64        *I64Hasher
		outOfRange bool
	)
	if mode != modeI64Only {
		num, _ = NewNumHasher(KindNum, p.name)
	}
	if mode != modeNumOnly {
		i64 = NewI64Hasher(p.name)
	}
	err = t.scan(ctx, p, func(arr arrow.Array) error {
		a, ok := arr.(interface {
			arrow.Array
			Int64Values() []int64
		})
		if !ok {
			return errUnexpectedArray(p, arr)
		}
		vals := a.Int64Values()
		nulls := a.NullN() > 0
		for i, v := range vals {
			if nulls && a.IsNull(i) {
				if num != nil {
					num.AddNA()
				}
				if i64 != nil {
					i64.AddNA()
				}
				continue
			}
			if !outOfRange && (v < -1<<31 || v > 1<<31-1) {
				outOfRange = true
				if i64 == nil {
					return errRestart
				}
				num = nil
			}
			if num != nil {
				if v == -1<<31 {
					num.AddNA()
				} else {
					num.AddFloat64(float64(v))
				}
			}
			if i64 != nil {
				i64.AddInt64(v)
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errRestart):
		return ColumnHash{}, modeI64Only, nil
	case err != nil:
		return ColumnHash{}, 0, err
	case outOfRange:
		return ColumnHash{Kind: KindI64, Rule: ruleInt64I64, SHA: i64.Sum()}, 0, nil
	case num == nil:
		return ColumnHash{}, modeNumOnly, nil
	}
	return ColumnHash{Kind: KindNum, Rule: ruleInt64Num, SHA: num.Sum()}, 0, nil
}

// hashNum hashes every column read in one numeric pass.
func (t *table) hashNum(ctx context.Context, p colPlan) (ColumnHash, *Refusal, error) {
	var h *NumHasher
	if p.kind == KindDrtn {
		h = NewDrtnHasher(p.name, p.units)
	} else {
		var err error
		if h, err = NewNumHasher(p.kind, p.name); err != nil {
			return ColumnHash{}, nil, err
		}
	}
	var err error
	switch p.reading {
	case readDur:
		err = scanRaw[int64, int64Leaf](ctx, t, p, func(b rawBatch[int64]) error {
			return b.each(func(v int64) error {
				h.AddFloat64(float64(v) / p.div)
				return nil
			}, h.AddNA)
		})
	case readDecimal:
		err = t.scanDecimal(ctx, p, h)
	default:
		err = t.scan(ctx, p, func(a arrow.Array) error { return feedNum(h, a, p) })
	}
	var re *valueRefusal
	if errors.As(err, &re) {
		r := newRefusal(p.name, p.class, RefuseText, re.detail)
		return ColumnHash{}, &r, nil
	}
	if err != nil {
		return ColumnHash{}, nil, err
	}
	return ColumnHash{Kind: p.kind, Units: p.units, SHA: h.Sum()}, nil, nil
}

// valueRefusal is a value R cannot read (a decimal beyond double range).
type valueRefusal struct{ detail string }

func (v *valueRefusal) Error() string { return v.detail }
