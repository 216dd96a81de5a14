// Package local is a store.Store on a local or shared directory: the object
// at key lives at <root>/<key>, directories are created on demand.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/datomfs/datomfs/versions/store"
)

var (
	_ store.Store       = (*Local)(nil)
	_ store.Checker     = (*Local)(nil)
	_ store.TempSweeper = (*Local)(nil)

	_ store.BatchCommitter = (*Local)(nil)
)

// tempPrefix starts the names of files Put is still writing; List skips them.
const tempPrefix = ".datomfs-tmp-"

// Options configures New.
type Options struct {
	// Prefix is the store prefix, used only to name the store in messages:
	// keys handed to the store already start with it.
	Prefix string
	// CreateRoot makes New create the root directory (and its parents) when
	// it does not exist, as init does. Otherwise a missing root is an error.
	CreateRoot bool
}

// Local stores objects as files below a root directory.
type Local struct {
	root   string
	prefix string
	shard  atomic.Uint32 // the temporary folder of the next Put (tempDirFor)
}

// New opens the store rooted at the directory root (made absolute). A
// missing root fails with store.ErrUnreachable unless opts.CreateRoot.
func New(root string, opts Options) (*Local, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("local store %s: %w", root, err)
	}
	l := &Local{root: abs, prefix: opts.Prefix}
	if opts.CreateRoot {
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, classify("create store root", abs, err)
		}
	}
	if err := l.checkRoot(); err != nil {
		return nil, err
	}
	return l, nil
}

// Root is the absolute root directory.
func (l *Local) Root() string { return l.root }

// Location is the root directory (joined with the prefix, if any).
func (l *Local) Location() string {
	return store.Location{Type: store.TypeLocal, Root: l.root, Prefix: l.prefix}.String()
}

// Check verifies that the root directory exists.
func (l *Local) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("check %s: %w", l.root, err)
	}
	return l.checkRoot()
}

func (l *Local) checkRoot() error {
	fi, err := os.Stat(l.root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("local store root %s does not exist: %w", l.root, store.ErrUnreachable)
		}
		return classify("check store root", l.root, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("local store root %s is not a directory: %w", l.root, store.ErrUnreachable)
	}
	return nil
}

// path maps a key to its file.
func (l *Local) path(key string) (string, error) {
	if err := store.ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// notFound builds the error for a missing object, or for a missing root.
func (l *Local) notFound(op, p string, err error) error {
	if rerr := l.checkRoot(); rerr != nil {
		return fmt.Errorf("%s %s: %w", op, p, rerr)
	}
	return fmt.Errorf("%s %s: %w", op, p, store.ErrNotFound)
}

// Stat describes the file at key. Directories are not objects.
func (l *Local) Stat(ctx context.Context, key string) (store.Info, error) {
	p, err := l.path(key)
	if err != nil {
		return store.Info{}, fmt.Errorf("stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return store.Info{}, fmt.Errorf("stat %s: %w", p, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		if isMissing(err) {
			return store.Info{}, l.notFound("stat", p, err)
		}
		return store.Info{}, classify("stat", p, err)
	}
	if !fi.Mode().IsRegular() {
		return store.Info{}, l.notFound("stat", p, nil)
	}
	return store.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Open reads a range of the file at key (see store.Store). The reader keeps
// the file it opened: a concurrent Put of the same key does not change the
// bytes it returns.
func (l *Local) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if offset < 0 {
		return nil, fmt.Errorf("open %s: negative offset %d", p, offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	f, err := os.Open(p)
	if err != nil {
		if isMissing(err) {
			return nil, l.notFound("open", p, err)
		}
		return nil, classify("open", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, classify("open", p, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, l.notFound("open", p, nil)
	}
	n := max(fi.Size()-offset, 0)
	if length >= 0 {
		n = min(n, length)
	}
	return &fileReader{Reader: store.ContextReader(ctx, io.NewSectionReader(f, offset, n)), f: f}, nil
}

// fileReader reads a section of f and closes f.
type fileReader struct {
	io.Reader
	f *os.File
}

func (r *fileReader) Close() error { return r.f.Close() }

// Put writes r to a temporary file in the target directory, syncs it,
// renames it over the key and syncs the directory. With opts.Batch it
// stops after writing the temporary file (kept open, so locked against
// sweeps): the batch's Commit syncs, renames and syncs folders for all
// its objects at once.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (err error) {
	tmp, p, err := l.writeTemp(ctx, key, r, size, opts)
	if err != nil {
		return err
	}
	if opts.Batch != nil {
		if err := opts.Batch.Defer(l, &pendingPut{tmp: tmp, path: p}); err != nil {
			discard(tmp)
			return fmt.Errorf("put %s: %w", p, err)
		}
		return nil
	}
	defer func() {
		if err != nil {
			discard(tmp)
		}
	}()
	if err = tmp.Sync(); err != nil {
		return classify("put", p, err)
	}
	if err = ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", p, err)
	}
	if err = publish(tmp, p); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		// The object is in place; only its durability is in doubt.
		return classify("put", p, err)
	}
	return nil
}

// writeTemp writes r to a new, locked temporary file for key and returns it
// open, with the object's path.
func (l *Local) writeTemp(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (_ *os.File, _ string, err error) {
	p, err := l.path(key)
	if err != nil {
		return nil, "", fmt.Errorf("put: %w", err)
	}
	if size < 0 {
		return nil, "", fmt.Errorf("put %s: negative size %d", p, size)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("put %s: %w", p, err)
	}
	if err := l.checkRoot(); err != nil {
		return nil, "", fmt.Errorf("put %s: %w", p, err)
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", classify("put", p, err)
	}
	tmp, err := createLockedTemp(l.tempDirFor(dir))
	if err != nil {
		return nil, "", classify("put", p, err)
	}
	defer func() {
		if err != nil {
			discard(tmp)
		}
	}()
	src := store.ProgressReader(store.ContextReader(ctx, r), size, opts.Progress)
	n, err := io.CopyN(tmp, src, size)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("put %s: %w", p, ctx.Err())
		}
		if errors.Is(err, io.EOF) {
			return nil, "", fmt.Errorf("put %s: %w: reader ended after %d of %d bytes", p, store.ErrSizeMismatch, n, size)
		}
		return nil, "", classify("put", p, err)
	}
	var extra [1]byte
	if k, _ := io.ReadFull(r, extra[:]); k > 0 {
		return nil, "", fmt.Errorf("put %s: %w: reader has more than %d bytes", p, store.ErrSizeMismatch, size)
	}
	if size == 0 && opts.Progress != nil {
		opts.Progress(0, 0)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return nil, "", classify("put", p, err)
	}
	return tmp, p, nil
}

// publish renames a written temporary file to the object's path and closes
// it. It is renamed while still open, so still locked: a sweep never takes
// a temporary file that is about to become an object.
func publish(tmp *os.File, p string) error {
	if err := os.Rename(tmp.Name(), p); err != nil {
		return classify("put", p, err)
	}
	if err := tmp.Close(); err != nil {
		return classify("put", p, err)
	}
	return nil
}

// discard closes and removes a temporary file that will not become an
// object.
func discard(tmp *os.File) {
	tmp.Close()
	os.Remove(tmp.Name())
}

// pendingPut is a batched Put's temporary file, written, not yet synced
// or renamed.
type pendingPut struct {
	tmp  *os.File
	path string
}

// batchWorkers is how many fsyncs a batch's Commit keeps in flight: the
// file system folds concurrent ones into few journal commits.
const batchWorkers = 16

// CommitBatch makes a batch's objects durable and visible: every temporary
// file synced (concurrently), then each renamed to its key, then each
// folder that gained an object synced once. Nothing is renamed unless every
// file's bytes are durable.
func (l *Local) CommitBatch(ctx context.Context, items []any) error {
	puts := make([]*pendingPut, len(items))
	for i, it := range items {
		puts[i] = it.(*pendingPut)
	}
	next := 0 // puts[next:] are still temporary files
	defer func() {
		for _, pp := range puts[next:] {
			discard(pp.tmp)
		}
	}()
	if err := eachErr(batchWorkers, puts, func(pp *pendingPut) error {
		if err := pp.tmp.Sync(); err != nil {
			return classify("put", pp.path, err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %d object(s) in %s: %w", len(puts), l.root, err)
	}
	seen := map[string]bool{}
	var dirs []string
	for next < len(puts) {
		pp := puts[next]
		if err := publish(pp.tmp, pp.path); err != nil {
			return err
		}
		next++
		if d := filepath.Dir(pp.path); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return eachErr(batchWorkers, dirs, func(d string) error {
		if err := syncDir(d); err != nil {
			return classify("put", d, err)
		}
		return nil
	})
}

// AbortBatch removes a batch's temporary files.
func (l *Local) AbortBatch(items []any) {
	for _, it := range items {
		discard(it.(*pendingPut).tmp)
	}
}

// eachErr runs fn on every item, n at a time, and returns the errors.
func eachErr[T any](n int, items []T, fn func(T) error) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, n)
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tempDirName is the folder under the root where Put writes its temporary
// files: one place for SweepTemp to look after a crash, instead of every
// table's folder.
const tempDirName = ".datomfs-tmp"

// tempShards is how many folders of tempDirName the Puts take in turn
// (named 0, 1, ...): creating a file locks its folder, so a batch's
// concurrent Puts into one folder would create their files one at a time,
// and where allocating an inode is slow (a file system with many recent
// deletions) that is most of a sync's time.
const tempShards = 8

// tempDirFor returns where a Put into dir writes its temporary file: a
// folder of the shared temporary folder when it is on the same file
// system as dir (the rename must not cross devices), else dir itself.
func (l *Local) tempDirFor(dir string) string {
	shard := strconv.Itoa(int(l.shard.Add(1) % tempShards))
	td := filepath.Join(l.root, tempDirName, shard)
	if err := os.MkdirAll(td, 0o755); err != nil {
		return dir
	}
	var a, b syscall.Stat_t
	if syscall.Stat(td, &a) != nil || syscall.Stat(dir, &b) != nil || a.Dev != b.Dev {
		return dir
	}
	return td
}

// createLockedTemp creates a temporary file in dir and takes an flock on
// it for as long as it is open: SweepTemp removes only temporary files
// whose writer is gone (the kernel drops the lock of a killed process).
func createLockedTemp(dir string) (*os.File, error) {
	for {
		tmp, err := os.CreateTemp(dir, tempPrefix+"*")
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, err
		}
		// A sweep may have removed it between create and lock.
		if _, err := os.Stat(tmp.Name()); err == nil {
			return tmp, nil
		}
		tmp.Close()
	}
}

// SweepTemp lists (and with remove, deletes) the temporary files of
// killed Puts under prefix: those whose flock can be taken.
func (l *Local) SweepTemp(ctx context.Context, prefix string, remove bool) ([]string, error) {
	found, err := l.sweepTempDir(filepath.Join(l.root, tempDirName), tempDirName, remove, true)
	if err != nil {
		return found, err
	}
	more, err := l.sweepTempTree(ctx, prefix, remove)
	return append(found, more...), err
}

// sweepTempDir sweeps the shared temporary folder (rel is its name under
// the root) and, with shards, its folders.
func (l *Local) sweepTempDir(dir, rel string, remove, shards bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if isMissing(err) {
			return nil, nil
		}
		return nil, classify("sweep", dir, err)
	}
	var found []string
	for _, e := range entries {
		if e.IsDir() && shards {
			more, err := l.sweepTempDir(filepath.Join(dir, e.Name()), rel+"/"+e.Name(), remove, false)
			found = append(found, more...)
			if err != nil {
				return found, err
			}
			continue
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		ok, err := sweepOne(filepath.Join(dir, e.Name()), remove)
		if err != nil {
			return found, classify("sweep", dir, err)
		}
		if ok {
			found = append(found, rel+"/"+e.Name())
		}
	}
	return found, nil
}

// sweepOne reports whether the temporary file at p is abandoned (its flock
// can be taken) and, with remove, removes it while holding that lock.
func sweepOne(p string, remove bool) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, nil // gone already
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false, nil // its writer is alive
	}
	if remove {
		if err := os.Remove(p); err != nil && !isMissing(err) {
			return false, err
		}
	}
	return true, nil
}

// sweepTempTree sweeps temporary files written next to their objects (by
// older versions, or where the shared folder is on another device).
func (l *Local) sweepTempTree(ctx context.Context, prefix string, remove bool) ([]string, error) {
	_, base, err := l.prefixDir(prefix)
	if err != nil {
		return nil, fmt.Errorf("sweep %q: %w", prefix, err)
	}
	var found []string
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == base && isMissing(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil || !strings.HasPrefix(filepath.ToSlash(rel), prefix) {
			return nil
		}
		ok, err := sweepOne(p, remove)
		if err != nil {
			return err
		}
		if ok {
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return found, classify("sweep", base, err)
	}
	return found, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

// List walks the directory holding the prefix and returns the regular files
// whose keys start with prefix, sorted by key.
func (l *Local) List(ctx context.Context, prefix string) ([]store.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	dirKey, base, err := l.prefixDir(prefix)
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	if err := l.checkRoot(); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	var out []store.Info
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == base && isMissing(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == base {
			if !d.IsDir() {
				return fs.SkipAll
			}
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		key := dirKey + filepath.ToSlash(rel)
		if d.IsDir() {
			if dk := key + "/"; !strings.HasPrefix(dk, prefix) && !strings.HasPrefix(prefix, dk) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), tempPrefix) || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if isMissing(err) { // removed while walking
				return nil
			}
			return err
		}
		out = append(out, store.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("list %q in %s: %w", prefix, l.root, ctx.Err())
		}
		return nil, classify("list", base, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Remove deletes the file at key; a missing file is not an error.
func (l *Local) Remove(ctx context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		if isMissing(err) {
			return nil
		}
		return classify("remove", p, err)
	}
	if fi.IsDir() {
		return nil // directories are not objects
	}
	if err := os.Remove(p); err != nil && !isMissing(err) {
		return classify("remove", p, err)
	}
	return nil
}

// isMissing reports errors meaning "no such file": ENOENT, or ENOTDIR when a
// path component is a file.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// classify wraps err with the action and path and, for permanent failures,
// the store sentinel.
func classify(op, p string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%s %s: %w: %w", op, p, store.ErrNoSpace, err)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%s %s: %w: %w", op, p, store.ErrPermission, err)
	case isMissing(err):
		return fmt.Errorf("%s %s: %w: %w", op, p, store.ErrNotFound, err)
	}
	return fmt.Errorf("%s %s: %w", op, p, err)
}

// prefixDir splits prefix at its last "/": the key of the folder holding
// the keys that start with it ("" or ending in "/") and that folder.
func (l *Local) prefixDir(prefix string) (dirKey, dir string, err error) {
	dirKey = prefix[:strings.LastIndex(prefix, "/")+1]
	if dirKey == "" {
		return "", l.root, nil
	}
	if err := store.ValidateKey(strings.TrimRight(dirKey, "/")); err != nil {
		return "", "", err
	}
	return dirKey, filepath.Join(l.root, filepath.FromSlash(dirKey)), nil
}
