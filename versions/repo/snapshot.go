package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/datomfs/datomfs/internal/atomicfile"
)

// GitDir is the repository's .git directory.
func (r *Repo) GitDir() string { return filepath.Join(r.dir, git.GitDirName) }

// Reload re-reads the repository from disk. go-git keeps the list of pack
// files it has seen: objects another process fetched into a new pack since
// Open would stay invisible, so a process that shares a clone with others
// calls Reload each time it takes the clone's lock.
func (r *Repo) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, err := git.PlainOpen(r.dir)
	if err != nil {
		return fmt.Errorf("reopen repository %s: %w", r.dir, err)
	}
	r.g = g
	return nil
}

// Snapshot is the part of a repository's state a failed write must put
// back exactly: the branch tip and the index file's bytes.
type Snapshot struct {
	Head  string // "" for an unborn branch
	Index []byte // nil when there is no index file
}

// Snapshot captures the branch tip and the index.
func (r *Repo) Snapshot() (Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.head()
	if err != nil {
		return Snapshot{}, err
	}
	idx, err := os.ReadFile(r.indexPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Snapshot{}, fmt.Errorf("read index of %s: %w", r.dir, err)
	}
	return Snapshot{Head: hashString(h), Index: idx}, nil
}

// Restore moves the branch back to s.Head (deleting it for "") and rewrites
// the index byte for byte. Work tree files are the caller's to restore.
func (r *Repo) Restore(s Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.Head == "" {
		if err := r.g.Storer.RemoveReference(r.branchRef()); err != nil {
			return fmt.Errorf("restore %s: delete %s: %w", r.dir, r.branch, err)
		}
	} else {
		h := plumbing.NewHash(s.Head)
		if err := r.g.Storer.SetReference(plumbing.NewHashReference(r.branchRef(), h)); err != nil {
			return fmt.Errorf("restore %s: move %s: %w", r.dir, r.branch, err)
		}
	}
	if s.Index == nil {
		if err := os.Remove(r.indexPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore index of %s: %w", r.dir, err)
		}
		return nil
	}
	if err := writeFileAtomic(r.indexPath(), s.Index); err != nil {
		return fmt.Errorf("restore index of %s: %w", r.dir, err)
	}
	return nil
}

func (r *Repo) indexPath() string { return filepath.Join(r.GitDir(), "index") }

// ResetPaths makes the given paths of the index and the work tree match
// the branch tip (removing those it lacks). It finishes a fast-forward
// that was interrupted after the branch moved but before its files were
// written.
func (r *Repo) ResetPaths(ctx context.Context, paths []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(paths) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h, err := r.head()
	if err != nil {
		return err
	}
	if h.IsZero() {
		return fmt.Errorf("reset paths in %s: branch %s has no commits", r.dir, r.branch)
	}
	if err := r.resetFiles(h, paths); err != nil {
		return fmt.Errorf("reset paths in %s: %w", r.dir, err)
	}
	return nil
}

// RemoteHas reports whether commit hash is on the remote-tracking branch
// as of the last Fetch (so whether an interrupted push landed).
func (r *Repo) RemoteHas(hash string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	remote, err := r.tracking()
	if err != nil || remote.IsZero() {
		return false, err
	}
	h := plumbing.NewHash(hash)
	if h == remote {
		return true, nil
	}
	if _, err := r.g.CommitObject(h); errors.Is(err, plumbing.ErrObjectNotFound) {
		return false, nil
	}
	return r.isAncestor(h, remote)
}

func writeFileAtomic(path string, body []byte) error {
	return atomicfile.Write(path, body, 0o644, false)
}

// Parent returns the first parent of commit hash ("" for a root commit).
func (r *Repo) Parent(hash string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.g.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		return "", fmt.Errorf("read commit %s: %w", hash, err)
	}
	if c.NumParents() == 0 {
		return "", nil
	}
	return c.ParentHashes[0].String(), nil
}

// FileVersions returns every distinct content file p had on the branch,
// newest first (for rebuilding mirrors of old versions from git).
func (r *Repo) FileVersions(ctx context.Context, p string) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.head()
	if err != nil || head.IsZero() {
		return nil, err
	}
	iter, err := r.g.Log(&git.LogOptions{From: head, FileName: &p})
	if err != nil {
		return nil, fmt.Errorf("log %s: %w", p, err)
	}
	defer iter.Close()
	seen := map[plumbing.Hash]bool{}
	var out [][]byte
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := iter.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("log %s: %w", p, err)
		}
		f, err := c.File(p)
		if errors.Is(err, object.ErrFileNotFound) {
			continue // the commit removed it
		}
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", p, c.Hash, err)
		}
		if seen[f.Hash] {
			continue
		}
		seen[f.Hash] = true
		s, err := f.Contents()
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", p, c.Hash, err)
		}
		out = append(out, []byte(s))
	}
}
