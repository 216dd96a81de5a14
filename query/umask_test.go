package query

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOutputFilesHonourUmask: files written for -o (query in every format,
// diff, the CSV conversion behind read -o) get 0666 less the umask, as any
// file a command creates. Not parallel: the umask is process-wide.
func TestOutputFilesHonourUmask(t *testing.T) {
	tp := newTestProject(t, localStore(t))
	tp.write("lb", lbV1, "lb")
	e := newTestEngine(t, tp.p)
	ctx := context.Background()
	for _, c := range []struct {
		umask int
		want  fs.FileMode
	}{{0o022, 0o644}, {0o077, 0o600}, {0o027, 0o640}} {
		dir := t.TempDir()
		old := syscall.Umask(c.umask)
		csvOut := filepath.Join(dir, "q.csv")
		errCSV := WriteFileAtomic(csvOut, func(w io.Writer) error {
			_, err := e.Write(ctx, w, "SELECT * FROM lb", FormatCSV)
			return err
		})
		pqOut := filepath.Join(dir, "q.parquet")
		_, errPQ := e.CopyParquet(ctx, "SELECT * FROM lb", pqOut)
		renditionOut := filepath.Join(dir, "r.csv")
		errConv := (Converter{}).ParquetToCSV(ctx, pqOut, renditionOut)
		syscall.Umask(old)
		for _, err := range []error{errCSV, errPQ, errConv} {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{csvOut, pqOut, renditionOut} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != c.want {
				t.Errorf("umask %03o: %s is %v, want %v", c.umask, filepath.Base(p), fi.Mode().Perm(), c.want)
			}
		}
	}
}
