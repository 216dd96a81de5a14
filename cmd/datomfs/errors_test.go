package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/open"
)

// The hint fits the failure: what to check for an S3 store, a store
// folder or the git remote; S3 credentials; nothing for a missing file.
func TestHintsFit(t *testing.T) {
	unreachable := func(err error) error { return fmt.Errorf("%w: %w", versions.ErrUnreachable, err) }
	cases := []struct {
		name      string
		err       error
		want, not string
	}{
		{"s3 bucket", unreachable(fmt.Errorf("put s3://b/k: bucket %q does not exist: %w", "b", store.ErrUnreachable)), "AWS_ENDPOINT_URL", "folder"},
		{"store folder", unreachable(fmt.Errorf("local store root /x does not exist: %w", store.ErrUnreachable)), "store folder exists", "AWS"},
		{"git remote", unreachable(errors.New("clone /x.git: remote unreachable")), "git remote", "AWS"},
		{"credentials", fmt.Errorf("open s3://b/k: %w (no EC2 IMDS role found)", store.ErrNoCredentials), "AWS_PROFILE", ""},
		{"missing file", fmt.Errorf("%w: stat /nope.parquet: %w", versions.ErrInvalidInput, fs.ErrNotExist), "", "hash"},
		{"corrupt file", fmt.Errorf("%w: not a parquet file", versions.ErrInvalidInput), "datomfs hash", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := defaultHint(c.err)
			if c.want == "" && h != "" && c.not == "hash" {
				t.Errorf("hint %q for a missing file", h)
			}
			if c.want != "" && !strings.Contains(h, c.want) {
				t.Errorf("hint %q lacks %q", h, c.want)
			}
			if c.not != "" && strings.Contains(h, c.not) {
				t.Errorf("hint %q says %q", h, c.not)
			}
		})
	}
}

// A real S3 store without credentials fails with ErrNoCredentials (the
// credentials hint), and the SDK's own log lines stay out of stderr.
func TestS3WithoutCredentials(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "creds-test")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // no metadata service to wait for
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
	t.Setenv("AWS_REGION", srv.Region)
	loc, err := store.ParseLocation("s3://creds-test/proj/")
	if err != nil {
		t.Fatal(err)
	}
	st, err := open.Open(context.Background(), loc, open.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Stat(context.Background(), "proj/datom/.metadata/manifest.json")
	if !errors.Is(err, store.ErrNoCredentials) {
		t.Fatalf("stat without credentials: %v, want ErrNoCredentials", err)
	}
	if !strings.Contains(defaultHint(fmt.Errorf("list: %w", err)), "AWS_PROFILE") {
		t.Fatalf("no credentials hint for %v", err)
	}
}
