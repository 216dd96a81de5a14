package netdeadline

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		in      Timeouts
		env     string
		want    Timeouts
		wantErr bool
	}{
		{name: "defaults", want: Timeouts{Dial: DefaultDialTimeout, Idle: DefaultIdleTimeout}},
		{name: "environment", env: "2s", want: Timeouts{Dial: DefaultDialTimeout, Idle: 2 * time.Second}},
		{name: "milliseconds", env: "1500ms", want: Timeouts{Dial: DefaultDialTimeout, Idle: 1500 * time.Millisecond}},
		{name: "option wins", in: Timeouts{Dial: time.Second, Idle: 3 * time.Second}, env: "2s", want: Timeouts{Dial: time.Second, Idle: 3 * time.Second}},
		{name: "bad option ignores a bad variable", in: Timeouts{Idle: time.Second}, env: "junk", want: Timeouts{Dial: DefaultDialTimeout, Idle: time.Second}},
		{name: "no unit", env: "30", wantErr: true},
		{name: "zero", env: "0s", wantErr: true},
		{name: "negative variable", env: "-1s", wantErr: true},
		{name: "junk", env: "soon", wantErr: true},
		{name: "negative option", in: Timeouts{Idle: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvIdleTimeout, tt.env)
			got, err := tt.in.Resolve()
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Resolve() = %+v, want an error", got)
				}
				if tt.env != "" && tt.in.Idle == 0 && !strings.Contains(err.Error(), EnvIdleTimeout) {
					t.Errorf("error %q does not name %s", err, EnvIdleTimeout)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// silent accepts connections and never answers (it reads, so requests are
// delivered, and holds the connection open).
func silent(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				go io.Copy(io.Discard, c)
				<-done
				c.Close()
			})
		}
	})
	t.Cleanup(func() { ln.Close(); close(done); wg.Wait() })
	return ln.Addr().String()
}

func dialIdle(t *testing.T, addr string, idle time.Duration) net.Conn {
	t.Helper()
	c, err := DialContext(Timeouts{Dial: 5 * time.Second, Idle: idle})(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// within runs f and fails the test if it has not returned after limit (a
// hang, not a timing check: limit is many times what f needs).
func within(t *testing.T, limit time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still blocked after %v", limit)
	}
}

func checkIdle(t *testing.T, err error, addr string) {
	t.Helper()
	ie, ok := AsIdle(err)
	if !ok || !errors.Is(err, ErrNotResponding) {
		t.Fatalf("error %v (%T), want an *IdleError", err, err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error timeout", err)
	}
	if addr != "" && ie.Addr != addr {
		t.Errorf("IdleError.Addr = %q, want %q", ie.Addr, addr)
	}
	if msg := err.Error(); !strings.Contains(msg, "not responding") || strings.Contains(msg, "\n") {
		t.Errorf("message %q: want one line saying \"not responding\"", msg)
	}
}

func TestSilentPeer(t *testing.T) {
	addr := silent(t)
	c := dialIdle(t, addr, 300*time.Millisecond)
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, func() {
		_, err := c.Read(make([]byte, 10))
		checkIdle(t, err, addr)
	})
}

// TestBlockedWrite: a peer that stops reading blocks our writes once the
// socket buffers are full; the write fails instead of hanging.
func TestBlockedWrite(t *testing.T) {
	p := testenv.NewProxy(t, silent(t))
	p.Pause()
	c := dialIdle(t, p.Addr, 300*time.Millisecond)
	within(t, 30*time.Second, func() {
		buf := make([]byte, 1<<20)
		for range 1000 { // far more than any socket buffer
			if _, err := c.Write(buf); err != nil {
				checkIdle(t, err, p.Addr)
				return
			}
		}
		t.Error("1000 MiB written to a peer that reads nothing")
	})
}

// TestSlowPeer: bytes that keep coming, however slowly, keep the call
// alive far past the idle timeout.
func TestSlowPeer(t *testing.T) {
	const idle = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		for range 12 { // 1.2 s in all, 4 idle timeouts
			time.Sleep(idle / 3)
			if _, err := s.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	c := dialIdle(t, ln.Addr().String(), idle)
	got, err := io.ReadAll(c)
	if err != nil || string(got) != strings.Repeat("x", 12) {
		t.Fatalf("slow peer: %q, %v; want 12 bytes and EOF", got, err)
	}
}

// TestWriteExtendsPendingRead: an HTTP client keeps a Read pending while it
// sends a request; sending must count as movement for that Read.
func TestWriteExtendsPendingRead(t *testing.T) {
	const idle = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		// Read the 10-byte "request", then answer.
		if _, err := io.ReadFull(s, make([]byte, 10)); err == nil {
			s.Write([]byte("done"))
		}
	}()
	c := dialIdle(t, ln.Addr().String(), idle)
	type result struct {
		b   []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		b := make([]byte, 4)
		_, err := io.ReadFull(c, b)
		res <- result{b, err}
	}()
	for range 10 { // one byte every idle/3: 1 s in all
		time.Sleep(idle / 3)
		if _, err := c.Write([]byte("r")); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case r := <-res:
		if r.err != nil || string(r.b) != "done" {
			t.Fatalf("pending read: %q, %v; want \"done\"", r.b, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pending read never returned")
	}
}

// TestSlowUploadThenWait: a large write drained slowly by a thin link,
// then a wait for the answer. The write may return as soon as the kernel
// has buffered the bytes; the wait must still count the link's progress.
func TestSlowUploadThenWait(t *testing.T) {
	const idle = 500 * time.Millisecond
	const size = 2 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		if _, err := io.CopyN(io.Discard, s, size); err == nil {
			s.Write([]byte("ok"))
		}
	}()
	p := testenv.NewProxy(t, ln.Addr().String())
	p.Slow(1 << 20) // 2 s for the upload: 4 idle timeouts
	c := dialIdle(t, p.Addr, idle)
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatalf("write: %v", err)
	}
	b := make([]byte, 2)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ok" {
		t.Fatalf("answer after a slow upload: %q, %v", b, err)
	}
}

func TestKernelProbe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_INFO counters are read on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err == nil {
			io.Copy(s, s)
			s.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	probe := kernelProbe(c)
	if probe == nil {
		t.Fatal("no probe for a TCP connection")
	}
	before, ok := probe()
	if !ok {
		t.Fatal("probe failed")
	}
	c.Write(make([]byte, 1000))
	io.ReadFull(c, make([]byte, 1000))
	after, _ := probe()
	if after < before+2000 {
		t.Errorf("probe moved from %d to %d after 1000 bytes each way; want +2000", before, after)
	}
	c.Close()
	if _, ok := probe(); ok {
		t.Error("probe of a closed connection succeeded")
	}
}

// TestUserDeadline: deadlines set by the connection's user still work,
// including the "deadline in the past" idiom that interrupts a Read.
func TestUserDeadline(t *testing.T) {
	c := dialIdle(t, silent(t), time.Hour)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	within(t, 30*time.Second, func() {
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, ErrNotResponding) {
			t.Errorf("read past the user's deadline: %v, want os.ErrDeadlineExceeded", err)
		}
	})
	c.SetDeadline(time.Time{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.SetReadDeadline(time.Unix(1, 0)) // interrupt
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("interrupted read: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a deadline in the past did not interrupt the read")
	}
	c.SetWriteDeadline(time.Unix(1, 0))
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("write past the user's deadline: %v", err)
	}
}

func TestTransports(t *testing.T) {
	const idle = 300 * time.Millisecond
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	defer close(release)
	ts := NewTransports(nil)
	client := &http.Client{Transport: ts}
	get := func(ctx context.Context, path string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	short := WithTimeouts(ctx, Timeouts{Dial: time.Second, Idle: idle})

	if got, err := get(short, "/"); err != nil || got != "hello" {
		t.Fatalf("GET: %q, %v", got, err)
	}
	_, err := get(short, "/hang")
	checkIdle(t, err, strings.TrimPrefix(srv.URL, "http://"))
	if ctx.Err() != nil {
		t.Fatal("the hanging request was ended by the test's deadline, not the idle timeout")
	}

	// A pooled connection left idle past the idle timeout is harmless,
	// even with the transport's own idle-connection timeout off.
	tr := ts.transport(Timeouts{Dial: time.Second, Idle: idle})
	tr.IdleConnTimeout = 0
	for range 3 {
		if got, err := get(short, "/"); err != nil || got != "hello" {
			t.Fatalf("GET after an idle pause: %q, %v", got, err)
		}
		time.Sleep(2 * idle)
	}

	// Other timeouts get their own transport; no timeouts in the context
	// means the resolved defaults.
	t.Setenv(EnvIdleTimeout, "")
	if got, err := get(WithTimeouts(ctx, Timeouts{Idle: time.Minute}), "/"); err != nil || got != "hello" {
		t.Fatalf("GET with other timeouts: %q, %v", got, err)
	}
	if got, err := get(ctx, "/"); err != nil || got != "hello" {
		t.Fatalf("GET without timeouts: %q, %v", got, err)
	}
	ts.mu.Lock()
	_, withDefaults := ts.m[Timeouts{Dial: DefaultDialTimeout, Idle: DefaultIdleTimeout}]
	n := len(ts.m)
	ts.mu.Unlock()
	if n != 3 || !withDefaults {
		t.Errorf("%d transports (defaults among them: %v), want 3", n, withDefaults)
	}
	t.Setenv(EnvIdleTimeout, "nonsense")
	if _, err := get(ctx, "/"); err == nil || !strings.Contains(err.Error(), EnvIdleTimeout) {
		t.Errorf("GET with a bad %s: %v, want an error naming it", EnvIdleTimeout, err)
	}
	ts.CloseIdleConnections()
}

func TestConfigure(t *testing.T) {
	for _, tt := range []struct {
		before, idle, want time.Duration
	}{
		{before: 90 * time.Second, idle: 30 * time.Second, want: 15 * time.Second},
		{before: 5 * time.Second, idle: 30 * time.Second, want: 5 * time.Second},
		{before: 0, idle: 2 * time.Second, want: time.Second},
	} {
		tr := &http.Transport{IdleConnTimeout: tt.before}
		Configure(tr, Timeouts{Dial: time.Second, Idle: tt.idle})
		if tr.IdleConnTimeout != tt.want || tr.DialContext == nil {
			t.Errorf("IdleConnTimeout %v, idle %v: got %v, want %v", tt.before, tt.idle, tr.IdleConnTimeout, tt.want)
		}
	}
}

// TestTransportsHTTP2: over TLS the transport may speak HTTP/2 (GitHub
// does), where one connection carries every request; a stream waiting on a
// silent server fails the same way, and the connection's idle timeout does
// not break later requests.
func TestTransportsHTTP2(t *testing.T) {
	const idle = 300 * time.Millisecond
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer close(release)
	client := &http.Client{Transport: NewTransports(srv.Client().Transport.(*http.Transport))}
	ctx := WithTimeouts(t.Context(), Timeouts{Dial: time.Second, Idle: idle})
	get := func(path string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if got, err := get("/"); err != nil || got != "HTTP/2.0" {
		t.Fatalf("GET: %q, %v; want an HTTP/2 answer", got, err)
	}
	within(t, 30*time.Second, func() {
		_, err := get("/hang")
		checkIdle(t, err, strings.TrimPrefix(srv.URL, "https://"))
	})
	for range 2 {
		time.Sleep(2 * idle)
		if got, err := get("/"); err != nil || got != "HTTP/2.0" {
			t.Fatalf("GET after an idle pause: %q, %v", got, err)
		}
	}
}
