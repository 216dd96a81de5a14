package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/datomfs/datomfs/internal/atomicfile"
)

// ResetHard moves the branch, the index and the tracked files of the work
// tree to commit hash (any revision go-git resolves: a full or short hash,
// "HEAD~1"), discarding tracked changes as `git reset --hard` does.
// Untracked and ignored files are kept (go-git's own hard reset would delete
// them). An empty hash undoes the first commit: the branch becomes unborn
// again and its tracked files are removed, as Head() reported "" before.
func (r *Repo) ResetHard(ctx context.Context, hash string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if hash == "" {
		return r.resetUnborn(ctx)
	}
	target, err := r.g.ResolveRevision(plumbing.Revision(hash))
	if err != nil {
		return fmt.Errorf("reset %s to %q: %w", r.dir, hash, err)
	}
	if _, err := r.g.CommitObject(*target); err != nil {
		return fmt.Errorf("reset %s to %q: %w", r.dir, hash, err)
	}
	head, err := r.head()
	if err != nil {
		return err
	}
	files := map[string]bool{}
	idx, err := r.g.Storer.Index()
	if err != nil {
		return fmt.Errorf("reset %s: read index: %w", r.dir, err)
	}
	for _, e := range idx.Entries {
		files[e.Name] = true
	}
	for _, h := range []plumbing.Hash{head, *target} {
		if err := r.addTreeFiles(ctx, h, files); err != nil {
			return fmt.Errorf("reset %s: %w", r.dir, err)
		}
	}
	if err := r.g.Storer.SetReference(plumbing.NewHashReference(r.branchRef(), *target)); err != nil {
		return fmt.Errorf("reset %s: move %s: %w", r.dir, r.branch, err)
	}
	if len(files) == 0 {
		return nil // both trees and the index are empty
	}
	if err := r.resetFiles(*target, sortedKeys(files)); err != nil {
		return fmt.Errorf("reset %s to %s: %w", r.dir, target, err)
	}
	return nil
}

// resetUnborn deletes the branch and empties the index, removing the
// tracked files from the work tree.
func (r *Repo) resetUnborn(ctx context.Context) error {
	head, err := r.head()
	if err != nil {
		return err
	}
	files := map[string]bool{}
	idx, err := r.g.Storer.Index()
	if err != nil {
		return fmt.Errorf("reset %s: read index: %w", r.dir, err)
	}
	for _, e := range idx.Entries {
		files[e.Name] = true
	}
	if err := r.addTreeFiles(ctx, head, files); err != nil {
		return fmt.Errorf("reset %s: %w", r.dir, err)
	}
	if !head.IsZero() {
		if err := r.g.Storer.RemoveReference(r.branchRef()); err != nil {
			return fmt.Errorf("reset %s: delete %s: %w", r.dir, r.branch, err)
		}
	}
	if err := r.g.Storer.SetIndex(&index.Index{Version: 2}); err != nil {
		return fmt.Errorf("reset %s: write index: %w", r.dir, err)
	}
	wt, err := r.g.Worktree()
	if err != nil {
		return err
	}
	for _, p := range sortedKeys(files) {
		if err := removeWithEmptyParents(wt, p); err != nil {
			return fmt.Errorf("reset %s: remove %s: %w", r.dir, p, err)
		}
	}
	return nil
}

// removeWithEmptyParents removes file p and then its parent directories
// while they are empty.
func removeWithEmptyParents(wt *git.Worktree, p string) error {
	if err := wt.Filesystem.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		entries, err := wt.Filesystem.ReadDir(dir)
		if err != nil || len(entries) > 0 || wt.Filesystem.Remove(dir) != nil {
			break // a missing or non-empty parent ends the walk
		}
	}
	return nil
}

// Clean reports whether the work tree and index have no changes to tracked
// files (untracked and ignored files do not count).
func (r *Repo) Clean(ctx context.Context) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	wt, err := r.g.Worktree()
	if err != nil {
		return false, fmt.Errorf("status of %s: %w", r.dir, err)
	}
	st, err := wt.Status()
	if err != nil {
		return false, fmt.Errorf("status of %s: %w", r.dir, err)
	}
	for _, s := range st {
		if s.Staging == git.Untracked && s.Worktree == git.Untracked {
			continue
		}
		if s.Staging != git.Unmodified || s.Worktree != git.Unmodified {
			return false, nil
		}
	}
	return true, nil
}

// addTreeFiles adds the file paths of commit h's tree to set (none for the
// zero hash). It reads tree objects only, not blobs.
func (r *Repo) addTreeFiles(ctx context.Context, h plumbing.Hash, set map[string]bool) error {
	t, err := r.treeOf(h)
	if err != nil || t == nil {
		return err
	}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("walk tree of %s: %w", h, err)
		}
		if e.Mode != filemode.Dir {
			set[name] = true
		}
	}
}

// resetFiles points the branch at target and makes exactly the given paths
// of the index and work tree match it. paths must not be empty: go-git
// treats an empty list as "every path", untracked files included.
func (r *Repo) resetFiles(target plumbing.Hash, paths []string) error {
	if len(paths) == 0 {
		return errors.New("internal: resetFiles with no paths")
	}
	wt, err := r.g.Worktree()
	if err != nil {
		return err
	}
	return wt.Reset(&git.ResetOptions{Commit: target, Mode: git.HardReset, Files: paths})
}

// checkoutPaths fast-forwards the branch from from to to, rewriting only
// paths (the files that differ between them). It first checks that none of
// those files has staged or unstaged changes against from, and that no
// untracked file would be overwritten with different content.
func (r *Repo) checkoutPaths(ctx context.Context, from, to plumbing.Hash, paths []string, before func([]string) error) error {
	fromTree, err := r.treeOf(from)
	if err != nil {
		return err
	}
	toTree, err := r.treeOf(to)
	if err != nil {
		return err
	}
	idx, err := r.g.Storer.Index()
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	wt, err := r.g.Worktree()
	if err != nil {
		return err
	}
	var dirty []string
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, err := pathMatches(wt, idx, fromTree, toTree, p)
		if err != nil {
			return fmt.Errorf("check %s: %w", p, err)
		}
		if !ok {
			dirty = append(dirty, p)
		}
	}
	if len(dirty) > 0 {
		return fmt.Errorf("%w: %s; commit or discard them first", ErrLocalChanges, summarise(dirty))
	}
	if before != nil {
		if err := before(paths); err != nil {
			return err
		}
	}
	if err := r.g.Storer.SetReference(plumbing.NewHashReference(r.branchRef(), to)); err != nil {
		return fmt.Errorf("move %s: %w", r.branch, err)
	}
	if len(paths) == 0 {
		return nil
	}
	if err := writeTreeFiles(r.dir, toTree, paths); err != nil {
		return err
	}
	return r.resetFiles(to, paths)
}

// writeTreeFiles writes the regular files among paths from tree t into the
// work tree at dir, each by a rename. go-git rewrites a file in place
// (truncate, then write), so another process reading a clone's manifest
// during a pull could see it empty or half written. Written first, the
// files already match when go-git's reset compares them, and it leaves
// them alone; it still updates the index and removes deleted paths.
func writeTreeFiles(dir string, t *object.Tree, paths []string) error {
	if t == nil {
		return nil
	}
	for _, p := range paths {
		f, err := t.File(p)
		if errors.Is(err, object.ErrFileNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		perm := os.FileMode(0o644)
		switch f.Mode {
		case filemode.Regular, filemode.Deprecated:
		case filemode.Executable:
			perm = 0o755
		default:
			continue // symlinks and others: go-git's reset writes them
		}
		body, err := f.Contents()
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if fi, err := os.Lstat(full); err == nil && fi.IsDir() {
			continue // checked by the caller; let go-git report it
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := atomicfile.Write(full, []byte(body), perm, false); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// pathMatches reports whether path p may be overwritten: its index entry
// and work tree file equal the version in fromTree (or, for a path new in
// toTree, nothing is there or the incoming content already is).
func pathMatches(wt *git.Worktree, idx *index.Index, fromTree, toTree *object.Tree, p string) (bool, error) {
	want, err := blobHash(fromTree, p)
	if err != nil {
		return false, err
	}
	incoming, err := blobHash(toTree, p)
	if err != nil {
		return false, err
	}
	entry, err := idx.Entry(p)
	switch {
	case errors.Is(err, index.ErrEntryNotFound):
		if !want.IsZero() {
			return false, nil // deletion staged
		}
	case err != nil:
		return false, err
	case entry.Hash != want:
		return false, nil // change staged
	}
	have, err := worktreeBlobHash(wt, p)
	if errors.Is(err, errIsDir) {
		return false, nil // a directory where a file will go
	}
	if err != nil {
		return false, err
	}
	if want.IsZero() {
		return have.IsZero() || have == incoming, nil
	}
	return have == want, nil
}

// blobHash returns the blob hash of p in t, zero when absent (or t nil).
func blobHash(t *object.Tree, p string) (plumbing.Hash, error) {
	if t == nil {
		return plumbing.ZeroHash, nil
	}
	e, err := t.FindEntry(p)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return e.Hash, nil
}

var errIsDir = errors.New("is a directory")

// worktreeBlobHash returns the git blob hash of the work tree file p, zero
// when it does not exist.
func worktreeBlobHash(wt *git.Worktree, p string) (plumbing.Hash, error) {
	fi, err := wt.Filesystem.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	var content []byte
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := wt.Filesystem.Readlink(p)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		content = []byte(target)
	} else if fi.IsDir() {
		return plumbing.ZeroHash, errIsDir
	} else {
		f, err := wt.Filesystem.Open(p)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		content, err = io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return plumbing.ZeroHash, err
		}
	}
	return plumbing.ComputeHash(plumbing.BlobObject, content), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// summarise lists up to five paths for a one-line message.
func summarise(paths []string) string {
	const max = 5
	if len(paths) <= max {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:max], ", "), len(paths)-max)
}
