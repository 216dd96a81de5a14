package fs

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/datomfs/datomfs/versions"
)

// CSVConverter renders a parquet file as CSV (the @<id>.csv files). The CLI
// passes query.Converter.
type CSVConverter interface {
	ParquetToCSV(ctx context.Context, parquetPath, csvPath string) error
}

// renditions are the @<id>.csv files: each made once from the version's
// verified copy by the converter, and kept in the cache next to that copy
// (Project.RenditionPath), so that the cache's bound counts it and evicts
// it with the copy.
type renditions struct {
	p    *versions.Project
	conv CSVConverter // nil: no renditions
	// bg carries the conversions: an interrupted reader stops waiting, the
	// rendition is still made.
	bg context.Context

	mu   sync.Mutex
	runs map[string]*csvCall // rendition path → running conversion
}

type csvCall struct {
	done chan struct{}
	err  error
}

func newRenditions(p *versions.Project, conv CSVConverter, bg context.Context) *renditions {
	return &renditions{p: p, conv: conv, bg: bg, runs: map[string]*csvCall{}}
}

// enabled says whether the mount lists and serves renditions.
func (r *renditions) enabled() bool { return r.conv != nil }

// size is the rendition's size if it was made already.
func (r *renditions) size(v versions.Version) (int64, bool) {
	fi, err := os.Stat(r.p.RenditionPath(v, ".csv"))
	if err != nil {
		return 0, false
	}
	return fi.Size(), true
}

// open opens the CSV rendition of v, making it first if needed. The
// version's cache entry stays pinned until unpin.
func (r *renditions) open(ctx context.Context, v versions.Version) (f *os.File, unpin func(), err error) {
	// Pinned before the rendition is made from the cached copy.
	unpin = r.p.PinVersion(v)
	path, err := r.csv(ctx, v)
	if err != nil {
		unpin()
		return nil, nil, err
	}
	f, err = os.Open(path)
	if err != nil {
		unpin()
		return nil, nil, err
	}
	r.p.PinVersion(v)() // a use; also accounts for the rendition's size
	return f, unpin, nil
}

// csv returns the path of v's CSV rendition, making it once: concurrent
// callers share one conversion.
func (r *renditions) csv(ctx context.Context, v versions.Version) (string, error) {
	dst := r.p.RenditionPath(v, ".csv")
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if r.conv == nil {
		return "", fmt.Errorf("CSV rendition of %s@%s: no converter: %w", v.Table, v.ID.Short(), errUnsupport)
	}
	r.mu.Lock()
	call, running := r.runs[dst]
	if !running {
		call = &csvCall{done: make(chan struct{})}
		r.runs[dst] = call
	}
	r.mu.Unlock()
	if !running {
		go func() {
			call.err = r.make(v, dst)
			r.mu.Lock()
			delete(r.runs, dst)
			r.mu.Unlock()
			close(call.done)
		}()
	}
	select {
	case <-call.done:
		return dst, call.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// make converts v's verified copy into dst (through a temporary file).
func (r *renditions) make(v versions.Version, dst string) error {
	src, err := r.p.Fetch(r.bg, v)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, time.Now().UnixNano())
	defer os.Remove(tmp)
	if err := r.conv.ParquetToCSV(r.bg, src, tmp); err != nil {
		return fmt.Errorf("CSV rendition of %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	// DuckDB creates it by the umask; the cache is private.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("CSV rendition of %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("CSV rendition of %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	return nil
}
