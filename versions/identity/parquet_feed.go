package identity

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32
}

// feedExact adds integer-like values converted to double (no scaling).
func feedExact[T number](h *NumHasher, a arrow.Array, vals []T) {
	if a.NullN() == 0 {
		for _, v := range vals {
			h.AddFloat64(float64(v))
		}
		return
	}
	for i, v := range vals {
		if a.IsNull(i) {
			h.AddNA()
		} else {
			h.AddFloat64(float64(v))
		}
	}
}

// feedScaled adds double(v) / div (timestamps, times, durations).
func feedScaled[T ~int32 | ~int64](h *NumHasher, a arrow.Array, vals []T, div float64) {
	for i, v := range vals {
		if a.IsNull(i) {
			h.AddNA()
		} else {
			h.AddFloat64(float64(v) / div)
		}
	}
}

// feedNum adds one array of a numeric, date, time or duration column.
func feedNum(h *NumHasher, arr arrow.Array, p colPlan) error {
	switch a := arr.(type) {
	case *array.Boolean:
		for i := 0; i < a.Len(); i++ {
			switch {
			case a.IsNull(i):
				h.AddNA()
			case a.Value(i):
				h.AddFloat64(1)
			default:
				h.AddFloat64(0)
			}
		}
	case *array.Int8:
		feedExact(h, a, a.Int8Values())
	case *array.Int16:
		feedExact(h, a, a.Int16Values())
	case *array.Uint8:
		feedExact(h, a, a.Uint8Values())
	case *array.Uint16:
		feedExact(h, a, a.Uint16Values())
	case *array.Uint32:
		// integer or double in R depending on the range; the double is the
		// same either way.
		feedExact(h, a, a.Uint32Values())
	case *array.Uint64:
		feedExact(h, a, a.Uint64Values())
	case *array.Float32:
		feedExact(h, a, a.Float32Values())
	case *array.Int32:
		// R's NA_integer_ is INT32_MIN: that value reads as NA.
		for i, v := range a.Int32Values() {
			if v == math.MinInt32 || a.IsNull(i) {
				h.AddNA()
			} else {
				h.AddFloat64(float64(v))
			}
		}
	case *array.Float64:
		// Bits are taken straight from the buffer: no arithmetic may touch a
		// NaN payload (it would quiet R's NA).
		raw := a.Data().Buffers()[1]
		if raw == nil {
			return errUnexpectedArray(p, arr)
		}
		buf := raw.Bytes()
		off := a.Data().Offset()
		if len(buf) < (off+a.Len())*8 {
			return errUnexpectedArray(p, arr)
		}
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				h.AddNA()
				continue
			}
			h.addBits(binary.LittleEndian.Uint64(buf[(off+i)*8:]))
		}
	case *array.Date32:
		for i, v := range a.Date32Values() {
			if a.IsNull(i) {
				h.AddNA()
			} else {
				h.AddFloat64(float64(v))
			}
		}
	case *array.Date64:
		// POSIXct of whole seconds: trunc_toward_zero(ms / 1000)
		for i, v := range a.Date64Values() {
			if a.IsNull(i) {
				h.AddNA()
			} else {
				h.AddFloat64(float64(int64(v) / 1000))
			}
		}
	case *array.Timestamp:
		feedScaled(h, a, a.TimestampValues(), p.div)
	case *array.Time32:
		feedScaled(h, a, a.Time32Values(), p.div)
	case *array.Time64:
		feedScaled(h, a, a.Time64Values(), p.div)
	case *array.Duration:
		feedScaled(h, a, a.DurationValues(), p.div)
	default:
		return errUnexpectedArray(p, arr)
	}
	return nil
}

// feedChrMask adds the NA-mask bytes of one array of a chr column.
func feedChrMask(h *ChrHasher, a arrow.Array, p colPlan) error {
	if _, ok := a.(*array.Dictionary); !ok {
		switch a.(type) {
		case *array.String, *array.LargeString, *array.Binary, *array.LargeBinary:
		default:
			return errUnexpectedArray(p, a)
		}
	}
	if nullCount(a) == 0 {
		h.AddMaskZeros(int64(a.Len()))
		return nil
	}
	d, _ := a.(*array.Dictionary)
	for i := 0; i < a.Len(); i++ {
		na := a.IsNull(i)
		if !na && d != nil {
			k := d.GetValueIndex(i)
			if k < 0 || k >= d.Dictionary().Len() {
				return fmt.Errorf("%w: %s: dictionary index %d out of range", ErrCorrupt, p, k)
			}
			na = d.Dictionary().IsNull(k)
		}
		h.AddMask(na)
	}
	return nil
}

// valueArray is an Arrow array of text or bytes.
type valueArray[V any] interface {
	Len() int
	IsNull(i int) bool
	Value(i int) V
}

// feedEach adds every value of a, NA for nulls.
func feedEach[V any](h *ChrHasher, a valueArray[V], add func(V)) {
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			h.AddNA()
		} else {
			add(a.Value(i))
		}
	}
}

// feedChr adds the values of one array of a chr column.
func feedChr(h *ChrHasher, arr arrow.Array) error {
	switch a := arr.(type) {
	case *array.String:
		feedEach(h, a, h.AddString)
	case *array.LargeString:
		feedEach(h, a, h.AddString)
	case *array.Binary:
		feedEach(h, a, h.AddBytes)
	case *array.LargeBinary:
		feedEach(h, a, h.AddBytes)
	case *array.Dictionary:
		dict := a.Dictionary()
		var value func(k int)
		switch d := dict.(type) {
		case *array.String:
			value = func(k int) { h.AddString(d.Value(k)) }
		case *array.LargeString:
			value = func(k int) { h.AddString(d.Value(k)) }
		case *array.Binary:
			value = func(k int) { h.AddBytes(d.Value(k)) }
		case *array.LargeBinary:
			value = func(k int) { h.AddBytes(d.Value(k)) }
		default:
			return errWrongArray
		}
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				h.AddNA()
				continue
			}
			k := a.GetValueIndex(i)
			if k < 0 || k >= dict.Len() {
				return fmt.Errorf("dictionary index %d out of range [0,%d)", k, dict.Len())
			}
			if dict.IsNull(k) {
				h.AddNA()
				continue
			}
			value(k)
		}
	default:
		return errWrongArray
	}
	return nil
}
