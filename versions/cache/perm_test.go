package cache

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/datomfs/datomfs/versions/identity"
)

// TestCacheIsPrivate: whatever the umask, the cache creates folders 0700
// and files 0600: downloads, partial copies, copies and links of written
// files. Not parallel: the umask is process-wide.
func TestCacheIsPrivate(t *testing.T) {
	old := syscall.Umask(0) // the loosest: nothing is masked
	t.Cleanup(func() { syscall.Umask(old) })
	ctx := context.Background()
	c, _, body, sha := partialFixture(t, 3<<20)
	c.root = filepath.Join(t.TempDir(), "home", ".cache", "datomfs") // nothing exists yet
	const key = "datom/t/x.parquet"

	if _, err := c.Get(ctx, key, sha, nil); err != nil {
		t.Fatal(err)
	}
	// A partial copy of an object without parquet_sha (unverified/).
	p, err := c.OpenPartial(ctx, key, "", int64(len(body)), FillNever)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Written files: a copy, and a link of our own temporary file.
	src := filepath.Join(t.TempDir(), "mine.parquet")
	os.WriteFile(src, []byte("x"), 0o666)
	c.Add("datom/t/copy.parquet", identity.ParquetSHA(strings.Repeat("ab", 32)), src, false)
	c.Add("datom/t/link.parquet", identity.ParquetSHA(strings.Repeat("cd", 32)), src, true)

	n := 0
	filepath.WalkDir(filepath.Dir(c.root), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
		n++
		return nil
	})
	if n < 8 { // home, .cache, root, objects, 3 folders, unverified, files...
		t.Fatalf("walked %d entries: the cache holds less than expected", n)
	}
}

func TestCacheTightensAnExistingRoot(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	root := filepath.Join(t.TempDir(), "cache")
	os.MkdirAll(filepath.Join(root, "objects"), 0o755)
	os.Chmod(root, 0o755)
	New(root, nil, quiet)
	if fi, _ := os.Stat(root); fi.Mode().Perm() != 0o700 {
		t.Errorf("root %v, want 0700", fi.Mode().Perm())
	}

	// Private already: untouched, even a stricter mode.
	os.Chmod(root, 0o500)
	New(root, nil, quiet)
	if fi, _ := os.Stat(root); fi.Mode().Perm() != 0o500 {
		t.Errorf("a private root changed to %v", fi.Mode().Perm())
	}
	os.Chmod(root, 0o700)

	// A shared sticky folder (DATOMFS_CACHE=/tmp) is never changed.
	shared := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777|os.ModeSticky)
	New(shared, nil, quiet)
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("a shared sticky folder changed to %v", fi.Mode())
	}

	// A missing root is not created.
	missing := filepath.Join(t.TempDir(), "missing")
	New(missing, nil, quiet)
	if _, err := os.Stat(missing); err == nil {
		t.Error("New created its root")
	}
}
