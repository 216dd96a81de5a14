package repo

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// A write pushes one commit on top of the remote's tip. go-git's own push
// finds the objects to send by walking every object reachable from the
// remote's tip (to know what the remote has), so its cost grows with the
// whole history. When the push is a fast-forward, the objects the remote
// lacks are exactly those the new commits introduce, found by diffing each
// new commit's tree with its parent's: cost follows the change, not the
// history. Anything else (an empty remote, a remote tip we do not have, a
// long run of local commits) goes through go-git's push, which also
// produces its usual non-fast-forward rejection.

// maxFastPushCommits bounds the walk from our tip back to the remote's.
const maxFastPushCommits = 256

// errNoFastPush says the fast path does not apply; use go-git's push.
var errNoFastPush = errors.New("not a plain fast-forward")

// pushFastForward pushes the branch tip head when it is a fast-forward of
// the remote branch, sending only the new commits' objects. It returns
// errNoFastPush when that is not the case (nothing was sent).
func (r *Repo) pushFastForward(ctx context.Context, head plumbing.Hash) error {
	sess, ar, err := r.receivePack(ctx)
	if errors.Is(err, errNoTransport) {
		return errNoFastPush
	}
	if err != nil {
		return err
	}
	defer sess.Close()
	remoteTip, ok := ar.References[r.branchRef().String()]
	if !ok || remoteTip.IsZero() {
		return errNoFastPush
	}
	if remoteTip == head {
		return nil // up to date
	}
	commits, err := r.commitsSince(head, remoteTip)
	if err != nil {
		return err
	}
	if commits == nil {
		return errNoFastPush
	}
	objs, bases, err := r.newObjects(commits)
	if err != nil {
		return err
	}

	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{{Name: r.branchRef(), Old: remoteTip, New: head}}
	err = sendPack(ctx, sess, req, func(w io.Writer) error {
		n, err := r.writeThinPack(w, objs, bases)
		r.lastPushPack.Store(n)
		return err
	})
	if err != nil {
		return err
	}
	// As go-git's push does: the remote-tracking branch follows.
	return r.g.Storer.SetReference(plumbing.NewHashReference(r.trackingRef(), head))
}

// errNoTransport says go-git has no client for the remote's URL.
var errNoTransport = errors.New("no transport for the remote")

// receivePack opens a push session to the remote and reads what it
// advertises. The caller closes the session.
func (r *Repo) receivePack(ctx context.Context) (transport.ReceivePackSession, *packp.AdvRefs, error) {
	ep, err := transport.NewEndpoint(r.remote)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errNoTransport, err)
	}
	cl, err := client.NewClient(ep)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errNoTransport, err)
	}
	sess, err := cl.NewReceivePackSession(ep, r.auth.method(r.remote))
	if err != nil {
		return nil, nil, err
	}
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		sess.Close()
		return nil, nil, err
	}
	return sess, ar, nil
}

// sendPack sends req with the pack write produces (streamed through a
// pipe) and returns the remote's verdict.
func sendPack(ctx context.Context, sess transport.ReceivePackSession, req *packp.ReferenceUpdateRequest, write func(io.Writer) error) error {
	rd, wr := io.Pipe()
	req.Packfile = rd
	done := make(chan error, 1)
	go func() {
		if err := write(wr); err != nil {
			done <- wr.CloseWithError(err)
			return
		}
		done <- wr.Close()
	}()
	rs, err := sess.ReceivePack(ctx, req)
	if err != nil {
		rd.Close()
		<-done
		return err
	}
	if err := <-done; err != nil {
		return err
	}
	if rs != nil {
		return rs.Error()
	}
	return nil
}

// commitsSince lists the commits reachable from head but not from base
// when base is an ancestor of head along parents within
// maxFastPushCommits; nil otherwise (merge commits included: every new
// commit is listed, each diffed against all its parents).
func (r *Repo) commitsSince(head, base plumbing.Hash) ([]*object.Commit, error) {
	if _, err := r.g.CommitObject(base); err != nil {
		return nil, nil // the remote has a commit we lack: not a fast-forward
	}
	var out []*object.Commit
	seen := map[plumbing.Hash]bool{base: true}
	queue := []plumbing.Hash{head}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if seen[h] {
			continue
		}
		seen[h] = true
		c, err := r.g.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", h, err)
		}
		if c.NumParents() == 0 || len(out) >= maxFastPushCommits {
			return nil, nil // reached a root without meeting base, or too far
		}
		out = append(out, c)
		queue = append(queue, c.ParentHashes...)
	}
	return out, nil
}

// newObjects lists the objects the commits introduce: each commit, and the
// trees and blobs of its tree that differ from every parent's; and, for a
// blob whose path held another blob in a parent, that blob (a delta base,
// which the remote has or the pack carries: thinpack.go).
func (r *Repo) newObjects(commits []*object.Commit) ([]plumbing.Hash, map[plumbing.Hash]plumbing.Hash, error) {
	bases := map[plumbing.Hash]plumbing.Hash{}
	set := map[plumbing.Hash]bool{}
	var out []plumbing.Hash
	add := func(h plumbing.Hash) {
		if !set[h] {
			set[h] = true
			out = append(out, h)
		}
	}
	for _, c := range commits {
		add(c.Hash)
		var parents []*object.Tree
		for _, ph := range c.ParentHashes {
			pc, err := r.g.CommitObject(ph)
			if err != nil {
				return nil, nil, fmt.Errorf("read commit %s: %w", ph, err)
			}
			pt, err := pc.Tree()
			if err != nil {
				return nil, nil, fmt.Errorf("read tree of %s: %w", ph, err)
			}
			parents = append(parents, pt)
		}
		t, err := c.Tree()
		if err != nil {
			return nil, nil, fmt.Errorf("read tree of %s: %w", c.Hash, err)
		}
		if err := r.addNewTree(t, parents, add, bases); err != nil {
			return nil, nil, err
		}
	}
	return out, bases, nil
}

// addNewTree adds t and, recursively, its entries that none of the old
// trees holds at the same path with the same hash.
func (r *Repo) addNewTree(t *object.Tree, old []*object.Tree, add func(plumbing.Hash), bases map[plumbing.Hash]plumbing.Hash) error {
	for _, o := range old {
		if o != nil && o.Hash == t.Hash {
			return nil
		}
	}
	add(t.Hash)
	for _, e := range t.Entries {
		same := false
		var oldSubs []*object.Tree
		var oldBlob plumbing.Hash
		for _, o := range old {
			if o == nil {
				continue
			}
			oe, err := o.FindEntry(e.Name)
			if err != nil {
				continue
			}
			if oe.Hash == e.Hash {
				same = true
				break
			}
			if oe.Mode == filemode.Dir && e.Mode == filemode.Dir {
				if st, err := o.Tree(e.Name); err == nil {
					oldSubs = append(oldSubs, st)
				}
			}
			if oe.Mode.IsFile() && e.Mode.IsFile() && oldBlob.IsZero() {
				oldBlob = oe.Hash
			}
		}
		if same {
			continue
		}
		switch e.Mode {
		case filemode.Dir:
			sub, err := t.Tree(e.Name)
			if err != nil {
				return fmt.Errorf("read tree %s: %w", e.Name, err)
			}
			if err := r.addNewTree(sub, oldSubs, add, bases); err != nil {
				return err
			}
		case filemode.Submodule:
			// a gitlink names a commit of another repository: nothing to send
		default:
			add(e.Hash)
			if !oldBlob.IsZero() {
				bases[e.Hash] = oldBlob
			}
		}
	}
	return nil
}
