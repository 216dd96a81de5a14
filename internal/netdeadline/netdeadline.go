// Package netdeadline bounds how long a network call can wait on a peer that
// stopped answering. Connections it dials get a connect timeout and an idle
// timeout: once a call on the connection (a Read or a Write, including the
// pending Read an HTTP client keeps on every connection) has seen no bytes
// move in either direction for the idle timeout, it fails with an *IdleError
// (errors.Is ErrNotResponding). A slow transfer that keeps moving never
// times out, however long it takes.
//
// "Bytes moving" is judged at two levels. In the process: every Read or
// Write call, and every call that moves bytes, counts, so writing a request
// also extends the wait of a Read pending on the same connection. In the
// kernel, where available (Linux TCP_INFO): the bytes the peer acknowledged
// and the bytes received, so a large request sitting in the socket's send
// buffer while a slow link drains it is progress too. Elsewhere only the
// first level applies.
//
// The idle timeout is checked every Idle/4, so a call fails between Idle and
// 1.25×Idle after the last movement.
//
// Configuration: Timeouts travel in option structs (s3.Options, the repo
// options). Zero fields take the defaults; the idle default can be
// overridden for the whole process with the environment variable
// DATOMFS_NET_IDLE_TIMEOUT (a Go duration such as "30s" or "2s"), read by
// Timeouts.Resolve and nowhere else.
package netdeadline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Defaults for Timeouts.
const (
	DefaultDialTimeout = 5 * time.Second
	DefaultIdleTimeout = 30 * time.Second
	// EnvIdleTimeout names the environment variable that overrides
	// DefaultIdleTimeout (end-to-end tests set it to a few seconds).
	EnvIdleTimeout = "DATOMFS_NET_IDLE_TIMEOUT"

	keepAlive = 30 * time.Second
	checks    = 4 // idle checks per idle timeout
)

// ErrNotResponding is matched (errors.Is) by every *IdleError.
var ErrNotResponding = errors.New("not responding")

// IdleError is the failure of a call on a connection that saw no bytes move
// for Idle. It names the dialed address (host:port, never credentials).
type IdleError struct {
	Addr string
	Idle time.Duration
}

func (e *IdleError) Error() string {
	return fmt.Sprintf("%s not responding (no data sent or received for %s)", e.Addr, e.Idle)
}

// Is makes errors.Is(err, ErrNotResponding) true.
func (e *IdleError) Is(target error) bool { return target == ErrNotResponding }

// Timeout reports true: IdleError is a net.Error timeout.
func (e *IdleError) Timeout() bool { return true }

// Temporary reports false: the peer stopped answering; an immediate retry
// would wait as long again.
func (e *IdleError) Temporary() bool { return false }

// AsIdle returns the *IdleError in err's chain.
func AsIdle(err error) (*IdleError, bool) {
	var ie *IdleError
	ok := errors.As(err, &ie)
	return ie, ok
}

// Timeouts bound the network calls of one client.
type Timeouts struct {
	// Dial caps each connect (TCP handshake).
	Dial time.Duration
	// Idle is how long a call may see no bytes move before it fails.
	Idle time.Duration
}

// Resolve fills in zero fields: Dial with DefaultDialTimeout, Idle with
// DATOMFS_NET_IDLE_TIMEOUT when set, else DefaultIdleTimeout. A negative
// field or an unparsable variable is an error.
func (t Timeouts) Resolve() (Timeouts, error) {
	if t.Dial < 0 || t.Idle < 0 {
		return t, fmt.Errorf("network timeouts %s/%s: negative", t.Dial, t.Idle)
	}
	if t.Dial == 0 {
		t.Dial = DefaultDialTimeout
	}
	if t.Idle == 0 {
		idle, err := idleFromEnv(os.Getenv(EnvIdleTimeout))
		if err != nil {
			return t, err
		}
		t.Idle = idle
	}
	return t, nil
}

func idleFromEnv(v string) (time.Duration, error) {
	if v == "" {
		return DefaultIdleTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 30s", EnvIdleTimeout, v)
	}
	return d, nil
}

// DialContext returns a dial function (for http.Transport.DialContext)
// whose connections follow t. Zero fields of t mean no timeout of that
// kind; callers pass resolved Timeouts.
func DialContext(t Timeouts) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: t.Dial, KeepAlive: keepAlive}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil || t.Idle <= 0 {
			return c, err
		}
		return newConn(c, addr, t.Idle), nil
	}
}

// Configure makes tr dial through DialContext(t). It also closes pooled
// connections after Idle/2 unused, so the transport drops an idle
// connection before that connection's own pending read could time out.
func Configure(tr *http.Transport, t Timeouts) {
	tr.DialContext = DialContext(t)
	if t.Idle > 0 && (tr.IdleConnTimeout <= 0 || tr.IdleConnTimeout > t.Idle/2) {
		tr.IdleConnTimeout = t.Idle / 2
	}
}

// conn enforces the idle timeout on a connection. It keeps the underlying
// deadlines itself: a call whose deadline passes checks for movement and
// either waits on or fails with *IdleError. Deadlines set by the user of
// the connection are honoured as well.
type conn struct {
	net.Conn
	addr  string
	idle  time.Duration
	tick  time.Duration
	probe func() (uint64, bool) // bytes moved as the kernel counts them; nil if unknown

	mu        sync.Mutex
	lastMove  time.Time
	seen      uint64    // last probe value
	userRead  time.Time // deadlines set through SetDeadline & co.
	userWrite time.Time
}

func newConn(c net.Conn, addr string, idle time.Duration) *conn {
	nc := &conn{Conn: c, addr: addr, idle: idle, tick: max(idle/checks, time.Millisecond), probe: kernelProbe(c)}
	if nc.probe != nil {
		nc.seen, _ = nc.probe()
	}
	nc.mu.Lock()
	nc.movedLocked(time.Now())
	nc.mu.Unlock()
	return nc
}

// movedLocked records movement at now and re-arms the deadlines.
func (c *conn) movedLocked(now time.Time) {
	c.lastMove = now
	c.armLocked(now)
}

// armLocked sets the underlying deadlines to the next idle check, or to the
// user's deadline when that comes first.
func (c *conn) armLocked(now time.Time) {
	next := now.Add(c.tick)
	if limit := c.lastMove.Add(c.idle); limit.Before(next) {
		next = limit
	}
	rd, wd := next, next
	if !c.userRead.IsZero() && c.userRead.Before(rd) {
		rd = c.userRead
	}
	if !c.userWrite.IsZero() && c.userWrite.Before(wd) {
		wd = c.userWrite
	}
	// Errors mean the connection is closed; the call then fails by itself.
	_ = c.Conn.SetReadDeadline(rd)
	_ = c.Conn.SetWriteDeadline(wd)
}

func (c *conn) moved() {
	c.mu.Lock()
	c.movedLocked(time.Now())
	c.mu.Unlock()
}

// expired decides what a call whose deadline passed does: errUser (the
// user's deadline passed), errIdle (nothing moved for idle), or nil (wait
// on; the deadlines are re-armed).
func (c *conn) expired(user *time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if !user.IsZero() && !now.Before(*user) {
		return errUser
	}
	if c.probe != nil {
		if v, ok := c.probe(); ok && v != c.seen {
			c.seen = v
			c.lastMove = now
		}
	}
	if now.Sub(c.lastMove) >= c.idle {
		return &IdleError{Addr: c.addr, Idle: c.idle}
	}
	c.armLocked(now)
	return nil
}

var errUser = errors.New("user deadline")

func (c *conn) Read(p []byte) (int, error) {
	c.moved() // a new call: the caller is ready for more
	for {
		n, err := c.Conn.Read(p)
		if n > 0 {
			c.moved()
			return n, err
		}
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		switch e := c.expired(&c.userRead); {
		case e == errUser:
			return n, err
		case e != nil:
			return n, e
		}
	}
}

func (c *conn) Write(p []byte) (int, error) {
	c.moved()
	done := 0
	for {
		n, err := c.Conn.Write(p[done:])
		done += n
		if n > 0 {
			c.moved()
		}
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return done, err
		}
		switch e := c.expired(&c.userWrite); {
		case e == errUser:
			return done, err
		case e != nil:
			return done, e
		}
	}
}

func (c *conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userRead, c.userWrite = t, t
	c.armLocked(time.Now())
	return nil
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userRead = t
	c.armLocked(time.Now())
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userWrite = t
	c.armLocked(time.Now())
	return nil
}
