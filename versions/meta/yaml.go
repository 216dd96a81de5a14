package meta

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small emitter for the block mappings datom writes with R yaml 2.3.x
// (libyaml, unicode on, best_width 80, indent 2). It reproduces R yaml's
// choice of quoting (implicit typing → single quotes, line breaks →
// literal block) and libyaml's scalar analysis, escaping and folding
// (contract 1.3).

const yamlBestWidth = 80

type yamlWriter struct {
	buf []byte
}

// key starts "key:" at the given indentation on a new line.
func (w *yamlWriter) key(indent int, k string) {
	for range indent {
		w.buf = append(w.buf, ' ')
	}
	w.buf = append(w.buf, k...)
	w.buf = append(w.buf, ':')
}

// mapping writes "key:" for a nested block mapping.
func (w *yamlWriter) mapping(indent int, k string) {
	w.key(indent, k)
	w.buf = append(w.buf, '\n')
}

// raw writes "key: text" where text is a plain scalar that needs no
// analysis (numbers, booleans, ~).
func (w *yamlWriter) raw(indent int, k, text string) {
	w.key(indent, k)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, text...)
	w.buf = append(w.buf, '\n')
}

func (w *yamlWriter) null(indent int, k string) { w.raw(indent, k, "~") }

func (w *yamlWriter) boolean(indent int, k string, b bool) {
	if b {
		w.raw(indent, k, "yes")
	} else {
		w.raw(indent, k, "no")
	}
}

func (w *yamlWriter) integer(indent int, k string, n int) { w.raw(indent, k, strconv.Itoa(n)) }

func (w *yamlWriter) double(indent int, k string, x float64) { w.raw(indent, k, yamlDouble(x)) }

// yamlDouble formats a double as R yaml's R_format_real with precision 7:
// %.7f, or %.7e when log10|x| < -4 or >= 7, trailing zeros stripped down to
// one digit after the point.
func yamlDouble(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return ".inf"
	case math.IsInf(x, -1):
		return "-.inf"
	case math.IsNaN(x):
		if math.Float64bits(x)&0xFFFFFFFF == 1954 {
			return ".na.real"
		}
		return ".nan"
	}
	e := math.Log10(math.Abs(x))
	if x != 0 && (e < -4 || e >= 7) {
		s := strconv.FormatFloat(x, 'e', 7, 64)
		i := strings.IndexByte(s, 'e')
		return stripZeros(s[:i]) + s[i:]
	}
	return stripZeros(strconv.FormatFloat(x, 'f', 7, 64))
}

func stripZeros(s string) string {
	for len(s) > 2 && s[len(s)-1] == '0' && s[len(s)-2] != '.' {
		s = s[:len(s)-1]
	}
	return s
}

// str writes "key: value" for a character scalar.
func (w *yamlWriter) str(indent int, k, s string) {
	w.key(indent, k)
	col := indent + utf8.RuneCountInString(k) + 1
	w.buf = appendYAMLString(w.buf, s, col, indent+2)
	w.buf = append(w.buf, '\n')
}

type yamlStyle int

const (
	stylePlain yamlStyle = iota
	styleSingle
	styleDouble
	styleLiteral
)

// yamlStringStyle is R yaml's R_string_style followed by libyaml's
// yaml_emitter_select_scalar_style for a block mapping value.
func yamlStringStyle(s string) yamlStyle {
	want := stylePlain
	switch tag := yamlImplicitTag(s); {
	case tag != "str" && tag != "str#na":
		want = styleSingle
	case strings.Contains(s, "\n"):
		want = styleLiteral
	}
	a := analyzeScalar(s)
	if want == stylePlain && (s == "" || !a.blockPlainAllowed) {
		want = styleSingle
	}
	if want == styleSingle && !a.singleQuotedAllowed {
		want = styleDouble
	}
	if want == styleLiteral && !a.blockAllowed {
		want = styleDouble
	}
	return want
}

// appendYAMLString writes " value" after a "key:" ending at column col;
// continuation lines are indented by indent.
func appendYAMLString(dst []byte, s string, col, indent int) []byte {
	dst = append(dst, ' ')
	col++
	switch yamlStringStyle(s) {
	case stylePlain:
		return writePlain(dst, s, col, indent)
	case styleSingle:
		return writeSingle(dst, s, col, indent)
	case styleLiteral:
		return writeLiteral(dst, s, indent)
	default:
		return writeDouble(dst, s, col, indent)
	}
}

func newline(dst []byte, indent int) []byte {
	dst = append(dst, '\n')
	for range indent {
		dst = append(dst, ' ')
	}
	return dst
}

func writePlain(dst []byte, s string, col, indent int) []byte {
	spaces := false
	for i, r := range s {
		if r == ' ' {
			if !spaces && col > yamlBestWidth && !(i+1 < len(s) && s[i+1] == ' ') {
				dst = newline(dst, indent)
				col = indent
			} else {
				dst = append(dst, ' ')
				col++
			}
			spaces = true
			continue
		}
		dst = utf8.AppendRune(dst, r)
		col++
		spaces = false
	}
	return dst
}

func writeSingle(dst []byte, s string, col, indent int) []byte {
	dst = append(dst, '\'')
	col++
	spaces, breaks := false, false
	for i, r := range s {
		if r == ' ' {
			if !spaces && col > yamlBestWidth && i != 0 && i != len(s)-1 && !(i+1 < len(s) && s[i+1] == ' ') {
				dst = newline(dst, indent)
				col = indent
			} else {
				dst = append(dst, ' ')
				col++
			}
			spaces = true
			continue
		}
		if yamlBreak(r) {
			// Only U+2028/U+2029 get here (other breaks force double
			// quotes or a literal block). libyaml writes the break and
			// indents the next line.
			if !breaks && r == '\n' {
				dst = append(dst, '\n')
			}
			dst = utf8.AppendRune(dst, r)
			col = 0
			breaks = true
			continue
		}
		if breaks {
			for ; col < indent; col++ {
				dst = append(dst, ' ')
			}
			breaks = false
		}
		if r == '\'' {
			dst = append(dst, '\'')
			col++
		}
		dst = utf8.AppendRune(dst, r)
		col++
		spaces = false
	}
	return append(dst, '\'')
}

func writeDouble(dst []byte, s string, col, indent int) []byte {
	const hex = "0123456789ABCDEF"
	dst = append(dst, '"')
	col++
	spaces := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			r = rune(s[i]) // invalid byte: escape as \xNN
		}
		switch {
		case !yamlPrintable(r) || r == 0xFEFF || yamlBreak(r) || r == '"' || r == '\\':
			dst = append(dst, '\\')
			col++
			switch r {
			case 0x00:
				dst = append(dst, '0')
			case 0x07:
				dst = append(dst, 'a')
			case 0x08:
				dst = append(dst, 'b')
			case 0x09:
				dst = append(dst, 't')
			case 0x0A:
				dst = append(dst, 'n')
			case 0x0B:
				dst = append(dst, 'v')
			case 0x0C:
				dst = append(dst, 'f')
			case 0x0D:
				dst = append(dst, 'r')
			case 0x1B:
				dst = append(dst, 'e')
			case '"':
				dst = append(dst, '"')
			case '\\':
				dst = append(dst, '\\')
			case 0x85:
				dst = append(dst, 'N')
			case 0xA0:
				dst = append(dst, '_')
			case 0x2028:
				dst = append(dst, 'L')
			case 0x2029:
				dst = append(dst, 'P')
			default:
				n, c := 2, byte('x')
				if r > 0xFFFF {
					n, c = 8, 'U'
				} else if r > 0xFF {
					n, c = 4, 'u'
				}
				dst = append(dst, c)
				for k := n - 1; k >= 0; k-- {
					dst = append(dst, hex[(r>>(4*k))&0xF])
				}
				col += n
			}
			col++
			spaces = false
		case r == ' ':
			if !spaces && col > yamlBestWidth && i != 0 && i != len(s)-1 {
				dst = newline(dst, indent)
				col = indent
				if i+1 < len(s) && s[i+1] == ' ' {
					dst = append(dst, '\\')
					col++
				}
			} else {
				dst = append(dst, ' ')
				col++
			}
			spaces = true
		default:
			dst = utf8.AppendRune(dst, r)
			col++
			spaces = false
		}
		i += size
	}
	return append(dst, '"')
}

func writeLiteral(dst []byte, s string, indent int) []byte {
	dst = append(dst, '|')
	if first, _ := utf8.DecodeRuneInString(s); first == ' ' || yamlBreak(first) {
		dst = append(dst, '2')
	}
	last, n := utf8.DecodeLastRuneInString(s)
	switch {
	case !yamlBreak(last):
		dst = append(dst, '-')
	case len(s) == n:
		dst = append(dst, '+')
	default:
		if prev, _ := utf8.DecodeLastRuneInString(s[:len(s)-n]); yamlBreak(prev) {
			dst = append(dst, '+')
		}
	}
	breaks := true
	dst = append(dst, '\n')
	for _, r := range s {
		if yamlBreak(r) {
			dst = utf8.AppendRune(dst, r)
			breaks = true
			continue
		}
		if breaks {
			for range indent {
				dst = append(dst, ' ')
			}
		}
		dst = utf8.AppendRune(dst, r)
		breaks = false
	}
	if breaks {
		// The content ended with a break; appendYAMLString's caller adds
		// the line end, so drop ours.
		dst = dst[:len(dst)-1]
	}
	return dst
}

// yamlPrintable is libyaml's IS_PRINTABLE (4-byte characters are not
// printable to libyaml and get escaped).
func yamlPrintable(r rune) bool {
	return r == 0x0A || (r >= 0x20 && r <= 0x7E) || (r >= 0xA0 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF)
}

func yamlBreak(r rune) bool {
	return r == '\r' || r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029
}

func yamlBlankOrEnd(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == ' ' || r == '\t' || yamlBreak(r)
}

type scalarAnalysis struct {
	blockPlainAllowed   bool
	singleQuotedAllowed bool
	blockAllowed        bool
}

// analyzeScalar is libyaml's yaml_emitter_analyze_scalar, reduced to what
// a block-context value needs.
func analyzeScalar(s string) scalarAnalysis {
	if s == "" {
		return scalarAnalysis{blockPlainAllowed: true, singleQuotedAllowed: true}
	}
	var blockIndicators, special, lineBreaks bool
	var leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak bool
	var prevSpace, prevBreak bool
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockIndicators = true
	}
	precededByWS := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			special = true
		}
		followedByWS := yamlBlankOrEnd(s, i+size)
		if i == 0 {
			switch r {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':':
				if followedByWS {
					blockIndicators = true
				}
			case '-':
				if followedByWS {
					blockIndicators = true
				}
			}
		} else {
			switch r {
			case ':':
				if followedByWS {
					blockIndicators = true
				}
			case '#':
				if precededByWS {
					blockIndicators = true
				}
			}
		}
		if !yamlPrintable(r) {
			special = true
		}
		if yamlBreak(r) {
			lineBreaks = true
		}
		switch {
		case r == ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i+size == len(s) {
				trailingSpace = true
			}
			if prevBreak {
				breakSpace = true
			}
			prevSpace, prevBreak = true, false
		case yamlBreak(r):
			if i == 0 {
				leadingBreak = true
			}
			if i+size == len(s) {
				trailingBreak = true
			}
			if prevSpace {
				spaceBreak = true
			}
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		precededByWS = r == ' ' || r == '\t' || yamlBreak(r)
		i += size
	}
	a := scalarAnalysis{blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		a.blockPlainAllowed = false
	}
	if trailingSpace {
		a.blockAllowed = false
	}
	if breakSpace {
		a.blockPlainAllowed = false
		a.singleQuotedAllowed = false
	}
	if spaceBreak || special {
		a.blockPlainAllowed = false
		a.singleQuotedAllowed = false
		a.blockAllowed = false
	}
	if lineBreaks || blockIndicators {
		a.blockPlainAllowed = false
	}
	return a
}

// yamlImplicitRE is the implicit typing of R yaml (src/implicit.re, from
// Syck); the YAML 1.1 booleans are in yamlBoolWord.
var yamlImplicitRE = regexp.MustCompile(`^(?:` +
	`~|null|Null|NULL|` + // null
	`\.na|\.na\.integer|\.na\.real|` + // R NA
	`[-+]?0x[0-9a-fA-F,]+|` + // int#hex
	`[-+]?0[0-7,]+|` + // int#oct
	`[-+]?[0-9][0-9,]*(?::[0-5]?[0-9])+|` + // int#base60
	`[-+]?(?:0|[1-9][0-9,]*)|` + // int
	`[-+]?(?:[0-9][0-9,]*)?\.[0-9,]*|` + // float#fix
	`[-+]?(?:[0-9][0-9,]*)?\.[0-9.]*[eE][-+][0-9]+|` + // float#exp
	`[-+]?[0-9][0-9,]*(?::[0-5]?[0-9])+\.[0-9,]*|` + // float#base60
	`\+?\.(?:inf|Inf|INF)|-\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|` +
	`[0-9]{4}-[0-9]{2}-[0-9]{2}|` + // timestamp#ymd
	`[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:Z|[-+][0-9]{2}(?::[0-9]{2})?)|` +
	`[0-9]{4}-[0-9]{2}-[0-9]{2}[ \t]+[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?[ \t]+(?:Z|[-+][0-9]{2}(?::[0-9]{2})?)|` +
	`<<|=` +
	`)$`)

// yamlBoolWord reports the YAML 1.1 booleans R yaml resolves.
func yamlBoolWord(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return true
	}
	return false
}

// yamlImplicitTag returns "str" when R yaml would read s back as a string
// written plain, "str#na" for ".na.character", and another tag otherwise.
func yamlImplicitTag(s string) string {
	switch {
	case s == "":
		return "null"
	case s == ".na.character":
		return "str#na"
	case yamlBoolWord(s):
		return "bool"
	case strings.ContainsRune(s, 0) || !yamlImplicitRE.MatchString(s):
		return "str"
	}
	return "implicit"
}
