package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/iceberg"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
)

func TestIcebergFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	var got *icebergOptions
	cmd := newIcebergCmd(f, func(_ context.Context, o *icebergOptions) error { got = o; return nil }, nil)
	if err := runCmd(t, cmd, "--json", "-C", "/p"); err != nil {
		t.Fatal(err)
	}
	if !got.JSON {
		t.Errorf("--json not seen")
	}
	syncCases := []struct {
		args []string
		full bool
		jobs int
		bad  bool
	}{
		{[]string{"sync"}, false, 4, false},
		{[]string{"sync", "--full", "--jobs", "2", "--json"}, true, 2, false},
		{[]string{"sync", "--jobs", "0"}, false, 0, true},
		{[]string{"sync", "extra"}, false, 0, true},
	}
	for _, c := range syncCases {
		var so *icebergSyncOptions
		cmd := newIcebergCmd(f, nil, func(_ context.Context, o *icebergSyncOptions) error { so = o; return nil })
		err := runCmd(t, cmd, c.args...)
		if c.bad {
			var ue *usageError
			if err == nil || !(errors.As(err, &ue) || isCobraUsage(err)) {
				t.Errorf("%v: want a usage error, got %v", c.args, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if so.Options.Full != c.full || so.Options.Concurrency != c.jobs {
			t.Errorf("%v: full %v jobs %d", c.args, so.Options.Full, so.Options.Concurrency)
		}
	}
	var ro *serveRESTOptions
	serve := newServeCmd(f, func(_ context.Context, o *serveRESTOptions) error { ro = o; return nil })
	if err := runCmd(t, serve, "iceberg-rest", "--addr", "127.0.0.1:9999"); err != nil || ro.Addr != "127.0.0.1:9999" {
		t.Fatalf("serve iceberg-rest --addr: %v %+v", err, ro)
	}
	serve = newServeCmd(f, func(context.Context, *serveRESTOptions) error { t.Fatal("runF called"); return nil })
	if err := runCmd(t, serve, "iceberg-rest", "--addr", "nope"); err == nil {
		t.Errorf("--addr nope accepted")
	}
}

// TestIcebergRun: the listing before and after a sync, on a terminal (a
// header and the engines' snippets) and piped (rows only), and as JSON.
func TestIcebergRun(t *testing.T) {
	ctx := context.Background()
	fx := projecttest.New(t, projecttest.Options{Name: "cli", Versions: versions.Options{Converter: query.Converter{}}})
	p := fx.Project
	project := func(context.Context) (*versions.Project, error) { return p, nil }
	file := filepath.Join(t.TempDir(), "lb.csv")
	if err := os.WriteFile(file, []byte("id,val\n1,10\n2,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	io, _, _, _ := TestIO()
	if err := writeRun(ctx, &writeOptions{IO: io, Project: project, File: file, Table: "lb"}); err != nil {
		t.Fatal(err)
	}
	// This project has no AfterWrites hook: nothing is built yet.
	io, _, out, errOut := TestIO()
	if err := icebergRun(ctx, &icebergOptions{IO: io, Project: project}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "lb\t0\t\t(none)\n" || !strings.Contains(errOut.String(), "datomfs iceberg sync") {
		t.Fatalf("before sync: %q / %q", out.String(), errOut.String())
	}
	io, _, out, _ = TestIO()
	if err := icebergSyncRun(ctx, &icebergSyncOptions{IO: io, Project: project, Options: iceberg.Options{Concurrency: 1}}); err != nil {
		t.Fatal(err)
	}
	metaURL := "file://" + filepath.Join(fx.Store, "iceberg", "lb", "metadata", "v1.metadata.json")
	if !strings.HasPrefix(out.String(), "lb\t1 snapshot(s)\t4 file(s) written\t"+metaURL) {
		t.Fatalf("sync: %q", out.String())
	}
	for _, tty := range []bool{false, true} {
		io, _, out, errOut := TestIO()
		io.StdoutTTY = tty
		if err := icebergRun(ctx, &icebergOptions{IO: io, Project: project}); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		if !strings.Contains(s, metaURL) || errOut.Len() != 0 {
			t.Errorf("tty=%v: %q / %q", tty, s, errOut.String())
		}
		for _, want := range []string{"TABLE", "StaticTable.from_metadata", "iceberg_scan(", "spark.sql.catalog.datom.warehouse=file://" + fx.Store, "register_table"} {
			if strings.Contains(s, want) != tty {
				t.Errorf("tty=%v: %q in output is %v", tty, want, !tty)
			}
		}
	}
	io, _, out, _ = TestIO()
	if err := icebergRun(ctx, &icebergOptions{IO: io, Project: project, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var rows []icebergTable
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].MetadataLocation != metaURL || !rows[0].UpToDate || rows[0].Warehouse != "file://"+fx.Store || len(rows[0].Read) != 4 {
		t.Fatalf("JSON: %+v", rows)
	}
}
