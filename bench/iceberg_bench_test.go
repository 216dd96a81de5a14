package bench

// Benchmarks of the Iceberg metadata (issue 15): building it for 1,000
// tables × 20 versions, and what it adds to a write.
//
//	go test ./bench -run '^$' -bench 'Iceberg' -benchtime 1x -timeout 30m
//
// BenchmarkIcebergSync makes a clone of 1,000 tables of 20 versions each
// (histories written directly, as listProject does) whose store holds a
// small parquet object per version (hard links to two files: the schema
// changes at the eleventh version), then times `iceberg sync` from
// nothing (s_build: every footer read, every Avro file written), again
// (s_resync: the metadata already says everything, nothing is written) and
// with --full over the existing files (s_full: every footer read again,
// the Avro files kept). BenchmarkIcebergWrite times Project.Write of a
// new version of a 20-version table without and with the AfterWrites hook
// the CLI installs, and the hook alone (ms_write_median, ms_write_hook_median,
// ms_hook_median), over a local store and over S3 (Versity on loopback).
// Nothing asserts a timing.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/datomfs/datomfs/iceberg"
	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// benchParquet writes rows rows of (id int64, name string[, flag int32]).
func benchParquet(b *testing.B, path string, rows, offset int, flag bool) {
	b.Helper()
	mem := memory.DefaultAllocator
	fields := []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "name", Type: arrow.BinaryTypes.String, Nullable: true}}
	ids, names := array.NewInt64Builder(mem), array.NewStringBuilder(mem)
	for i := 0; i < rows; i++ {
		ids.Append(int64(i + offset))
		names.Append(fmt.Sprintf("row%d", i+offset))
	}
	cols := []arrow.Array{ids.NewArray(), names.NewArray()}
	if flag {
		fields = append(fields, arrow.Field{Name: "flag", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
		fl := array.NewInt32Builder(mem)
		for i := 0; i < rows; i++ {
			fl.Append(int32(i % 3))
		}
		cols = append(cols, fl.NewArray())
	}
	sc := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(sc, cols, int64(rows))
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pqarrow.WriteTable(tbl, f, 1024, nil, pqarrow.DefaultWriterProps()); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkIcebergSync(b *testing.B) {
	const tables, perTable = 1000, 20
	ctx := context.Background()
	p, _, _ := listProject(b, tables, perTable, 0)
	root := p.StoreLoc().Root
	tmpl := b.TempDir()
	narrow, wide := filepath.Join(tmpl, "narrow.parquet"), filepath.Join(tmpl, "wide.parquet")
	benchParquet(b, narrow, 100, 0, false)
	benchParquet(b, wide, 100, 0, true)
	list, err := p.List(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range list {
		vs, err := p.Versions(ctx, t.Name)
		if err != nil {
			b.Fatal(err)
		}
		for i, v := range vs { // newest first
			src := narrow
			if i < perTable/2 {
				src = wide
			}
			dst := filepath.Join(root, filepath.FromSlash(p.Key(v)))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				b.Fatal(err)
			}
			os.Remove(dst) // listProject's placeholder object
			if err := os.Link(src, dst); err != nil {
				b.Fatal(err)
			}
		}
	}
	var build, resync, full []time.Duration
	for i := 0; i < b.N; i++ {
		if err := os.RemoveAll(filepath.Join(root, "iceberg")); err != nil {
			b.Fatal(err)
		}
		for _, run := range []struct {
			into *[]time.Duration
			opts iceberg.Options
		}{{&build, iceberg.Options{Full: true}}, {&resync, iceberg.Options{}}, {&full, iceberg.Options{Full: true}}} {
			t0 := time.Now()
			res, err := iceberg.Sync(ctx, p, run.opts)
			*run.into = append(*run.into, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			if len(res) != tables || res[0].Snapshots != perTable || res[0].Schemas != 2 {
				b.Fatalf("sync: %d tables, first %+v", len(res), res[0])
			}
		}
	}
	var size int64
	filepath.Walk(filepath.Join(root, "iceberg"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			size += info.Size()
		}
		return nil
	})
	b.ReportMetric(median(build)/1000, "s_build")
	b.ReportMetric(median(resync)/1000, "s_resync")
	b.ReportMetric(median(full)/1000, "s_full")
	b.ReportMetric(float64(size)/(1<<20), "MiB_metadata")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "MiB_maxrss") // the whole benchmark process
	}
}

func BenchmarkIcebergWrite(b *testing.B) {
	for _, backend := range []string{"local", "s3"} {
		b.Run("store="+backend, func(b *testing.B) {
			store := ""
			if backend == "s3" {
				srv := testenv.Versity(b)
				srv.CreateBucket(b, "bench")
				srv.SetEnv(b)
			}
			benchIcebergWrite(b, func() string {
				if backend == "s3" {
					store = fmt.Sprintf("s3://bench/p%d/", time.Now().UnixNano())
				}
				return store
			})
		})
	}
}

func benchIcebergWrite(b *testing.B, store func() string) {
	const history, writes = 20, 15
	ctx := context.Background()
	var hook []time.Duration
	var lastHook time.Duration
	after := iceberg.AfterWrites(iceberg.Options{})
	opts := versions.Options{AfterWrites: func(ctx context.Context, p *versions.Project, res []versions.WriteResult) {
		t0 := time.Now()
		after(ctx, p, res)
		lastHook = time.Since(t0)
	}}
	in := b.TempDir()
	var plain, hooked []time.Duration
	for i := 0; i < b.N; i++ {
		for _, withHook := range []bool{false, true} {
			o := versions.Options{}
			if withHook {
				o = opts
			}
			fx := projecttest.New(b, projecttest.Options{Name: "bench", Store: store(), Versions: o})
			name := meta.MustTableName("lb")
			for j := 0; j < history+writes; j++ {
				path := filepath.Join(in, fmt.Sprintf("v%d.parquet", j))
				benchParquet(b, path, 1000, j, j >= history+writes/2)
				t0 := time.Now()
				if _, err := fx.Project.Write(ctx, versions.WriteRequest{Table: name, Path: path, Format: versions.FormatParquet, Message: "bench"}); err != nil {
					b.Fatal(err)
				}
				if j < history {
					continue
				}
				if withHook {
					hooked = append(hooked, time.Since(t0))
					hook = append(hook, lastHook)
				} else {
					plain = append(plain, time.Since(t0))
				}
			}
		}
	}
	b.ReportMetric(median(plain), "ms_write_median")
	b.ReportMetric(median(hooked), "ms_write_hook_median")
	b.ReportMetric(median(hook), "ms_hook_median")
}
