package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/datomfs/datomfs/versions"
)

// Copy-in writes. A file created in tables/ or tables/<t>/ lives in a staging
// file outside the mount. When its name is a table file (.parquet, .csv) the
// first flush of a handle that wrote to it publishes it with one
// Project.Write; a temporary name (dot-file, *.tmp, *~, *.partial) is kept
// staged until it is renamed to a table file name (the rename publishes) or
// removed. A published or refused file leaves the tree at once.

// staged is a file being written into the mount.
type staged struct {
	ino  uint64
	path string // the staging file

	// Guarded by state.mu.
	dir      string // "" for tables/, else the table
	name     string
	mode     uint32
	consumed bool // published, refused or removed: no longer in the tree
}

// isTempName: names tools use while writing, staged without publishing.
func isTempName(name string) bool {
	l := strings.ToLower(name)
	return strings.HasPrefix(name, ".") || strings.HasSuffix(l, ".tmp") ||
		strings.HasSuffix(l, "~") || strings.HasSuffix(l, ".partial")
}

// publishExt is the lower-case extension of a table file name, or "".
func publishExt(name string) string {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".parquet", ".csv":
		if strings.TrimSuffix(name, filepath.Ext(name)) != "" {
			return ext
		}
	}
	return ""
}

// targetTable is the table a file name in dir publishes to.
func targetTable(dir, name string) string {
	if dir != "" {
		return dir
	}
	return strings.TrimSuffix(name, filepath.Ext(name))
}

func stagedKey(dir, name string) string { return dir + "/" + name }

// checkNewName says whether a file may be created (or renamed to) name in
// dir ("" = tables/).
func (s *state) checkNewName(ctx context.Context, dir, name string) error {
	if s.readOnly {
		return versions.ErrReadOnly
	}
	if dir != "" {
		exists, _, err := s.tableInfo(ctx, dir)
		if err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("table %q: %w", dir, versions.ErrNotFound)
		}
		if strings.HasPrefix(name, "@") || s.isHistoryName(ctx, dir, name) {
			return fmt.Errorf("%s/%s is part of the history: %w", dir, name, versions.ErrImmutable)
		}
	}
	if isTempName(name) {
		return nil
	}
	if publishExt(name) == "" {
		return fmt.Errorf("%q: %w: only .parquet and .csv files (or temporary names) can be written here", name, versions.ErrInvalidInput)
	}
	if dir == "" {
		return checkTableName(targetTable(dir, name))
	}
	return nil
}

// create stages a new file and returns it with a writable handle on its
// staging file.
func (s *state) create(ctx context.Context, dir, name string) (*staged, *os.File, error) {
	if err := s.checkNewName(ctx, dir, name); err != nil {
		return nil, nil, err
	}
	ino := s.newStagedIno()
	st := &staged{ino: ino, dir: dir, name: name, mode: 0o644,
		path: filepath.Join(s.staging, strconv.FormatUint(ino&(1<<62-1), 10))}
	f, err := os.OpenFile(st.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("staging file for %s: %w", name, err)
	}
	s.mu.Lock()
	if old, ok := s.staged[stagedKey(dir, name)]; ok {
		old.consumed = true
		os.Remove(old.path)
	}
	s.staged[stagedKey(dir, name)] = st
	s.mu.Unlock()
	return st, f, nil
}

// lookupStaged finds a staged file by name.
func (s *state) lookupStaged(dir, name string) *staged {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.staged[stagedKey(dir, name)]
}

// stagedIn lists the staged files of a folder.
func (s *state) stagedIn(dir string) map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]uint64{}
	for _, st := range s.staged {
		if st.dir == dir {
			out[st.name] = st.ino
		}
	}
	return out
}

// place returns where a staged file is, and whether it is still there.
func (s *state) place(st *staged) (dir, name string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return st.dir, st.name, !st.consumed
}

// take removes a staged file from the tree; false if it was gone already.
func (s *state) take(st *staged) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.consumed {
		return false
	}
	st.consumed = true
	if s.staged[stagedKey(st.dir, st.name)] == st {
		delete(s.staged, stagedKey(st.dir, st.name))
	}
	return true
}

// stagedAttr describes a staged file.
func (s *state) stagedAttr(st *staged) (size int64, mode uint32, mtime time.Time, err error) {
	fi, err := os.Stat(st.path)
	if err != nil {
		return 0, 0, time.Time{}, err
	}
	s.mu.Lock()
	mode = st.mode
	s.mu.Unlock()
	return fi.Size(), mode, fi.ModTime(), nil
}

// setStaged applies truncate, chmod and utimes to a staged file.
func (s *state) setStaged(st *staged, size *int64, mode *uint32, atime, mtime *time.Time) error {
	if s.readOnly {
		return versions.ErrReadOnly
	}
	if size != nil {
		if err := os.Truncate(st.path, *size); err != nil {
			return err
		}
	}
	if mode != nil {
		s.mu.Lock()
		st.mode = *mode & 0o7777
		s.mu.Unlock()
	}
	if atime != nil || mtime != nil {
		fi, err := os.Stat(st.path)
		if err != nil {
			return err
		}
		a, m := fi.ModTime(), fi.ModTime()
		if atime != nil {
			a = *atime
		}
		if mtime != nil {
			m = *mtime
		}
		if err := os.Chtimes(st.path, a, m); err != nil {
			return err
		}
	}
	return nil
}

// unlinkStaged removes a staged file (the writer's own temporary).
func (s *state) unlinkStaged(st *staged) {
	if s.take(st) {
		os.Remove(st.path)
	}
}

// rename moves a staged file. To a table file name it publishes (and the
// rename returns the write's error); to a temporary name it just moves.
func (s *state) rename(ctx context.Context, st *staged, dstDir, dstName string) error {
	if err := s.checkNewName(ctx, dstDir, dstName); err != nil {
		return err
	}
	if isTempName(dstName) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if st.consumed {
			return versions.ErrNotFound
		}
		if old, ok := s.staged[stagedKey(dstDir, dstName)]; ok && old != st {
			old.consumed = true
			os.Remove(old.path)
		}
		delete(s.staged, stagedKey(st.dir, st.name))
		st.dir, st.name = dstDir, dstName
		s.staged[stagedKey(dstDir, dstName)] = st
		return nil
	}
	if !s.take(st) {
		return versions.ErrNotFound
	}
	defer os.Remove(st.path)
	return s.publish(ctx, st, dstDir, dstName)
}

// publishOnClose is the first flush of a handle that wrote: a table file
// name publishes (once), a temporary name stays staged.
func (s *state) publishOnClose(ctx context.Context, st *staged) (published bool, err error) {
	dir, name, ok := s.place(st)
	if !ok || isTempName(name) {
		return false, nil
	}
	if !s.take(st) {
		return false, nil
	}
	defer os.Remove(st.path)
	return true, s.publish(ctx, st, dir, name)
}

// publish writes the staged bytes as a new version: one Project.Write, with
// pull-and-redo on a push race. It ignores the caller's interrupts: a
// write is finished or refused, never abandoned half-way.
func (s *state) publish(ctx context.Context, st *staged, dir, name string) error {
	table := targetTable(dir, name)
	if err := checkTableName(table); err != nil {
		return err
	}
	// versions.Write picks parquet or CSV by the file's extension.
	input := st.path + "-input" + publishExt(name)
	if err := os.Link(st.path, input); err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	defer os.Remove(input)
	res, err := s.p.Write(context.WithoutCancel(ctx), versions.WriteRequest{
		Table:   table,
		Path:    input,
		Message: fmt.Sprintf("Update %s (%s copied in through datomfs mount)", table, name),
		Pull:    true,
		Retries: 5,
	})
	if err == nil {
		s.log.Info("datomfs: write", "table", table, "path", name, "change", string(res.Change), "version", res.Version.Short(), "attempts", res.Attempts)
	}
	// The write pulled: the listings may have changed, whatever its outcome.
	s.refreshed(s.resync(context.WithoutCancel(ctx)))
	if err != nil {
		return fmt.Errorf("write %s as table %s: %w", name, table, err)
	}
	return nil
}

// writeFile is a handle on a staged file.
type writeFile struct {
	s  *state
	st *staged
	f  *os.File

	mu      sync.Mutex
	dirty   bool // saw writes (or was created / truncated by this open)
	flushed bool // published (or refused) once: later flushes repeat result
	result  error
}

func (w *writeFile) write(data []byte, off int64) (int, error) {
	w.mu.Lock()
	w.dirty = true
	w.mu.Unlock()
	return w.f.WriteAt(data, off)
}

// flush publishes on the first flush that follows writes and returns the
// recorded outcome on every later one (dup'd and inherited descriptors).
func (w *writeFile) flush(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.flushed {
		return w.result
	}
	if !w.dirty {
		return nil
	}
	published, err := w.s.publishOnClose(ctx, w.st)
	if published {
		w.flushed, w.result = true, err
	}
	return err
}

// release only cleans up: the kernel ignores its error.
func (w *writeFile) release() {
	w.f.Close()
	if _, _, ok := w.s.place(w.st); !ok {
		os.Remove(w.st.path)
	}
}

// touched marks the handle as having changed the file (ftruncate).
func (w *writeFile) touched() {
	w.mu.Lock()
	w.dirty = true
	w.mu.Unlock()
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
