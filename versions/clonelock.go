package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// One writer per clone, across processes. Every operation that changes a
// clone (write, sync, pull, the mount's publish, validate --fix) holds an
// exclusive flock on .git/datomfs/lock. flock belongs to the open file, so
// the kernel releases it when its holder exits or is killed: a crashed
// writer never leaves a stale lock behind. The file's content only names
// the holder for the message a waiting process prints.

// lockPollInterval is how often a waiting process retries the lock (flock
// itself cannot be interrupted by a context).
const lockPollInterval = 50 * time.Millisecond

// cloneLock is a held clone lock.
type cloneLock struct{ f *os.File }

// lockClone takes the clone lock for op (e.g. "write lb"), waiting while
// another process or Project holds it; it says once, as a warning, who
// holds it. Then it re-reads the repository (the holder may have changed
// it) and finishes any write or pull a crashed process left half-done.
func (p *Project) lockClone(ctx context.Context, op string) (*cloneLock, error) {
	dir := filepath.Join(p.repo.GitDir(), "datomfs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock clone %s: %w", p.dir, err)
	}
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock clone %s: %w", p.dir, err)
	}
	warned := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock clone %s: %w", p.dir, err)
		}
		if !warned {
			warned = true
			p.opts.Logger.Warn("waiting for another datomfs process to finish with this clone",
				"clone", p.dir, "holder", lockHolder(path))
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for the clone lock of %s: %w", p.dir, ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
	l := &cloneLock{f: f}
	holder := fmt.Sprintf("pid %d (%s), since %s\n", os.Getpid(), op, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(holder), 0)
	}
	if err := p.repo.Reload(); err != nil {
		l.release()
		return nil, err
	}
	if err := p.recoverInterrupted(ctx); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

// release drops the lock (closing the file releases the flock).
func (l *cloneLock) release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Truncate(0)
	l.f.Close()
	l.f = nil
}

// lockHolder reads who holds the lock, for the waiting message.
func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return "unknown process"
	}
	return strings.TrimSpace(string(b))
}

// withCloneLock runs fn holding the in-process write mutex and the clone
// lock.
func (p *Project) withCloneLock(ctx context.Context, op string, fn func() error) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	l, err := p.lockClone(ctx, op)
	if err != nil {
		return err
	}
	defer l.release()
	return fn()
}
