package testenv

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proxy is a loopback TCP proxy for fault injection: it forwards every
// connection made to Addr to a target address, and on demand stops
// forwarding (a hung server), slows down (a thin link) or cuts every open
// connection (a crash or a network reset). It is safe for concurrent use.
type Proxy struct {
	Addr string // "127.0.0.1:PORT"

	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	gate     chan struct{} // closed while forwarding; open (blocking) while paused
	rate     int64         // bytes per second per direction of a connection; 0: unlimited
	conns    map[*proxyConn]struct{}
	total    int64 // bytes forwarded, both directions, all connections
	triggers []trigger
}

type trigger struct {
	at int64 // fire when total reaches this
	fn func()
}

// proxyConn is one client connection and its connection to the target.
type proxyConn struct {
	client, server net.Conn
	done           chan struct{} // closed when either side is closed
	once           sync.Once
}

func (c *proxyConn) close(abort bool) {
	c.once.Do(func() {
		if abort {
			// RST instead of FIN, as when a peer crashes.
			if tc, ok := c.client.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			if tc, ok := c.server.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
		}
		c.client.Close()
		c.server.Close()
		close(c.done)
	})
}

// NewProxy listens on a free loopback port and forwards to target
// ("host:port"). The proxy is closed, and its connections cut, when the
// test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := (&net.ListenConfig{Control: smallReadBuffer}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	gate := make(chan struct{})
	close(gate)
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, gate: gate, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// proxyReadBuffer bounds the receive buffer of the proxy's sockets. A
// paced direction (Slow) is read slowly, and with the kernel's own buffers
// (megabytes) the TCP window reopens only once half of one has drained:
// the sender then sees nothing acknowledged for seconds at a time, a link
// that stutters rather than a slow one.
const proxyReadBuffer = 64 << 10

func smallReadBuffer(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, proxyReadBuffer)
	})
	return errors.Join(err, serr)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve connects to the target, even while paused (the kernel of a hung
// server still completes handshakes), and forwards both ways.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	server, err := (&net.Dialer{Timeout: 10 * time.Second, Control: smallReadBuffer}).Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	c := &proxyConn{client: client, server: server, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close(true)
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()

	var pumps sync.WaitGroup
	pumps.Go(func() { p.pump(c, server, client) })
	pumps.Go(func() { p.pump(c, client, server) })
	pumps.Wait()
	c.close(false)
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// pump copies src to dst chunk by chunk, waiting while paused and pacing
// to the rate. A chunk read while paused is held until Resume. An EOF from
// src is passed on as a half-close; any other failure ends both directions.
func (p *Proxy) pump(c *proxyConn, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	start, sent := time.Now(), int64(0) // pacing window
	lastRate := int64(-1)
	for {
		n, err := src.Read(buf)
		for off := 0; off < n; {
			gate, rate := p.state()
			select {
			case <-gate:
			case <-c.done:
				return
			}
			if rate != lastRate {
				start, sent, lastRate = time.Now(), 0, rate
			}
			chunk := n - off
			if rate > 0 {
				chunk = min(chunk, int(max(rate/20, 1))) // ~50 ms of data
			}
			chunk = p.clip(chunk)
			if rate > 0 {
				due := start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
				if wait := time.Until(due); wait > 0 {
					timer := time.NewTimer(wait)
					select {
					case <-timer.C:
					case <-c.done:
						timer.Stop()
						return
					}
				}
			}
			if _, werr := dst.Write(buf[off : off+chunk]); werr != nil {
				c.close(false)
				return
			}
			off += chunk
			sent += int64(chunk)
			p.forwarded(int64(chunk))
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				_ = tc.CloseWrite()
				return
			}
			c.close(false)
			return
		}
	}
}

func (p *Proxy) state() (chan struct{}, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gate, p.rate
}

// clip shortens a chunk so that it ends exactly at the next trigger.
func (p *Proxy) clip(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tr := range p.triggers {
		if left := tr.at - p.total; left > 0 && left < int64(n) {
			n = int(left)
		}
	}
	return n
}

// forwarded counts n bytes and runs the triggers they reach, outside the
// lock (a trigger may call any method).
func (p *Proxy) forwarded(n int64) {
	p.mu.Lock()
	p.total += n
	var due []func()
	kept := p.triggers[:0]
	for _, tr := range p.triggers {
		if p.total >= tr.at {
			due = append(due, tr.fn)
		} else {
			kept = append(kept, tr)
		}
	}
	p.triggers = kept
	p.mu.Unlock()
	for _, fn := range due {
		fn()
	}
}

// Forwarded is the number of bytes forwarded so far, both directions and
// all connections together.
func (p *Proxy) Forwarded() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// AfterBytes runs fn once, as soon as n more bytes (both directions, all
// connections) have been forwarded: exactly n, the chunk that crosses the
// mark is split. fn runs on the forwarding goroutine that reached the
// mark, before it forwards anything more, so AfterBytes(n, p.Pause) stops a
// one-way transfer after exactly n bytes.
func (p *Proxy) AfterBytes(n int64, fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.triggers = append(p.triggers, trigger{at: p.total + max(n, 1), fn: fn})
}

// Pause stops forwarding bytes in both directions. Connections stay open
// and new ones are accepted, as with a server that hangs.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate: // forwarding: close the gate
		p.gate = make(chan struct{})
	default: // already paused
	}
}

// Resume forwards again, including what was held while paused.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// Slow limits each direction of each connection to bytesPerSecond; 0
// removes the limit.
func (p *Proxy) Slow(bytesPerSecond int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = max(bytesPerSecond, 0)
}

// DropAll cuts every open connection abruptly (TCP RST to both sides).
// New connections are accepted and forwarded as before.
func (p *Proxy) DropAll() {
	p.mu.Lock()
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close(true)
	}
}

// Conns is the number of open connections.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops listening, cuts every connection and waits for the proxy's
// goroutines. It is safe to call more than once.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.DropAll()
	p.wg.Wait()
}
