package fs

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/datomfs/datomfs/versions"
)

// File handles of read-only files. Each reads through one reader and maps
// its errors through Errno.

// testHookLocalRead, when set (by tests, before mounting), sees the path of
// every local file read through versionFile.Read or localFile.Read: reads
// that did not pass through the kernel's passthrough path.
var testHookLocalRead atomic.Pointer[func(path string)]

func localReadHook(path string) {
	if hook := testHookLocalRead.Load(); hook != nil {
		(*hook)(path)
	}
}

// readResult turns a ReaderAt's answer into FUSE's: a short read or EOF
// is data; an error with nothing read is its errno.
func readResult(dest []byte, n int, err error) (fuse.ReadResult, syscall.Errno) {
	if err != nil && n == 0 && !isEOF(err) {
		return nil, Errno(err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// versionFile reads a version from its verified local copy, through the
// kernel's passthrough when it is granted.
type versionFile struct {
	r *versions.VersionReader
}

var (
	_ gofs.FileReader          = (*versionFile)(nil)
	_ gofs.FileReleaser        = (*versionFile)(nil)
	_ gofs.FilePassthroughFder = (*versionFile)(nil)
)

func (h *versionFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	localReadHook(h.r.Local().Name())
	f, n, err := h.r.Span(ctx, off, int64(len(dest)))
	return spanResult(f, off, n, err, Errno)
}

// spanResult answers a read with n bytes of f at off, spliced to the
// kernel by go-fuse (no copy through a buffer of ours; it falls back to
// pread where splice is unavailable): nothing past the end, and the error
// through errno otherwise.
func spanResult(f *os.File, off, n int64, err error, errno func(error) syscall.Errno) (fuse.ReadResult, syscall.Errno) {
	switch {
	case err != nil && isEOF(err), err == nil && n <= 0:
		return fuse.ReadResultData(nil), 0
	case err != nil:
		return nil, errno(err)
	}
	return fuse.ReadResultFd(f.Fd(), off, int(n)), 0
}

func (h *versionFile) PassthroughFd() (int, bool) { return int(h.r.Local().Fd()), true }

func (h *versionFile) Release(ctx context.Context) syscall.Errno {
	h.r.Close()
	return 0
}

// remoteFile reads a remote version that is still being fetched. A read
// can fail (the store stopped answering): it is logged through core.errno
// with the table and path, as every failed FUSE call is.
type remoteFile struct {
	r           *versions.VersionReader
	c           *core
	table, path string
}

var (
	_ gofs.FileReader   = (*remoteFile)(nil)
	_ gofs.FileReleaser = (*remoteFile)(nil)
)

func (h *remoteFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f, n, err := h.r.Span(ctx, off, int64(len(dest)))
	return spanResult(f, off, n, err, func(err error) syscall.Errno { return h.c.errno("read", h.table, h.path, err) })
}

func (h *remoteFile) Release(ctx context.Context) syscall.Errno {
	h.r.Close()
	return 0
}

// localFile serves a read-only local file: a CSV rendition.
type localFile struct {
	f     *os.File
	unpin func() // releases the cache entry (Project.PinVersion)
}

var (
	_ gofs.FileReader   = (*localFile)(nil)
	_ gofs.FileReleaser = (*localFile)(nil)
)

func (h *localFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	localReadHook(h.f.Name())
	n, err := h.f.ReadAt(dest, off)
	return readResult(dest, n, err)
}

func (h *localFile) Release(ctx context.Context) syscall.Errno {
	h.f.Close()
	h.unpin()
	return 0
}

// bytesFile serves a snapshot taken at open (history.json).
type bytesFile struct{ data []byte }

var _ gofs.FileReader = (*bytesFile)(nil)

func (b *bytesFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(b.data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := off + int64(len(dest))
	if end > int64(len(b.data)) {
		end = int64(len(b.data))
	}
	return fuse.ReadResultData(b.data[off:end]), 0
}

// stagedFile is an open handle on a file being written (write.go).
type stagedFile struct{ w *writeFile }

var (
	_ gofs.FileReader   = (*stagedFile)(nil)
	_ gofs.FileWriter   = (*stagedFile)(nil)
	_ gofs.FileFlusher  = (*stagedFile)(nil)
	_ gofs.FileFsyncer  = (*stagedFile)(nil)
	_ gofs.FileReleaser = (*stagedFile)(nil)

	_ gofs.FilePassthroughFder = (*stagedFile)(nil)
)

// PassthroughFd lets the kernel write a new file straight into its staging
// copy, with no round trip per write, when this handle already counts as
// having written (created, or truncated by this open): its close still
// reaches Flush, which publishes. Other opens stay on the FUSE path, where
// their first write marks them.
func (h *stagedFile) PassthroughFd() (int, bool) {
	if !h.w.isDirty() {
		return -1, false
	}
	return int(h.w.f.Fd()), true
}

func (h *stagedFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.w.f.ReadAt(dest, off)
	return readResult(dest, n, err)
}

func (h *stagedFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, err := h.w.write(data, off)
	if err != nil {
		dir, name := h.w.place()
		return uint32(n), h.w.c.errno("write", tableLabel(dir, name), dirPath(dir, name), err)
	}
	return uint32(n), 0
}

// Flush is close(2) of one descriptor: the first one after writes, by
// the process that opened the file, publishes it.
func (h *stagedFile) Flush(ctx context.Context) syscall.Errno {
	dir, name := h.w.place()
	if err := h.w.flush(ctx, callerProcess(ctx)); err != nil {
		return h.w.c.errno("close", tableLabel(dir, name), dirPath(dir, name), err)
	}
	return 0
}

// Fsync makes the staged bytes durable; publishing waits for close.
func (h *stagedFile) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return Errno(h.w.f.Sync())
}

func (h *stagedFile) Release(ctx context.Context) syscall.Errno {
	h.w.release()
	return 0
}

// callerProcess is the process (thread group id) a request comes from, or
// 0 when unknown. The kernel sends the calling thread's id, 0 for a caller
// outside the mount's pid namespace; /proc maps a thread to its process.
func callerProcess(ctx context.Context) int {
	fc, ok := ctx.(*fuse.Context)
	if !ok || fc.Caller.Pid == 0 {
		return 0
	}
	status, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(fc.Caller.Pid), 10) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			tgid, _ := strconv.Atoi(strings.TrimSpace(v))
			return tgid
		}
	}
	return 0
}
