package testenv

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestVersity(t *testing.T) {
	s := Versity(t)
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q, want a loopback URL", s.Endpoint)
	}
	if s.AccessKey == "" || len(s.SecretKey) < 32 || s.Region != "us-east-1" {
		t.Errorf("credentials/region not set: access %q, secret of %d chars, region %q", s.AccessKey, len(s.SecretKey), s.Region)
	}
	s.CreateBucket(t, "bucket-one")
	if fi, err := os.Stat(filepath.Join(s.Dir, "bucket-one")); err != nil || !fi.IsDir() {
		t.Errorf("bucket directory not created in the posix root: %v", err)
	}

	// A signed ListBuckets names the new bucket.
	resp, err := s.do(http.MethodGet, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<Name>bucket-one</Name>") {
		t.Errorf("ListBuckets: %s %s", resp.Status, body)
	}

	// Unsigned and wrongly signed requests are refused: the random
	// credentials are really in force.
	resp, err = http.Get(s.Endpoint + "/bucket-one")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous GET: %s, want 403", resp.Status)
	}
	wrong := *s
	wrong.SecretKey = "not-the-secret"
	resp, err = wrong.do(http.MethodGet, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET signed with a wrong secret: %s, want 403", resp.Status)
	}

	env := s.Env()
	for _, want := range []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_REGION=us-east-1",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("Env() lacks %q", want)
		}
	}
	// The secret is not in the gateway's command line.
	if slices.ContainsFunc(s.cmd.Args, func(a string) bool { return strings.Contains(a, s.SecretKey) }) {
		t.Errorf("secret key appears in versitygw's argv")
	}
	if s.LogTail(5) == "" {
		t.Errorf("gateway log %s is empty", s.LogFile)
	}
}

func TestVersityStops(t *testing.T) {
	var s *S3Server
	t.Run("server", func(t *testing.T) {
		s = Versity(t)
	})
	select {
	case <-s.exited:
	default:
		t.Fatalf("versitygw still running after its test's cleanup")
	}
	if _, err := http.Get(s.Endpoint + "/"); err == nil {
		t.Errorf("endpoint %s still answers after cleanup", s.Endpoint)
	}
}

func TestVersityFind(t *testing.T) {
	empty1, empty2 := t.TempDir(), t.TempDir()
	_, err := versityFind(empty1, empty2, empty1+string(filepath.ListSeparator)+empty2)
	if err == nil || !strings.Contains(err.Error(), "run scripts/install-tools.sh") {
		t.Errorf("lookup in empty directories: %v, want the install hint", err)
	}

	gopath := t.TempDir()
	bin := filepath.Join(gopath, "bin", "versitygw")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := versityFind(empty1, "", gopath); err == nil {
		t.Errorf("a non-executable file was accepted as versitygw")
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := versityFind(empty1, "", gopath); err != nil || got != bin {
		t.Errorf("versityFind via GOPATH = %q, %v; want %q", got, err, bin)
	}
	if got, err := versityFind(filepath.Dir(bin), empty2, ""); err != nil || got != bin {
		t.Errorf("versityFind via PATH = %q, %v; want %q", got, err, bin)
	}
}
