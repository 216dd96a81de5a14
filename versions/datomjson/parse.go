package datomjson

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrSyntax reports text that is not a single valid JSON document.
var ErrSyntax = errors.New("invalid JSON")

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 10000

// Parse reads one JSON document with jsonlite's list-mode model
// (fromJSON(simplifyVector = FALSE), contract 1.2): objects keep document
// order and duplicate keys; arrays become Lists (one written inline keeps
// that layout when pretty-printed again); null becomes NULL; a number
// token of only an optional "-" and digits that fits int64 is an R integer
// when within ±2147483647 and a double otherwise; any other number is a
// correctly rounded double (-0 is integer 0, -0.0 is double -0).
func Parse(data []byte) (Value, error) {
	p := parser{data: data, text: string(data)}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return Value{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return Value{}, p.errorf("unexpected %q after the document", p.data[p.pos])
	}
	return v, nil
}

type parser struct {
	data []byte
	// text is data as one string: a string without escapes is a slice
	// of it, not a copy of its own (one allocation per document, not one
	// per string; the values keep the document's text alive).
	text string
	pos  int
	// members and items are the stacks of the objects and arrays being
	// read (nested ones above their parent's): each is copied out at its
	// exact length when it closes, so a long document grows two slices,
	// not one per object and array.
	members []Member
	items   []Value
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) literal(word string, v Value) (Value, error) {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return Value{}, p.errorf("invalid literal")
	}
	p.pos += len(word)
	return v, nil
}

func (p *parser) value(depth int) (Value, error) {
	if p.pos >= len(p.data) {
		return Value{}, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return Value{}, err
		}
		return Str(s), nil
	case c == 't':
		return p.literal("true", Bool(true))
	case c == 'f':
		return p.literal("false", Bool(false))
	case c == 'n':
		return p.literal("null", Null())
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return Value{}, p.errorf("unexpected %q", c)
	}
}

func (p *parser) object(depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, p.errorf("nesting deeper than %d", maxDepth)
	}
	p.pos++ // '{'
	base := len(p.members)
	defer func() { p.members = p.members[:base] }()
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return Obj(), nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return Value{}, p.errorf("expected an object key")
		}
		key, err := p.str()
		if err != nil {
			return Value{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return Value{}, p.errorf("expected ':' after object key")
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		p.members = append(p.members, Member{Key: key, Value: v})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return Value{}, p.errorf("unterminated object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			ms := make([]Member, len(p.members)-base)
			copy(ms, p.members[base:])
			return Value{kind: KindObject, members: ms}, nil
		default:
			return Value{}, p.errorf("expected ',' or '}' in object")
		}
	}
}

func (p *parser) array(depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, p.errorf("nesting deeper than %d", maxDepth)
	}
	start := p.pos
	p.pos++ // '['
	base := len(p.items)
	defer func() { p.items = p.items[:base] }()
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return List(), nil
	}
	for {
		p.skipSpace()
		v, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		p.items = append(p.items, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return Value{}, p.errorf("unterminated array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			items := make([]Value, len(p.items)-base)
			copy(items, p.items[base:])
			return Value{kind: KindList, items: items, inline: isInline(p.data[start:p.pos], items)}, nil
		default:
			return Value{}, p.errorf("expected ',' or ']' in array")
		}
	}
}

// isInline reports an array written on one line with only scalar
// elements, the layout jsonlite gives atomic vectors.
func isInline(text []byte, items []Value) bool {
	for _, it := range items {
		if !it.IsScalar() {
			return false
		}
	}
	return !bytes.ContainsAny(text, "\n\r")
}

// strSpecial marks the bytes str's fast path stops at: the closing quote,
// a backslash, control characters and non-ASCII bytes.
var strSpecial = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
	}
	return t
}()

// strSpecialMask has the high bit set in the first byte of x (little
// endian) that strSpecial marks, if any, and perhaps in later bytes: no
// byte before the first special one is marked.
func strSpecialMask(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	return (x | (x - 0x20*lo) | ((x ^ '"'*lo) - lo) | ((x ^ '\\'*lo) - lo)) & hi
}

func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes (and UTF-8 checked only with non-ASCII bytes).
	ascii := true
	for p.pos < len(p.data) {
		// Eight bytes at a time up to the first that may be special.
		for p.pos+8 <= len(p.data) {
			if m := strSpecialMask(binary.LittleEndian.Uint64(p.data[p.pos:])); m != 0 {
				p.pos += bits.TrailingZeros64(m) / 8
				break
			}
			p.pos += 8
		}
		if p.pos >= len(p.data) {
			break
		}
		c := p.data[p.pos]
		if !strSpecial[c] {
			p.pos++
			continue
		}
		if c == '"' {
			if !ascii && !utf8.Valid(p.data[start:p.pos]) {
				return "", p.errorf("string is not valid UTF-8")
			}
			p.pos++
			return p.text[start : p.pos-1], nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		ascii = false
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(buf) {
				return "", p.errorf("string is not valid UTF-8")
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("control character %#02x in string", c)
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		p.pos++ // backslash
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated escape")
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(utf8.RuneError)
				save := p.pos
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					p.pos += 2
					if lo, ok := p.hex4(); ok {
						r2 = lo
					} else {
						return "", p.errorf("invalid \\u escape")
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
				} else {
					r = utf8.RuneError
					p.pos = save
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errorf("invalid escape \\%c", e)
		}
	}
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

func (p *parser) number() (Value, error) {
	start := p.pos
	integer, err := p.numberToken()
	if err != nil {
		return Value{}, err
	}
	tok := string(p.data[start:p.pos])
	if integer {
		if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
			if n >= -math.MaxInt32 && n <= math.MaxInt32 {
				return Int(int32(n)), nil
			}
			return Dbl(float64(n)), nil
		}
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return Value{}, p.errorf("invalid number %q", tok)
	}
	return Dbl(f), nil
}

// numberToken reads a number's text and reports whether it is only an
// optional "-" and digits.
func (p *parser) numberToken() (integer bool, err error) {
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos >= len(p.data) {
		return false, p.errorf("incomplete number")
	}
	if p.data[p.pos] == '0' {
		p.pos++
	} else if p.digits() == 0 {
		return false, p.errorf("invalid number")
	}
	integer = true
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		integer = false
		p.pos++
		if p.digits() == 0 {
			return false, p.errorf("digit expected after '.'")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		integer = false
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return false, p.errorf("digit expected in exponent")
		}
	}
	return integer, nil
}
