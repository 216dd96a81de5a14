package testenv

import (
	"bytes"
	"crypto/subtle"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// GitHint is what a test says when git (or git-http-backend) is missing.
const GitHint = "git not found: install it (Debian: apt-get install git)"

// GitServer is git's smart HTTP server (`git http-backend` behind
// net/http/cgi) on a loopback port, serving the bare repositories under
// Root and requiring basic auth whose password is the token (any user).
//
// It speaks plain HTTP: go-git and the git CLI send basic auth over http://
// as they do over https://, and plain HTTP needs no CA plumbing through
// every caller. Wrong or missing credentials get 401 with a
// WWW-Authenticate challenge, as GitHub answers.
type GitServer struct {
	URL  string // "http://127.0.0.1:PORT", no trailing slash
	Root string // directory holding the bare repositories

	token string
}

// GitHTTP starts a git smart-HTTP server for the test and stops it when the
// test ends. Pushes are enabled. A missing git fails the test with GitHint.
func GitHTTP(t testing.TB, token string) *GitServer {
	t.Helper()
	backend, err := gitHTTPBackend()
	if err != nil {
		t.Fatalf("%s (%v)", GitHint, err)
	}
	s := &GitServer{Root: t.TempDir(), token: token}
	srv := httptest.NewServer(s.handler(backend, logWriter{t}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// gitHTTPBackend finds git-http-backend in git's exec path.
func gitHTTPBackend() (string, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(git, "--exec-path").Output()
	if err != nil {
		return "", err
	}
	return exec.LookPath(filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"))
}

// logWriter sends git-http-backend's stderr to the test log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("git http-backend: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (s *GitServer) handler(backend string, stderr io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, pass, ok := req.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="datomfs-test-git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		// git http-backend (2.39) spins forever on a request body shorter
		// than its Content-Length, as a client cut off mid-push sends: it
		// gets the body only once it has all arrived.
		if req.Body != nil && req.ContentLength != 0 {
			body, err := io.ReadAll(req.Body)
			if err != nil || (req.ContentLength > 0 && int64(len(body)) != req.ContentLength) {
				http.Error(w, "incomplete request body", http.StatusBadRequest)
				return
			}
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		h := &cgi.Handler{
			Path:   backend,
			Root:   "/",
			Dir:    s.Root,
			Stderr: stderr,
			Env: []string{
				"GIT_PROJECT_ROOT=" + s.Root,
				"GIT_HTTP_EXPORT_ALL=1",
				"REMOTE_USER=" + user,
				// Enable receive-pack explicitly (REMOTE_USER does too).
				"GIT_CONFIG_COUNT=1",
				"GIT_CONFIG_KEY_0=http.receivepack",
				"GIT_CONFIG_VALUE_0=true",
				"GIT_CONFIG_NOSYSTEM=1",
				"HOME=" + s.Root,
			},
		}
		h.ServeHTTP(w, req)
	})
}

// NewBareRepo creates an empty bare repository named name (e.g.
// "data.git"; one path element) whose HEAD names "main", and returns its
// URL.
func (s *GitServer) NewBareRepo(t testing.TB, name string) string {
	t.Helper()
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		t.Fatalf("NewBareRepo: bad repository name %q", name)
	}
	initBare(t, filepath.Join(s.Root, name), true)
	return s.URL + "/" + name
}
