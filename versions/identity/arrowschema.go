package identity

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// checkArrowSchema bounds-checks the flatbuffer of a file's ARROW:schema
// entry before arrow-go decodes it. arrow-go trusts the vector lengths in
// that buffer and allocates them up front, so a crafted file can ask for
// terabytes and kill the process (found by FuzzHashParquet). Every vector
// the decoder sizes an allocation by must fit inside the buffer.
func checkArrowSchema(serialized string) error {
	var buf []byte
	var err error
	if len(serialized)%4 == 0 {
		buf, err = base64.StdEncoding.DecodeString(serialized)
	}
	if len(buf) == 0 || err != nil {
		buf, err = base64.RawStdEncoding.DecodeString(serialized)
		if err != nil {
			return nil // arrow-go refuses it itself, without allocating
		}
	}
	off := 0
	if len(buf) >= 4 && binary.LittleEndian.Uint32(buf) == 0xFFFFFFFF {
		off = 4 // continuation marker
	}
	if len(buf) < off+4 {
		return errBadFB
	}
	n := int64(int32(binary.LittleEndian.Uint32(buf[off:])))
	off += 4
	if n <= 0 || int64(off)+n > int64(len(buf)) {
		return errBadFB
	}
	fb := flatbuf(buf[off : int64(off)+n])
	root, err := fb.root()
	if err != nil {
		return err
	}
	// The message body follows the flatbuffer; arrow-go allocates
	// bodyLength bytes before reading them.
	if p, ok, err := fb.slot(root, 3); err != nil {
		return err
	} else if ok {
		if p+8 > int64(len(fb)) {
			return errBadFB
		}
		body := int64(binary.LittleEndian.Uint64(fb[p:]))
		if body < 0 || body > int64(len(buf))-int64(off)-n {
			return fmt.Errorf("%w: message body of %d bytes in %d", errBadFB, body, len(buf))
		}
	}
	// Message: version 0, header_type 1, header 2, bodyLength 3, custom_metadata 4.
	if err := fb.keyValues(root, 4); err != nil {
		return err
	}
	header, ok, err := fb.tableField(root, 2)
	if err != nil || !ok {
		return err
	}
	// Schema: endianness 0, fields 1, custom_metadata 2, features 3.
	if err := fb.keyValues(header, 2); err != nil {
		return err
	}
	if _, _, _, err := fb.vector(header, 3, 8); err != nil {
		return err
	}
	return fb.fields(header, 1, 0)
}

var errBadFB = errors.New("malformed ARROW:schema metadata")

type flatbuf []byte

func (b flatbuf) u16(at int64) (int64, error) {
	if at < 0 || at+2 > int64(len(b)) {
		return 0, errBadFB
	}
	return int64(binary.LittleEndian.Uint16(b[at:])), nil
}

func (b flatbuf) u32(at int64) (int64, error) {
	if at < 0 || at+4 > int64(len(b)) {
		return 0, errBadFB
	}
	return int64(binary.LittleEndian.Uint32(b[at:])), nil
}

// fbTable is a flatbuffer table position with its vtable.
type fbTable struct{ pos, vt, vtSize int64 }

func (b flatbuf) root() (fbTable, error) {
	pos, err := b.u32(0)
	if err != nil {
		return fbTable{}, err
	}
	return b.table(pos)
}

func (b flatbuf) table(pos int64) (fbTable, error) {
	soff, err := b.u32(pos)
	if err != nil {
		return fbTable{}, err
	}
	vt := pos - int64(int32(uint32(soff)))
	size, err := b.u16(vt)
	if err != nil || size < 4 || vt+size > int64(len(b)) {
		return fbTable{}, errBadFB
	}
	return fbTable{pos: pos, vt: vt, vtSize: size}, nil
}

// slot returns the position of field i, if present.
func (b flatbuf) slot(t fbTable, i int) (int64, bool, error) {
	at := int64(4 + 2*i)
	// Present when the slot starts inside the vtable, as flatbuffers decides.
	if at >= t.vtSize {
		return 0, false, nil
	}
	o, err := b.u16(t.vt + at)
	if err != nil || o == 0 {
		return 0, false, err
	}
	return t.pos + o, true, nil
}

// indirect follows an offset field to its target position.
func (b flatbuf) indirect(t fbTable, i int) (int64, bool, error) {
	p, ok, err := b.slot(t, i)
	if !ok || err != nil {
		return 0, ok, err
	}
	o, err := b.u32(p)
	if err != nil {
		return 0, false, err
	}
	return p + o, true, nil
}

func (b flatbuf) tableField(t fbTable, i int) (fbTable, bool, error) {
	p, ok, err := b.indirect(t, i)
	if !ok || err != nil {
		return fbTable{}, false, err
	}
	tb, err := b.table(p)
	return tb, err == nil, err
}

// vector checks that field i's vector of n elements of elem bytes fits.
func (b flatbuf) vector(t fbTable, i int, elem int64) (start, n int64, ok bool, err error) {
	p, ok, err := b.indirect(t, i)
	if !ok || err != nil {
		return 0, 0, ok, err
	}
	n, err = b.u32(p)
	if err != nil || p+4+n*elem > int64(len(b)) {
		return 0, 0, false, errBadFB
	}
	return p + 4, n, true, nil
}

// tables visits the tables of a vector of offsets.
func (b flatbuf) tables(t fbTable, i int, visit func(fbTable) error) error {
	start, n, ok, err := b.vector(t, i, 4)
	if !ok || err != nil {
		return err
	}
	for k := int64(0); k < n; k++ {
		p := start + 4*k
		o, err := b.u32(p)
		if err != nil {
			return err
		}
		tb, err := b.table(p + o)
		if err != nil {
			return err
		}
		if err := visit(tb); err != nil {
			return err
		}
	}
	return nil
}

// keyValues checks a custom_metadata vector of KeyValue{key, value} tables.
func (b flatbuf) keyValues(t fbTable, i int) error {
	return b.tables(t, i, func(kv fbTable) error {
		for f := 0; f < 2; f++ {
			if _, _, _, err := b.vector(kv, f, 1); err != nil {
				return err
			}
		}
		return nil
	})
}

const unionType = 14 // flatbuf Type_Union

// fields checks a vector of Field tables, recursively: name 0, nullable 1,
// type_type 2, type 3, dictionary 4, children 5, custom_metadata 6.
func (b flatbuf) fields(t fbTable, i int, depth int) error {
	if depth > 64 {
		return fmt.Errorf("%w: nested deeper than 64 levels", errBadFB)
	}
	return b.tables(t, i, func(f fbTable) error {
		if _, _, _, err := b.vector(f, 0, 1); err != nil {
			return err
		}
		if err := b.keyValues(f, 6); err != nil {
			return err
		}
		if p, ok, err := b.slot(f, 2); err != nil {
			return err
		} else if ok && p < int64(len(b)) && b[p] == unionType {
			// Union: mode 0, typeIds 1 (int32 vector).
			if ut, ok, err := b.tableField(f, 3); err != nil {
				return err
			} else if ok {
				if _, _, _, err := b.vector(ut, 1, 4); err != nil {
					return err
				}
			}
		} else if _, _, err := b.tableField(f, 3); err != nil {
			return err
		}
		if _, _, err := b.tableField(f, 4); err != nil {
			return err
		}
		return b.fields(f, 5, depth+1)
	})
}
