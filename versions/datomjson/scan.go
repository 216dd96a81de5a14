package datomjson

// Scanner reads a document piece by piece with exactly Parse's rules, for
// a caller that needs a few fields of a large document rather than its
// whole Value tree (version_history.json holds 10,000 entries at 10,000
// versions). A Scanner accepts a text only where Parse would: a caller
// that reads a document with it, checks every step and ends with End has
// read a document Parse accepts.
type Scanner struct{ p parser }

// NewScanner returns a Scanner at the start of data. Strings without
// escapes it returns, and Text, are slices of one copy of data.
func NewScanner(data []byte) *Scanner {
	return &Scanner{p: parser{data: data, text: string(data)}}
}

// Pos is the byte offset of the next byte to read.
func (s *Scanner) Pos() int { return s.p.pos }

// Text returns data[start:end] as a string sharing the scanner's copy.
func (s *Scanner) Text(start, end int) string { return s.p.text[start:end] }

// SkipSpace skips JSON whitespace.
func (s *Scanner) SkipSpace() { s.p.skipSpace() }

// Peek returns the next byte, or 0 at the end of the data.
func (s *Scanner) Peek() byte {
	if s.p.pos < len(s.p.data) {
		return s.p.data[s.p.pos]
	}
	return 0
}

// Consume skips the next byte if it is c and reports whether it was.
func (s *Scanner) Consume(c byte) bool {
	if s.p.pos < len(s.p.data) && s.p.data[s.p.pos] == c {
		s.p.pos++
		return true
	}
	return false
}

// String reads a string (the next byte must be its opening quote),
// decoded as Parse decodes it.
func (s *Scanner) String() (string, error) {
	if s.Peek() != '"' {
		return "", s.p.errorf("expected a string")
	}
	return s.p.str()
}

// SkipValue reads one value of any kind, validating it as Parse would
// without building it. depth is the nesting depth of the container that
// holds the value (0 for the document itself, 1 for the items of a
// top-level array, ...), so that the nesting limit is Parse's.
func (s *Scanner) SkipValue(depth int) error { return s.p.skip(depth) }

// End reports an error unless only whitespace is left.
func (s *Scanner) End() error {
	s.p.skipSpace()
	if s.p.pos != len(s.p.data) {
		return s.p.errorf("unexpected %q after the document", s.p.data[s.p.pos])
	}
	return nil
}

// skip is value without the Value: it accepts and rejects exactly the
// same texts.
func (p *parser) skip(depth int) error {
	if p.pos >= len(p.data) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{' || c == '[':
		return p.skipContainer(depth + 1)
	case c == '"':
		_, err := p.str() // no allocation unless the string has escapes
		return err
	case c == 't':
		_, err := p.literal("true", Value{})
		return err
	case c == 'f':
		_, err := p.literal("false", Value{})
		return err
	case c == 'n':
		_, err := p.literal("null", Value{})
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := p.numberToken()
		return err
	default:
		return p.errorf("unexpected %q", c)
	}
}

// skipContainer is object or array without the Value.
func (p *parser) skipContainer(depth int) error {
	if depth > maxDepth {
		return p.errorf("nesting deeper than %d", maxDepth)
	}
	obj := p.data[p.pos] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	p.pos++
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == closer {
		p.pos++
		return nil
	}
	for {
		p.skipSpace()
		if obj {
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return p.errorf("expected an object key")
			}
			if _, err := p.str(); err != nil {
				return err
			}
			p.skipSpace()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return p.errorf("expected ':' after object key")
			}
			p.pos++
			p.skipSpace()
		}
		if err := p.skip(depth); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return p.errorf("unterminated container")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case closer:
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or %q", closer)
		}
	}
}
