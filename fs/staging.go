package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// staging holds the files being written into the mount: each is a file in
// the mount's staging folder (outside the mount), listed under its name in
// tables/ or a table folder until it is published, refused or removed.
type staging struct {
	dir string // the staging folder

	mu      sync.Mutex
	files   map[string]*staged // stagedKey(dir, name) → file
	nextIno uint64
}

// staged is a file being written into the mount.
type staged struct {
	ino  uint64
	path string // the staging file

	// Guarded by staging.mu.
	dir      meta.TableName // zero for tables/, else the table
	name     string
	target   target // what name publishes to; zero for a temporary name
	mode     uint32
	consumed bool // published, refused or removed: no longer in the tree
	taken    bool // taken to be published: the taker removes the file
	handles  int  // open handles on the file
	// settle is what the taker left for the last handle's release to do
	// with the file (see staging.settle).
	settle func()
}

// target is what a table file name publishes: the table, and what the
// bytes are, both read once from the name as it came in
// (core.checkNewName).
type target struct {
	table  meta.TableName
	format versions.Format
}

func newStaging(dir string) *staging {
	return &staging{dir: dir, files: map[string]*staged{}}
}

func stagedKey(dir meta.TableName, name string) string { return dir.String() + "/" + name }

// isTempName: names tools use while writing, staged without publishing.
func isTempName(name string) bool {
	l := strings.ToLower(name)
	return strings.HasPrefix(name, ".") || strings.HasSuffix(l, ".tmp") ||
		strings.HasSuffix(l, "~") || strings.HasSuffix(l, ".partial")
}

// tableFileFormat is what a table file name says its bytes are: one of
// versions' input formats (versions.FormatOf, the list the CLI accepts
// too), after a non-empty name.
func tableFileFormat(name string) (versions.Format, bool) {
	if strings.TrimSuffix(name, filepath.Ext(name)) == "" {
		return "", false
	}
	return versions.FormatOf(name)
}

// tableLabel names, for log lines, the table a file name in dir is for
// (the name need not be valid).
func tableLabel(dir meta.TableName, name string) string {
	if !dir.IsZero() {
		return dir.String()
	}
	return strings.TrimSuffix(name, filepath.Ext(name))
}

// create stages a new, empty file under name in dir, publishing to tgt,
// replacing a staged file of that name, and returns a writable handle on
// its staging file. Inode numbers of staged files count up from 1<<62
// (hashed ones stay below).
func (a *staging) create(dir meta.TableName, name string, tgt target) (*staged, *os.File, error) {
	a.mu.Lock()
	a.nextIno++
	ino := 1<<62 + a.nextIno
	a.mu.Unlock()
	st := &staged{ino: ino, dir: dir, name: name, target: tgt, mode: 0o644,
		path: filepath.Join(a.dir, strconv.FormatUint(ino&(1<<62-1), 10))}
	f, err := os.OpenFile(st.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("staging file for %s: %w", name, err)
	}
	a.mu.Lock()
	if old, ok := a.files[stagedKey(dir, name)]; ok {
		old.consumed = true
		os.Remove(old.path)
	}
	a.files[stagedKey(dir, name)] = st
	a.mu.Unlock()
	return st, f, nil
}

// lookup finds a staged file by name.
func (a *staging) lookup(dir meta.TableName, name string) *staged {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.files[stagedKey(dir, name)]
}

// in lists the staged files of a folder: name → inode number.
func (a *staging) in(dir meta.TableName) map[string]uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]uint64{}
	for _, st := range a.files {
		if st.dir == dir {
			out[st.name] = st.ino
		}
	}
	return out
}

// place returns where a staged file is, and whether it is still there.
func (a *staging) place(st *staged) (dir meta.TableName, name string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return st.dir, st.name, !st.consumed
}

// targetOf is what a staged file publishes to (zero under a temporary
// name).
func (a *staging) targetOf(st *staged) target {
	a.mu.Lock()
	defer a.mu.Unlock()
	return st.target
}

// take removes a staged file from the tree; false if it was gone already.
// The staging file stays for the caller, who removes it once published.
func (a *staging) take(st *staged) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st.consumed {
		return false
	}
	st.consumed, st.taken = true, true
	if a.files[stagedKey(st.dir, st.name)] == st {
		delete(a.files, stagedKey(st.dir, st.name))
	}
	return true
}

// settle is how a taker ends with the file it took: fn (which removes
// it) runs now when no handle is open, else at the last one's release. A
// publishing close can leave a descriptor open (a dup of the one closed):
// only after the last release can nothing write to the file any more.
func (a *staging) settle(st *staged, fn func()) {
	a.mu.Lock()
	if st.handles > 0 {
		st.settle = fn
		fn = nil
	}
	a.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// opened counts a handle on st.
func (a *staging) opened(st *staged) {
	a.mu.Lock()
	st.handles++
	a.mu.Unlock()
}

// closed counts a handle's release and returns what the last release
// must do with the file (nil: nothing left to it).
func (a *staging) closed(st *staged) func() {
	a.mu.Lock()
	defer a.mu.Unlock()
	st.handles--
	if st.handles > 0 {
		return nil
	}
	fn := st.settle
	st.settle = nil
	return fn
}

// remove takes a staged file out of the tree and deletes its staging file.
func (a *staging) remove(st *staged) {
	if a.take(st) {
		os.Remove(st.path)
	}
}

// move renames a staged file within the staging area (to a temporary
// name, which publishes nothing), replacing a staged file of the new name.
func (a *staging) move(st *staged, dir meta.TableName, name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st.consumed {
		return false
	}
	if old, ok := a.files[stagedKey(dir, name)]; ok && old != st {
		old.consumed = true
		os.Remove(old.path)
	}
	delete(a.files, stagedKey(st.dir, st.name))
	st.dir, st.name, st.target = dir, name, target{}
	a.files[stagedKey(dir, name)] = st
	return true
}

// attr describes a staged file.
func (a *staging) attr(st *staged) (size int64, mode uint32, mtime time.Time, err error) {
	fi, err := os.Stat(st.path)
	if err != nil {
		return 0, 0, time.Time{}, err
	}
	a.mu.Lock()
	mode = st.mode
	a.mu.Unlock()
	return fi.Size(), mode, fi.ModTime(), nil
}

// set applies truncate, chmod and utimes (each when not nil) to a staged
// file.
func (a *staging) set(st *staged, size *int64, mode *uint32, atime, mtime *time.Time) error {
	if size != nil {
		if err := os.Truncate(st.path, *size); err != nil {
			return err
		}
	}
	if mode != nil {
		a.mu.Lock()
		st.mode = *mode & 0o7777
		a.mu.Unlock()
	}
	if atime != nil || mtime != nil {
		fi, err := os.Stat(st.path)
		if err != nil {
			return err
		}
		at, mt := fi.ModTime(), fi.ModTime()
		if atime != nil {
			at = *atime
		}
		if mtime != nil {
			mt = *mtime
		}
		if err := os.Chtimes(st.path, at, mt); err != nil {
			return err
		}
	}
	return nil
}

// isTaken reports whether st was taken to be published (its file is then
// the taker's to remove, not a closing handle's).
func (a *staging) isTaken(st *staged) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return st.taken
}
