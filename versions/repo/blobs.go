package repo

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/klauspost/compress/zlib"
)

// blobHash is body's git blob hash. The blob is kept in memory for the
// pushes that send it or use it as a delta base (thinpack.go), rather than
// read back.
func (r *Repo) blobHash(body []byte) plumbing.Hash {
	sum := sha1.New()
	sum.Write(blobHeader(body))
	sum.Write(body)
	var h plumbing.Hash
	copy(h[:], sum.Sum(nil))
	r.rememberBlob(h, body)
	return h
}

func blobHeader(body []byte) []byte {
	return []byte("blob " + strconv.Itoa(len(body)) + "\x00")
}

// blobSet is the blobs of one commit, in the order staged, each once.
type blobSet struct {
	order  []plumbing.Hash
	bodies map[plumbing.Hash][]byte
}

func newBlobSet() *blobSet { return &blobSet{bodies: map[plumbing.Hash][]byte{}} }

func (b *blobSet) add(h plumbing.Hash, body []byte) {
	if _, ok := b.bodies[h]; !ok {
		b.bodies[h] = body
		b.order = append(b.order, h)
	}
}

// packObjectsAt is how many new objects a commit writes as one pack
// instead of loose objects: a sync's batch commits hundreds of files (a
// blob each, a tree each folder), and a file each costs far more than one
// pack (PackLoose would pack them later anyway).
const packObjectsAt = 32

// writeObjects stores a commit's blobs not yet in the object store and its
// new trees and commit object (made, in memory): loose, as git does, or as
// one pack when there are many.
func (r *Repo) writeObjects(b *blobSet, made []plumbing.EncodedObject) error {
	var missing []plumbing.Hash
	for _, h := range b.order {
		if r.g.Storer.HasEncodedObject(h) != nil {
			missing = append(missing, h)
		}
	}
	if len(missing)+len(made) >= packObjectsAt {
		if pfw, ok := r.g.Storer.(storer.PackfileWriter); ok {
			return r.packObjects(pfw, missing, b.bodies, made)
		}
	}
	for _, h := range missing {
		if err := r.writeLoose(h, b.bodies[h]); err != nil {
			return err
		}
	}
	// Trees before the commit that names them, as go-git made them.
	for _, o := range made {
		if _, err := r.g.Storer.SetEncodedObject(o); err != nil {
			return fmt.Errorf("write object %s: %w", o.Hash(), err)
		}
	}
	return nil
}

// packObjects writes blobs and other objects as one new pack (no deltas:
// they are small, and a later repack finds them).
func (r *Repo) packObjects(pfw storer.PackfileWriter, blobs []plumbing.Hash, bodies map[plumbing.Hash][]byte, made []plumbing.EncodedObject) error {
	n := len(blobs) + len(made)
	w, err := pfw.PackfileWriter()
	if err != nil {
		return fmt.Errorf("pack %d objects: %w", n, err)
	}
	err = writePack(w, blobs, bodies, made)
	if err != nil {
		w.Close()
		return fmt.Errorf("pack %d objects: %w", n, err)
	}
	// Close writes the pack's index: only then are the objects in it.
	if err := w.Close(); err != nil {
		return fmt.Errorf("pack %d objects: %w", n, err)
	}
	return nil
}

// writePack writes the blobs, then the other objects, as a pack.
func writePack(w io.Writer, blobs []plumbing.Hash, bodies map[plumbing.Hash][]byte, made []plumbing.EncodedObject) error {
	p, err := newPackWriter(w, len(blobs)+len(made))
	defer p.close()
	if err != nil {
		return err
	}
	for _, h := range blobs {
		if err := p.entry(plumbing.BlobObject, bodies[h], nil); err != nil {
			return err
		}
	}
	for _, o := range made {
		rd, err := o.Reader()
		if err != nil {
			return fmt.Errorf("read object %s: %w", o.Hash(), err)
		}
		body, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			return fmt.Errorf("read object %s: %w", o.Hash(), err)
		}
		if err := p.entry(o.Type(), body, nil); err != nil {
			return err
		}
	}
	return p.finish()
}

// writeLoose writes a loose blob object. It compresses at zlib's fastest
// level, with klauspost/compress's zlib (2.5x the standard library's speed
// there, same format): a write rewrites version_history.json, megabytes at
// 10,000 versions, and the object is repacked later anyway (PackLoose).
func (r *Repo) writeLoose(h plumbing.Hash, body []byte) error {
	hdr := blobHeader(body)
	hex := h.String()
	dir := filepath.Join(r.GitDir(), "objects", hex[:2])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "tmp_obj_")
	if err != nil {
		return err
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
		return fmt.Errorf("write object %s: %w", hex, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, hex[2:])); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write object %s: %w", hex, err)
	}
	return nil
}

// zlibWriters are the compressors of loose blobs and of packs, at
// zlib.BestSpeed.
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
