package testenv

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// tcpServer runs handle for every connection to a loopback listener and
// returns its address.
func tcpServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func echo(c net.Conn) { io.Copy(c, c) }

// source writes data, then closes.
func source(data []byte) func(net.Conn) {
	return func(c net.Conn) { c.Write(data) }
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// readQuiet reads from c until nothing arrives for quiet (or EOF) and
// returns what came.
func readQuiet(t *testing.T, c net.Conn, quiet time.Duration) ([]byte, error) {
	t.Helper()
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return got, nil
			}
			return got, err
		}
	}
}

// readN reads exactly n bytes, failing the test after 30 s.
func readN(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: got %q, %v", n, b, err)
	}
	return string(b)
}

func TestProxyForwards(t *testing.T) {
	p := NewProxy(t, tcpServer(t, echo))
	for _, size := range []int{1, 1000, 3 << 20} {
		c := dial(t, p.Addr)
		data := randomBytes(size)
		go func() { c.Write(data) }()
		got := make([]byte, size)
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("echo of %d bytes through the proxy: %v, equal %v", size, err, bytes.Equal(got, data))
		}
	}
	// A half-close passes through: the echo server sees EOF and closes.
	c := dial(t, p.Addr)
	c.Write([]byte("bye"))
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if got, err := io.ReadAll(c); err != nil || string(got) != "bye" {
		t.Fatalf("after a half-close: %q, %v; want \"bye\" then EOF", got, err)
	}
}

func TestProxyPauseResume(t *testing.T) {
	p := NewProxy(t, tcpServer(t, echo))
	c := dial(t, p.Addr)
	if _, err := c.Write([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c, 3); got != "one" {
		t.Fatalf("before Pause: %q", got)
	}
	p.Pause()
	p.Pause() // idempotent
	if _, err := c.Write([]byte("two")); err != nil {
		t.Fatal(err)
	}
	// A new connection is accepted while paused, but nothing moves.
	c2 := dial(t, p.Addr)
	c2.Write([]byte("three"))
	for _, cc := range []net.Conn{c, c2} {
		if got, err := readQuiet(t, cc, 300*time.Millisecond); err != nil || len(got) != 0 {
			t.Fatalf("while paused: %q, %v; want nothing", got, err)
		}
	}
	p.Resume()
	p.Resume()
	if got := readN(t, c, 3); got != "two" {
		t.Fatalf("after Resume: %q; want the held bytes", got)
	}
	if got := readN(t, c2, 5); got != "three" {
		t.Fatalf("connection made while paused, after Resume: %q", got)
	}
}

func TestProxyAfterBytes(t *testing.T) {
	data := randomBytes(200 << 10)
	p := NewProxy(t, tcpServer(t, source(data)))
	const mark = 70001 // not a chunk boundary
	p.AfterBytes(mark, p.Pause)
	c := dial(t, p.Addr)
	got, err := readQuiet(t, c, 300*time.Millisecond)
	if err != nil || !bytes.Equal(got, data[:mark]) {
		t.Fatalf("paused after %d bytes: got %d bytes (%v), want exactly the first %d", mark, len(got), err, mark)
	}
	if n := p.Forwarded(); n != mark {
		t.Errorf("Forwarded() = %d, want %d", n, mark)
	}
	p.Resume()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	rest, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(append(got, rest...), data) {
		t.Fatalf("after Resume: %d more bytes, %v; want the rest", len(rest), err)
	}
}

func TestProxyDropAll(t *testing.T) {
	data := randomBytes(1 << 20)
	p := NewProxy(t, tcpServer(t, echo))
	c := dial(t, p.Addr)
	p.AfterBytes(100<<10, p.DropAll) // mid-transfer
	go func() { c.Write(data) }()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(c)
	if err == nil && len(got) == len(data) {
		t.Fatalf("transfer completed despite DropAll")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after DropAll hung until the deadline: %v", err)
	}
	// New connections work.
	c2 := dial(t, p.Addr)
	c2.Write([]byte("again"))
	if got := readN(t, c2, 5); got != "again" {
		t.Fatalf("new connection after DropAll: %q", got)
	}
}

// TestProxySlow checks a lower bound only: the proxy sleeps to keep the
// rate, so the transfer cannot be faster whatever the machine's load.
func TestProxySlow(t *testing.T) {
	const rate = 256 << 10
	data := randomBytes(128 << 10)
	p := NewProxy(t, tcpServer(t, source(data)))
	p.Slow(rate)
	start := time.Now()
	c := dial(t, p.Addr)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(c)
	elapsed := time.Since(start)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("slow transfer: %d bytes, %v", len(got), err)
	}
	// 128 KiB at 256 KiB/s in ~50 ms chunks: the last chunk leaves at 0.45 s.
	if elapsed < 400*time.Millisecond {
		t.Errorf("128 KiB at %d B/s took %v; want at least 400ms", rate, elapsed)
	}
	p.Slow(0)
	c = dial(t, p.Addr)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if got, err := io.ReadAll(c); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after Slow(0): %d bytes, %v", len(got), err)
	}
}

// TestProxyConcurrent runs transfers while another goroutine pauses,
// resumes, slows and drops; run with -race. Close must end it all.
func TestProxyConcurrent(t *testing.T) {
	p := NewProxy(t, tcpServer(t, echo))
	data := randomBytes(256 << 10)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.Dial("tcp", p.Addr)
				if err != nil {
					return // closed
				}
				c.SetDeadline(time.Now().Add(2 * time.Second))
				go c.Write(data)
				io.CopyN(io.Discard, c, int64(len(data)))
				c.Close()
			}
		})
	}
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			switch i % 5 {
			case 0:
				p.Pause()
			case 1:
				p.Resume()
			case 2:
				p.Slow(1 << 20)
			case 3:
				p.Slow(0)
			case 4:
				p.DropAll()
				_ = p.Conns()
				_ = p.Forwarded()
			}
		}
	})
	time.Sleep(500 * time.Millisecond)
	p.Pause() // Close must not wait for a paused transfer
	p.Close()
	close(stop)
	wg.Wait()
	if _, err := net.DialTimeout("tcp", p.Addr, time.Second); err == nil {
		t.Error("the proxy still accepts connections after Close")
	}
}
