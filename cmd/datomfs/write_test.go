package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
)

// TestWriteAfterSyncIsMetadataOnly: the help and the behaviour agree with the
// format contract (§4.3, §6.1): an import records original_file_sha,
// original_format and a lineage entry, all semantic, so a plain write of the
// same data after a sync is a metadata-only version (nothing uploaded), and
// the same plain write once more is no change.
func TestWriteAfterSyncIsMetadataOnly(t *testing.T) {
	ctx := context.Background()
	p := projecttest.New(t, projecttest.Options{Name: "cli", Versions: versions.Options{Converter: query.Converter{}}}).Project
	project := func(context.Context) (*versions.Project, error) { return p, nil }
	dir := t.TempDir()
	file := filepath.Join(dir, "lb.csv")
	if err := os.WriteFile(file, []byte("id,val\n1,10\n2,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	io, _, _, _ := TestIO()
	if err := syncRun(ctx, &syncOptions{IO: io, Project: project, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`Wrote "lb" (metadata-only): `, `No change to "lb": identical to version `} {
		io, _, out, _ := TestIO()
		if err := writeRun(ctx, &writeOptions{IO: io, Project: project, File: file, Table: "lb"}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), want) {
			t.Errorf("write %d after sync: %q, want %q…", i+1, out.String(), want)
		}
	}

	help := newWriteCmd(&factory{IO: io}, nil).Long
	for _, s := range []string{"adds no version", "metadata-only version", `"datomfs sync"`} {
		if !strings.Contains(help, s) {
			t.Errorf("write help lacks %q", s)
		}
	}
	if strings.Contains(help, "Identical content adds no version") {
		t.Error("write help still says identical content adds no version")
	}
}
