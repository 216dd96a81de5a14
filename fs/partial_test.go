package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/cache"
	"github.com/datomfs/datomfs/versions/store"
)

// TestPartialReadNotResponding: a read of a remote version that is not
// cached yet, while the store has stopped answering, fails with EIO and
// logs one line naming the table, the path and the cause, as every other
// failed FUSE call does (the errno alone tells the reader nothing).
func TestPartialReadNotResponding(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "partial")
	srv.SetEnv(t)
	proxy := testenv.NewProxy(t, strings.TrimPrefix(srv.Endpoint, "http://"))
	t.Setenv("AWS_ENDPOINT_URL", "http://"+proxy.Addr)
	t.Setenv("DATOMFS_NET_IDLE_TIMEOUT", "2s")
	fx := newProjectFixtureAt(t, "s3://partial/p")
	// Bigger than the footer fetched on open, so a read at 0 misses.
	big := writeVersion(t, fx.Project, "big", parquetBytes(t, 100_000, "big"))

	// A reader with its own, empty cache: the version is served by ranged
	// reads (no background fill, so only the read fetches).
	o := fx.options()
	o.CacheDir = t.TempDir()
	reader, err := versions.OpenReader(context.Background(), fx.Store, "STUDY_001", o)
	if err != nil {
		t.Fatal(err)
	}
	fx.mountOpts(t, reader, Options{NoFill: true})
	f, err := os.Open(fx.path("big", vname(big.ID, ".parquet")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	proxy.Pause()
	defer proxy.Resume()
	_, err = f.ReadAt(make([]byte, 4096), 0)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("read with the store paused: %v, want EIO", err)
	}
	log := fx.Log.String()
	want := []string{`msg="datomfs: read failed"`, "table=big", "path=tables/big/" + vname(big.ID, ".parquet"), "not responding"}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, want[0]) {
			for _, w := range want[1:] {
				if !strings.Contains(line, w) {
					t.Errorf("the log line lacks %q: %s", w, line)
				}
			}
			return
		}
	}
	t.Errorf("no log line for the failed read:\n%s", log)
}

// TestRemoteVersionReadAndMapped: a remote version not cached yet reads the
// same by read(2), pread and mmap, as pyarrow, polars and R's arrow read;
// so does its CSV rendition, which is opened with direct I/O (mapped only
// where the kernel allows it: DIRECT_IO_ALLOW_MMAP, Linux 6.6+).
func TestRemoteVersionReadAndMapped(t *testing.T) {
	fx, v, cacheDir := mountRemoteVersion(t, "direct", Options{NoFill: true})
	want := storeBytes(t, fx.Project, v)

	path := fx.path("big", vname(v.ID, ".parquet"))
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read(2) of the remote version: %d bytes, equal %v, err %v", len(got), bytes.Equal(got, want), err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tail := make([]byte, 100)
	if _, err := f.ReadAt(tail, int64(len(want)-100)); err != nil || !bytes.Equal(tail, want[len(want)-100:]) {
		t.Fatalf("pread of the tail: %v", err)
	}
	mapsAs(t, path, want)
	// Only the working copy of the fill is there, no cache entry.
	filepath.WalkDir(cacheDir, func(path string, d iofs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(path, ".parquet") {
			t.Errorf("the version was cached (%s): the test did not read it remotely", path)
		}
		return nil
	})

	// The CSV rendition is a local file read with direct I/O (its size
	// can change under the kernel), and readers map CSVs too.
	csvPath := fx.path("big", vname(v.ID, ".csv"))
	csv, err := os.ReadFile(csvPath)
	if err != nil || !bytes.HasPrefix(csv, []byte("id,")) {
		t.Fatalf("read(2) of the CSV rendition: %.40q, %v", csv, err)
	}
	mapsAs(t, csvPath, csv)
}

// mapsAs maps path and compares it with want. The map is read in another
// process: a page fault of this one's on its own mount cannot be answered
// while the Go runtime stops the world for a collection (the fault's
// thread never stops).
func mapsAs(t *testing.T, path string, want []byte) {
	t.Helper()
	wantFile := filepath.Join(t.TempDir(), "want")
	if err := os.WriteFile(wantFile, want, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMmapHelper$")
	cmd.Env = append(os.Environ(), "DATOMFS_MMAP_HELPER="+path+"\n"+wantFile)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "mmap equal") {
		t.Errorf("mmap of %s in another process: %v\n%s", filepath.Base(path), err, out)
	}
}

// mountRemoteVersion writes a version of table big (a few MB) into an S3
// store in bucket, and mounts it with o through a reader whose cache is
// empty (returned): the version is remote, not cached yet.
func mountRemoteVersion(t *testing.T, bucket string, o Options) (*fixture, versions.Version, string) {
	t.Helper()
	srv := testenv.Versity(t)
	srv.CreateBucket(t, bucket)
	srv.SetEnv(t)
	fx := newProjectFixtureAt(t, "s3://"+bucket+"/p")
	v := writeVersion(t, fx.Project, "big", parquetBytes(t, 200_000, "big"))
	po := fx.options()
	po.CacheDir = t.TempDir()
	reader, err := versions.OpenReader(context.Background(), fx.Store, "STUDY_001", po)
	if err != nil {
		t.Fatal(err)
	}
	fx.mountOpts(t, reader, o)
	return fx, v, po.CacheDir
}

// TestMmapHelper maps the file named in DATOMFS_MMAP_HELPER and compares it
// with another (run by TestRemoteVersionReadAndMapped in a process of its
// own); without the variable it does nothing.
func TestMmapHelper(t *testing.T) {
	env := os.Getenv("DATOMFS_MMAP_HELPER")
	if env == "" {
		return
	}
	path, wantFile, _ := strings.Cut(env, "\n")
	want, err := os.ReadFile(wantFile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mm, err := syscall.Mmap(int(f.Fd()), 0, len(want), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	defer syscall.Munmap(mm)
	if !bytes.Equal(mm, want) {
		t.Fatal("mmap differs from the version's bytes")
	}
	fmt.Println("mmap equal")
}

// TestWrongRemoteBytesAreNotServedAgain: once a fill has found a remote
// version's stored bytes wrong, later opens serve none of them (neither
// fetched again unverified nor from the kernel's pages): they fail with
// EIO while the store keeps the wrong bytes, and read the right ones once
// it has them again.
func TestWrongRemoteBytesAreNotServedAgain(t *testing.T) {
	// Without passthrough the kernel keeps a version's pages across opens
	// (KEEP_CACHE) and serves them without asking.
	fx, v, _ := mountRemoteVersion(t, "wrong", Options{NoPassthrough: true})
	good := storeBytes(t, fx.Project, v)
	put := func(b []byte) {
		t.Helper()
		if err := fx.Project.Store().Put(context.Background(), fx.Project.Key(v), bytes.NewReader(b), int64(len(b)), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	put(bad)
	path := fx.path("big", vname(v.ID, ".parquet"))

	// The first open serves the bytes as they come, unverified; reading
	// them all starts the fill, whose check fails.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, f) // wrong bytes, or EIO once checked: either is right here
	eventually(t, "the fill's failed check", func() bool {
		return strings.Contains(fx.Log.String(), cache.ErrIntegrity.Error())
	})
	f.Close()

	for i := range 2 {
		if b, err := os.ReadFile(path); !errors.Is(err, syscall.EIO) {
			t.Fatalf("read %d after the failed check: %d bytes (wrong: %v), err %v; want EIO", i+1, len(b), bytes.Equal(b, bad), err)
		}
	}
	put(good)
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, good) {
		t.Fatalf("read once the store is repaired: %d bytes (right: %v, the wrong ones: %v), err %v", len(b), bytes.Equal(b, good), bytes.Equal(b, bad), err)
	}
}
