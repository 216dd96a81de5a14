package fs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/datomfs/datomfs/internal/rds"
	"github.com/datomfs/datomfs/versions"
)

// CSVConverter renders a parquet file as CSV (the @<id>.csv files). The CLI
// passes query.Converter.
type CSVConverter interface {
	ParquetToCSV(ctx context.Context, parquetPath, csvPath string) error
}

// Rendition kinds: the file name's extension without the dot.
const (
	kindCSV = "csv"
	kindRDS = "rds"
)

// renditions are the @<id>.csv and @<id>.rds files: each made once from
// the version's verified copy (CSV by the converter, .rds by internal/rds),
// and kept in the cache next to that copy (Project.RenditionPath), so that
// the cache's bound counts it and evicts it with the copy.
type renditions struct {
	p    *versions.Project
	conv CSVConverter // nil: no CSV renditions
	// bg carries the conversions: an interrupted reader stops waiting, the
	// rendition is still made.
	bg context.Context

	mu   sync.Mutex
	runs map[string]*convCall // rendition path → running conversion
	// refused remembers the .rds renditions refused (a column R cannot
	// hold as arrow gives it): versions never change, so neither does the
	// refusal.
	refused map[string]error
	// toRDS makes an .rds rendition (tests replace it).
	toRDS func(ctx context.Context, parquetPath, rdsPath string) error
	// sizes remembers what size found (rendition path → sizeSeen): a
	// listing asks for every version's renditions at every READDIRPLUS.
	sizes sync.Map
}

// sizeSeen is a rendition's size (a rendition, made from immutable bytes,
// keeps its size even when evicted and made again), or that it was missing
// at a moment (it may be made since, by this mount or another sharing the
// cache, so that is believed only briefly).
type sizeSeen struct {
	size    int64
	missing time.Time // zero: size is known
}

// missingFor is how long a rendition found missing is believed missing.
const missingFor = 2 * time.Second

type convCall struct {
	done chan struct{}
	err  error
}

func newRenditions(p *versions.Project, conv CSVConverter, bg context.Context) *renditions {
	return &renditions{p: p, conv: conv, bg: bg, runs: map[string]*convCall{}, refused: map[string]error{},
		toRDS: rds.Converter{}.ParquetToRDS}
}

// kinds lists the renditions the mount lists and serves.
func (r *renditions) kinds() []string {
	if r.conv == nil {
		return []string{kindRDS}
	}
	return []string{kindCSV, kindRDS}
}

// enabled says whether the mount lists and serves renditions of a kind.
func (r *renditions) enabled(kind string) bool {
	return kind == kindRDS || kind == kindCSV && r.conv != nil
}

// size is the rendition's size if it was made already.
func (r *renditions) size(v versions.Version, kind string) (int64, bool) {
	path := r.p.RenditionPath(v, "."+kind)
	if s, ok := r.sizes.Load(path); ok {
		seen := s.(sizeSeen)
		if seen.missing.IsZero() {
			return seen.size, true
		}
		if time.Since(seen.missing) < missingFor {
			return 0, false
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		r.sizes.Store(path, sizeSeen{missing: time.Now()})
		return 0, false
	}
	r.sizes.Store(path, sizeSeen{size: fi.Size()})
	return fi.Size(), true
}

// open opens the rendition of v of a kind, making it first if needed. The
// version's cache entry stays pinned until unpin.
func (r *renditions) open(ctx context.Context, v versions.Version, kind string) (f *os.File, unpin func(), err error) {
	// Pinned before the rendition is made from the cached copy.
	unpin = r.p.PinVersion(v)
	path, err := r.make1(ctx, v, kind)
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

// make1 returns the path of v's rendition of a kind, making it once:
// concurrent callers share one conversion.
func (r *renditions) make1(ctx context.Context, v versions.Version, kind string) (string, error) {
	dst := r.p.RenditionPath(v, "."+kind)
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if !r.enabled(kind) {
		return "", fmt.Errorf("%s rendition of %s@%s: no converter: %w", kind, v.Table, v.ID.Short(), errUnsupport)
	}
	r.mu.Lock()
	if err, ok := r.refused[dst]; ok {
		r.mu.Unlock()
		return "", err
	}
	call, running := r.runs[dst]
	if !running {
		call = &convCall{done: make(chan struct{})}
		r.runs[dst] = call
	}
	r.mu.Unlock()
	if !running {
		go func() {
			call.err = r.make(v, kind, dst)
			r.mu.Lock()
			if errors.Is(call.err, rds.ErrUnsupported) {
				r.refused[dst] = call.err
			}
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

// renditionLogAt is the source size from which building a rendition is
// logged at the default level, with its progress every renditionLogEvery.
var (
	renditionLogAt    int64 = 64 << 20
	renditionLogEvery       = 5 * time.Second
)

// logProgress logs the building of a large rendition: its start, the
// bytes written so far while it runs, and its size and time when done (the
// returned func, deferred). Small ones are logged at debug level.
func (r *renditions) logProgress(what, src, tmp, dst string) (done func(err *error)) {
	log := r.p.Logger()
	level := slog.LevelDebug
	var srcSize int64
	if fi, err := os.Stat(src); err == nil {
		srcSize = fi.Size()
	}
	if srcSize >= renditionLogAt {
		level = slog.LevelInfo
	}
	start := time.Now()
	log.Log(r.bg, level, "datomfs: building "+what, "parquet_bytes", srcSize)
	stop := make(chan struct{})
	ticks := time.NewTicker(renditionLogEvery)
	go func() {
		defer ticks.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ticks.C:
				if fi, err := os.Stat(tmp); err == nil {
					log.Log(r.bg, level, "datomfs: building "+what, "written_bytes", fi.Size(), "seconds", int(time.Since(start).Seconds()))
				}
			}
		}
	}()
	return func(err *error) {
		close(stop)
		secs := fmt.Sprintf("%.1f", time.Since(start).Seconds())
		if *err != nil {
			return // core.errno logs the failure with its reason
		}
		var size int64
		if fi, err := os.Stat(dst); err == nil {
			size = fi.Size()
		}
		log.Log(r.bg, level, "datomfs: built "+what, "bytes", size, "seconds", secs)
	}
}

// make converts v's verified copy into dst (through a temporary file).
func (r *renditions) make(v versions.Version, kind, dst string) (err error) {
	src, err := r.p.Fetch(r.bg, v)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s rendition of %s@%s", kind, v.Table, v.ID.Short())
	if kind == kindCSV {
		what = fmt.Sprintf("CSV rendition of %s@%s", v.Table, v.ID.Short())
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, time.Now().UnixNano())
	defer os.Remove(tmp)
	defer r.logProgress(what, src, tmp, dst)(&err)
	switch kind {
	case kindCSV:
		err = r.conv.ParquetToCSV(r.bg, src, tmp)
	case kindRDS:
		err = r.toRDS(r.bg, src, tmp)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// DuckDB creates it by the umask; the cache is private.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	r.sizes.Delete(dst) // it was missing a moment ago
	return nil
}
