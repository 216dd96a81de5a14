package repo

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

const (
	sideA = 1 << iota
	sideB
	bothSides = sideA | sideB
)

// dateSlop is how far past the last one-sided commit countExclusive keeps
// walking, so that equal timestamps (commits in the same second) and
// modest clock skew between machines do not end the walk too early.
const dateSlop = time.Hour

// countExclusive counts the commits reachable from a but not b (onlyA) and
// from b but not a (onlyB); either hash may be zero (an empty side). It
// walks newest first, as git's ahead/behind count does, and stops once
// every pending commit is reachable from both sides and older (by more than
// dateSlop) than every commit seen on one side only, so it reads only the
// commits since about the merge base.
func countExclusive(ctx context.Context, s storer.EncodedObjectStorer, a, b plumbing.Hash) (onlyA, onlyB int, err error) {
	if a == b {
		return 0, 0, nil
	}
	flags := map[plumbing.Hash]int{}
	when := map[plumbing.Hash]time.Time{}
	q := &commitQueue{}
	push := func(h plumbing.Hash, f int) error {
		old := flags[h]
		if old|f == old {
			return nil
		}
		flags[h] = old | f
		c, err := object.GetCommit(s, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil // shallow or incomplete history: stop this path
		}
		if err != nil {
			return fmt.Errorf("read commit %s: %w", h, err)
		}
		when[h] = c.Committer.When
		heap.Push(q, c)
		return nil
	}
	if !a.IsZero() {
		if err := push(a, sideA); err != nil {
			return 0, 0, err
		}
	}
	if !b.IsZero() {
		if err := push(b, sideB); err != nil {
			return 0, 0, err
		}
	}
	var stopBefore *time.Time // set once only common commits are pending
	for q.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		if stopBefore == nil && q.allCommon(flags) {
			// From here on every new flag is "both", so the one-sided set
			// only shrinks and its oldest date only grows: this bound stays
			// safe.
			t := oldestOneSided(flags, when).Add(-dateSlop)
			stopBefore = &t
		}
		if stopBefore != nil && (*q)[0].Committer.When.Before(*stopBefore) {
			break
		}
		c := heap.Pop(q).(*object.Commit)
		f := flags[c.Hash]
		for _, p := range c.ParentHashes {
			if err := push(p, f); err != nil {
				return 0, 0, err
			}
		}
	}
	for _, f := range flags {
		switch f {
		case sideA:
			onlyA++
		case sideB:
			onlyB++
		}
	}
	return onlyA, onlyB, nil
}

// oldestOneSided returns the oldest date among commits reachable from one
// side only, or the far future when there are none.
func oldestOneSided(flags map[plumbing.Hash]int, when map[plumbing.Hash]time.Time) time.Time {
	oldest := time.Unix(1<<62, 0)
	for h, f := range flags {
		if t, ok := when[h]; ok && f != bothSides && t.Before(oldest) {
			oldest = t
		}
	}
	return oldest
}

// commitQueue is a max-heap of commits by committer time.
type commitQueue []*object.Commit

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	return q[i].Committer.When.After(q[j].Committer.When)
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(*object.Commit)) }
func (q *commitQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// allCommon reports whether every queued commit is reachable from both
// sides, so that nothing further can be exclusive to one.
func (q commitQueue) allCommon(flags map[plumbing.Hash]int) bool {
	for _, c := range q {
		if flags[c.Hash] != bothSides {
			return false
		}
	}
	return true
}
