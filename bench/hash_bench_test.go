// Package bench holds datomfs's benchmarks (never timed tests).
package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/datomfs/datomfs/versions/identity"
)

// benchFileMin is the least size of the generated parquet file.
const benchFileMin = 200 << 20

// benchFileName names the generated file; bump the version when the
// generator changes so a cached file is not reused.
const benchFileName = "hash-bench-v1.parquet"

// hashBenchDir is $DATOMFS_BENCH_DIR (kept between runs) or a temporary
// directory removed when the benchmarks end.
type hashBenchDir struct {
	once sync.Once
	path string
	err  error
	temp string
}

// fixture is per test binary; benchmarks share the generated file.
func hashFixture(b *testing.B, d *hashBenchDir) string {
	b.Helper()
	d.once.Do(func() {
		dir := os.Getenv("DATOMFS_BENCH_DIR")
		if dir == "" {
			dir, d.err = os.MkdirTemp("", "datomfs-bench-")
			if d.err != nil {
				return
			}
			d.temp = dir
		} else if d.err = os.MkdirAll(dir, 0o755); d.err != nil {
			return
		}
		d.path = filepath.Join(dir, benchFileName)
		if st, err := os.Stat(d.path); err == nil && st.Size() >= benchFileMin {
			return
		}
		d.err = generateHashBench(d.path, benchFileMin)
	})
	if d.err != nil {
		b.Fatalf("generate benchmark parquet: %v", d.err)
	}
	return d.path
}

// TestMain removes the temporary benchmark file. It is the bench package's
// only TestMain; other benchmarks needing cleanup should hook in here.
func TestMain(m *testing.M) {
	code := m.Run()
	if hashShared.temp != "" {
		os.RemoveAll(hashShared.temp)
	}
	os.Exit(code)
}

// hashShared is the one fixture of this test binary (set up lazily by the
// benchmarks, removed by TestMain). Test-only state: benchmarks cannot be
// handed parameters.
var hashShared hashBenchDir

// hashCountingWriter counts bytes written through it.
type hashCountingWriter struct {
	w io.Writer
	n int64
}

func (c *hashCountingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// generate writes a mixed-column parquet file of at least minBytes bytes
// (at least one batch), batch by batch, as Arrow R would: snappy, dictionary
// pages, ARROW:schema stored.
func generateHashBench(path string, minBytes int64) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	defer f.Close()

	mem := memory.NewGoAllocator()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "USUBJID", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ARM", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "SEQ", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "ID64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "BIG", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "AVAL", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ADT", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ADTM", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "FLAG", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "COMMENT", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	cw := &hashCountingWriter{w: f}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(true),
		parquet.WithDictionaryFor("AVAL", false),
		parquet.WithDictionaryFor("ADTM", false),
		parquet.WithDictionaryFor("BIG", false),
		parquet.WithMaxRowGroupLength(1<<20),
	)
	w, err := pqarrow.NewFileWriter(sc, cw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	arms := []string{"Placebo", "Xanomeline Low Dose", "Xanomeline High Dose", "Screen Failure"}
	const batch = 1 << 16
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	row := 0
	for first := true; first || cw.n < minBytes; first = false {
		for i := 0; i < batch; i++ {
			row++
			subj := b.Field(0).(*array.StringBuilder)
			subj.Append("01-" + strconv.Itoa(700+row/50) + "-" + strconv.Itoa(1000+row%50))
			db := b.Field(1).(*array.BinaryDictionaryBuilder)
			if err := db.AppendString(arms[rng.IntN(len(arms))]); err != nil {
				return err
			}
			b.Field(2).(*array.Int32Builder).Append(int32(row % 200))
			b.Field(3).(*array.Int64Builder).Append(int64(row))
			b.Field(4).(*array.Int64Builder).Append(rng.Int64())
			if rng.IntN(20) == 0 {
				b.Field(5).AppendNull()
			} else {
				b.Field(5).(*array.Float64Builder).Append(rng.NormFloat64() * 100)
			}
			b.Field(6).(*array.Date32Builder).Append(arrow.Date32(19000 + rng.IntN(2000)))
			b.Field(7).(*array.TimestampBuilder).Append(arrow.Timestamp(1.6e15 + rng.Int64N(1e14)))
			b.Field(8).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
			cb := b.Field(9).(*array.StringBuilder)
			if rng.IntN(3) == 0 {
				cb.AppendNull()
			} else {
				cb.Append("value " + strconv.FormatUint(rng.Uint64(), 36) + " recorded at visit " + strconv.Itoa(rng.IntN(12)))
			}
		}
		rec := b.NewRecordBatch()
		err := w.WriteBuffered(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func hashFileSize(b *testing.B, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// BenchmarkHashParquet measures data_sha of the ≥200 MB file; MB/s are of
// parquet bytes. Sub-benchmarks: all cores (the default) and one worker.
func BenchmarkHashParquet(b *testing.B) {
	path := hashFixture(b, &hashShared)
	size := hashFileSize(b, path)
	for _, workers := range []int{runtime.GOMAXPROCS(0), 1} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(size)
			var th identity.TableHash
			for b.Loop() {
				var err error
				th, err = identity.HashParquetFile(context.Background(), path, identity.HashOptions{Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
			}
			if len(th.DataSHA) != 64 || th.NCol != 10 {
				b.Fatalf("bad result %+v", th)
			}
			b.ReportMetric(float64(th.NRow)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
	}
}

// BenchmarkSHA256File is the floor: SHA-256 of the same bytes (parquet_sha).
func BenchmarkSHA256File(b *testing.B) {
	path := hashFixture(b, &hashShared)
	b.SetBytes(hashFileSize(b, path))
	for b.Loop() {
		if _, _, err := identity.SHA256File(context.Background(), path); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFixtureGenerator keeps the generator honest without writing 200 MB in
// plain `go test`: one batch through the same code, hashed with the kinds
// the benchmark relies on.
func TestFixtureGenerator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.parquet")
	if err := generateHashBench(path, 1); err != nil {
		t.Fatal(err)
	}
	th, err := identity.HashParquetFile(context.Background(), path, identity.HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []identity.Kind{"chr", "chr", "num", "num", "i64", "num", "date", "time", "num", "chr"}
	if len(th.Columns) != len(want) || th.NRow != 1<<16 {
		t.Fatalf("generated %d rows, columns %+v", th.NRow, th.Columns)
	}
	for i, c := range th.Columns {
		if c.Kind != want[i] {
			t.Errorf("column %s kind %s, want %s", c.Name, c.Kind, want[i])
		}
	}
}
