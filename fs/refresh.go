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
func (s *state) refresh(ctx context.Context) error {
	if s.p.Role() == versions.Developer {
		if _, err := s.p.Pull(ctx); err != nil {
			return err
		}
	}
	c, err := s.reload(ctx)
	s.refreshed(c)
	return err
}

// resync reloads the snapshot without pulling (after a write, which pulled).
func (s *state) resync(ctx context.Context) changes {
	c, err := s.reload(ctx)
	if err != nil {
		s.log.Warn("datomfs: reload after write failed", "err", err.Error())
	}
	return c
}

// refreshed hands a reload's changes to the FUSE layer.
func (s *state) refreshed(c changes) {
	if s.onChange != nil && !c.empty() {
		s.onChange(c)
	}
}

// refreshLoop refreshes every interval until ctx ends.
func (s *state) refreshLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("datomfs: background refresh failed", "err", err.Error())
			}
		}
	}
}
