package fs

import (
	"context"
	"io"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/cache"
)

// openRemote serves a version of a remote store that is not cached yet by
// ranged reads (the footer at once, then what is asked for) while the cache
// fills in the background. ok is false when the plain cached path applies.
func (s *state) openRemote(ctx context.Context, v versions.Version) (gofs.FileHandle, bool, error) {
	if !s.p.RemoteStore() {
		return nil, false, nil
	}
	key := s.p.Key(v)
	if _, cached := s.p.Cache().Cached(key, v.ParquetSHA); cached {
		return nil, false, nil
	}
	size, err := s.versionSize(ctx, v)
	if err != nil {
		return nil, true, err
	}
	part, err := s.p.Cache().OpenPartial(ctx, key, v.ParquetSHA, size, !s.noFill)
	if err != nil {
		return nil, true, storeErr(err)
	}
	return &partialFile{p: part}, true, nil
}

// partialFile reads a version that is still being fetched.
type partialFile struct {
	p *cache.Partial
}

var (
	_ gofs.FileReader   = (*partialFile)(nil)
	_ gofs.FileReleaser = (*partialFile)(nil)
)

func (h *partialFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.p.ReadAt(ctx, dest, off)
	if err != nil && n == 0 && err != io.EOF {
		return nil, Errno(storeErr(err))
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *partialFile) Release(ctx context.Context) syscall.Errno {
	h.p.Close()
	return 0
}
