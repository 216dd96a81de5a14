package identity

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// FuzzHashParquet: arbitrary bytes never panic, and every failure is one of
// the documented errors. The committed corpus in testdata/fuzz holds small
// valid files and garbage; more valid seeds are generated here.
func FuzzHashParquet(f *testing.F) {
	for _, o := range []writeOpts{{}, {dict: true, rowGroup: 2, compression: compress.Codecs.Snappy}, {noStats: true}} {
		data, err := os.ReadFile(writeParquet(f, goldenB(f, map[string]arrow.Array{
			"n": fromJSON(f, arrow.PrimitiveTypes.Int64, `[1, null, 4294967296]`)}), o))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("PAR1PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00\x15\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small caps keep each run quick and bounded in memory.
		th, err := HashParquet(context.Background(), bytes.NewReader(data),
			HashOptions{Workers: 2, BatchRows: 1024, MaxAlloc: 64 << 20})
		var re *RefusedError
		switch {
		case err == nil:
			if len(th.DataSHA) != 64 || th.NRow < 1 || th.NCol != int64(len(th.Columns)) {
				t.Fatalf("success with a malformed result: %+v", th)
			}
		case errors.Is(err, ErrNotParquet), errors.Is(err, ErrCorrupt),
			errors.Is(err, ErrEmptyTable), errors.As(err, &re):
		default:
			t.Fatalf("undocumented error: %v", err)
		}
	})
}
