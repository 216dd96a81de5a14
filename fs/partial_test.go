package fs

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions"
)

// TestPartialReadNotResponding: a read of a remote version that is not
// cached yet, while the store has stopped answering, fails with EIO and
// logs one line naming the table, the path and the cause, as every other
// failed FUSE call does (the errno alone tells the reader nothing).
func TestPartialReadNotResponding(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "partial")
	srv.SetEnv(t)
	proxy := testenv.NewProxy(t, strings.TrimPrefix(srv.Endpoint, "http://"))
	t.Setenv("AWS_ENDPOINT_URL", "http://"+proxy.Addr)
	t.Setenv("DATOMFS_NET_IDLE_TIMEOUT", "2s")
	fx := newProjectFixtureAt(t, "s3://partial/p")
	// Bigger than the footer fetched on open, so a read at 0 misses.
	big := writeVersion(t, fx.Project, "big", parquetBytes(t, 100_000, "big"))

	// A reader with its own, empty cache: the version is served by ranged
	// reads (no background fill, so only the read fetches).
	o := fx.options()
	o.CacheDir = t.TempDir()
	reader, err := versions.OpenReader(context.Background(), fx.Store, "STUDY_001", o)
	if err != nil {
		t.Fatal(err)
	}
	fx.mountOpts(t, reader, Options{NoFill: true})
	f, err := os.Open(fx.path("big", vname(big.ID, ".parquet")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	proxy.Pause()
	defer proxy.Resume()
	_, err = f.ReadAt(make([]byte, 4096), 0)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("read with the store paused: %v, want EIO", err)
	}
	log := fx.Log.String()
	want := []string{`msg="datomfs: read failed"`, "table=big", "path=tables/big/" + vname(big.ID, ".parquet"), "not responding"}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, want[0]) {
			for _, w := range want[1:] {
				if !strings.Contains(line, w) {
					t.Errorf("the log line lacks %q: %s", w, line)
				}
			}
			return
		}
	}
	t.Errorf("no log line for the failed read:\n%s", log)
}
