package repo

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/netdeadline"
	"github.com/datomfs/datomfs/internal/testenv"
)

// testIdle is the idle timeout of remotes behind a fault proxy.
const testIdle = 2 * time.Second

// randomText is n incompressible bytes, so that a pack carrying them is
// about n bytes long.
func randomText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

// TestRemoteNotResponding drives go-git against git's smart-HTTP server
// behind a fault proxy: a paused proxy is a server that stopped answering.
func TestRemoteNotResponding(t *testing.T) {
	isolate(t)
	const token = "tok-9d2e51aa07c4"
	srv := testenv.GitHTTP(t, token)
	direct := srv.NewBareRepo(t, "data.git")
	bare := filepath.Join(srv.Root, "data.git")
	p := testenv.NewProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	url := "http://" + p.Addr + "/data.git"

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	check := func(op string, err error) {
		t.Helper()
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s through a paused proxy hung until the test's deadline: %v", op, err)
		}
		if !errors.Is(err, ErrUnreachable) || !errors.Is(err, netdeadline.ErrNotResponding) {
			t.Fatalf("%s through a paused proxy: %v; want ErrUnreachable, not responding", op, err)
		}
		msg := err.Error()
		t.Logf("%s: %s", op, msg)
		if !strings.Contains(msg, "not responding") || !strings.Contains(msg, p.Addr) || strings.Contains(msg, "\n") {
			t.Errorf("%s error %q: want one line naming the remote and saying it is not responding", op, msg)
		}
		if strings.Contains(msg, token) {
			t.Errorf("%s error shows the token: %q", op, msg)
		}
	}

	r, err := Init(ctx, t.TempDir(), url, InitOptions{Auth: TokenAuth("", token), IdleTimeout: testIdle})
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, r, "first", map[string]string{"README.md": "# through a proxy\n"})
	if err := r.Push(ctx); err != nil {
		t.Fatalf("push through the proxy: %v", err)
	}

	t.Run("paused before", func(t *testing.T) {
		h := mustCommit(t, r, "second", map[string]string{"a.bin": randomText(1, 64<<10)})
		p.Pause()
		check("Fetch", r.Fetch(ctx))
		check("Push", r.Push(ctx))
		_, err := Clone(ctx, url, filepath.Join(t.TempDir(), "c"), CloneOptions{Auth: TokenAuth("", token), IdleTimeout: testIdle})
		check("Clone", err)
		p.Resume()
		if err := r.Push(ctx); err != nil {
			t.Fatalf("push after Resume: %v", err)
		}
		if got := gitCLI(t, bare, "rev-parse", "main"); got != h {
			t.Errorf("server main = %s, want %s", got, h)
		}
	})

	t.Run("push paused mid-pack", func(t *testing.T) {
		h := mustCommit(t, r, "third", map[string]string{"b.bin": randomText(2, 1<<20)})
		p.AfterBytes(256<<10, p.Pause)
		check("Push", r.Push(ctx))
		// Cut the abandoned connection before resuming: a server that comes
		// back may otherwise still apply the stale push, and this test
		// wants the retry to do it.
		p.DropAll()
		p.Resume()
		if err := r.Push(ctx); err != nil {
			t.Fatalf("push after Resume: %v", err)
		}
		if got := gitCLI(t, bare, "rev-parse", "main"); got != h {
			t.Errorf("server main = %s, want %s", got, h)
		}
		verifyRepo(t, bare)
	})

	t.Run("fetch paused mid-pack", func(t *testing.T) {
		// Another clone, straight to the server, pushes a large commit.
		other, err := Clone(ctx, direct, filepath.Join(t.TempDir(), "other"), CloneOptions{Auth: TokenAuth("", token)})
		if err != nil {
			t.Fatal(err)
		}
		h := mustCommit(t, other, "fourth", map[string]string{"c.bin": randomText(3, 1<<20)})
		if err := other.Push(ctx); err != nil {
			t.Fatal(err)
		}
		p.AfterBytes(256<<10, p.Pause)
		check("Fetch", r.Fetch(ctx))
		p.Resume()
		res, err := r.Pull(ctx)
		if err != nil || res.To != h {
			t.Fatalf("pull after Resume = %+v, %v; want %s", res, err, h)
		}
	})

	// A thin link is slow, not dead: a push that takes longer than the
	// idle timeout succeeds while bytes keep moving.
	t.Run("slow push", func(t *testing.T) {
		o, err := Open(r.Dir())
		if err != nil {
			t.Fatal(err)
		}
		o.SetAuth(TokenAuth("", token))
		// A second, not half of one: a loaded machine stretches the
		// server's own pauses (git http-backend indexing the pack before
		// it answers).
		o.net.Idle = time.Second
		h := mustCommit(t, o, "fifth", map[string]string{"d.bin": randomText(4, 1<<20)})
		p.Slow(256 << 10) // 4 s: 4 idle timeouts
		defer p.Slow(0)
		if err := o.Push(ctx); err != nil {
			t.Fatalf("slow push: %v", err)
		}
		if got := gitCLI(t, bare, "rev-parse", "main"); got != h {
			t.Errorf("server main = %s, want %s", got, h)
		}
	})

	// Connections cut mid-pack: a clear error, and the server's branch is
	// where it was.
	t.Run("dropped", func(t *testing.T) {
		before := gitCLI(t, bare, "rev-parse", "main")
		mustCommit(t, r, "sixth", map[string]string{"e.bin": randomText(5, 1<<20)})
		p.AfterBytes(256<<10, p.DropAll)
		err := r.Push(ctx)
		if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "\n") {
			t.Errorf("push cut mid-pack: %v; want a one-line ErrUnreachable without the token", err)
		}
		t.Logf("push cut mid-pack: %v", err)
		if got := gitCLI(t, bare, "rev-parse", "main"); got != before {
			t.Errorf("server main moved to %s after a cut push, want %s", got, before)
		}
		if err := r.Push(ctx); err != nil {
			t.Fatalf("push after the cut: %v", err)
		}
	})
}

func TestNetTimeoutsFromEnv(t *testing.T) {
	isolate(t)
	remote := testenv.BareRemoteGitDefaults(t)
	t.Setenv(netdeadline.EnvIdleTimeout, "soon")
	if _, err := Init(context.Background(), t.TempDir(), remote, InitOptions{}); err == nil || !strings.Contains(err.Error(), netdeadline.EnvIdleTimeout) {
		t.Errorf("Init with a bad %s: %v, want an error naming it", netdeadline.EnvIdleTimeout, err)
	}
	r, err := Init(context.Background(), t.TempDir(), remote, InitOptions{IdleTimeout: time.Second})
	if err != nil {
		t.Fatalf("Init with an explicit idle timeout ignores the variable: %v", err)
	}
	if _, err := Open(r.Dir()); err == nil {
		t.Errorf("Open with a bad %s succeeded", netdeadline.EnvIdleTimeout)
	}
	t.Setenv(netdeadline.EnvIdleTimeout, "3s")
	o, err := Open(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if o.net.Idle != 3*time.Second || o.net.Dial != netdeadline.DefaultDialTimeout {
		t.Errorf("Open: timeouts %+v, want idle 3s from the environment", o.net)
	}
}
