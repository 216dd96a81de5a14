package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/datomfs/datomfs/internal/netdeadline"
	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/storetest"
)

// testIdle is the idle timeout of stores behind a fault proxy: short, so
// the tests take seconds, but long enough for a loaded gateway to answer.
const testIdle = 2 * time.Second

// proxied returns a store on a fresh bucket reached through a fault proxy,
// and a store on the same bucket that talks to the gateway directly (to
// look at what the proxied calls left behind).
func (v *server) proxied(t *testing.T, edit func(*Options)) (*S3, *S3, *testenv.Proxy) {
	t.Helper()
	direct := v.newStore(t, nil)
	p := testenv.NewProxy(t, strings.TrimPrefix(v.Endpoint, "http://"))
	opts := Options{
		Bucket: direct.bucket, Prefix: "proj/", Endpoint: "http://" + p.Addr,
		Credentials: v.creds(), IdleTimeout: testIdle,
	}
	if edit != nil {
		edit(&opts)
	}
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, direct, p
}

// deadlineCtx is the test's bound on any one call: far above what the
// idle timeout allows, so reaching it means the call hung.
func deadlineCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkNotResponding wants err to be the store's own one-line "not
// responding" failure, naming the endpoint and no secret, returned before
// the test's deadline.
func checkNotResponding(t *testing.T, ctx context.Context, v *server, endpoint, op string, err error) {
	t.Helper()
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s through a paused proxy hung until the test's deadline: %v", op, err)
	}
	if !errors.Is(err, store.ErrUnreachable) {
		t.Fatalf("%s through a paused proxy: %v; want ErrUnreachable", op, err)
	}
	msg := err.Error()
	t.Logf("%s: %s", op, msg)
	if !strings.Contains(msg, "not responding") || !strings.Contains(msg, endpoint) || strings.Contains(msg, "\n") {
		t.Errorf("%s error %q: want one line saying the endpoint %s is not responding", op, msg, endpoint)
	}
	if strings.Contains(msg, v.SecretKey) || strings.Contains(msg, v.AccessKey) {
		t.Errorf("%s error shows a credential: %q", op, msg)
	}
}

// checkNothingHalfWritten wants key absent, or present with all of data.
func checkNothingHalfWritten(t *testing.T, direct *S3, key string, data []byte) {
	t.Helper()
	info, err := direct.Stat(context.Background(), key)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		t.Fatalf("Stat after a failed Put: %v", err)
	case info.Size != int64(len(data)):
		t.Fatalf("after a failed Put the key holds %d of %d bytes", info.Size, len(data))
	default:
		if got := readAll(t, direct, key); !bytes.Equal(got, data) {
			t.Fatalf("after a failed Put the key holds other bytes")
		}
	}
}

func TestNotResponding(t *testing.T) {
	v := newServer(t)

	t.Run("Put", func(t *testing.T) {
		s, direct, p := v.proxied(t, nil)
		const key = "proj/datom/nr/put.parquet"
		data := storetest.Bytes(51, 6<<20) // one PutObject
		p.AfterBytes(2<<20, p.Pause)       // mid-body
		ctx := deadlineCtx(t)
		err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{})
		checkNotResponding(t, ctx, v, p.Addr, "Put", err)

		// Still paused: every call gives up by itself.
		_, err = s.Stat(ctx, key)
		checkNotResponding(t, ctx, v, p.Addr, "Stat", err)
		_, err = s.Open(ctx, key, 0, -1)
		checkNotResponding(t, ctx, v, p.Addr, "Open", err)
		_, err = s.List(ctx, "proj/")
		checkNotResponding(t, ctx, v, p.Addr, "List", err)

		p.Resume()
		checkNothingHalfWritten(t, direct, key, data)
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
			t.Fatalf("Put after Resume: %v", err)
		}
		if got := readAll(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("read after Resume: %d bytes, want the %d put", len(got), len(data))
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		s, direct, p := v.proxied(t, func(o *Options) {
			o.MultipartThreshold, o.PartSize, o.Concurrency = MinPartSize, MinPartSize, 2
		})
		const key = "proj/datom/nr/multi.parquet"
		data := storetest.Bytes(52, 3*MinPartSize)
		p.AfterBytes(7<<20, p.Pause) // parts in flight
		ctx := deadlineCtx(t)
		err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{})
		checkNotResponding(t, ctx, v, p.Addr, "multipart Put", err)
		p.Resume()
		checkNothingHalfWritten(t, direct, key, data)
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
			t.Fatalf("multipart Put after Resume: %v", err)
		}
		if got := readAll(t, direct, key); !bytes.Equal(got, data) {
			t.Fatalf("object after Resume: %d bytes, want the %d put", len(got), len(data))
		}
	})

	t.Run("Get", func(t *testing.T) {
		s, _, p := v.proxied(t, nil)
		const key = "proj/datom/nr/get.parquet"
		data := storetest.Bytes(53, 6<<20)
		ctx := deadlineCtx(t)
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		p.AfterBytes(2<<20, p.Pause) // mid-body of the response
		rc, err := s.Open(ctx, key, 0, -1)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if len(got) >= len(data) {
			t.Fatalf("read all %d bytes through a paused proxy", len(got))
		}
		checkNotResponding(t, ctx, v, p.Addr, "reading a body", err)
		p.Resume()
		if got := readAll(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("read after Resume: %d bytes, want %d", len(got), len(data))
		}
	})

	// A thin link is slow, not dead: transfers that take several idle
	// timeouts succeed while bytes keep moving.
	t.Run("Slow", func(t *testing.T) {
		s, _, p := v.proxied(t, func(o *Options) { o.IdleTimeout = 500 * time.Millisecond })
		const key = "proj/datom/nr/slow.parquet"
		data := storetest.Bytes(54, 3<<20)
		p.Slow(2 << 20) // 1.5 s each way
		ctx := deadlineCtx(t)
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
			t.Fatalf("slow Put: %v", err)
		}
		if got := readAll(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("slow read: %d bytes, want %d", len(got), len(data))
		}
	})
}

// TestIdleNotRetried: the retryer the store configures refuses an idle
// timeout, whatever the SDK wraps it in, and leaves other connection
// failures to the SDK's checks (which retry them).
func TestIdleNotRetried(t *testing.T) {
	s, err := New(context.Background(), Options{Bucket: "b", Endpoint: "http://127.0.0.1:1", Credentials: &Credentials{AccessKeyID: "a", SecretAccessKey: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	retryer := s.client.Options().Retryer
	idle := &netdeadline.IdleError{Addr: "127.0.0.1:1", Idle: time.Second}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"idle, as sent", &smithyhttp.RequestSendError{Err: &url.Error{Op: "Put", URL: "http://x", Err: idle}}, false},
		{"idle, transport-wrapped", &smithyhttp.RequestSendError{Err: fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", idle)}, false},
		{"connection reset", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}, true},
		{"refused", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, true},
	}
	for _, tt := range tests {
		if got := retryer.IsErrorRetryable(tt.err); got != tt.want {
			t.Errorf("%s: IsErrorRetryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestDropAll cuts every connection again and again while a Put runs, so
// that the SDK's retries fail too: the error must be clear and nothing
// half-written may be visible.
func TestDropAll(t *testing.T) {
	v := newServer(t)
	for _, tt := range []struct {
		name string
		edit func(*Options)
	}{
		{"PutObject", nil},
		{"Multipart", func(o *Options) { o.MultipartThreshold, o.PartSize = MinPartSize, MinPartSize }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, direct, p := v.proxied(t, tt.edit)
			key := "proj/datom/drop/" + tt.name + ".parquet"
			data := storetest.Bytes(55, 12<<20)
			var dropping atomic.Bool
			dropping.Store(true)
			var drop func()
			drop = func() {
				if dropping.Load() {
					p.DropAll()
					p.AfterBytes(1<<20, drop)
				}
			}
			p.AfterBytes(1<<20, drop)
			ctx := deadlineCtx(t)
			err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{})
			dropping.Store(false)
			if ctx.Err() != nil {
				t.Fatalf("Put with connections cut hung until the test's deadline: %v", err)
			}
			if err == nil {
				t.Fatal("Put succeeded although every connection was cut after 1 MiB")
			}
			if !errors.Is(err, store.ErrUnreachable) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), p.Addr) {
				t.Errorf("Put with connections cut: %v; want a one-line ErrUnreachable naming the endpoint", err)
			}
			t.Logf("Put with connections cut: %v", err)
			checkNothingHalfWritten(t, direct, key, data)

			// A body cut mid-read fails the read, clearly.
			if err := direct.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			p.AfterBytes(2<<20, p.DropAll) // mid-body of the response
			rc, err := s.Open(ctx, key, 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(rc)
			rc.Close()
			if !errors.Is(err, store.ErrUnreachable) {
				t.Errorf("read of a body whose connection was cut: %v; want ErrUnreachable", err)
			}
			// New connections work.
			if got := readAll(t, s, key); !bytes.Equal(got, data) {
				t.Fatalf("read after DropAll: %d bytes, want %d", len(got), len(data))
			}
		})
	}
}
