package fs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/datomfs/datomfs/internal/rds"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/store"
)

// Errors of the mount itself (everything else comes from versions). Each
// wraps the versions sentinel that gives its errno.
var (
	errNotDir    = errors.New("not a directory")
	errIsDir     = errors.New("is a directory")
	errNotEmpty  = errors.New("directory not empty")
	errBadFlags  = errors.New("unsupported flags")
	errTooLarge  = errors.New("file too large")
	errUnsupport = errors.New("operation not supported")
)

// errnoTable is THE errno mapping of the mount: the first entry that matches
// (errors.Is) decides. Nodes never pick errnos; they hand errors to
// core.errno, which uses this table and logs.
//
//	cause                                        errno
//	versions.ErrNotFound                         ENOENT
//	versions.ErrAmbiguous (prefix matches >1)    ENOENT (logged, unlike a plain miss)
//	versions.ErrReadOnly (reader mount)          EROFS
//	errFrozen (under snapshots/ or at/)          EROFS
//	versions.ErrImmutable (touching a version)   EPERM
//	versions.ErrInvalidName                      EINVAL
//	versions.ErrInvalidInput (corrupt/refused)   EINVAL
//	rds.ErrUnsupported (no R type for a column)  EINVAL
//	versions.ErrExists                           EEXIST
//	versions.ErrAuth, store.ErrPermission        EACCES
//	versions.ErrPushRejected (retries used up)   EAGAIN (try again: someone keeps pushing)
//	store.ErrNoSpace                             ENOSPC
//	versions.ErrUnreachable                      EIO (the log line says "unreachable" and why)
//	versions.ErrIntegrity (parquet_sha mismatch) EIO (what is checked when: SEMANTICS.md)
//	versions.ErrDiverged                         EIO (the clone needs a human)
//	context.Canceled / DeadlineExceeded          EINTR
//	a syscall.Errno in the chain (local I/O)     that errno
//	anything else                                EIO
var errnoTable = []struct {
	err   error
	errno syscall.Errno
}{
	{versions.ErrNotFound, syscall.ENOENT},
	{versions.ErrAmbiguous, syscall.ENOENT},
	{versions.ErrReadOnly, syscall.EROFS},
	{errFrozen, syscall.EROFS},
	{versions.ErrImmutable, syscall.EPERM},
	{versions.ErrInvalidName, syscall.EINVAL},
	{versions.ErrInvalidInput, syscall.EINVAL},
	{rds.ErrUnsupported, syscall.EINVAL},
	{versions.ErrExists, syscall.EEXIST},
	{versions.ErrAuth, syscall.EACCES},
	{store.ErrPermission, syscall.EACCES},
	{versions.ErrPushRejected, syscall.EAGAIN},
	{store.ErrNoSpace, syscall.ENOSPC},
	{versions.ErrUnreachable, syscall.EIO},
	{versions.ErrIntegrity, syscall.EIO},
	{versions.ErrDiverged, syscall.EIO},
	{context.Canceled, syscall.EINTR},
	{context.DeadlineExceeded, syscall.EINTR},
	{errNotDir, syscall.ENOTDIR},
	{errIsDir, syscall.EISDIR},
	{errNotEmpty, syscall.ENOTEMPTY},
	{errBadFlags, syscall.EINVAL},
	{errTooLarge, syscall.EFBIG},
	{errUnsupport, syscall.ENOTSUP},
}

// Errno maps an error from versions or from the mount to the errno a FUSE
// caller sees (see errnoTable).
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	for _, e := range errnoTable {
		if errors.Is(err, e.err) {
			return e.errno
		}
	}
	var en syscall.Errno
	if errors.As(err, &en) && en != 0 {
		return en
	}
	return syscall.EIO
}

// errno translates err for the kernel and logs one line (operation, table,
// path, cause) for every error other than a plain "not found". An errno
// carries no message, so this line is where the reason is told.
func (c *core) errno(op, table, path string, err error) syscall.Errno {
	en := Errno(err)
	if en == 0 {
		return 0
	}
	if en == syscall.ENOENT && !errors.Is(err, versions.ErrAmbiguous) {
		return en
	}
	level := slog.LevelWarn
	if en == syscall.EINTR {
		level = slog.LevelDebug
	}
	c.log.Log(context.Background(), level, "datomfs: "+op+" failed",
		"table", table, "path", path, "errno", en.Error(), "err", err.Error())
	return en
}
