package testenv

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestGitHTTPAuth(t *testing.T) {
	const token = "s3cret-token"
	s := GitHTTP(t, token)
	url := s.NewBareRepo(t, "data.git")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("repo URL %q is not on loopback", url)
	}
	refs := url + "/info/refs?service=git-receive-pack"

	tests := []struct {
		name       string
		user, pass string
		setAuth    bool
		wantStatus int
	}{
		{name: "no credentials", wantStatus: http.StatusUnauthorized},
		{name: "wrong token", user: "x-access-token", pass: "nope", setAuth: true, wantStatus: http.StatusUnauthorized},
		{name: "right token", user: "x-access-token", pass: token, setAuth: true, wantStatus: http.StatusOK},
		{name: "any user", user: "alice", pass: token, setAuth: true, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, refs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.setAuth {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tt.wantStatus, body)
			}
			switch tt.wantStatus {
			case http.StatusUnauthorized:
				if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
					t.Errorf("WWW-Authenticate = %q, want a Basic challenge", got)
				}
			case http.StatusOK:
				// The smart protocol's advertisement for receive-pack proves
				// that pushes are enabled.
				if ct := resp.Header.Get("Content-Type"); ct != "application/x-git-receive-pack-advertisement" {
					t.Errorf("Content-Type = %q; body %q", ct, body)
				}
				if !strings.Contains(string(body), "# service=git-receive-pack") {
					t.Errorf("body lacks the service line: %q", body)
				}
			}
		})
	}
}

func TestGitHTTPMissingRepo(t *testing.T) {
	s := GitHTTP(t, "tok")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/nope.git/info/refs?service=git-upload-pack", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("u", "tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404 for a missing repository", resp.StatusCode)
	}
}
