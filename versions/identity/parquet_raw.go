package identity

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// rawBatch is one run of levels of a flat leaf column: for row i, the row
// is NA when maxDef > 0 and defs[i] < maxDef; otherwise it takes the next
// entry of vals. Byte-array values point into the current page and are
// valid only during the callback.
type rawBatch[V any] struct {
	n      int64
	defs   []int16
	maxDef int16
	vals   []V
}

// pageReader is the typed column chunk reader of one parquet physical type.
type pageReader[V any] interface {
	file.ColumnChunkReader
	ReadBatchInPage(batchSize int64, values []V, defLvls, repLvls []int16) (int64, int, error)
}

// The physical types read without Arrow arrays.
type (
	int32Leaf = *file.Int32ColumnChunkReader
	int64Leaf = *file.Int64ColumnChunkReader
	bytesLeaf = *file.ByteArrayColumnChunkReader
	fixedLeaf = *file.FixedLenByteArrayColumnChunkReader
)

// scanRaw reads the values of flat leaf column p.leaf straight from the
// parquet pages, row group by row group, without building Arrow arrays.
// R must be the reader type of the leaf's physical type.
func scanRaw[V any, R pageReader[V]](ctx context.Context, t *table, p colPlan, fn func(rawBatch[V]) error) error {
	// No bigger than the table: a small file's columns would otherwise
	// each allocate (and clear) BatchRows of values.
	batch := max(min(t.opts.BatchRows, t.nrow), 1)
	defs := make([]int16, batch)
	vals := make([]V, batch)
	maxDef := t.pf.MetaData().Schema.Column(p.leaf).MaxDefinitionLevel()
	var got int64
	for rg := 0; rg < t.pf.NumRowGroups(); rg++ {
		ccr, err := t.pf.RowGroup(rg).Column(p.leaf)
		if err != nil {
			return fmt.Errorf("%w: open %s in row group %d: %v", ErrCorrupt, p, rg, err)
		}
		rdr, ok := ccr.(R)
		if !ok {
			return fmt.Errorf("%w: %s: physical type %s is not the one planned", ErrCorrupt, p, ccr.Type())
		}
		want := t.pf.MetaData().RowGroup(rg).NumRows()
		var inGroup int64
		for inGroup < want {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			n, nv, err := rdr.ReadBatchInPage(min(batch, want-inGroup), vals, defs, nil)
			if err != nil {
				return fmt.Errorf("%w: read %s at row %d: %v", ErrCorrupt, p, got+inGroup, err)
			}
			if n == 0 {
				break
			}
			if nv < 0 || int64(nv) > n {
				return fmt.Errorf("%w: read %s at row %d: %d values for %d rows", ErrCorrupt, p, got+inGroup, nv, n)
			}
			b := rawBatch[V]{n: n, defs: defs[:n], maxDef: maxDef, vals: vals[:nv]}
			if maxDef == 0 {
				b.defs = nil
			}
			if err := fn(b); err != nil {
				return err
			}
			inGroup += n
			t.progress(n)
		}
		if inGroup != want {
			return fmt.Errorf("%w: %s has %d rows in row group %d, metadata says %d", ErrCorrupt, p, inGroup, rg, want)
		}
		got += inGroup
	}
	if got != t.nrow {
		return fmt.Errorf("%w: %s has %d rows, file says %d", ErrCorrupt, p, got, t.nrow)
	}
	return nil
}

// nulls counts the NA rows of a raw batch.
func (b rawBatch[V]) nulls() int64 {
	if b.defs == nil {
		return 0
	}
	return b.n - int64(len(b.vals))
}

// each calls value for every non-NA row and na for every NA row, in order.
func (b rawBatch[V]) each(value func(V) error, na func()) error {
	if b.nulls() == 0 {
		if int64(len(b.vals)) != b.n {
			return fmt.Errorf("%d values for %d rows", len(b.vals), b.n)
		}
		for _, v := range b.vals {
			if err := value(v); err != nil {
				return err
			}
		}
		return nil
	}
	vi := 0
	for _, d := range b.defs {
		if d < b.maxDef {
			na()
			continue
		}
		if vi >= len(b.vals) {
			return fmt.Errorf("definition levels promise more than %d values", len(b.vals))
		}
		if err := value(b.vals[vi]); err != nil {
			return err
		}
		vi++
	}
	return nil
}

// feedMask adds the NA-mask bytes of a raw batch.
func (b rawBatch[V]) feedMask(h *ChrHasher) {
	if b.nulls() == 0 {
		h.AddMaskZeros(b.n)
		return
	}
	for _, d := range b.defs {
		h.AddMask(d < b.maxDef)
	}
}

// feedValues adds the values of a raw batch of text.
func feedRawChr(h *ChrHasher, b rawBatch[parquet.ByteArray]) error {
	return b.each(func(v parquet.ByteArray) error {
		h.AddBytes(v)
		return nil
	}, h.AddNA)
}
