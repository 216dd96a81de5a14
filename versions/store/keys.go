package store

import (
	"fmt"
	"io"
	"strings"
)

// ValidateKey checks that key can name an object in any backend: not empty,
// relative, no trailing "/", no "." or ".." segment, no NUL byte. Inner "//"
// are allowed (contract 3.1 keeps them). Errors wrap ErrBadKey.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrBadKey)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: %q is absolute", ErrBadKey, key)
	case strings.HasSuffix(key, "/"):
		return fmt.Errorf("%w: %q ends in /", ErrBadKey, key)
	case strings.ContainsRune(key, 0):
		return fmt.Errorf("%w: %q contains NUL", ErrBadKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q has a %q segment", ErrBadKey, key, seg)
		}
	}
	return nil
}

// ProgressReader wraps r so that fn(done, total) is called after each read
// that returned data. A nil fn returns r itself.
func ProgressReader(r io.Reader, total int64, fn func(done, total int64)) io.Reader {
	if fn == nil {
		return r
	}
	return &progressReader{r: r, total: total, fn: fn}
}

type progressReader struct {
	r     io.Reader
	done  int64
	total int64
	fn    func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.done += int64(n)
		p.fn(p.done, p.total)
	}
	return n, err
}
