package open_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
	"github.com/datomfs/datomfs/versions/store/open"
	"github.com/datomfs/datomfs/versions/store/s3"
)

func roundTrip(t *testing.T, s store.Store, key string) {
	t.Helper()
	ctx := context.Background()
	if err := s.Put(ctx, key, strings.NewReader("hello"), 5, store.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	rc, err := s.Open(ctx, key, 1, 3)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "ell" {
		t.Errorf("read %q, want %q", b, "ell")
	}
}

func TestOpenLocal(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	loc, err := store.ParseLocation(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open.Open(ctx, loc, open.Options{}); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("Open of a missing local root: %v, want ErrUnreachable", err)
	}
	loc.Prefix = "proj/"
	s, err := open.Open(ctx, loc, open.Options{CreateLocalRoot: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*local.Local); !ok {
		t.Fatalf("Open(%v) returned %T, want *local.Local", loc, s)
	}
	if got, want := s.Location(), filepath.Join(dir, "proj"); got != want {
		t.Errorf("Location() = %q, want %q", got, want)
	}
	roundTrip(t, s, loc.Layout().ManifestKey())
}

func TestOpenS3(t *testing.T) {
	ctx := context.Background()
	v := testenv.Versity(t)
	v.CreateBucket(t, "study")
	loc, err := store.ParseLocation("s3://study/proj/?region=us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := open.Open(ctx, loc, open.Options{
		Endpoint:      v.Endpoint,
		S3Credentials: &s3.Credentials{AccessKeyID: v.AccessKey, SecretAccessKey: v.SecretKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*s3.S3); !ok {
		t.Fatalf("Open(%v) returned %T, want *s3.S3", loc, s)
	}
	if got := s.Location(); got != "s3://study/proj" {
		t.Errorf("Location() = %q, want s3://study/proj", got)
	}
	c, ok := s.(store.Checker)
	if !ok {
		t.Fatalf("%T does not implement store.Checker", s)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	roundTrip(t, s, loc.Layout().ManifestKey())
}

func TestOpenUnknownType(t *testing.T) {
	_, err := open.Open(context.Background(), store.Location{Type: "gcs", Root: "b"}, open.Options{})
	if !errors.Is(err, store.ErrBadLocation) {
		t.Errorf("Open of an unknown type: %v, want ErrBadLocation", err)
	}
}
