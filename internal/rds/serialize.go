package rds

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
)

// R's serialization format, version 3, XDR (big-endian), as saveRDS
// writes it (R Internals, "Serialization Formats"; src/main/serialize.c).
// Only what a data.frame of atomic vectors needs is written: vectors
// (VECSXP, LGLSXP, INTSXP, REALSXP, STRSXP), CHARSXPs, attribute pairlists
// (LISTSXP with tags), symbols (SYMSXP, then REFSXP back-references) and
// the R_NilValue terminator.

// SEXP types and pseudo-types of the format.
const (
	symSXP   = 1
	listSXP  = 2
	charSXP  = 9
	lglSXP   = 10
	intSXP   = 13
	realSXP  = 14
	strSXP   = 16
	vecSXP   = 19
	refSXP   = 255
	nilValue = 254
)

// Flag bits of an item's header word (PackFlags in serialize.c).
const (
	isObjectBit = 1 << 8
	hasAttrBit  = 1 << 9
	hasTagBit   = 1 << 10
)

// CHARSXP encoding levels (the gp bits, shifted by 12 in the header).
const (
	utf8Level  = 1 << 3
	asciiLevel = 1 << 6
)

// NA values as R stores them.
const (
	naInteger = math.MinInt32
	// naRealBits is NA_real_: a NaN whose low word is 1954.
	naRealBits = 0x7FF00000000007A2
	// naInt64Bits is bit64's NA_integer64_ (INT64_MIN).
	naInt64Bits = 1 << 63
)

// rVersion packs an R version the way R_Version does.
func rVersion(major, minor, patch int32) int32 { return major*65536 + minor*256 + patch }

// encoder writes one serialized object. Write errors are sticky: the first
// one is kept in err and later writes do nothing.
type encoder struct {
	w   *bufio.Writer
	err error
	// syms maps a symbol already written to its reference index (1-based,
	// in the order symbols were first written: R's reference table).
	syms map[string]int32
	buf  []byte
}

func newEncoder(w io.Writer) *encoder {
	return &encoder{w: bufio.NewWriterSize(w, 256<<10), syms: map[string]int32{}}
}

func (e *encoder) write(b []byte) {
	if e.err != nil {
		return
	}
	_, e.err = e.w.Write(b)
}

func (e *encoder) int32(v int32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(v))
	e.write(b[:])
}

func (e *encoder) flush() error {
	if e.err != nil {
		return e.err
	}
	return e.w.Flush()
}

// header writes the stream header: "X\n" (XDR), format version 3, the
// writer's R version, the oldest R that reads version 3 (3.5.0), and the
// native encoding.
func (e *encoder) header() {
	e.write([]byte("X\n"))
	e.int32(3)
	e.int32(rVersion(4, 2, 0))
	e.int32(rVersion(3, 5, 0))
	const enc = "UTF-8"
	e.int32(int32(len(enc)))
	e.write([]byte(enc))
}

// flags writes an item's header word.
func (e *encoder) flags(typ int32, object, attr, tag bool, levels int32) {
	f := typ | levels<<12
	if object {
		f |= isObjectBit
	}
	if attr {
		f |= hasAttrBit
	}
	if tag {
		f |= hasTagBit
	}
	e.int32(f)
}

// length writes a vector length; lengths beyond 2^31-1 take the long form
// (-1, then the upper and lower 32 bits).
func (e *encoder) length(n int64) {
	if n <= math.MaxInt32 {
		e.int32(int32(n))
		return
	}
	e.int32(-1)
	e.int32(int32(uint64(n) >> 32))
	e.int32(int32(uint32(n)))
}

// vector writes the header of a vector item of n elements; its elements
// follow, then (if attr) its attribute pairlist.
func (e *encoder) vector(typ int32, n int64, object, attr bool) {
	e.flags(typ, object, attr, false, 0)
	e.length(n)
}

// charsxp writes one string element (a CHARSXP): ASCII or UTF-8.
func (e *encoder) charsxp(s []byte) {
	var b batch
	b.charsxp(s)
	e.write(b.b)
}

// naString writes NA_character_.
func (e *encoder) naString() {
	var b batch
	b.naString()
	e.write(b.b)
}

// symbol writes a symbol, or a reference to it once it was written.
func (e *encoder) symbol(name string) {
	if idx, ok := e.syms[name]; ok {
		e.int32(idx<<8 | refSXP)
		return
	}
	e.syms[name] = int32(len(e.syms) + 1)
	e.flags(symSXP, false, false, false, 0)
	e.charsxp([]byte(name))
}

// attr is one attribute: its name and a writer of its value (an item).
type attr struct {
	name  string
	value func(*encoder)
}

// attributes writes an attribute pairlist: one tagged LISTSXP node per
// attribute, ended by R_NilValue.
func (e *encoder) attributes(as []attr) {
	for _, a := range as {
		e.flags(listSXP, false, false, true, 0)
		e.symbol(a.name)
		a.value(e)
	}
	e.flags(nilValue, false, false, false, 0)
}

// strings writes a character vector without attributes.
func (e *encoder) strings(vals ...string) {
	e.vector(strSXP, int64(len(vals)), false, false)
	for _, s := range vals {
		e.charsxp([]byte(s))
	}
}

// stringsAttr returns an attribute value writer for a character vector.
func stringsAttr(vals ...string) func(*encoder) {
	return func(e *encoder) { e.strings(vals...) }
}

// ints writes an integer vector without attributes.
func (e *encoder) ints(vals ...int32) {
	e.vector(intSXP, int64(len(vals)), false, false)
	for _, v := range vals {
		e.int32(v)
	}
}

// batch collects the big-endian bytes of many elements, written at once.
type batch struct{ b []byte }

func (b *batch) int32(v int32)     { b.b = binary.BigEndian.AppendUint32(b.b, uint32(v)) }
func (b *batch) bits(v uint64)     { b.b = binary.BigEndian.AppendUint64(b.b, v) }
func (b *batch) float64(v float64) { b.bits(math.Float64bits(v)) }
func (b *batch) naReal()           { b.bits(naRealBits) }

// charsxp appends one string element (a CHARSXP), marked ASCII or UTF-8
// as R marks strings it makes.
func (b *batch) charsxp(s []byte) {
	level := int32(asciiLevel)
	for _, c := range s {
		if c >= 0x80 {
			level = utf8Level
			break
		}
	}
	b.int32(charSXP | level<<12)
	b.int32(int32(len(s)))
	b.b = append(b.b, s...)
}

// naString appends NA_character_ (a CHARSXP of length -1).
func (b *batch) naString() {
	b.int32(charSXP)
	b.int32(-1)
}

// flushBatch writes and empties b.
func (e *encoder) flushBatch(b *batch) {
	e.write(b.b)
	b.b = b.b[:0]
}
