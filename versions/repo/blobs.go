package repo

import (
	"compress/zlib"
	"crypto/sha1"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// writeBlob stores body as a loose blob object, as git add does, and keeps
// it in memory for the pushes that send it or use it as a delta base
// (thinpack.go), rather than reading it back. It compresses at zlib's fastest level: a
// write rewrites version_history.json, megabytes at 10,000 versions, and
// the object is repacked later anyway (PackLoose). An object already
// present is not written again.
func (r *Repo) writeBlob(body []byte) (plumbing.Hash, error) {
	hdr := []byte("blob " + strconv.Itoa(len(body)) + "\x00")
	sum := sha1.New()
	sum.Write(hdr)
	sum.Write(body)
	var h plumbing.Hash
	copy(h[:], sum.Sum(nil))
	r.rememberBlob(h, body)
	if r.g.Storer.HasEncodedObject(h) == nil {
		return h, nil
	}
	hex := h.String()
	dir := filepath.Join(r.GitDir(), "objects", hex[:2])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return h, err
	}
	tmp, err := os.CreateTemp(dir, "tmp_obj_")
	if err != nil {
		return h, err
	}
	defer os.Remove(tmp.Name())
	// A zlib writer holds most of a megabyte of tables: reused, not
	// allocated per blob (a sync's batch writes hundreds).
	zw := zlibWriters.Get().(*zlib.Writer)
	defer zlibWriters.Put(zw)
	zw.Reset(tmp)
	_, err = zw.Write(hdr)
	if err == nil {
		_, err = zw.Write(body)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Chmod(0o444) // as git leaves objects
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return h, fmt.Errorf("write object %s: %w", hex, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, hex[2:])); err != nil && !errors.Is(err, fs.ErrExist) {
		return h, fmt.Errorf("write object %s: %w", hex, err)
	}
	return h, nil
}

// zlibWriters are writeBlob's compressors, at zlib.BestSpeed.
var zlibWriters = sync.Pool{New: func() any {
	zw, err := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	if err != nil {
		panic(err) // a constant, valid level
	}
	return zw
}}

// maxRemembered bounds the blobs kept in memory for pushes.
const maxRemembered = 64 << 20

// rememberBlob keeps a blob just written, within maxRemembered bytes (the
// oldest are forgotten first).
func (r *Repo) rememberBlob(h plumbing.Hash, body []byte) {
	r.blobsMu.Lock()
	defer r.blobsMu.Unlock()
	if r.blobs == nil {
		r.blobs = map[plumbing.Hash][]byte{}
	}
	if _, ok := r.blobs[h]; ok || len(body) > maxRemembered {
		return
	}
	for r.blobBytes+len(body) > maxRemembered && len(r.blobOrder) > 0 {
		old := r.blobOrder[0]
		r.blobOrder = r.blobOrder[1:]
		r.blobBytes -= len(r.blobs[old])
		delete(r.blobs, old)
	}
	r.blobs[h] = body
	r.blobOrder = append(r.blobOrder, h)
	r.blobBytes += len(body)
}

// rememberedBlob is a blob kept by rememberBlob.
func (r *Repo) rememberedBlob(h plumbing.Hash) ([]byte, bool) {
	r.blobsMu.Lock()
	defer r.blobsMu.Unlock()
	b, ok := r.blobs[h]
	return b, ok
}
