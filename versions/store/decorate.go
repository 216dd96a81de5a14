package store

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// Decorators add a cross-cutting concern (logging, request counting) to a
// Store by embedding it, and are stacked in one place where a project's
// store is opened (versions.Options.WrapStore). Each has an Unwrap method
// returning the store it wraps, so that As still finds the optional
// interfaces (Checker, TempSweeper) of the backend underneath.

// As returns the first store of s's chain of decorators, s itself first,
// that implements T; callers use it instead of a type assertion to reach an
// optional interface:
//
//	if c, ok := store.As[store.Checker](s); ok { ... }
func As[T any](s Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		u, ok := s.(interface{ Unwrap() Store })
		if !ok {
			break
		}
		s = u.Unwrap()
	}
	var zero T
	return zero, false
}

// WithGetHook returns s with fn told about every object read through Open:
// once per successful Open, when its reader is closed, with the key, the
// offset asked for and the number of bytes the reader returned. Logging
// and counting ranged GETs are such hooks. fn may be called from several
// goroutines at once.
func WithGetHook(s Store, fn func(key string, offset, length int64)) Store {
	return &getHook{Store: s, fn: fn}
}

var _ Store = (*getHook)(nil)

type getHook struct {
	Store
	fn func(key string, offset, length int64)
}

// Unwrap returns the decorated store.
func (h *getHook) Unwrap() Store { return h.Store }

func (h *getHook) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	rc, err := h.Store.Open(ctx, key, offset, length)
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, done: func(n int64) { h.fn(key, offset, n) }}, nil
}

// countingReader counts the bytes read and reports them once, on the first
// Close.
type countingReader struct {
	io.ReadCloser
	n    atomic.Int64
	once sync.Once
	done func(n int64)
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.ReadCloser.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(func() { c.done(c.n.Load()) })
	return err
}
