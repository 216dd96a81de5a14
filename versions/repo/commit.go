package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Commit stages exactly paths (relative to the repository root, slash or
// OS separated; new, modified or deleted files, not directories) and
// commits them with msg as the repository's Author (else datom /
// datom@noreply). Paths already staged by someone else are committed too,
// as git would. When the resulting tree equals HEAD's, no commit is made and
// Commit returns HEAD with changed=false ("" for an unborn branch).
func (r *Repo) Commit(ctx context.Context, paths []string, msg string) (hash string, changed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	clean := make([]string, 0, len(paths))
	for _, p := range paths {
		c, err := repoPath(p)
		if err != nil {
			return "", false, fmt.Errorf("commit in %s: %w", r.dir, err)
		}
		clean = append(clean, c)
	}
	if strings.TrimSpace(msg) == "" {
		return "", false, fmt.Errorf("commit in %s: empty commit message", r.dir)
	}
	wt, err := r.g.Worktree()
	if err != nil {
		return "", false, fmt.Errorf("commit in %s: %w", r.dir, err)
	}
	if err := r.stage(ctx, wt, clean); err != nil {
		return "", false, fmt.Errorf("commit in %s: %w", r.dir, err)
	}
	head, err := r.head()
	if err != nil {
		return "", false, err
	}
	who, ok := r.author()
	if !ok {
		who = Author{Name: fallbackName, Email: fallbackEmail}
	}
	sig := &object.Signature{Name: who.Name, Email: who.Email, When: time.Now()}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if errors.Is(err, git.ErrEmptyCommit) {
		if head.IsZero() {
			return "", false, nil
		}
		return head.String(), false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("commit in %s: %w", r.dir, err)
	}
	return h.String(), true, nil
}

// stage adds or removes files in the index without a full status scan,
// writing the index once (go-git's Add rewrites it per file: a sync's
// batch of hundreds of tables would rewrite it hundreds of times).
func (r *Repo) stage(ctx context.Context, wt *git.Worktree, paths []string) error {
	idx, err := r.g.Storer.Index()
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	blobs := newBlobSet()
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.stageOne(wt, idx, p, blobs); err != nil {
			return fmt.Errorf("stage %s: %w", p, err)
		}
	}
	if err := r.writeBlobs(blobs); err != nil {
		return fmt.Errorf("store blobs: %w", err)
	}
	if err := r.g.Storer.SetIndex(idx); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

// stageOne puts one file's entry in idx, as git add does, and its blob in
// blobs (written by writeBlobs before the index is).
func (r *Repo) stageOne(wt *git.Worktree, idx *index.Index, p string, blobs *blobSet) error {
	fi, err := wt.Filesystem.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := idx.Remove(p); errors.Is(err, index.ErrEntryNotFound) {
			return fmt.Errorf("no such file: %w", fs.ErrNotExist)
		} else if err != nil {
			return err
		}
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a directory; list its files")
	case !fi.Mode().IsRegular():
		return errors.New("not a regular file")
	}
	body, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(p)))
	if err != nil {
		return err
	}
	h := r.blobHash(body)
	blobs.add(h, body)
	e, err := idx.Entry(p)
	if errors.Is(err, index.ErrEntryNotFound) {
		e, err = idx.Add(p), nil
	}
	if err != nil {
		return err
	}
	// The stat fields let git (and go-git's status) see the file as
	// unchanged without reading it.
	e.Hash = h
	e.ModifiedAt = fi.ModTime()
	if e.Mode, err = filemode.NewFromOSFileMode(fi.Mode()); err != nil {
		return err
	}
	e.Size = uint32(fi.Size())
	fillStatInfo(e, fi)
	return nil
}

// repoPath validates a path relative to the repository root and returns it
// in git's slash form.
func repoPath(p string) (string, error) {
	s := filepath.ToSlash(p)
	if s == "" || path.IsAbs(s) || filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q: must be relative to the repository root", p)
	}
	s = path.Clean(s)
	first, _, _ := strings.Cut(s, "/")
	switch {
	case s == ".", s == "..", strings.HasPrefix(s, "../"):
		return "", fmt.Errorf("path %q: outside the repository", p)
	case strings.EqualFold(first, git.GitDirName):
		return "", fmt.Errorf("path %q: inside %s", p, git.GitDirName)
	}
	return s, nil
}
