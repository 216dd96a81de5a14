package repo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// localRemotePath returns the folder of a plain-path or file:// remote, or
// "" for any other URL.
func localRemotePath(remote string) string {
	if strings.HasPrefix(remote, "file://") {
		u, err := url.Parse(remote)
		if err != nil {
			return ""
		}
		return u.Path
	}
	if strings.Contains(remote, "://") {
		return ""
	}
	// scp-like user@host:path is remote; a Windows drive letter is not.
	if i := strings.Index(remote, ":"); i > 1 && !strings.ContainsAny(remote[:i], `/\`) {
		return ""
	}
	return remote
}

// RemoteHead says what the remote's HEAD names after a push of branch:
// Target is the branch it names ("" when the server does not say, as git
// does not when that branch is missing) and
// Missing is true when that branch does not exist on the remote, so a plain
// "git clone" checks out nothing. Fixed is true when FollowPushedBranch
// pointed a local bare repository's HEAD at branch.
type RemoteHead struct {
	Target  string
	Missing bool
	Fixed   bool
	Local   bool
}

// FollowPushedBranch makes a plain "git clone" of the remote check out
// branch when the remote's HEAD names a branch that does not exist there
// (a bare repo made by "git init --bare" with init.defaultBranch=master while
// datomfs pushed main). For a local bare repository (a path or file://) it
// rewrites the HEAD symref; other remotes are only inspected (their default
// branch is a hosting setting) and the result says what is wrong.
func (r *Repo) FollowPushedBranch(ctx context.Context) (RemoteHead, error) {
	r.mu.Lock()
	remote, branch, auth := r.remote, r.branch, r.auth
	r.mu.Unlock()
	if path := localRemotePath(remote); path != "" {
		h, err := fixLocalBareHead(path, branch)
		h.Local = true
		return h, err
	}
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: remoteName, URLs: []string{remote}})
	refs, err := rem.ListContext(remoteCtx(ctx, r.net), &git.ListOptions{Auth: auth.method(remote)})
	if err != nil {
		return RemoteHead{}, mapRemoteErr("list", remote, err, auth.secret())
	}
	var h RemoteHead
	branches := map[string]bool{}
	advertised := false
	for _, ref := range refs {
		switch {
		case ref.Name().IsBranch():
			branches[ref.Name().Short()] = true
		case ref.Name() == plumbing.HEAD:
			advertised = true
			if ref.Type() == plumbing.SymbolicReference {
				h.Target = ref.Target().Short()
			}
		}
	}
	// git does not advertise a HEAD that names a missing branch (nor its
	// target): a remote with branches but no HEAD is that case.
	h.Missing = (h.Target != "" && !branches[h.Target]) || (!advertised && len(branches) > 0)
	return h, nil
}

func fixLocalBareHead(path, branch string) (RemoteHead, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return RemoteHead{}, err
	}
	g, err := git.PlainOpen(abs)
	if err != nil {
		return RemoteHead{}, fmt.Errorf("open remote %s: %w", abs, err)
	}
	if cfg, err := g.Config(); err != nil || !cfg.Core.IsBare {
		return RemoteHead{}, nil // a non-bare remote keeps its own checkout
	}
	head, err := g.Storer.Reference(plumbing.HEAD)
	if err != nil || head.Type() != plumbing.SymbolicReference {
		return RemoteHead{}, nil
	}
	h := RemoteHead{Target: head.Target().Short()}
	if _, err := g.Storer.Reference(head.Target()); err == nil {
		return h, nil
	} else if !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return h, err
	}
	h.Missing = true
	want := plumbing.NewBranchReferenceName(branch)
	if _, err := g.Storer.Reference(want); err != nil {
		return h, nil // the pushed branch is not there either: leave HEAD alone
	}
	if err := g.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, want)); err != nil {
		return h, fmt.Errorf("set HEAD of %s to %s: %w", abs, branch, err)
	}
	h.Target, h.Missing, h.Fixed = branch, false, true
	return h, nil
}
