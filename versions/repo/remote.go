package repo

import (
	"context"
	"errors"
	"fmt"
	"sort"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// PullResult describes what a Pull did. From and To are the branch tip
// before and after ("" for an unborn branch); Commits counts the commits
// fast-forwarded over and ChangedPaths lists the files that changed between
// From and To, sorted. An up-to-date branch, or one only ahead of the
// remote, gives From == To and Commits == 0.
type PullResult struct {
	From, To     string
	Commits      int
	ChangedPaths []string
}

// Fetch updates the remote-tracking branches from origin. An up-to-date or
// empty remote is success.
func (r *Repo) Fetch(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetch(ctx)
}

func (r *Repo) fetch(ctx context.Context) error {
	if r.remote == "" {
		return fmt.Errorf("fetch in %s: no remote %q configured", r.dir, remoteName)
	}
	err := r.g.FetchContext(remoteCtx(ctx, r.net), &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs: []config.RefSpec{
			config.RefSpec("+refs/heads/*:refs/remotes/" + remoteName + "/*"),
			// Tags (datomfs tag): the remote's are the project's points
			// in time. Local tags the remote lacks stay.
			config.RefSpec("+refs/tags/*:refs/tags/*"),
		},
		Auth: r.auth.method(r.remote),
		Tags: git.NoTags,
	})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case errors.Is(err, git.ErrEmptyUrls):
		return fmt.Errorf("fetch in %s: no remote URL configured", r.dir)
	}
	err = mapRemoteErr("fetch", r.remote, err, r.auth.secret())
	if errors.Is(err, ErrEmptyRemote) {
		return nil
	}
	return err
}

// Pull fetches and fast-forwards the branch and work tree to the remote
// branch. It returns ErrDiverged when both sides have new commits and
// ErrLocalChanges when a file the fast-forward changes has uncommitted
// changes (nothing is touched then). Untracked and ignored files the
// fast-forward does not change are left alone.
func (r *Repo) Pull(ctx context.Context) (PullResult, error) {
	return r.PullWith(ctx, nil)
}

// PullWith is Pull with a hook that sees the paths the fast-forward will
// rewrite just before it moves the branch and rewrites them; an error from
// it stops the pull there. Callers journal the paths so that a crash
// between the two steps can be finished (ResetPaths).
func (r *Repo) PullWith(ctx context.Context, beforeCheckout func(paths []string) error) (PullResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	from, err := r.head()
	if err != nil {
		return PullResult{}, err
	}
	res := PullResult{From: hashString(from), To: hashString(from)}
	if err := r.fetch(ctx); err != nil {
		return res, err
	}
	to, err := r.tracking()
	if err != nil || to.IsZero() || to == from {
		return res, err
	}
	ahead, behind, err := countExclusive(ctx, r.g.Storer, from, to)
	if err != nil {
		return res, fmt.Errorf("pull in %s: %w", r.dir, err)
	}
	if behind == 0 {
		return res, nil // only ahead: nothing to pull
	}
	if ahead > 0 {
		return res, fmt.Errorf("pull in %s: %d local and %d remote commits: %w", r.dir, ahead, behind, ErrDiverged)
	}
	if !from.IsZero() {
		// The count trusts commit dates; confirm the fast-forward exactly.
		ok, err := r.isAncestor(from, to)
		if err != nil {
			return res, fmt.Errorf("pull in %s: %w", r.dir, err)
		}
		if !ok {
			return res, fmt.Errorf("pull in %s: %w", r.dir, ErrDiverged)
		}
	}
	changed, err := r.changedPaths(ctx, from, to)
	if err != nil {
		return res, fmt.Errorf("pull in %s: %w", r.dir, err)
	}
	if err := r.checkoutPaths(ctx, from, to, changed, beforeCheckout); err != nil {
		return res, fmt.Errorf("pull in %s: %w", r.dir, err)
	}
	res.To, res.Commits, res.ChangedPaths = to.String(), behind, changed
	return res, nil
}

// Push pushes the branch to the same branch on origin. ErrPushRejected
// means the remote has commits we lack; an up-to-date remote is success.
func (r *Repo) Push(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.remote == "" {
		return fmt.Errorf("push from %s: no remote %q configured", r.dir, remoteName)
	}
	head, err := r.head()
	if err != nil {
		return err
	}
	if head.IsZero() {
		return fmt.Errorf("push from %s: branch %s has no commits yet", r.dir, r.branch)
	}
	ctx = remoteCtx(ctx, r.net)
	err = r.pushFastForward(ctx, head)
	if err == nil {
		return nil
	}
	if !errors.Is(err, errNoFastPush) {
		return mapRemoteErr("push to", r.remote, err, r.auth.secret())
	}
	ref := r.branchRef().String()
	err = r.g.PushContext(ctx, &git.PushOptions{
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{config.RefSpec(ref + ":" + ref)},
		Auth:       r.auth.method(r.remote),
	})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return mapRemoteErr("push to", r.remote, err, r.auth.secret())
}

// AheadBehind counts commits on the local branch missing from the
// remote-tracking branch (ahead) and the reverse (behind), as of the last
// Fetch, Pull or Push.
func (r *Repo) AheadBehind(ctx context.Context) (ahead, behind int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	local, err := r.head()
	if err != nil {
		return 0, 0, err
	}
	remote, err := r.tracking()
	if err != nil {
		return 0, 0, err
	}
	ahead, behind, err = countExclusive(ctx, r.g.Storer, local, remote)
	if err != nil {
		return 0, 0, fmt.Errorf("compare %s with %s in %s: %w", r.branch, r.trackingRef().Short(), r.dir, err)
	}
	return ahead, behind, nil
}

// tracking returns the remote-tracking branch tip, zero when absent.
func (r *Repo) tracking() (plumbing.Hash, error) {
	ref, err := r.g.Storer.Reference(r.trackingRef())
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read %s in %s: %w", r.trackingRef().Short(), r.dir, err)
	}
	return ref.Hash(), nil
}

// isAncestor reports whether commit a is reachable from commit b.
func (r *Repo) isAncestor(a, b plumbing.Hash) (bool, error) {
	ca, err := r.g.CommitObject(a)
	if err != nil {
		return false, fmt.Errorf("read commit %s: %w", a, err)
	}
	cb, err := r.g.CommitObject(b)
	if err != nil {
		return false, fmt.Errorf("read commit %s: %w", b, err)
	}
	return ca.IsAncestor(cb)
}

// treeOf returns the tree of commit h, or nil for the zero hash.
func (r *Repo) treeOf(h plumbing.Hash) (*object.Tree, error) {
	if h.IsZero() {
		return nil, nil
	}
	c, err := r.g.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", h, err)
	}
	return t, nil
}

// changedPaths lists the files that differ between two commits, sorted.
func (r *Repo) changedPaths(ctx context.Context, from, to plumbing.Hash) ([]string, error) {
	ft, err := r.treeOf(from)
	if err != nil {
		return nil, err
	}
	tt, err := r.treeOf(to)
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(ctx, ft, tt, nil)
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", from, to, err)
	}
	set := map[string]bool{}
	for _, ch := range changes {
		if ch.From.Name != "" {
			set[ch.From.Name] = true
		}
		if ch.To.Name != "" {
			set[ch.To.Name] = true
		}
	}
	paths := make([]string, 0, len(set))
	for p := range set {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}

func hashString(h plumbing.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}
