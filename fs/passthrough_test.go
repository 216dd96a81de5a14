package fs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// TestPassthroughServesCachedReads proves which path serves reads of a
// cached version: with passthrough the kernel reads the cache file itself
// and versionFile.Read never runs; with NoPassthrough every read comes through
// it. Both return the version's bytes, by read(2) and by mmap.
func TestPassthroughServesCachedReads(t *testing.T) {
	var mu sync.Mutex
	reads := map[string]int{}
	hook := func(path string) {
		mu.Lock()
		reads[path]++
		mu.Unlock()
	}
	testHookLocalRead.Store(&hook)
	t.Cleanup(func() { testHookLocalRead.Store(nil) })

	for _, c := range []struct {
		name          string
		noPassthrough bool
	}{
		{"passthrough", false},
		{"no-passthrough", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newProjectFixture(t)
			v := fx.V2
			// A read fills the verified cache (a write to a local store
			// leaves that to the first read).
			cachePath, err := fx.Project.Fetch(context.Background(), v)
			if err != nil {
				t.Fatalf("fetch %s: %v", v.ID.Short(), err)
			}
			srv := mountWith(t, fx, Options{NoPassthrough: c.noPassthrough})

			wantPT := !c.noPassthrough && os.Geteuid() == 0
			if got := srv.Passthrough(); got != wantPT {
				hint := ""
				if wantPT {
					hint = " (as root this needs a kernel with CONFIG_FUSE_PASSTHROUGH, Linux >= 6.9, and a cache folder not on overlayfs)"
				}
				t.Fatalf("Passthrough() = %v, want %v%s", got, wantPT, hint)
			}

			mu.Lock()
			clear(reads)
			mu.Unlock()

			path := filepath.Join(fx.Dir, "tables", "lb", "@"+v.ID.Short()+".parquet")
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := fx.Src[v.ID.Short()]
			if !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes, not the version's %d", len(got), len(want))
			}
			// A read at an offset, on a second handle.
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tail := make([]byte, 8)
			if _, err := f.ReadAt(tail, int64(len(want)-8)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tail, want[len(want)-8:]) {
				t.Errorf("pread of the last 8 bytes = %q, want %q", tail, want[len(want)-8:])
			}
			// mmap (pyarrow and DuckDB map files).
			mm, err := syscall.Mmap(int(f.Fd()), 0, len(want), syscall.PROT_READ, syscall.MAP_SHARED)
			if err != nil {
				t.Fatalf("mmap: %v", err)
			}
			if !bytes.Equal(mm, want) {
				t.Error("mmap of the version differs from its bytes")
			}
			if err := syscall.Munmap(mm); err != nil {
				t.Fatal(err)
			}

			mu.Lock()
			n := reads[cachePath]
			mu.Unlock()
			switch {
			case srv.Passthrough() && n != 0:
				t.Errorf("passthrough on, but versionFile.Read served %d reads of %s", n, cachePath)
			case !srv.Passthrough() && n == 0:
				t.Errorf("passthrough off, but versionFile.Read served no read of %s", cachePath)
			}
		})
	}
}

// mountWith mounts fx.Project with o (logger and converter filled in) and
// unmounts when the test ends.
func mountWith(t *testing.T, fx *fixture, o Options) *Server {
	t.Helper()
	return fx.mountOpts(t, fx.Project, o)
}
