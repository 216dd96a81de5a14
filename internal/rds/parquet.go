package rds

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/klauspost/compress/gzip"
)

const (
	defaultBatchRows = 64 << 10
	readBufferSize   = 256 << 10
)

// rtype is the R vector a column becomes.
type rtype int

const (
	rLogical   rtype = iota + 1 // LGLSXP
	rInteger                    // INTSXP
	rDouble                     // REALSXP
	rInteger64                  // REALSXP of int64 bits, class integer64
	rCharacter                  // STRSXP
	rFactor                     // INTSXP codes, levels, class factor (or ordered)
	rDate                       // REALSXP days, class Date
	rPOSIXct                    // REALSXP seconds, class POSIXct/POSIXt, tzone if any
	rHms                        // REALSXP seconds, class hms/difftime, units secs
	rDifftime                   // REALSXP seconds, class difftime, units secs
)

// column is what planning decided for one top-level field.
type column struct {
	idx   int
	name  string
	typ   arrow.DataType
	r     rtype
	div   float64 // timestamp, time and duration units: 10^k
	tzone string  // POSIXct from a timestamp with a time zone
	// ordered: a factor from an ordered dictionary.
	ordered bool
	// decided: an int64 or uint32 column whose R type depends on the
	// range of all its values (set once a first pass has read them).
	rangeDependent bool
	scale          int32 // decimals
	// leaf is the parquet leaf of a duration, read directly (pqarrow does
	// not read durations).
	leaf int
}

// Write writes the .rds rendition of the parquet file r to w (gzip
// stream and all). Columns R's arrow would not give as plain vectors
// fail with *UnsupportedError, before anything is written when the types
// say so; a value that only reading finds (text with a NUL byte, a decimal
// beyond double range) fails it midway, so callers write to a temporary
// file (Converter.ParquetToRDS does).
func Write(ctx context.Context, r parquet.ReaderAtSeeker, w io.Writer, opts Options) (err error) {
	if opts.BatchRows <= 0 {
		opts.BatchRows = defaultBatchRows
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("read parquet: decoder failed: %v", p)
		}
	}()
	mem := memory.NewGoAllocator()
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = readBufferSize
	pf, err := file.NewParquetReader(r, file.WithReadProps(props))
	if err != nil {
		return fmt.Errorf("read parquet footer: %w", err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		return fmt.Errorf("read parquet schema: %w", err)
	}
	t := &table{pf: pf, fr: fr, nrow: pf.NumRows(), opts: opts}
	if t.nrow > math.MaxInt32 {
		return &UnsupportedError{Refusals: []Refusal{{Column: "(all)", Type: "table", Reason: fmt.Sprintf("%d rows: an R data.frame holds at most 2147483647", t.nrow)}}}
	}
	var refusals []Refusal
	for i := range fr.Manifest.Fields {
		sf := &fr.Manifest.Fields[i]
		var origin arrow.DataType
		if os := fr.Manifest.OriginSchema; os != nil && i < os.NumFields() {
			origin = os.Field(i).Type
		}
		c, ref := plan(i, sf, origin, pf.MetaData().Schema)
		if ref != nil {
			refusals = append(refusals, *ref)
			continue
		}
		t.cols = append(t.cols, c)
	}
	if len(refusals) > 0 {
		return &UnsupportedError{Refusals: refusals}
	}
	for i := range t.cols {
		if t.cols[i].rangeDependent {
			if err := t.decideRange(ctx, &t.cols[i]); err != nil {
				return err
			}
		}
	}

	bw := bufio.NewWriterSize(w, 1<<20)
	zw, err := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	// Compression runs beside the decoding.
	pw := newPipeWriter(zw)
	closed := false
	defer func() {
		if !closed {
			pw.Close()
		}
	}()
	e := newEncoder(pw)
	e.header()
	// The data.frame: a list of columns, then its attributes.
	e.vector(vecSXP, int64(len(t.cols)), true, true)
	names := make([]string, len(t.cols))
	for i := range t.cols {
		names[i] = t.cols[i].name
		if err := t.writeColumn(ctx, e, &t.cols[i]); err != nil {
			return err
		}
	}
	n := int32(t.nrow)
	e.attributes([]attr{
		{"names", stringsAttr(names...)},
		{"class", stringsAttr("data.frame")},
		// Compact row names 1..n: c(NA_integer_, -n) (none for no rows).
		{"row.names", func(e *encoder) {
			if n == 0 {
				e.ints()
			} else {
				e.ints(naInteger, -n)
			}
		}},
	})
	if err := e.flush(); err != nil {
		return fmt.Errorf("write rds: %w", err)
	}
	closed = true
	if err := pw.Close(); err != nil {
		return fmt.Errorf("write rds: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write rds: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write rds: %w", err)
	}
	return nil
}

// table is one parquet file being rendered.
type table struct {
	pf   *file.Reader
	fr   *pqarrow.FileReader
	nrow int64
	cols []column
	opts Options
}

// plan maps field i to its R vector (contract 5.1, as arrow's R package
// converts), or refuses it.
func plan(i int, sf *pqarrow.SchemaField, origin arrow.DataType, sc *schema.Schema) (column, *Refusal) {
	t := sf.Field.Type
	c := column{idx: i, name: sf.Field.Name, typ: t, div: 1}
	refuse := func(reason string) (column, *Refusal) {
		return c, &Refusal{Column: c.name, Type: t.String(), Reason: reason}
	}
	// Arrow C++ (what R uses) restores view and extension types from
	// ARROW:schema where pqarrow reads the plain type; R reads neither.
	if origin != nil {
		switch origin.ID() {
		case arrow.EXTENSION, arrow.STRING_VIEW, arrow.BINARY_VIEW, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
			c.typ, t = origin, origin
			return refuse("R's arrow does not read " + origin.Name() + " as a plain vector")
		case arrow.DICTIONARY:
			if vt := origin.(*arrow.DictionaryType).ValueType; vt.ID() == arrow.STRING_VIEW || vt.ID() == arrow.BINARY_VIEW {
				c.typ, t = origin, origin
				return refuse("R's arrow does not read " + vt.Name())
			}
		}
	}
	jsonText := false
	if sf.IsLeaf() && sf.ColIndex >= 0 && sf.ColIndex < sc.NumColumns() {
		_, jsonText = sc.Column(sf.ColIndex).LogicalType().(schema.JSONLogicalType)
	}
	switch t.ID() {
	case arrow.BOOL:
		c.r = rLogical
	case arrow.INT8, arrow.INT16, arrow.UINT8, arrow.UINT16, arrow.INT32:
		c.r = rInteger
	case arrow.UINT32:
		c.r, c.rangeDependent = rInteger, true // or double
	case arrow.INT64:
		c.r, c.rangeDependent = rInteger, true // or integer64
	case arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64:
		c.r = rDouble
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		c.r, c.scale = rDouble, t.(arrow.DecimalType).GetScale()
	case arrow.STRING, arrow.LARGE_STRING:
		c.r = rCharacter
	case arrow.BINARY, arrow.LARGE_BINARY:
		if !jsonText {
			return refuse("R's arrow reads binary as arrow_binary, a list of raw vectors")
		}
		c.r = rCharacter
	case arrow.DICTIONARY:
		dt := t.(*arrow.DictionaryType)
		vt := dt.ValueType.ID()
		if !(vt == arrow.STRING || vt == arrow.LARGE_STRING || (vt == arrow.BINARY || vt == arrow.LARGE_BINARY) && jsonText) {
			return refuse("a dictionary of non-text values becomes a factor of R's text rendering")
		}
		c.r, c.ordered = rFactor, dt.Ordered
	case arrow.DATE32:
		c.r = rDate
	case arrow.DATE64:
		c.r = rPOSIXct
	case arrow.TIMESTAMP:
		ts := t.(*arrow.TimestampType)
		c.r, c.tzone, c.div = rPOSIXct, ts.TimeZone, unitDiv(ts.Unit)
	case arrow.TIME32:
		c.r, c.div = rHms, unitDiv(t.(*arrow.Time32Type).Unit)
	case arrow.TIME64:
		c.r, c.div = rHms, unitDiv(t.(*arrow.Time64Type).Unit)
	case arrow.DURATION:
		if !sf.IsLeaf() || sf.ColIndex < 0 || sf.ColIndex >= sc.NumColumns() ||
			sc.Column(sf.ColIndex).PhysicalType() != parquet.Types.Int64 || sc.Column(sf.ColIndex).MaxRepetitionLevel() != 0 {
			return refuse("a duration not stored as a flat INT64 column cannot be read")
		}
		c.r, c.div, c.leaf = rDifftime, unitDiv(t.(*arrow.DurationType).Unit), sf.ColIndex
	case arrow.FIXED_SIZE_BINARY:
		return refuse("R's arrow reads it as arrow_fixed_size_binary, a list of raw vectors")
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.MAP:
		return refuse("R's arrow reads it as a list column")
	case arrow.STRUCT:
		return refuse("R's arrow reads it as a data-frame column")
	case arrow.NULL:
		return refuse("R's arrow reads it as vctrs_unspecified")
	case arrow.FLOAT16:
		return refuse("R's arrow does not support float16")
	default:
		return refuse("R's arrow does not read it as a plain vector")
	}
	return c, nil
}

// unitDiv is 10^k for an Arrow time unit: its units per second.
func unitDiv(u arrow.TimeUnit) float64 { return float64(time.Second / u.Multiplier()) }

// scan feeds every batch of column c to fn, checking that nrow rows come.
func (t *table) scan(ctx context.Context, c *column, fn func(arrow.Array) error) error {
	cr, err := t.fr.GetColumn(ctx, c.idx)
	if err != nil {
		return fmt.Errorf("open column %q: %w", c.name, err)
	}
	defer cr.Release()
	var got int64
	for got < t.nrow {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := min(t.opts.BatchRows, t.nrow-got)
		chunked, err := cr.NextBatch(want)
		if err != nil {
			return fmt.Errorf("read column %q at row %d: %w", c.name, got, err)
		}
		n := int64(chunked.Len())
		if n == 0 || n > want {
			chunked.Release()
			return fmt.Errorf("read column %q: %d rows at row %d, the file says %d", c.name, n, got, t.nrow)
		}
		for _, a := range chunked.Chunks() {
			if err := fn(a); err != nil {
				chunked.Release()
				return err
			}
		}
		chunked.Release()
		got += n
	}
	return nil
}

// scanDuration reads the INT64 leaf of duration column c row group by row
// group and hands fn each batch: defs has one level per row (a row is
// null when its level is below maxDef), vals the non-null values.
func (t *table) scanDuration(ctx context.Context, c *column, fn func(vals []int64, defs []int16, maxDef int16)) error {
	maxDef := t.pf.MetaData().Schema.Column(c.leaf).MaxDefinitionLevel()
	vals := make([]int64, t.opts.BatchRows)
	defs := make([]int16, t.opts.BatchRows)
	var got int64
	for rg := 0; rg < t.pf.NumRowGroups(); rg++ {
		ccr, err := t.pf.RowGroup(rg).Column(c.leaf)
		if err != nil {
			return fmt.Errorf("open column %q in row group %d: %w", c.name, rg, err)
		}
		rdr, ok := ccr.(*file.Int64ColumnChunkReader)
		if !ok {
			return fmt.Errorf("column %q: physical type %s, not INT64", c.name, ccr.Type())
		}
		want := t.pf.MetaData().RowGroup(rg).NumRows()
		for inGroup := int64(0); inGroup < want; {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, nv, err := rdr.ReadBatch(min(t.opts.BatchRows, want-inGroup), vals, defs, nil)
			if err != nil {
				return fmt.Errorf("read column %q at row %d: %w", c.name, got+inGroup, err)
			}
			if n == 0 || nv < 0 || int64(nv) > n {
				return fmt.Errorf("read column %q at row %d: %d values for %d rows", c.name, got+inGroup, nv, n)
			}
			if maxDef == 0 {
				for i := range defs[:n] {
					defs[i] = 0
				}
			} else {
				nonNull := 0
				for _, d := range defs[:n] {
					if d >= maxDef {
						nonNull++
					}
				}
				if nonNull != nv {
					return fmt.Errorf("read column %q at row %d: %d values, levels say %d", c.name, got+inGroup, nv, nonNull)
				}
			}
			fn(vals[:nv], defs[:n], maxDef)
			inGroup += n
		}
		got += want
	}
	if got != t.nrow {
		return fmt.Errorf("column %q has %d rows, the file says %d", c.name, got, t.nrow)
	}
	return nil
}

// errOutOfRange stops a range pass at the first value R's integer cannot
// hold.
var errOutOfRange = errors.New("out of integer range")

// decideRange reads an int64 or uint32 column once to choose its R type
// as arrow does from all its values: integer if every non-null value fits
// R's integer (int64: [-2^31, 2^31-1], the lowest being NA; uint32: at
// most 2^31-1), else integer64 (int64) or double (uint32).
func (t *table) decideRange(ctx context.Context, c *column) error {
	err := t.scan(ctx, c, func(arr arrow.Array) error {
		switch a := arr.(type) {
		case *array.Int64:
			for i, v := range a.Int64Values() {
				if (v < math.MinInt32 || v > math.MaxInt32) && a.IsValid(i) {
					return errOutOfRange
				}
			}
		case *array.Uint32:
			for i, v := range a.Uint32Values() {
				if v > math.MaxInt32 && a.IsValid(i) {
					return errOutOfRange
				}
			}
		default:
			return fmt.Errorf("column %q: unexpected %s array", c.name, arr.DataType())
		}
		return nil
	})
	switch {
	case errors.Is(err, errOutOfRange):
		if c.typ.ID() == arrow.INT64 {
			c.r = rInteger64
		} else {
			c.r = rDouble
		}
	case err != nil:
		return err
	}
	c.rangeDependent = false
	return nil
}

// sexpType is the SEXP type of an R vector kind.
func (r rtype) sexpType() int32 {
	switch r {
	case rLogical:
		return lglSXP
	case rInteger, rFactor:
		return intSXP
	case rCharacter:
		return strSXP
	default:
		return realSXP
	}
}

// writeColumn writes column c: its vector header, its values read batch by
// batch, then its attributes.
func (t *table) writeColumn(ctx context.Context, e *encoder, c *column) error {
	attrs := columnAttrs(c)
	hasAttrs := c.r != rLogical && c.r != rInteger && c.r != rDouble && c.r != rCharacter
	e.vector(c.r.sexpType(), t.nrow, hasAttrs, hasAttrs)
	var b batch
	var f *factor
	if c.r == rFactor {
		f = newFactor()
		defer f.release()
	}
	if c.r == rDifftime {
		err := t.scanDuration(ctx, c, func(vals []int64, defs []int16, maxDef int16) {
			vi := 0
			for i := range defs {
				if maxDef > 0 && defs[i] < maxDef {
					b.naReal()
					continue
				}
				b.float64(float64(vals[vi]) / c.div)
				vi++
			}
			e.flushBatch(&b)
		})
		if err != nil {
			return err
		}
		e.attributes(attrs)
		return e.err
	}
	err := t.scan(ctx, c, func(a arrow.Array) error {
		var err error
		switch c.r {
		case rCharacter:
			err = writeStrings(&b, c, a)
		case rFactor:
			err = f.codes(&b, c, a)
		default:
			err = values(&b, c, a)
		}
		if err != nil {
			return err
		}
		e.flushBatch(&b)
		return e.err
	})
	if err != nil {
		return err
	}
	if f != nil {
		attrs = append([]attr{{"levels", f.levelsAttr}}, attrs...)
	}
	if hasAttrs {
		e.attributes(attrs)
	}
	return e.err
}

// columnAttrs are a column's attributes known before its values (a
// factor's levels come after them).
func columnAttrs(c *column) []attr {
	switch c.r {
	case rInteger64:
		return []attr{{"class", stringsAttr("integer64")}}
	case rFactor:
		if c.ordered {
			return []attr{{"class", stringsAttr("ordered", "factor")}}
		}
		return []attr{{"class", stringsAttr("factor")}}
	case rDate:
		return []attr{{"class", stringsAttr("Date")}}
	case rPOSIXct:
		as := []attr{{"class", stringsAttr("POSIXct", "POSIXt")}}
		if c.tzone != "" {
			as = append(as, attr{"tzone", stringsAttr(c.tzone)})
		}
		return as
	case rHms:
		return []attr{{"class", stringsAttr("hms", "difftime")}, {"units", stringsAttr("secs")}}
	case rDifftime:
		return []attr{{"class", stringsAttr("difftime")}, {"units", stringsAttr("secs")}}
	}
	return nil
}

// intValues appends integer-like values as R integers; null is NA. (An
// int32 or downcast int64 of -2^31 is NA as well: it is R's NA_integer_.)
func intValues[T ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32](b *batch, a arrow.Array, vals []T) {
	nulls := a.NullN() > 0
	for i, v := range vals {
		if nulls && a.IsNull(i) {
			b.int32(naInteger)
		} else {
			b.int32(int32(v))
		}
	}
}

// doubleValues appends values converted to double, each by conv; null is NA.
func doubleValues[T any](b *batch, a arrow.Array, vals []T, conv func(T) float64) {
	nulls := a.NullN() > 0
	for i, v := range vals {
		if nulls && a.IsNull(i) {
			b.naReal()
		} else {
			b.float64(conv(v))
		}
	}
}

func exact[T ~int32 | ~int64 | ~uint32 | ~uint64 | ~float32](v T) float64 { return float64(v) }

// values appends one array of a numeric, logical, date or time column.
func values(b *batch, c *column, arr arrow.Array) error {
	scaled := func(v int64) float64 { return float64(v) / c.div }
	switch a := arr.(type) {
	case *array.Boolean:
		for i := 0; i < a.Len(); i++ {
			switch {
			case a.IsNull(i):
				b.int32(naInteger)
			case a.Value(i):
				b.int32(1)
			default:
				b.int32(0)
			}
		}
	case *array.Int8:
		intValues(b, a, a.Int8Values())
	case *array.Int16:
		intValues(b, a, a.Int16Values())
	case *array.Int32:
		intValues(b, a, a.Int32Values())
	case *array.Uint8:
		intValues(b, a, a.Uint8Values())
	case *array.Uint16:
		intValues(b, a, a.Uint16Values())
	case *array.Uint32:
		if c.r == rDouble {
			doubleValues(b, a, a.Uint32Values(), exact)
		} else {
			intValues(b, a, a.Uint32Values())
		}
	case *array.Int64:
		if c.r == rInteger64 {
			nulls := a.NullN() > 0
			for i, v := range a.Int64Values() {
				if nulls && a.IsNull(i) {
					b.bits(naInt64Bits)
				} else {
					b.bits(uint64(v))
				}
			}
		} else {
			intValues(b, a, a.Int64Values())
		}
	case *array.Uint64:
		doubleValues(b, a, a.Uint64Values(), exact)
	case *array.Float32:
		doubleValues(b, a, a.Float32Values(), exact)
	case *array.Float64:
		// The bits as stored: no arithmetic touches a NaN's payload.
		nulls := a.NullN() > 0
		for i, v := range a.Float64Values() {
			if nulls && a.IsNull(i) {
				b.naReal()
			} else {
				b.bits(math.Float64bits(v))
			}
		}
	case *array.Date32:
		doubleValues(b, a, a.Date32Values(), func(v arrow.Date32) float64 { return float64(v) })
	case *array.Date64:
		// POSIXct of whole seconds, truncated toward zero.
		doubleValues(b, a, a.Date64Values(), func(v arrow.Date64) float64 { return float64(int64(v) / 1000) })
	case *array.Timestamp:
		doubleValues(b, a, a.TimestampValues(), func(v arrow.Timestamp) float64 { return scaled(int64(v)) })
	case *array.Time32:
		doubleValues(b, a, a.Time32Values(), func(v arrow.Time32) float64 { return scaled(int64(v)) })
	case *array.Time64:
		doubleValues(b, a, a.Time64Values(), func(v arrow.Time64) float64 { return scaled(int64(v)) })
	case *array.Duration:
		doubleValues(b, a, a.DurationValues(), func(v arrow.Duration) float64 { return scaled(int64(v)) })
	default:
		if d, ok := arr.(decimalArray); ok && arrow.IsDecimal(arr.DataType().ID()) {
			return decimals(b, c, d)
		}
		return fmt.Errorf("column %q: unexpected %s array", c.name, arr.DataType())
	}
	return nil
}

// decimalArray is any of Arrow's decimal arrays: ValueStr is the decimal
// text with its scale.
type decimalArray interface {
	arrow.Array
	ValueStr(i int) string
}

// decimals appends the doubles nearest to decimal values (the decimal
// text, parsed with correct rounding); a value beyond double range makes
// R's read fail, so the column is refused.
func decimals(b *batch, c *column, a decimalArray) error {
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.naReal()
			continue
		}
		s := a.ValueStr(i)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(v, 0) {
			return &UnsupportedError{Refusals: []Refusal{{Column: c.name, Type: c.typ.String(), Reason: "decimal " + s + " is beyond the range of R's double"}}}
		}
		b.float64(v)
	}
	return nil
}

// textValues is an Arrow array of text (or JSON bytes), seen as bytes.
type textValues interface {
	Len() int
	IsNull(i int) bool
	// ValueBytes is value i without a copy: only read while the array lives.
	ValueBytes(i int) []byte
}

type (
	stringText      struct{ *array.String }
	largeStringText struct{ *array.LargeString }
	binaryText      struct{ *array.Binary }
	largeBinaryText struct{ *array.LargeBinary }
)

func (s stringText) ValueBytes(i int) []byte      { return unsafeBytes(s.Value(i)) }
func (s largeStringText) ValueBytes(i int) []byte { return unsafeBytes(s.Value(i)) }
func (s binaryText) ValueBytes(i int) []byte      { return s.Value(i) }
func (s largeBinaryText) ValueBytes(i int) []byte { return s.Value(i) }

func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// textArray views a text (or JSON binary) array as bytes.
func textArray(a arrow.Array) (textValues, bool) {
	switch a := a.(type) {
	case *array.String:
		return stringText{a}, true
	case *array.LargeString:
		return largeStringText{a}, true
	case *array.Binary:
		return binaryText{a}, true
	case *array.LargeBinary:
		return largeBinaryText{a}, true
	}
	return nil, false
}

// nulInText refuses a column holding a NUL byte: R strings cannot.
func nulInText(c *column) error {
	return &UnsupportedError{Refusals: []Refusal{{Column: c.name, Type: c.typ.String(), Reason: "text holding a NUL byte, which R strings cannot hold"}}}
}

func hasNUL(s []byte) bool {
	for _, c := range s {
		if c == 0 {
			return true
		}
	}
	return false
}

// writeStrings appends one array of a character column.
func writeStrings(b *batch, c *column, arr arrow.Array) error {
	a, ok := textArray(arr)
	if !ok {
		return fmt.Errorf("column %q: unexpected %s array", c.name, arr.DataType())
	}
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.naString()
			continue
		}
		s := a.ValueBytes(i)
		if hasNUL(s) {
			return nulInText(c)
		}
		b.charsxp(s)
	}
	return nil
}

// factor unifies the dictionaries of a factor column's arrays as arrow
// does (the first dictionary, then each later one's new values in order)
// and turns indices into 1-based codes. A null in a dictionary is an NA
// level, as in arrow.
type factor struct {
	levels [][]byte
	naAt   int32 // 1-based code of the NA level; 0 if none
	index  map[string]int32

	dict  arrow.Array // the dictionary trans was made for
	trans []int32     // dictionary index → code
}

func newFactor() *factor { return &factor{index: map[string]int32{}} }

func (f *factor) code(v []byte, na bool) int32 {
	if na {
		if f.naAt == 0 {
			f.levels = append(f.levels, nil)
			f.naAt = int32(len(f.levels))
		}
		return f.naAt
	}
	if k, ok := f.index[string(v)]; ok {
		return k
	}
	f.levels = append(f.levels, append([]byte(nil), v...))
	k := int32(len(f.levels))
	f.index[string(v)] = k
	return k
}

func (f *factor) codes(b *batch, c *column, arr arrow.Array) error {
	a, ok := arr.(*array.Dictionary)
	if !ok {
		return fmt.Errorf("column %q: unexpected %s array", c.name, arr.DataType())
	}
	if d := a.Dictionary(); d != f.dict && (f.dict == nil || !array.Equal(d, f.dict)) {
		txt, ok := textArray(d)
		if !ok {
			return fmt.Errorf("column %q: unexpected %s dictionary", c.name, d.DataType())
		}
		f.trans = f.trans[:0]
		for k := 0; k < txt.Len(); k++ {
			na := txt.IsNull(k)
			var v []byte
			if !na {
				v = txt.ValueBytes(k)
				if hasNUL(v) {
					return nulInText(c)
				}
			}
			f.trans = append(f.trans, f.code(v, na))
		}
		d.Retain()
		if f.dict != nil {
			f.dict.Release()
		}
		f.dict = d
	}
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.int32(naInteger)
			continue
		}
		k := a.GetValueIndex(i)
		if k < 0 || k >= len(f.trans) {
			return fmt.Errorf("column %q: dictionary index %d out of range [0,%d)", c.name, k, len(f.trans))
		}
		b.int32(f.trans[k])
	}
	return nil
}

func (f *factor) release() {
	if f.dict != nil {
		f.dict.Release()
		f.dict = nil
	}
}

// levelsAttr writes the levels (a character vector; NA for a null).
func (f *factor) levelsAttr(e *encoder) {
	e.vector(strSXP, int64(len(f.levels)), false, false)
	for i, l := range f.levels {
		if int32(i+1) == f.naAt {
			e.naString()
		} else {
			e.charsxp(l)
		}
	}
}
