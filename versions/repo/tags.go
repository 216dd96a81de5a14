package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Points in time: the commits of the branch with their times, a file as a
// commit recorded it, and annotated tags (created here, pushed on their
// own, fetched with the branch).

// ErrTagExists: a tag of that name already exists (locally, or on the
// remote with another target).
var ErrTagExists = errors.New("tag already exists")

// CommitNode is one commit of the branch's history.
type CommitNode struct {
	Hash    string
	When    time.Time // committer time, UTC
	Parents []string
}

// NewCommits lists the commits reachable from the branch tip that known
// does not hold, without walking past known ones: with known holding what
// an earlier call returned, the cost follows the new commits, not the
// history. It returns the tip ("" for an unborn branch).
func (r *Repo) NewCommits(ctx context.Context, known func(hash string) bool) (head string, out []CommitNode, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.head()
	if err != nil || h.IsZero() {
		return "", nil, err
	}
	seen := map[plumbing.Hash]bool{}
	pending := []plumbing.Hash{h}
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
		c := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		if seen[c] || known(c.String()) {
			continue
		}
		seen[c] = true
		obj, err := r.g.CommitObject(c)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			continue // shallow or incomplete history
		}
		if err != nil {
			return "", nil, fmt.Errorf("read commit %s: %w", c, err)
		}
		n := CommitNode{Hash: c.String(), When: obj.Committer.When.UTC()}
		for _, ph := range obj.ParentHashes {
			n.Parents = append(n.Parents, ph.String())
		}
		out = append(out, n)
		pending = append(pending, obj.ParentHashes...)
	}
	return h.String(), out, nil
}

// FileAt returns the content of path (slash separated, relative to the
// root) as commit hash recorded it; fs.ErrNotExist when it had none.
func (r *Repo) FileAt(hash, path string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.g.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", hash, err)
	}
	f, err := c.File(path)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, fmt.Errorf("%s at %s: %w", path, hash[:min(len(hash), 8)], fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, hash, err)
	}
	s, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, hash, err)
	}
	return []byte(s), nil
}

// Tag is a tag of the repository.
type Tag struct {
	Name   string
	Commit string // the commit it names
	// Annotated tags only (zero for lightweight ones):
	Tagger  Author
	When    time.Time // UTC
	Message string
}

// ValidTagName checks name with git's rules for a ref name
// (git check-ref-format, as go-git applies them) as refs/tags/<name>.
func ValidTagName(name string) error {
	ref := plumbing.NewTagReferenceName(name)
	if err := ref.Validate(); err != nil {
		return fmt.Errorf("tag name %q: git cannot hold it (%w)", name, err)
	}
	// Rules go-git leaves out: no DEL, no "/" at either end, no "//".
	if strings.ContainsRune(name, 0x7f) || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return fmt.Errorf("tag name %q: git cannot hold it (%w)", name, plumbing.ErrInvalidReferenceName)
	}
	return nil
}

// Tags lists the repository's tags that name a commit, sorted by name.
func (r *Repo) Tags() ([]Tag, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	iter, err := r.g.Tags()
	if err != nil {
		return nil, fmt.Errorf("list tags in %s: %w", r.dir, err)
	}
	defer iter.Close()
	var out []Tag
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		t, ok, err := r.tagOf(ref)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tags in %s: %w", r.dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// LookupTag finds one tag; ok is false when there is none (or it does not
// name a commit).
func (r *Repo) LookupTag(name string) (Tag, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ValidTagName(name) != nil {
		return Tag{}, false, nil
	}
	ref, err := r.g.Storer.Reference(plumbing.NewTagReferenceName(name))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return Tag{}, false, nil
	}
	if err != nil {
		return Tag{}, false, fmt.Errorf("read tag %s: %w", name, err)
	}
	return r.tagOf(ref)
}

// tagOf reads a tag reference: annotated (a tag object, peeled to its
// commit) or lightweight (the commit itself).
func (r *Repo) tagOf(ref *plumbing.Reference) (Tag, bool, error) {
	if ref.Type() != plumbing.HashReference {
		return Tag{}, false, nil
	}
	t := Tag{Name: ref.Name().Short()}
	h := ref.Hash()
	for range 10 { // tags of tags, peeled
		to, err := r.g.TagObject(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			break
		}
		if err != nil {
			return Tag{}, false, fmt.Errorf("read tag %s: %w", t.Name, err)
		}
		if t.When.IsZero() {
			t.Tagger = Author{Name: to.Tagger.Name, Email: to.Tagger.Email}
			t.When = to.Tagger.When.UTC()
			t.Message = strings.TrimRight(to.Message, "\n")
		}
		if to.TargetType != plumbing.CommitObject && to.TargetType != plumbing.TagObject {
			return Tag{}, false, nil
		}
		h = to.Target
	}
	if _, err := r.g.CommitObject(h); err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return Tag{}, false, nil
		}
		return Tag{}, false, fmt.Errorf("read tag %s: %w", t.Name, err)
	}
	t.Commit = h.String()
	return t, true, nil
}

// CreateTag makes an annotated tag name on commit with msg, by the
// repository's author (else datom / datom@noreply) at when. A tag of
// that name that exists already is ErrTagExists.
func (r *Repo) CreateTag(name, commit, msg string, when time.Time) (Tag, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ValidTagName(name); err != nil {
		return Tag{}, err
	}
	h := plumbing.NewHash(commit)
	if _, err := r.g.CommitObject(h); err != nil {
		return Tag{}, fmt.Errorf("tag %s: commit %s: %w", name, commit, err)
	}
	who, ok := r.author()
	if !ok {
		who = Author{Name: fallbackName, Email: fallbackEmail}
	}
	if strings.TrimSpace(msg) == "" {
		msg = name
	}
	sig := &object.Signature{Name: who.Name, Email: who.Email, When: when}
	_, err := r.g.CreateTag(name, h, &git.CreateTagOptions{Tagger: sig, Message: msg})
	if errors.Is(err, git.ErrTagExists) {
		return Tag{}, fmt.Errorf("tag %s: %w", name, ErrTagExists)
	}
	if err != nil {
		return Tag{}, fmt.Errorf("tag %s: %w", name, err)
	}
	return Tag{Name: name, Commit: commit, Tagger: who, When: when.UTC(), Message: strings.TrimRight(msg, "\n")}, nil
}

// DeleteTag removes a local tag (nothing if there is none).
func (r *Repo) DeleteTag(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.g.Storer.RemoveReference(plumbing.NewTagReferenceName(name))
	if err != nil && !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return fmt.Errorf("delete tag %s: %w", name, err)
	}
	return nil
}

// PushTag pushes the local tag name to origin. A remote tag of that name
// with another target is ErrPushRejected and ErrTagExists (another
// engineer made it first); the same tag there already is success.
func (r *Repo) PushTag(ctx context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.remote == "" {
		return fmt.Errorf("push tag %s from %s: no remote %q configured", name, r.dir, remoteName)
	}
	refName := plumbing.NewTagReferenceName(name)
	local, err := r.g.Storer.Reference(refName)
	if err != nil {
		return fmt.Errorf("push tag %s: %w", name, err)
	}
	ctx = remoteCtx(ctx, r.net)
	rem, err := r.g.Remote(remoteName)
	if err != nil {
		return fmt.Errorf("push tag %s: %w", name, err)
	}
	remoteTag := func() (plumbing.Hash, error) {
		refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: r.auth.method(r.remote)})
		if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
			return plumbing.ZeroHash, mapRemoteErr("push tag to", r.remote, err, r.auth.secret())
		}
		for _, ref := range refs {
			if ref.Name() == refName {
				return ref.Hash(), nil
			}
		}
		return plumbing.ZeroHash, nil
	}
	rejected := fmt.Errorf("push tag %s to %s: %w: %w (on the remote with another target)", name, remoteName, ErrPushRejected, ErrTagExists)
	err = r.pushTagObject(ctx, refName, local.Hash())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTagExists):
		return rejected
	}
	// Another push of that name may have landed since the advertisement
	// (the server then refuses the creation).
	if there, lerr := remoteTag(); lerr == nil && !there.IsZero() {
		if there == local.Hash() {
			return nil
		}
		return rejected
	}
	if isRejected(err) {
		return rejected
	}
	return mapRemoteErr("push tag to", r.remote, err, r.auth.secret())
}

// pushTagObject creates refName on the remote with the annotated tag
// object h, sending that one object: its commit is on the remote already
// (Tag checks), so, unlike go-git's push, nothing walks the history. The
// same tag there already is success; another one is ErrTagExists.
func (r *Repo) pushTagObject(ctx context.Context, refName plumbing.ReferenceName, h plumbing.Hash) error {
	sess, ar, err := r.receivePack(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	if there, ok := ar.References[refName.String()]; ok {
		if there == h {
			return nil
		}
		return ErrTagExists
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{{Name: refName, Old: plumbing.ZeroHash, New: h}}
	return sendPack(ctx, sess, req, func(w io.Writer) error {
		_, err := r.writeThinPack(w, []plumbing.Hash{h}, nil)
		return err
	})
}
