package fs

import (
	"context"
	"time"

	"github.com/datomfs/datomfs/versions"
)

// refresh brings the mount up to date with the remote: a developer mount
// pulls (fetch + fast-forward of the clone), a reader mount re-reads the
// store mirrors. Then it reloads the snapshot and invalidates exactly what
// changed. Pull takes the project's write lock, so a write waits at most
// for one fetch.
func (c *core) refresh(ctx context.Context) error {
	if c.p.Role() == versions.Developer {
		if _, err := c.p.Pull(ctx); err != nil {
			return err
		}
	}
	ch, err := c.tree.reload(ctx)
	c.refreshed(ch)
	return err
}

// resync reloads the snapshot without pulling (after a write, which pulled).
func (c *core) resync(ctx context.Context) changes {
	ch, err := c.tree.reload(ctx)
	if err != nil {
		c.log.Warn("datomfs: reload after write failed", "err", err.Error())
	}
	return ch
}

// refreshed hands a reload's changes to the FUSE layer.
func (c *core) refreshed(ch changes) {
	if c.onChange != nil && !ch.empty() {
		c.onChange(ch)
	}
}

// refreshLoop refreshes every interval until ctx ends.
func (c *core) refreshLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.refresh(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("datomfs: background refresh failed", "err", err.Error())
			}
		}
	}
}
