package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// Copy-in writes. A file created in tables/ or tables/<t>/ lives in a staging
// file outside the mount (staging.go). When its name is a table file (one of
// versions' input formats: .parquet, .csv, .tsv, .psv, .txt) the first flush
// of a handle that wrote to it, by the process that opened it, publishes it
// with one Project.Write of the staging file as it is, in the format its name
// says; a temporary name (dot-file, *.tmp, *~, *.partial) is kept staged
// until it is renamed to a table file name (the rename publishes,
// core.rename) or removed. A
// published or refused file leaves the tree at once.

// publishOnClose is the first flush of a handle that wrote: a table file
// name publishes (once), a temporary name stays staged.
func (c *core) publishOnClose(ctx context.Context, st *staged) (published bool, err error) {
	_, name, ok := c.staging.place(st)
	if !ok || isTempName(name) {
		return false, nil
	}
	tgt := c.staging.targetOf(st)
	if !c.staging.take(st) {
		return false, nil
	}
	return true, c.publish(ctx, st, tgt, name)
}

// publish writes the staged bytes, which came in as name, as a new version
// of tgt: one Project.Write, with pull-and-redo on a push race; st must be
// taken, and publish settles it. It ignores the caller's interrupts: a
// write is finished or refused, never abandoned half-way.
func (c *core) publish(ctx context.Context, st *staged, tgt target, name string) error {
	table := tgt.table
	var size int64
	if fi, err := os.Stat(st.path); err == nil {
		size = fi.Size()
	}
	start := time.Now()
	res, err := c.p.Write(context.WithoutCancel(ctx), versions.WriteRequest{
		Table:   table,
		Path:    st.path,
		Format:  tgt.format,
		Message: fmt.Sprintf("Update %s (%s copied in through datomfs mount)", table, name),
		Pull:    true,
		Retries: 5,
		// Linked into the cache below instead of copied during the write.
		CacheLater: true,
	})
	// Once nothing can write to it, the staged file becomes the cached
	// copy of the version it uploaded (if it did), and leaves staging.
	written := err == nil
	c.staging.settle(st, func() {
		if written {
			c.p.CacheWritten(res, st.path)
		}
		os.Remove(st.path)
	})
	if err == nil {
		// One line per publish at the default level; a failure is logged
		// with its reason by core.errno, where it becomes the close errno.
		c.log.Info("datomfs: published", "table", table.String(), "version", res.Version.Short(),
			"size", size, "change", string(res.Change),
			"seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()),
			"file", name, "attempts", res.Attempts)
	}
	// The write pulled: the listings may have changed, whatever its outcome.
	c.refreshed(c.resync(context.WithoutCancel(ctx)))
	if err != nil {
		return fmt.Errorf("write %s as table %s: %w", name, table, err)
	}
	return nil
}

// writeFile is an open handle on a staged file.
type writeFile struct {
	c  *core
	st *staged
	f  *os.File
	// opener is the process (thread group id) that opened the handle; 0
	// when unknown.
	opener int

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

// isDirty says whether the handle counts as having written.
func (w *writeFile) isDirty() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dirty
}

// flush publishes on the first flush that follows writes and comes from
// the process that opened the handle (caller; 0 when unknown), and returns
// the recorded outcome on every later one (dup'd and inherited descriptors).
//
// A flush from another process publishes nothing: it is a child closing
// the descriptor it inherited at fork, typically at its exec while the
// opener is still writing, so the file may still be empty or cut short
// (and with passthrough no write reaches us to tell). The opener's own
// descriptor is closed too, by close, exec or exit, and that flush
// publishes.
func (w *writeFile) flush(ctx context.Context, caller int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.flushed {
		return w.result
	}
	if !w.dirty {
		return nil
	}
	if caller != 0 && w.opener != 0 && caller != w.opener {
		return nil
	}
	published, err := w.c.publishOnClose(ctx, w.st)
	if published {
		w.flushed, w.result = true, err
	}
	return err
}

// release only cleans up: the kernel ignores its error. The kernel sends
// it after close(2) has returned, so it may come while a rename or another
// handle's flush publishes the file: that file is the publisher's to
// remove, not ours.
func (w *writeFile) release() {
	w.f.Close()
	if settle := w.c.staging.closed(w.st); settle != nil {
		settle()
	} else if _, _, ok := w.c.staging.place(w.st); !ok && !w.c.staging.isTaken(w.st) {
		os.Remove(w.st.path)
	}
}

// discard closes a handle whose file never made it into the tree and
// removes the file.
func (w *writeFile) discard() {
	w.f.Close()
	w.c.staging.closed(w.st)
	w.c.staging.remove(w.st)
}

// touched marks the handle as having changed the file (ftruncate).
func (w *writeFile) touched() {
	w.mu.Lock()
	w.dirty = true
	w.mu.Unlock()
}

// place is where the handle's file is in the tree (for messages).
func (w *writeFile) place() (dir meta.TableName, name string) {
	dir, name, _ = w.c.staging.place(w.st)
	return dir, name
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
