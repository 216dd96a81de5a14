package cache

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
)

func newMemStore(t *testing.T, objects map[string][]byte) store.Store {
	t.Helper()
	st, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k, b := range objects {
		if err := st.Put(context.Background(), k, bytes.NewReader(b), int64(len(b)), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestPathForMalformedParquetSHA: a recorded parquet_sha that is no SHA-256
// (one character, a path) names no path of its own inside or outside the
// cache, and the bytes are refused as an integrity failure.
func TestPathForMalformedParquetSHA(t *testing.T) {
	root := t.TempDir()
	st := newMemStore(t, map[string][]byte{"datom/t/x.parquet": []byte("PAR1 bytes PAR1")})
	c := New(root, st, slog.New(slog.DiscardHandler))
	for _, bad := range []identity.ParquetSHA{"a", "../../../../tmp/evil", "zz" + identity.ParquetSHA(strings.Repeat("0", 62))} {
		p := c.PathFor("datom/t/x.parquet", bad)
		if !strings.HasPrefix(p, filepath.Join(root, "unverified")+string(filepath.Separator)) {
			t.Errorf("%q: path %s is not a hashed name under the cache", bad, p)
		}
		if _, err := c.Get(context.Background(), "datom/t/x.parquet", bad, nil); !errors.Is(err, ErrIntegrity) {
			t.Errorf("%q: Get = %v, want ErrIntegrity", bad, err)
		}
	}
}
