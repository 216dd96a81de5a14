package versions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
)

// TestHashAhead: hashes made ahead are those the loop would make, are
// used only for a file unchanged since, skip the table hash of a file the
// manifest already holds, and stopping never waits for the loop.
func TestHashAhead(t *testing.T) {
	ctx := context.Background()
	dir := syncDir(t, 4)
	var paths []string
	var tables []meta.TableName
	for i := range 4 {
		name := fmt.Sprintf("t%d", i)
		paths = append(paths, filepath.Join(dir, name+".parquet"))
		tables = append(tables, tn(name))
	}
	sha0, _, err := identity.SHA256File(ctx, paths[0])
	if err != nil {
		t.Fatal(err)
	}
	project, err := meta.ParseProjectName("STUDY_001")
	if err != nil {
		t.Fatal(err)
	}
	man := meta.NewManifest(project, time.Unix(0, 0)).
		WithTable(tables[0], meta.ManifestEntry{OriginalFileSHA: sha0}, time.Unix(0, 0))

	tests := []struct {
		name   string
		window int
		before func(t *testing.T) // before the loop takes the files
		want   []string           // per file: "table" (hashed), "bytes" (sha only), "none" (take returns nil)
	}{
		{"all ahead", 4, nil, []string{"bytes", "table", "table", "table"}},
		{"window of one", 1, nil, []string{"bytes", "table", "table", "table"}},
		{"changed since", 4, func(t *testing.T) {
			f, err := os.OpenFile(paths[2], os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("x"))
			f.Close()
		}, []string{"bytes", "table", "none", "table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHashAhead(ctx, paths, tables, man, tt.window)
			defer h.stop()
			if tt.window >= len(paths) {
				// Let it finish, so that the loop takes made hashes.
				deadline := time.Now().Add(20 * time.Second)
				for {
					h.mu.Lock()
					n := len(h.done)
					h.mu.Unlock()
					if n == len(paths) || time.Now().After(deadline) {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			if tt.before != nil {
				tt.before(t)
			}
			for i, p := range paths {
				got := h.take(p)
				kind := "none"
				switch {
				case got != nil && got.th != nil:
					kind = "table"
				case got != nil:
					kind = "bytes"
				}
				// With a window of one the loop may get to a file first.
				if kind == "none" && tt.window < len(paths) {
					continue
				}
				if kind != tt.want[i] {
					t.Errorf("%s: %s, want %s", p, kind, tt.want[i])
					continue
				}
				if got == nil {
					continue
				}
				sha, size, err := identity.SHA256File(ctx, p)
				if err != nil || got.sha != sha || got.size != size {
					t.Errorf("%s: sha %s size %d, want %s %d (%v)", p, got.sha, got.size, sha, size, err)
				}
				if got.th != nil {
					th, err := identity.HashParquetFile(ctx, p, identity.HashOptions{})
					if err != nil || th.DataSHA != got.th.DataSHA {
						t.Errorf("%s: data_sha %s, want %s (%v)", p, got.th.DataSHA, th.DataSHA, err)
					}
				}
			}
		})
	}

	// Stopped while it waits for the loop to move on.
	h := startHashAhead(ctx, paths, tables, man, 1)
	done := make(chan struct{})
	go func() { h.stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("stop did not return")
	}
	if got := h.take(paths[3]); got != nil {
		t.Errorf("take after stop: %+v", got)
	}
}
