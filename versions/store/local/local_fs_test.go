package local

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/storetest"
)

// tmpfs mounts a tmpfs of size bytes on a new directory and unmounts it when
// the test ends. It needs root (CAP_SYS_ADMIN), as CI has.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount a %s tmpfs on %s (run the tests as root, as CI does): %v", size, dir, err)
	}
	t.Cleanup(func() {
		var err error
		for range 50 {
			if err = syscall.Unmount(dir, 0); err == nil || errors.Is(err, syscall.EINVAL) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("unmount %s: %v", dir, err)
	})
	return dir
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNoSpace(t *testing.T) {
	root := tmpfs(t, "64k")
	s, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const key = "datom/lb/big.parquet"
	data := storetest.Bytes(1, 512<<10)
	err = s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{})
	if !errors.Is(err, store.ErrNoSpace) || !store.IsPermanent(err) {
		t.Fatalf("Put of 512 KiB into a 64 KiB tmpfs: %v, want permanent ErrNoSpace", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a Put that ran out of space left an object (Stat: %v)", err)
	}
	noTempFiles(t, root)
	// The space is given back: a small object still fits.
	if err := s.Put(ctx, key, strings.NewReader("small"), 5, store.PutOptions{}); err != nil {
		t.Errorf("small Put after ENOSPC: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	root := tmpfs(t, "1m")
	s, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const key = "datom/dm/a.parquet"
	if err := s.Put(ctx, key, strings.NewReader("data"), 4, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", root, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	err = s.Put(ctx, "datom/dm/b.parquet", strings.NewReader("x"), 1, store.PutOptions{})
	if !errors.Is(err, store.ErrPermission) || !store.IsPermanent(err) {
		t.Errorf("Put on a read-only store: %v, want permanent ErrPermission", err)
	}
	err = s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{})
	if !errors.Is(err, store.ErrPermission) {
		t.Errorf("overwrite on a read-only store: %v, want ErrPermission", err)
	}
	if err := s.Remove(ctx, key); !errors.Is(err, store.ErrPermission) {
		t.Errorf("Remove on a read-only store: %v, want ErrPermission", err)
	}
	rc, err := s.Open(ctx, key, 0, -1)
	if err != nil {
		t.Fatalf("Open on a read-only store: %v", err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "data" {
		t.Errorf("read %q, want %q", b, "data")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		errno syscall.Errno
		want  error
	}{
		{syscall.ENOSPC, store.ErrNoSpace},
		{syscall.EDQUOT, store.ErrNoSpace},
		{syscall.EACCES, store.ErrPermission},
		{syscall.EPERM, store.ErrPermission},
		{syscall.EROFS, store.ErrPermission},
		{syscall.ENOENT, store.ErrNotFound},
	}
	for _, c := range cases {
		err := classify("put", "/x/y", &os.PathError{Op: "open", Path: "/x/y", Err: c.errno})
		if !errors.Is(err, c.want) || !errors.Is(err, c.errno) {
			t.Errorf("classify(%v) = %v, want %v wrapping the errno", c.errno, err, c.want)
		}
		if !strings.HasPrefix(err.Error(), "put /x/y: ") {
			t.Errorf("classify(%v) = %q, want it to start with the action and path", c.errno, err)
		}
	}
	if err := classify("put", "/x", syscall.EIO); errors.Is(err, store.ErrPermission) || errors.Is(err, store.ErrNoSpace) || !errors.Is(err, syscall.EIO) {
		t.Errorf("classify(EIO) = %v, want a plain wrapped error", err)
	}
}

func TestRoot(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "no", "such", "dir")
	if _, err := New(missing, Options{}); !errors.Is(err, store.ErrUnreachable) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("New on a missing root: %v, want ErrUnreachable saying it does not exist", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file, Options{}); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("New on a file: %v, want ErrUnreachable", err)
	}
	s, err := New(missing, Options{CreateRoot: true, Prefix: "proj/"})
	if err != nil {
		t.Fatalf("New with CreateRoot: %v", err)
	}
	if err := s.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	if got, want := s.Location(), filepath.Join(missing, "proj"); got != want {
		t.Errorf("Location() = %q, want %q", got, want)
	}

	// Objects live at <root>/<key>, readable by others.
	key := store.Layout{Prefix: "proj/"}.MetadataKey(meta.MustTableName("dm"))
	if err := s.Put(ctx, key, strings.NewReader("{}\n"), 3, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(missing, "proj", "datom", "dm", ".metadata", "metadata.json")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("object not at %s: %v", p, err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("object mode %v, want 0644", fi.Mode().Perm())
	}

	// The root disappears (an unmounted share): not "not found" but unreachable.
	if err := os.RemoveAll(missing); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("Stat with the root gone: %v, want ErrUnreachable", err)
	}
	if _, err := s.Open(ctx, key, 0, -1); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("Open with the root gone: %v, want ErrUnreachable", err)
	}
	if err := s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{}); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("Put with the root gone: %v, want ErrUnreachable", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Put recreated the missing root")
	}
	if _, err := s.List(ctx, ""); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("List with the root gone: %v, want ErrUnreachable", err)
	}
	if err := s.Check(ctx); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("Check with the root gone: %v, want ErrUnreachable", err)
	}
}

func TestListKeepsKeySpelling(t *testing.T) {
	s, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := store.Layout{Prefix: "a//b"}.ParquetKey(meta.MustTableName("dm"), "abc")
	if err := s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, "a//b/datom/")
	if err != nil || len(list) != 1 || list[0].Key != key {
		t.Errorf("List(a//b/datom/) = %+v, %v; want [%q]", list, err, key)
	}
	if _, err := s.Stat(ctx, list[0].Key); err != nil {
		t.Errorf("Stat of a listed key: %v", err)
	}
}

func TestListSkipsTempFiles(t *testing.T) {
	root := t.TempDir()
	s, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Put(ctx, "datom/dm/a", strings.NewReader("x"), 1, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// What a Put killed before its rename leaves behind.
	if err := os.WriteFile(filepath.Join(root, "datom", "dm", tempPrefix+"123"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, "datom/")
	if err != nil || len(list) != 1 || list[0].Key != "datom/dm/a" {
		t.Errorf("List = %+v, %v; want only datom/dm/a", list, err)
	}
}

func TestOpenKeepsSnapshot(t *testing.T) {
	s, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const key = "datom/dm/x"
	old, repl := storetest.Bytes(1, 100_000), storetest.Bytes(2, 50)
	if err := s.Put(ctx, key, bytes.NewReader(old), int64(len(old)), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(ctx, key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := s.Put(ctx, key, bytes.NewReader(repl), int64(len(repl)), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, old) {
		t.Errorf("reader opened before a Put returned %d bytes (%v); want the %d old bytes", len(got), err, len(old))
	}
}

func TestHugeLength(t *testing.T) {
	s, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "datom/x", strings.NewReader("abc"), 3, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(context.Background(), "datom/x", 1, 1<<63-1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != "bc" {
		t.Errorf("Open(1, MaxInt64) read %q, want %q", got, "bc")
	}
}

// TestBatchDefers: a batch's objects are not at their keys before Commit
// (their bytes are not yet durable), a sweep meanwhile leaves their
// temporary files alone, Commit puts them in place and Abort removes them.
func TestBatchDefers(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	l, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"datom/a/.metadata/m.json", "datom/a/x.parquet", "datom/b/.metadata/m.json"}
	put := func(b *store.Batch) {
		t.Helper()
		for _, k := range keys {
			if err := l.Put(ctx, k, strings.NewReader(k), int64(len(k)), store.PutOptions{Batch: b}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b store.Batch
	put(&b)
	for _, k := range keys {
		if _, err := l.Stat(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s before Commit: %v, want not found", k, err)
		}
	}
	swept, err := l.SweepTemp(ctx, "datom/", true)
	if err != nil || len(swept) != 0 {
		t.Fatalf("a sweep took a pending batch's files: %v %v", swept, err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		rc, err := l.Open(ctx, k, 0, -1)
		if err != nil {
			t.Fatalf("%s after Commit: %v", k, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != k {
			t.Errorf("%s holds %q", k, got)
		}
	}
	noTempFiles(t, root)
	if err := l.Put(ctx, "datom/c", strings.NewReader("c"), 1, store.PutOptions{Batch: &b}); err == nil {
		t.Error("a Put into a committed batch was accepted")
	}
	noTempFiles(t, root)

	for _, k := range keys {
		if err := l.Remove(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	var ab store.Batch
	put(&ab)
	ab.Abort()
	for _, k := range keys {
		if _, err := l.Stat(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after Abort: %v, want not found", k, err)
		}
	}
	noTempFiles(t, root)
}

// TestSweepTempFolders: a sweep removes the temporary files of dead
// writers in the shared temporary folder, in its folders and next to the
// objects, and leaves those of live writers (an unfinished batch's Puts,
// spread over the folders) alone.
func TestSweepTempFolders(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	l, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b store.Batch
	for i := range 2 * tempShards {
		k := "datom/t/.metadata/" + strconv.Itoa(i) + ".json"
		if err := l.Put(ctx, k, strings.NewReader(k), int64(len(k)), store.PutOptions{Batch: &b}); err != nil {
			t.Fatal(err)
		}
	}
	shards, _ := filepath.Glob(filepath.Join(root, tempDirName, "*", tempPrefix+"*"))
	if len(shards) != 2*tempShards {
		t.Fatalf("%d temporary files in the folders of %s, want %d", len(shards), tempDirName, 2*tempShards)
	}
	dead := []string{
		tempDirName + "/" + tempPrefix + "old",      // an older version's, in the shared folder
		tempDirName + "/3/" + tempPrefix + "killed", // a killed Put's, in a folder of it
		"datom/t/" + tempPrefix + "older",           // an older version's, next to its object
	}
	for _, d := range dead {
		p := filepath.Join(root, filepath.FromSlash(d))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	swept, err := l.SweepTemp(ctx, "datom/", true)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(swept)
	want := slices.Clone(dead)
	slices.Sort(want)
	if !slices.Equal(swept, want) {
		t.Errorf("swept %v, want %v", swept, want)
	}
	for _, d := range dead {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(d))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed: %v", d, err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatalf("commit after the sweep: %v", err)
	}
	if got, err := l.List(ctx, "datom/t/"); err != nil || len(got) != 2*tempShards {
		t.Errorf("listed %d objects (%v), want %d", len(got), err, 2*tempShards)
	}
	noTempFiles(t, root)
}
