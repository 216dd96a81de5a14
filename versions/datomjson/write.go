package datomjson

import (
	"math"
	"strconv"
)

// Pretty serializes v in jsonlite's pretty layout (contract 1.1): two-space
// indentation, lists and objects one element per line, atomic vectors
// inline. There is no trailing newline; files in git and on a local store
// get one "\n" appended by the caller, S3 objects none.
func Pretty(v Value) []byte {
	w := writer{pretty: true}
	w.value(v, 0)
	return w.buf
}

// Compact serializes v without any whitespace (the form hashed for
// metadata_sha).
func Compact(v Value) []byte {
	w := writer{}
	w.value(v, 0)
	return w.buf
}

type writer struct {
	buf    []byte
	pretty bool
}

func (w *writer) indent(level int) {
	w.buf = append(w.buf, '\n')
	for range level {
		w.buf = append(w.buf, ' ', ' ')
	}
}

func (w *writer) value(v Value, level int) {
	switch v.kind {
	case KindNull:
		w.buf = append(w.buf, '{', '}')
	case KindNA:
		w.buf = append(w.buf, "null"...)
	case KindBool:
		if v.b {
			w.buf = append(w.buf, "true"...)
		} else {
			w.buf = append(w.buf, "false"...)
		}
	case KindInt:
		if v.i == math.MinInt32 {
			w.buf = append(w.buf, `"NA"`...)
		} else {
			w.buf = strconv.AppendInt(w.buf, int64(v.i), 10)
		}
	case KindDouble:
		w.buf = AppendDouble(w.buf, v.f)
	case KindString:
		w.buf = AppendString(w.buf, v.s)
	case KindVector:
		w.inlineArray(v, level)
	case KindList:
		if v.inline {
			w.inlineArray(v, level)
			return
		}
		if len(v.items) == 0 {
			w.buf = append(w.buf, '[', ']')
			return
		}
		w.buf = append(w.buf, '[')
		for i, it := range v.items {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if w.pretty {
				w.indent(level + 1)
			}
			w.value(it, level+1)
		}
		if w.pretty {
			w.indent(level)
		}
		w.buf = append(w.buf, ']')
	case KindObject:
		if len(v.members) == 0 {
			w.buf = append(w.buf, '{', '}')
			return
		}
		names := cleanNames(v.members)
		w.buf = append(w.buf, '{')
		for i, m := range v.members {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if w.pretty {
				w.indent(level + 1)
			}
			w.buf = AppendString(w.buf, names[i])
			w.buf = append(w.buf, ':')
			if w.pretty {
				w.buf = append(w.buf, ' ')
			}
			w.value(m.Value, level+1)
		}
		if w.pretty {
			w.indent(level)
		}
		w.buf = append(w.buf, '}')
	}
}

// inlineArray writes an array on one line: ["a", "b"] (pretty) or
// ["a","b"].
func (w *writer) inlineArray(v Value, level int) {
	w.buf = append(w.buf, '[')
	for i, it := range v.items {
		if i > 0 {
			w.buf = append(w.buf, ',')
			if w.pretty {
				w.buf = append(w.buf, ' ')
			}
		}
		w.value(it, level+1)
	}
	w.buf = append(w.buf, ']')
}

// cleanNames applies jsonlite's key cleanup: an empty key becomes its
// 1-based position, then duplicates are made unique as R make.unique does
// (later occurrences get ".1", ".2", … skipping names already taken).
func cleanNames(ms []Member) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Key
		if m.Key == "" {
			names[i] = strconv.Itoa(i + 1)
		}
	}
	taken := make(map[string]bool, len(names))
	dup := false
	for _, n := range names {
		if taken[n] {
			dup = true
		}
		taken[n] = true
	}
	if !dup {
		return names
	}
	seen := make(map[string]bool, len(names))
	next := map[string]int{}
	for i, n := range names {
		if !seen[n] {
			seen[n] = true
			continue
		}
		cnt := next[n]
		if cnt == 0 {
			cnt = 1
		}
		var cand string
		for ; ; cnt++ {
			cand = n + "." + strconv.Itoa(cnt)
			if !taken[cand] {
				break
			}
		}
		taken[cand] = true
		next[n] = cnt + 1
		names[i] = cand
	}
	return names
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string escaped the way jsonlite does:
// per byte, \\ \" \n \r \t \b \f, other control bytes as lowercase
// \u00xx, "/" as "\/" only right after "<", everything else (DEL,
// non-ASCII, U+2028/2029) raw.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '"':
			dst = append(dst, '\\', '"')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '/':
			if i > 0 && s[i-1] == '<' {
				dst = append(dst, '\\', '/')
			} else {
				dst = append(dst, '/')
			}
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

// AppendDouble appends x as jsonlite prints an R double with digits = 4
// (contract 1.1), quotes included for the non-finite strings.
func AppendDouble(dst []byte, x float64) []byte {
	switch {
	case math.IsNaN(x):
		if math.Float64bits(x)&0xFFFFFFFF == 1954 {
			return append(dst, `"NA"`...)
		}
		return append(dst, `"NaN"`...)
	case math.IsInf(x, 1):
		return append(dst, `"Inf"`...)
	case math.IsInf(x, -1):
		return append(dst, `"-Inf"`...)
	}
	a := math.Abs(x)
	if a > 1e-5 && a < 2147483647 {
		return appendFixed4(dst, x)
	}
	d := math.Ceil(math.Min(17, math.Max(1, math.Log10(a))+4))
	return strconv.AppendFloat(dst, x, 'g', int(d), 64)
}

// appendFixed4 is modp_dtoa2 with prec = 4 (used by jsonlite). Every
// intermediate is forced to binary64 with float64() so that no fused
// multiply-add changes the rounding.
func appendFixed4(dst []byte, x float64) []byte {
	neg := x < 0
	v := x
	if neg {
		v = -x
	}
	whole := int64(v)
	tmp := float64(float64(v-float64(whole)) * 10000)
	frac := uint32(tmp)
	diff := float64(tmp - float64(frac))
	if diff > 0.5 || (diff == 0.5 && frac&1 == 1) {
		frac++
		if frac >= 10000 {
			frac = 0
			whole++
		}
	}
	count := 4
	for count > 0 && frac%10 == 0 {
		count--
		frac /= 10
	}
	if neg {
		dst = append(dst, '-')
	}
	dst = strconv.AppendInt(dst, whole, 10)
	if count > 0 {
		dst = append(dst, '.')
		digits := strconv.FormatUint(uint64(frac), 10)
		for i := len(digits); i < count; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	}
	return dst
}
