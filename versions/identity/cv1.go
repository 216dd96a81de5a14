package identity

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"strings"
)

// HashAlgo is the name of the data_sha algorithm (metadata field hash_algo).
const HashAlgo = "datom-cv1"

// Kind is the cv1 kind tag of a column (contract 4.1, step 1). Its string is
// the exact tag hashed in front of the column name.
type Kind string

// The six cv1 kinds.
const (
	KindNum  Kind = "num"
	KindChr  Kind = "chr"
	KindDate Kind = "date"
	KindTime Kind = "time"
	KindDrtn Kind = "drtn"
	KindI64  Kind = "i64"
)

// Valid reports whether k is one of the six cv1 kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindNum, KindChr, KindDate, KindTime, KindDrtn, KindI64:
		return true
	}
	return false
}

// numeric reports whether k uses the numeric encoding (num, date, time, drtn).
func (k Kind) numeric() bool {
	return k == KindNum || k == KindDate || k == KindTime || k == KindDrtn
}

// Bit patterns of the numeric encoding (contract 4.1).
const (
	// NABits is R's NA_real_ as datomfs writes it for every null it reads.
	NABits uint64 = 0x7FF00000000007A2
	// CanonicalNaNBits is what every NaN that is not R-NA encodes as.
	CanonicalNaNBits uint64 = 0x7FF8000000000000
	// I64NA is bit64's NA (INT64_MIN), the i64 payload of a null.
	I64NA int64 = math.MinInt64
	// rNALowWord is the low 32-bit word that marks a NaN as R's NA.
	rNALowWord = 1954
)

// NA returns R's NA_real_ as a float64 (bits NABits). Feeding it to a numeric
// hasher is the same as calling AddNA.
func NA() float64 { return math.Float64frombits(NABits) }

// ErrNULInString reports a chr value containing a 0x00 byte, which R cannot
// hold (arrow's read_parquet fails on it), so datom can never hash it.
var ErrNULInString = errors.New("text value contains a NUL (0x00) byte")

// ErrColumnLength reports a chr column whose NA mask and values disagree in
// length, or a hasher used out of order.
var ErrColumnLength = errors.New("chr column: NA mask and values differ")

// EncodeNumeric returns the cv1 numeric encoding of v as a bit pattern, to be
// written little-endian: R-NA verbatim, other NaN canonical, -0 as +0, all
// else bit-exact.
func EncodeNumeric(v float64) uint64 { return encodeBits(math.Float64bits(v)) }

// bufSize is how many payload bytes a hasher gathers before one sha256 Write.
const bufSize = 8 << 10

// sink batches small writes into a SHA-256 stream.
type sink struct {
	h   hash.Hash
	buf []byte
}

func newSink(tag Kind, name string) sink {
	s := sink{h: sha256.New(), buf: make([]byte, 0, bufSize)}
	s.buf = append(s.buf, tag...)
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, 0)
	return s
}

func (s *sink) flushIfFull(need int) {
	if len(s.buf)+need > cap(s.buf) {
		s.h.Write(s.buf)
		s.buf = s.buf[:0]
	}
}

func (s *sink) put64(v uint64) {
	s.flushIfFull(8)
	s.buf = binary.LittleEndian.AppendUint64(s.buf, v)
}

func (s *sink) putByte(c byte) {
	s.flushIfFull(1)
	s.buf = append(s.buf, c)
}

func (s *sink) putBytes(p []byte) {
	if len(s.buf)+len(p) > cap(s.buf) {
		s.h.Write(s.buf)
		s.buf = s.buf[:0]
		if len(p) > cap(s.buf) {
			s.h.Write(p)
			return
		}
	}
	s.buf = append(s.buf, p...)
}

func (s *sink) putString(p string) {
	if len(s.buf)+len(p) > cap(s.buf) {
		s.h.Write(s.buf)
		s.buf = s.buf[:0]
		if len(p) > cap(s.buf) {
			s.h.Write([]byte(p))
			return
		}
	}
	s.buf = append(s.buf, p...)
}

func (s *sink) sum() string {
	s.h.Write(s.buf)
	s.buf = s.buf[:0]
	return hex.EncodeToString(s.h.Sum(nil))
}

// NumHasher streams a num, date, time or drtn column into its cv1 digest.
// Values are added in row order; Sum may be called once.
type NumHasher struct {
	s     sink
	kind  Kind
	units string
	n     int64
}

// NewNumHasher starts a num, date or time column (use NewDrtnHasher for drtn).
func NewNumHasher(kind Kind, name string) (*NumHasher, error) {
	if kind != KindNum && kind != KindDate && kind != KindTime {
		return nil, fmt.Errorf("numeric hasher for column %q: kind %q is not num, date or time", name, kind)
	}
	return &NumHasher{s: newSink(kind, name), kind: kind}, nil
}

// NewDrtnHasher starts a drtn column whose values are in the given units
// (datomfs always reads durations as "secs").
func NewDrtnHasher(name, units string) *NumHasher {
	return &NumHasher{s: newSink(KindDrtn, name), kind: KindDrtn, units: units}
}

// AddFloat64 appends one value.
func (h *NumHasher) AddFloat64(v float64) { h.addBits(math.Float64bits(v)) }

// AddNA appends R's NA_real_.
func (h *NumHasher) AddNA() {
	h.s.put64(NABits)
	h.n++
}

// Rows is the number of values added so far.
func (h *NumHasher) Rows() int64 { return h.n }

// Sum returns the column digest (64 lowercase hex).
func (h *NumHasher) Sum() string {
	if h.kind == KindDrtn {
		h.s.putByte(0)
		h.s.putString(h.units)
	}
	return h.s.sum()
}

// I64Hasher streams an i64 (integer64) column into its cv1 digest.
type I64Hasher struct {
	s sink
	n int64
}

// NewI64Hasher starts an i64 column.
func NewI64Hasher(name string) *I64Hasher { return &I64Hasher{s: newSink(KindI64, name)} }

// AddInt64 appends one value verbatim.
func (h *I64Hasher) AddInt64(v int64) {
	h.s.put64(uint64(v))
	h.n++
}

// AddNA appends bit64's NA (INT64_MIN).
func (h *I64Hasher) AddNA() { h.AddInt64(I64NA) }

// Rows is the number of values added so far.
func (h *I64Hasher) Rows() int64 { return h.n }

// Sum returns the column digest (64 lowercase hex).
func (h *I64Hasher) Sum() string { return h.s.sum() }

// ChrHasher streams a chr column into its cv1 digest. The payload starts
// with the NA mask of all rows, so a caller first calls AddMask once per row
// (in row order), then AddString/AddBytes/AddNA once per row. Misuse and NUL
// bytes are recorded as a sticky error returned by Sum.
type ChrHasher struct {
	s        sink
	mask     int64 // mask bytes written
	maskNA   int64 // how many of them were NA
	vals     int64 // values written
	valsNA   int64 // how many of them were NA
	err      error
	inValues bool
}

// NewChrHasher starts a chr column.
func NewChrHasher(name string) *ChrHasher { return &ChrHasher{s: newSink(KindChr, name)} }

// AddMask appends the NA-mask byte of the next row.
func (h *ChrHasher) AddMask(na bool) {
	if h.inValues {
		h.setErr(fmt.Errorf("%w: mask byte after values", ErrColumnLength))
		return
	}
	if na {
		h.s.putByte(1)
		h.maskNA++
	} else {
		h.s.putByte(0)
	}
	h.mask++
}

// AddMaskZeros appends n mask bytes for rows that are all non-NA.
func (h *ChrHasher) AddMaskZeros(n int64) {
	if h.inValues {
		h.setErr(fmt.Errorf("%w: mask bytes after values", ErrColumnLength))
		return
	}
	var zeros [1024]byte
	for left := n; left > 0; {
		k := min(left, int64(len(zeros)))
		h.s.putBytes(zeros[:k])
		left -= k
	}
	h.mask += n
}

// AddString appends one non-NA value.
func (h *ChrHasher) AddString(v string) {
	h.startValues()
	if strings.IndexByte(v, 0) >= 0 {
		h.setErr(fmt.Errorf("row %d: %w", h.vals+1, ErrNULInString))
	}
	h.s.putString(v)
	h.s.putByte(0)
	h.vals++
}

// AddBytes appends one non-NA value given as UTF-8 bytes.
func (h *ChrHasher) AddBytes(v []byte) {
	h.startValues()
	if bytes.IndexByte(v, 0) >= 0 {
		h.setErr(fmt.Errorf("row %d: %w", h.vals+1, ErrNULInString))
	}
	h.s.putBytes(v)
	h.s.putByte(0)
	h.vals++
}

// AddNA appends one NA value (a lone 0x00).
func (h *ChrHasher) AddNA() {
	h.startValues()
	h.s.putByte(0)
	h.vals++
	h.valsNA++
}

func (h *ChrHasher) startValues() { h.inValues = true }

func (h *ChrHasher) setErr(err error) {
	if h.err == nil {
		h.err = err
	}
}

// Err returns the first error recorded so far.
func (h *ChrHasher) Err() error { return h.err }

// Rows is the number of values added so far.
func (h *ChrHasher) Rows() int64 { return h.vals }

// Sum returns the column digest, or the recorded error (ErrNULInString,
// ErrColumnLength).
func (h *ChrHasher) Sum() (string, error) {
	if h.err != nil {
		return "", h.err
	}
	if h.mask != h.vals || h.maskNA != h.valsNA {
		return "", fmt.Errorf("%w: mask has %d rows (%d NA), values %d rows (%d NA)",
			ErrColumnLength, h.mask, h.maskNA, h.vals, h.valsNA)
	}
	return h.s.sum(), nil
}

// TableDigest combines column digests into the data_sha (contract 4.1 step 3).
// The digests are hashed as the hex text they are.
func TableDigest(nrow, ncol int64, columnSHAs []string) DataSHA {
	h := sha256.New()
	var b [8]byte
	h.Write([]byte(HashAlgo))
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(float64(nrow)))
	h.Write(b[:])
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(float64(ncol)))
	h.Write(b[:])
	for _, c := range columnSHAs {
		h.Write([]byte(c))
	}
	return DataSHA(hex.EncodeToString(h.Sum(nil)))
}

// NumColumnSHA hashes an in-memory num, date, time or drtn column (units only
// for drtn). NA is R's NA bit pattern (see NA).
func NumColumnSHA(kind Kind, name, units string, values []float64) (string, error) {
	var h *NumHasher
	if kind == KindDrtn {
		h = NewDrtnHasher(name, units)
	} else {
		var err error
		if h, err = NewNumHasher(kind, name); err != nil {
			return "", err
		}
	}
	for _, v := range values {
		h.AddFloat64(v)
	}
	return h.Sum(), nil
}

// ChrColumnSHA hashes an in-memory chr column; a nil element is NA.
func ChrColumnSHA(name string, values []*string) (string, error) {
	h := NewChrHasher(name)
	for _, v := range values {
		h.AddMask(v == nil)
	}
	for _, v := range values {
		if v == nil {
			h.AddNA()
		} else {
			h.AddString(*v)
		}
	}
	sum, err := h.Sum()
	if err != nil {
		return "", fmt.Errorf("hash column %q: %w", name, err)
	}
	return sum, nil
}

// I64ColumnSHA hashes an in-memory i64 column (I64NA is NA).
func I64ColumnSHA(name string, values []int64) string {
	h := NewI64Hasher(name)
	for _, v := range values {
		h.AddInt64(v)
	}
	return h.Sum()
}

// addBits appends one value given as its IEEE-754 bit pattern.
func (h *NumHasher) addBits(b uint64) {
	h.s.put64(encodeBits(b))
	h.n++
}

// AddFloat64Bits appends one value given as its IEEE-754 bit pattern; use it
// when the value comes from raw bytes, so that no float arithmetic can touch
// an NA payload on its way.
func (h *NumHasher) AddFloat64Bits(b uint64) { h.addBits(b) }

func encodeBits(b uint64) uint64 {
	const expMask, fracMask = 0x7FF0000000000000, 0x000FFFFFFFFFFFFF
	if b&expMask == expMask && b&fracMask != 0 { // NaN
		if uint32(b) == rNALowWord {
			return b
		}
		return CanonicalNaNBits
	}
	if b == 1<<63 { // -0
		return 0
	}
	return b
}
