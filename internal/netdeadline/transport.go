package netdeadline

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/datomfs/datomfs/internal/redact"
)

type timeoutsKey struct{}

// WithTimeouts returns a context whose HTTP requests, sent through a
// Transports, follow t.
func WithTimeouts(ctx context.Context, t Timeouts) context.Context {
	return context.WithValue(ctx, timeoutsKey{}, t)
}

// Transports is an http.RoundTripper for clients whose settings are not
// theirs to choose per call (go-git's process-wide HTTP client): it sends
// each request through an http.Transport configured with the Timeouts the
// request's context carries (WithTimeouts), else Timeouts{}.Resolve(). One
// transport, and so one connection pool, exists per distinct Timeouts value.
type Transports struct {
	base *http.Transport

	mu sync.Mutex
	m  map[Timeouts]*http.Transport
}

// NewTransports returns a Transports whose transports are clones of base
// (nil: http.DefaultTransport) made to dial through DialContext.
func NewTransports(base *http.Transport) *Transports {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	return &Transports{base: base.Clone(), m: map[Timeouts]*http.Transport{}}
}

// RoundTrip implements http.RoundTripper.
func (ts *Transports) RoundTrip(req *http.Request) (*http.Response, error) {
	t, _ := req.Context().Value(timeoutsKey{}).(Timeouts)
	t, err := t.Resolve()
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip must close the body, even on errors
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, redact.URL(req.URL.String()), err)
	}
	return ts.transport(t).RoundTrip(req)
}

func (ts *Transports) transport(t Timeouts) *http.Transport {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	tr, ok := ts.m[t]
	if !ok {
		tr = ts.base.Clone()
		Configure(tr, t)
		ts.m[t] = tr
	}
	return tr
}

// CloseIdleConnections closes the idle connections of every transport.
func (ts *Transports) CloseIdleConnections() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, tr := range ts.m {
		tr.CloseIdleConnections()
	}
}
