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
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
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
	idx, blobs, err := r.stage(ctx, wt, clean)
	if err != nil {
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
	// go-git builds the trees and the commit into memory (pendingStorer):
	// they are written below with the blobs, as one pack when many, and
	// only then do the index and the branch point at them.
	pending := newPendingStorer(r.g.Storer, idx)
	view, err := git.Open(pending, wt.Filesystem)
	if err != nil {
		return "", false, fmt.Errorf("commit in %s: %w", r.dir, err)
	}
	vwt, err := view.Worktree()
	if err != nil {
		return "", false, fmt.Errorf("commit in %s: %w", r.dir, err)
	}
	h, err := vwt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	empty := errors.Is(err, git.ErrEmptyCommit)
	if err != nil && !empty {
		return "", false, fmt.Errorf("commit in %s: %w", r.dir, err)
	}
	if err := r.writeObjects(blobs, pending.objects); err != nil {
		return "", false, fmt.Errorf("commit in %s: store objects: %w", r.dir, err)
	}
	if err := r.g.Storer.SetIndex(idx); err != nil {
		return "", false, fmt.Errorf("commit in %s: write index: %w", r.dir, err)
	}
	if empty {
		if head.IsZero() {
			return "", false, nil
		}
		return head.String(), false, nil
	}
	if pending.ref == nil {
		return "", false, fmt.Errorf("commit in %s: go-git set no reference", r.dir)
	}
	if err := r.g.Storer.SetReference(pending.ref); err != nil {
		return "", false, fmt.Errorf("commit in %s: update %s: %w", r.dir, pending.ref.Name(), err)
	}
	return h.String(), true, nil
}

// stage adds or removes files in an index read from the repository,
// without a full status scan, and returns it with the files' blobs; the
// caller writes both (go-git's Add rewrites the index per file: a sync's
// batch of hundreds of tables would rewrite it hundreds of times).
func (r *Repo) stage(ctx context.Context, wt *git.Worktree, paths []string) (*index.Index, *blobSet, error) {
	idx, err := r.g.Storer.Index()
	if err != nil {
		return nil, nil, fmt.Errorf("read index: %w", err)
	}
	blobs := newBlobSet()
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if err := r.stageOne(wt, idx, p, blobs); err != nil {
			return nil, nil, fmt.Errorf("stage %s: %w", p, err)
		}
	}
	return idx, blobs, nil
}

// pendingStorer is the repository's storer as go-git's Worktree.Commit
// sees it: the index not yet written, new objects kept in memory and the
// branch update held back, so that Commit can write them in its order.
type pendingStorer struct {
	storage.Storer
	idx     *index.Index
	objects []plumbing.EncodedObject // in the order made: trees, then the commit
	made    map[plumbing.Hash]plumbing.EncodedObject
	ref     *plumbing.Reference
}

func newPendingStorer(s storage.Storer, idx *index.Index) *pendingStorer {
	return &pendingStorer{Storer: s, idx: idx, made: map[plumbing.Hash]plumbing.EncodedObject{}}
}

func (s *pendingStorer) Index() (*index.Index, error) { return s.idx, nil }

func (s *pendingStorer) SetIndex(idx *index.Index) error {
	s.idx = idx
	return nil
}

func (s *pendingStorer) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	h := o.Hash()
	if _, ok := s.made[h]; !ok {
		s.made[h] = o
		s.objects = append(s.objects, o)
	}
	return h, nil
}

func (s *pendingStorer) HasEncodedObject(h plumbing.Hash) error {
	if _, ok := s.made[h]; ok {
		return nil
	}
	return s.Storer.HasEncodedObject(h)
}

func (s *pendingStorer) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, ok := s.made[h]; ok && (t == plumbing.AnyObject || t == o.Type()) {
		return o, nil
	}
	return s.Storer.EncodedObject(t, h)
}

func (s *pendingStorer) SetReference(ref *plumbing.Reference) error {
	s.ref = ref
	return nil
}

func (s *pendingStorer) CheckAndSetReference(ref, _ *plumbing.Reference) error {
	s.ref = ref
	return nil
}

// stageOne puts one file's entry in idx, as git add does, and its blob in
// blobs (written by writeObjects before the index is).
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
