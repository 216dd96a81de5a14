package repo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/klauspost/compress/zlib"
)

// A write rewrites version_history.json, which holds every version of the
// table: at 10,000 versions it is megabytes, of which one entry is new.
// go-git's pack encoder sends each new blob whole (and compresses it
// again), so a push would cost as much as the history. Like git push's
// thin packs, a blob whose path held another blob in the parent commit is
// sent as a delta against it (REF_DELTA: the remote has the base, or it is
// earlier in the same pack), which for a history file is a few hundred
// bytes. git's receive-pack completes thin packs (index-pack --fix-thin).

// minDeltaSize is the smallest blob worth a delta.
const minDeltaSize = 1024

// packWriter writes a version 2 pack: header, entries, SHA-1 trailer. It
// compresses at zlib's fastest level, as writeLoose does: a sync's batch
// packs hundreds of small documents for its commit and its push, and the
// remote's gc repacks them anyway. Call finish or close to return its
// compressor to the pool.
type packWriter struct {
	w   io.Writer
	sum hash.Hash
	n   int64 // bytes written
	zb  bytes.Buffer
	zw  *zlib.Writer
}

func newPackWriter(w io.Writer, count int) (*packWriter, error) {
	p := &packWriter{sum: sha1.New()}
	p.w = io.MultiWriter(w, p.sum)
	p.zw = zlibWriters.Get().(*zlib.Writer)
	var hdr [12]byte
	copy(hdr[:4], "PACK")
	binary.BigEndian.PutUint32(hdr[4:], 2)
	binary.BigEndian.PutUint32(hdr[8:], uint32(count))
	return p, p.write(hdr[:])
}

func (p *packWriter) write(b []byte) error {
	n, err := p.w.Write(b)
	p.n += int64(n)
	return err
}

// entry writes one object: its type and (uncompressed) size, the base of a
// REF_DELTA, then the zlib-compressed body.
func (p *packWriter) entry(typ plumbing.ObjectType, body []byte, base *plumbing.Hash) error {
	size := uint64(len(body))
	hdr := []byte{byte(typ)<<4 | byte(size&0x0f)}
	size >>= 4
	for size > 0 {
		hdr[len(hdr)-1] |= 0x80
		hdr = append(hdr, byte(size&0x7f))
		size >>= 7
	}
	if base != nil {
		hdr = append(hdr, base[:]...)
	}
	p.zb.Reset()
	p.zw.Reset(&p.zb)
	if _, err := p.zw.Write(body); err != nil {
		return err
	}
	if err := p.zw.Close(); err != nil {
		return err
	}
	if err := p.write(hdr); err != nil {
		return err
	}
	return p.write(p.zb.Bytes())
}

// finish writes the trailer: the SHA-1 of everything before it.
func (p *packWriter) finish() error {
	p.close()
	sum := p.sum.Sum(nil)
	n, err := p.w.Write(sum) // the trailer is not part of its own sum; MultiWriter adds it after Sum
	p.n += int64(n)
	return err
}

// close returns the compressor to the pool; the writer is done.
func (p *packWriter) close() {
	if p.zw != nil {
		zlibWriters.Put(p.zw)
		p.zw = nil
	}
}

// writeThinPack writes objs as a pack, each blob that has a base in bases
// as a delta against it when that is at most half its size. It returns the
// pack's size in bytes.
func (r *Repo) writeThinPack(w io.Writer, objs []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash) (int64, error) {
	p, err := newPackWriter(w, len(objs))
	defer p.close()
	if err != nil {
		return 0, err
	}
	for _, h := range objs {
		typ, body, err := r.objectBytes(h)
		if err != nil {
			return p.n, err
		}
		if base, ok := bases[h]; ok && typ == plumbing.BlobObject && len(body) >= minDeltaSize {
			if _, old, err := r.objectBytes(base); err == nil {
				if d := deltaPrefixSuffix(old, body); len(d) <= len(body)/2 {
					if err := p.entry(plumbing.REFDeltaObject, d, &base); err != nil {
						return p.n, err
					}
					continue
				}
			}
		}
		if err := p.entry(typ, body, nil); err != nil {
			return p.n, err
		}
	}
	return p.n, p.finish()
}

// objectBytes reads one object's type and content (a blob just written
// from memory).
func (r *Repo) objectBytes(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	if b, ok := r.rememberedBlob(h); ok {
		return plumbing.BlobObject, b, nil
	}
	obj, err := r.g.Storer.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	rd, err := obj.Reader()
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	defer rd.Close()
	body, err := io.ReadAll(rd)
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	return obj.Type(), body, nil
}

// deltaPrefixSuffix is a git delta that makes target from base by copying
// their common prefix and suffix and inserting what lies between: exactly
// the shape of a file where one part changed (a history with a new first
// entry, a manifest with one table's line changed).
func deltaPrefixSuffix(base, target []byte) []byte {
	prefix := 0
	for prefix < len(base) && prefix < len(target) && base[prefix] == target[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(base)-prefix && suffix < len(target)-prefix &&
		base[len(base)-1-suffix] == target[len(target)-1-suffix] {
		suffix++
	}
	d := appendDeltaSize(nil, len(base))
	d = appendDeltaSize(d, len(target))
	d = appendCopy(d, 0, prefix)
	for mid := target[prefix : len(target)-suffix]; len(mid) > 0; {
		n := min(len(mid), 0x7f)
		d = append(d, byte(n))
		d = append(d, mid[:n]...)
		mid = mid[n:]
	}
	return appendCopy(d, len(base)-suffix, suffix)
}

// appendDeltaSize appends a delta header size (little-endian base 128).
func appendDeltaSize(d []byte, n int) []byte {
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(d, b)
		}
		d = append(d, b|0x80)
	}
}

// appendCopy appends copy instructions for base[off:off+n], in pieces of
// at most 0xffffff bytes (what one instruction can say).
func appendCopy(d []byte, off, n int) []byte {
	const maxCopy = 0xffffff
	for n > 0 {
		size := min(n, maxCopy)
		op := byte(0x80)
		var args []byte
		for i := 0; i < 4; i++ {
			if b := byte(off >> (8 * i)); b != 0 {
				op |= 1 << i
				args = append(args, b)
			}
		}
		for i := 0; i < 3; i++ {
			if b := byte(size >> (8 * i)); b != 0 {
				op |= 1 << (4 + i)
				args = append(args, b)
			}
		}
		d = append(d, op)
		d = append(d, args...)
		off += size
		n -= size
	}
	return d
}
