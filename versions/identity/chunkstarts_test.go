package identity

import (
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/file"
)

func TestChunkStarts(t *testing.T) {
	path := writeParquet(t, []col{
		{"a", fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, 2, 3, 4, 5]`)},
		{"b", fromJSON(t, arrow.BinaryTypes.String, `["v", "w", "x", "y", "z"]`)},
		{"c", fromJSON(t, arrow.PrimitiveTypes.Float64, `[1.5, 2.5, 3.5, 4.5, 5.5]`)},
	}, writeOpts{rowGroup: 2, dict: true})
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	metaStart, err := MetadataStart(body[len(body)-8:], int64(len(body)))
	if err != nil || metaStart != int64(len(body))-8-int64(binary.LittleEndian.Uint32(body[len(body)-8:])) {
		t.Fatalf("MetadataStart = %d, %v", metaStart, err)
	}

	// What the file's own reader says: 3 row groups of 3 chunks each.
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	var want []int64
	for rg := 0; rg < rdr.NumRowGroups(); rg++ {
		for c := 0; c < 3; c++ {
			cc, err := rdr.MetaData().RowGroup(rg).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() {
				start = min(start, cc.DictionaryPageOffset())
			}
			want = append(want, start)
		}
	}
	want = append(want, metaStart)
	slices.Sort(want)

	cases := []struct {
		name    string
		meta    []byte
		want    []int64
		corrupt bool
	}{
		{"the footer", body[metaStart : len(body)-8], want, false},
		{"garbage", []byte("not thrift at all, not at all"), nil, true},
		{"cut short", body[metaStart : metaStart+20], nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChunkStarts(tc.meta, metaStart)
			if tc.corrupt {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("ChunkStarts = %v, %v; want ErrCorrupt", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ChunkStarts = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	// A chunk that starts at or past the footer is not a layout.
	if _, err := ChunkStarts(body[metaStart:len(body)-8], want[2]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("chunks past the footer's start: %v, want ErrCorrupt", err)
	}
}

func TestMetadataStart(t *testing.T) {
	le := func(n uint32, magic string) []byte {
		return append(binary.LittleEndian.AppendUint32(nil, n), magic...)
	}
	cases := []struct {
		name string
		tail []byte
		size int64
		want int64
		err  error
	}{
		{"footer of 100 bytes", le(100, "PAR1"), 1000, 892, nil},
		{"footer up to the opening magic", le(988, "PAR1"), 1000, 4, nil},
		{"footer over the opening magic", le(989, "PAR1"), 1000, 0, ErrCorrupt},
		{"length past the start", le(1<<31, "PAR1"), 1000, 0, ErrCorrupt},
		{"encrypted", le(100, "PARE"), 1000, 0, ErrCorrupt},
		{"no magic", le(100, "ZZZZ"), 1000, 0, ErrCorrupt},
		{"too short", le(0, "PAR1"), 11, 0, ErrNotParquet},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MetadataStart(tc.tail, tc.size)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("MetadataStart = %d, %v; want %v", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("MetadataStart = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
