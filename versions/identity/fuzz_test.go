package identity

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// fuzzMinimizeTime replaces go test's default -fuzzminimizetime (60s).
//
// Go's fuzzer minimizes every input that reaches new coverage, for up to
// 60 s by default, before it goes on. This test binary links all of pqarrow
// (and through it Arrow Flight and gRPC, so a package of its own would not
// be smaller): about 220,000 coverage counters, copied and compared after
// every execution, so minimizing is slow, and minimizing one new input after
// another stalled the fuzzer (17 executions in 21 s, nothing new). Bounded
// to 30 attempts per input, it runs thousands of executions per second on
// 2 cores and keeps finding new coverage. A crasher is still reported,
// less minimized: rerun it with -fuzzminimizetime 60s to shrink it.
const fuzzMinimizeTime = "30x"

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set {
		if err := flag.Set("test.fuzzminimizetime", fuzzMinimizeTime); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// FuzzHashParquet: arbitrary bytes never panic, crash or exhaust memory,
// and every failure is one of the documented errors. The committed corpus
// in testdata/fuzz holds small valid files, garbage and inputs that once
// crashed the reader; more valid seeds are generated here.
func FuzzHashParquet(f *testing.F) {
	for _, o := range []writeOpts{{}, {dict: true, rowGroup: 2, compression: compress.Codecs.Snappy}, {noStats: true}} {
		data, err := os.ReadFile(writeParquet(f, goldenB(f, map[string]arrow.Array{
			"n": fromJSON(f, arrow.PrimitiveTypes.Int64, `[1, null, 4294967296]`)}), o))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// decimals and times read from the parquet leaves directly
	data, err := os.ReadFile(writeParquet(f, []col{
		{"d", fromJSON(f, &arrow.Decimal128Type{Precision: 20, Scale: 2}, `["-1.05", null, "3.00"]`)},
		{"e", fromJSON(f, &arrow.Decimal256Type{Precision: 40, Scale: 0}, `["-5", "0", null]`)},
		{"t", fromJSON(f, arrow.FixedWidthTypes.Time64us, `[1, null, 3]`)},
	}, writeOpts{dict: true}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("PAR1PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00\x15\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// One worker keeps an input's coverage the same from run to run;
		// small caps keep each run quick and bounded in memory.
		th, err := HashParquet(context.Background(), bytes.NewReader(data),
			HashOptions{Workers: 1, BatchRows: 1024, MaxAlloc: 64 << 20})
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
