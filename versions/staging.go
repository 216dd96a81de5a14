package versions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/datomfs/datomfs/versions/store"
)

// Staging folders hold a process's temporary copies: a mount's files being
// copied in, a write's CSV converted to parquet. Each lives under
// <cache>/staging and its owner holds an flock on it for as long as it
// lives. The kernel drops the flock when the owner exits or is killed, so
// a folder whose flock can be taken has no live owner and is removed by
// the next write or mount start (SweepStaging); a live owner's never is.

// StagingDir is a staging folder owned by this process.
type StagingDir struct {
	Path string
	lock *os.File
}

// NewStagingDir creates a private staging folder under base, named
// <kind>-*, and takes its owner lock.
func NewStagingDir(base, kind string) (*StagingDir, error) {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("staging folder: %w", err)
	}
	for {
		dir, err := os.MkdirTemp(base, kind+"-*")
		if err != nil {
			return nil, fmt.Errorf("staging folder: %w", err)
		}
		f, err := os.Open(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a sweep took it before we could lock it: make another
		}
		if err == nil {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		}
		if err != nil {
			if f != nil {
				f.Close()
			}
			os.RemoveAll(dir)
			return nil, fmt.Errorf("lock staging folder %s: %w", dir, err)
		}
		// A sweep may have taken the new folder for an abandoned one
		// before we locked it: then make another.
		if _, err := os.Stat(dir); err == nil {
			return &StagingDir{Path: dir, lock: f}, nil
		}
		f.Close()
	}
}

// Remove deletes the folder and drops its lock.
func (d *StagingDir) Remove() {
	if d == nil || d.lock == nil {
		return
	}
	os.RemoveAll(d.Path)
	d.lock.Close()
	d.lock = nil
}

// SweepStaging removes the staging folders under base whose owner is gone
// and returns how many it removed.
func SweepStaging(base string, log *slog.Logger) int {
	entries, err := os.ReadDir(base)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		path := filepath.Join(base, e.Name())
		ok, err := removeIfAbandoned(path)
		if err != nil {
			log.Warn("remove leftover staging folder", "path", path, "err", err)
		}
		if ok {
			log.Info("removed a staging folder left by a process that ended", "path", path)
			removed++
		}
	}
	return removed
}

// removeIfAbandoned removes path if nobody holds its owner lock, holding
// that lock while it removes (an owner that locks it later sees it gone).
func removeIfAbandoned(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false, nil // a live owner
	}
	if err := os.RemoveAll(path); err != nil {
		return false, err
	}
	return true, nil
}

// sweepStoreTemp removes temporary objects a killed writer left in the
// store under prefix, when the store can tell which are abandoned.
func (p *Project) sweepStoreTemp(ctx context.Context, prefix string) {
	sw, ok := store.As[store.TempSweeper](p.store)
	if !ok {
		return
	}
	removed, err := sw.SweepTemp(ctx, prefix, true)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.opts.Logger.Warn("clean leftover temporary files in the store", "err", err)
	}
	for _, r := range removed {
		p.opts.Logger.Info("removed a temporary file left in the store by a process that ended", "file", r)
	}
}

// NewMountStaging prepares a mount's staging: it removes what killed
// processes left behind (staging folders under base and in the cache,
// temporary files in the store; see CleanLeftovers) and creates the
// mount's own staging folder under base ("": the cache's staging base). A
// live process's staging folder is never touched.
func (p *Project) NewMountStaging(ctx context.Context, base string) (*StagingDir, error) {
	if base == "" {
		base = p.cache.StagingBase()
	}
	if base != p.cache.StagingBase() {
		SweepStaging(base, p.opts.Logger)
	}
	p.CleanLeftovers(ctx)
	return NewStagingDir(base, "mount")
}

// CleanLeftovers removes what killed processes left behind: staging
// folders in the cache and temporary files in the whole store (a mount
// start; a write sweeps only its own table's folder).
func (p *Project) CleanLeftovers(ctx context.Context) {
	SweepStaging(p.cache.StagingBase(), p.opts.Logger)
	if p.role == Developer {
		p.sweepStoreTemp(ctx, p.layout.Root())
	}
}
