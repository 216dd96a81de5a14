package store

import (
	"context"
	"errors"
	"sync"
)

// A Batch lets many Puts be made durable together, which a local folder
// does far more cheaply than one by one (one fsync per object and per
// folder otherwise): a Put given PutOptions.Batch may return before its
// object is durable, and before it is visible at its key; Commit makes
// every such object durable and visible, Abort drops those not committed.
// A store whose Puts are durable anyway (S3) ignores the Batch. Until
// Commit returns nil nothing may rely on the objects: a Stat or Open of
// their keys may not find them.
//
// A local folder keeps a file open for each object until Commit: keep a
// batch to a few hundred objects.
//
// A Batch is safe for concurrent Puts; Commit and Abort are called once,
// after every Put has returned. The zero Batch is ready to use.
type Batch struct {
	mu    sync.Mutex
	parts []batchPart
	done  bool
}

// BatchCommitter is the store side of a Batch: the backend that deferred
// work in Put (with Batch.Defer) finishes it in CommitBatch, or undoes it
// in AbortBatch, given the items it deferred, in order.
type BatchCommitter interface {
	CommitBatch(ctx context.Context, items []any) error
	AbortBatch(items []any)
}

type batchPart struct {
	c     BatchCommitter
	items []any
}

// errBatchDone: a Put into a Batch already committed or aborted.
var errBatchDone = errors.New("put into a finished store batch")

// Defer records work a backend's Put left for Commit (or Abort).
func (b *Batch) Defer(c BatchCommitter, item any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return errBatchDone
	}
	for i := range b.parts {
		if b.parts[i].c == c {
			b.parts[i].items = append(b.parts[i].items, item)
			return nil
		}
	}
	b.parts = append(b.parts, batchPart{c: c, items: []any{item}})
	return nil
}

// Commit makes the batch's objects durable and visible. On failure some
// may be in place and the rest are dropped.
func (b *Batch) Commit(ctx context.Context) error {
	parts := b.finish()
	for i, pt := range parts {
		if err := pt.c.CommitBatch(ctx, pt.items); err != nil {
			for _, rest := range parts[i+1:] {
				rest.c.AbortBatch(rest.items)
			}
			return err
		}
	}
	return nil
}

// Abort drops the objects not yet committed.
func (b *Batch) Abort() {
	for _, pt := range b.finish() {
		pt.c.AbortBatch(pt.items)
	}
}

func (b *Batch) finish() []batchPart {
	b.mu.Lock()
	defer b.mu.Unlock()
	parts := b.parts
	b.parts, b.done = nil, true
	return parts
}
