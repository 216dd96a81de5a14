package main

import (
	"context"
	goio "io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
)

// TestStoreGetLog: the store decorators the CLI stacks log one debug line
// per ranged GET from S3 (e2e tests parse it) and leave local stores bare.
func TestStoreGetLog(t *testing.T) {
	ctx := context.Background()
	io, _, _, errOut := TestIO()
	f := &factory{IO: io, Logger: slog.New(slog.NewTextHandler(io.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ls, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const key = "datom/lb/x.parquet"
	if err := ls.Put(ctx, key, strings.NewReader("0123456789"), 10, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := f.wrapStore(store.Location{Type: store.TypeLocal}, ls); s != store.Store(ls) {
		t.Errorf("a local store was wrapped: %T", s)
	}
	s := f.wrapStore(store.Location{Type: store.TypeS3, Root: "b"}, ls)
	rc, err := s.Open(ctx, key, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := goio.Copy(goio.Discard, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	line := regexp.MustCompile(`msg="store get" key=(\S+) offset=(\d+) length=(\d+)`)
	if m := line.FindStringSubmatch(errOut.String()); m == nil || m[1] != key || m[2] != "2" || m[3] != "5" {
		t.Errorf("log %q: want a store get line for %s offset 2 length 5", errOut, key)
	}
}
