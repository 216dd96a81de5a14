package versions

import (
	"context"
	"os"
	"sync"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
)

// hashAhead hashes a sync's parquet files ahead of its loop, on another
// goroutine: hashing is CPU work, a batch's write mostly waits on the file
// system, so the files of the next batch are hashed while one is written.
// It calls no checkpoint and changes nothing; the loop uses a result only
// if the file is unchanged since (size, modification time, inode).
type hashAhead struct {
	mu      sync.Mutex
	cond    *sync.Cond
	paths   []string
	at      map[string]int // index in paths
	pos     int            // the loop has reached paths[pos]
	working int            // the index being hashed, -1 if none
	done    map[int]*aheadHash
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// aheadHash is one file's hashes, made ahead.
type aheadHash struct {
	fi   os.FileInfo
	sha  string
	size int64
	th   *identity.TableHash // nil: not hashed (unchanged in man, or not a valid parquet)
}

// startHashAhead hashes paths (parquet files, in the loop's order) at
// most window files ahead of the loop. Files whose bytes match man's
// original_file_sha are only hashed as bytes: the loop skips them.
func startHashAhead(ctx context.Context, paths []string, tables []meta.TableName, man meta.Manifest, window int) *hashAhead {
	ctx, cancel := context.WithCancel(ctx)
	h := &hashAhead{paths: paths, at: make(map[string]int, len(paths)), working: -1, done: map[int]*aheadHash{}, cancel: cancel}
	h.cond = sync.NewCond(&h.mu)
	for i, p := range paths {
		h.at[p] = i
	}
	stopWaits := context.AfterFunc(ctx, func() {
		h.mu.Lock()
		h.stopped = true
		h.cond.Broadcast()
		h.mu.Unlock()
	})
	h.wg.Go(func() {
		defer stopWaits()
		for i, path := range paths {
			h.mu.Lock()
			for !h.stopped && i >= h.pos+window {
				h.cond.Wait()
			}
			if h.stopped {
				h.mu.Unlock()
				return
			}
			if i < h.pos { // the loop got there first
				h.mu.Unlock()
				continue
			}
			h.working = i
			h.mu.Unlock()
			res := hashOne(ctx, path, tables[i], man)
			h.mu.Lock()
			h.working = -1
			if res != nil && i >= h.pos {
				h.done[i] = res
			}
			h.cond.Broadcast()
			h.mu.Unlock()
		}
	})
	return h
}

// hashOne is a file's hashes, nil on any error (the loop hashes it again
// and reports the error).
func hashOne(ctx context.Context, path string, table meta.TableName, man meta.Manifest) *aheadHash {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	sha, size, err := identity.SHA256File(ctx, path)
	if err != nil {
		return nil
	}
	res := &aheadHash{fi: fi, sha: sha, size: size}
	if t, ok := man.Table(table); ok && t.OriginalFileSHA == sha {
		return res
	}
	th, err := identity.HashParquetFile(ctx, path, identity.HashOptions{})
	if err == nil {
		res.th = &th
	}
	return res
}

// take returns path's hashes if they were made ahead and the file is
// unchanged since, waiting if they are being made; nil otherwise. The loop
// takes its files in order: files before path are not hashed any more.
func (h *hashAhead) take(path string) *aheadHash {
	if h == nil {
		return nil
	}
	i, ok := h.at[path]
	if !ok {
		return nil
	}
	h.mu.Lock()
	for !h.stopped && h.working == i {
		h.cond.Wait()
	}
	res := h.done[i]
	for j := range h.done {
		if j <= i {
			delete(h.done, j)
		}
	}
	h.pos = max(h.pos, i+1)
	h.cond.Broadcast()
	h.mu.Unlock()
	if res == nil {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil || !sameFile(fi, res.fi) {
		return nil
	}
	return res
}

// sameFile reports whether fi describes the same, unchanged file as was.
func sameFile(fi, was os.FileInfo) bool {
	return os.SameFile(fi, was) && fi.Size() == was.Size() && fi.ModTime().Equal(was.ModTime())
}

// stop ends the hashing and waits for it.
func (h *hashAhead) stop() {
	if h == nil {
		return
	}
	h.cancel()
	h.wg.Wait()
}
