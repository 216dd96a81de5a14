package identity

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// rawBatch is one run of levels of a flat BYTE_ARRAY column: for row i,
// the row is NA when maxDef > 0 and defs[i] < maxDef; otherwise it takes the
// next entry of vals. vals point into the current page and are valid only
// during the callback.
type rawBatch struct {
	n      int64
	defs   []int16
	maxDef int16
	vals   []parquet.ByteArray
}

// scanRaw reads a chr column's BYTE_ARRAY values straight from the parquet
// pages, row group by row group, without building Arrow arrays (Arrow's
// utf8, large_utf8 and string dictionaries all hold exactly these bytes).
func (t *table) scanRaw(ctx context.Context, p colPlan, fn func(rawBatch) error) error {
	batch := t.opts.BatchRows
	defs := make([]int16, batch)
	vals := make([]parquet.ByteArray, batch)
	maxDef := t.pf.MetaData().Schema.Column(p.leaf).MaxDefinitionLevel()
	var got int64
	for rg := 0; rg < t.pf.NumRowGroups(); rg++ {
		ccr, err := t.pf.RowGroup(rg).Column(p.leaf)
		if err != nil {
			return fmt.Errorf("%w: open %s in row group %d: %v", ErrCorrupt, p, rg, err)
		}
		rdr, ok := ccr.(*file.ByteArrayColumnChunkReader)
		if !ok {
			return fmt.Errorf("%w: %s is not a byte array column", ErrCorrupt, p)
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
			b := rawBatch{n: n, defs: defs[:n], maxDef: maxDef, vals: vals[:nv]}
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
func (b rawBatch) nulls() int64 {
	if b.defs == nil {
		return 0
	}
	return b.n - int64(len(b.vals))
}

// feedMask adds the NA-mask bytes of a raw batch.
func (b rawBatch) feedMask(h *ChrHasher) {
	if b.nulls() == 0 {
		h.AddMaskZeros(b.n)
		return
	}
	for _, d := range b.defs {
		h.AddMask(d < b.maxDef)
	}
}

// feedValues adds the values of a raw batch.
func (b rawBatch) feedValues(h *ChrHasher) error {
	if b.nulls() == 0 {
		if int64(len(b.vals)) != b.n {
			return fmt.Errorf("%d values for %d rows", len(b.vals), b.n)
		}
		for _, v := range b.vals {
			h.AddBytes(v)
		}
		return nil
	}
	vi := 0
	for _, d := range b.defs {
		if d < b.maxDef {
			h.AddNA()
			continue
		}
		if vi >= len(b.vals) {
			return fmt.Errorf("definition levels promise more than %d values", len(b.vals))
		}
		h.AddBytes(b.vals[vi])
		vi++
	}
	return nil
}
