package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

func TestAuthFromEnv(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		url       string
		wantNil   bool
		wantUser  string
		wantToken string
	}{
		{"datomfs first", map[string]string{"DATOMFS_GIT_TOKEN": "d", "GITHUB_PAT": "p", "GITHUB_TOKEN": "g"},
			"https://github.com/acme/data", false, "x-access-token", "d"},
		{"then GITHUB_PAT", map[string]string{"GITHUB_PAT": "p", "GITHUB_TOKEN": "g"},
			"https://github.com/acme/data", false, "x-access-token", "p"},
		{"then GITHUB_TOKEN", map[string]string{"GITHUB_TOKEN": "g"},
			"http://127.0.0.1:8080/data.git", false, "x-access-token", "g"},
		{"empty values skipped", map[string]string{"DATOMFS_GIT_TOKEN": "", "GITHUB_TOKEN": "g"},
			"https://h/r", false, "x-access-token", "g"},
		{"user from URL", map[string]string{"GITHUB_PAT": "p"},
			"https://alice@github.com/acme/data", false, "alice", "p"},
		{"no token", nil, "https://github.com/acme/data", true, "", ""},
		{"URL carries a password", map[string]string{"GITHUB_PAT": "p"}, "https://alice:pw@h/r", true, "", ""},
		{"plain path", map[string]string{"GITHUB_PAT": "p"}, "/srv/git/data.git", true, "", ""},
		{"file URL", map[string]string{"GITHUB_PAT": "p"}, "file:///srv/git/data.git", true, "", ""},
		{"ssh URL", map[string]string{"GITHUB_PAT": "p"}, "ssh://git@github.com/acme/data.git", true, "", ""},
		{"scp-like ssh", map[string]string{"GITHUB_PAT": "p"}, "git@github.com:acme/data.git", true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"DATOMFS_GIT_TOKEN", "GITHUB_PAT", "GITHUB_TOKEN"} {
				t.Setenv(k, tt.env[k])
			}
			a := AuthFromEnv(tt.url)
			if tt.wantNil {
				if a != nil {
					t.Fatalf("AuthFromEnv = %v, want nil", a)
				}
				return
			}
			if a == nil || a.User() != tt.wantUser || a.token != tt.wantToken {
				t.Fatalf("AuthFromEnv = %+v, want user %q token %q", a, tt.wantUser, tt.wantToken)
			}
			if a.method(tt.url) == nil {
				t.Error("no go-git auth method for an http remote")
			}
		})
	}
	if TokenAuth("", "t").method("/srv/data.git") != nil {
		t.Error("basic auth offered to a file remote")
	}
}

func TestAuthNeverPrintsToken(t *testing.T) {
	const token = "ghp_SuperSecretValue123"
	a := TokenAuth("", token)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("auth", "auth", a)
	for _, s := range []string{
		fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a), buf.String(),
	} {
		if strings.Contains(s, token) {
			t.Errorf("token printed: %q", s)
		}
	}
}

func TestSplitCredentials(t *testing.T) {
	tests := []struct {
		in, stored, user, token string // token "" = no credentials
	}{
		{"http://x:TOKEN@host/p.git", "http://x@host/p.git", "x", "TOKEN"},
		{"https://:tok@h/r", "https://h/r", "x-access-token", "tok"},
		{"https://u:p%40ss@h/r", "https://u@h/r", "u", "p@ss"},
		{"https://u:@h/r", "https://u@h/r", "", ""},
		{"https://u@h/r", "https://u@h/r", "", ""},
		{"https://h/r", "https://h/r", "", ""},
		{"ssh://git:pw@h/r", "ssh://git@h/r", "", ""},
		{"/srv/git/r.git", "/srv/git/r.git", "", ""},
		{"git@h:r.git", "git@h:r.git", "", ""},
	}
	for _, tt := range tests {
		stored, a := splitCredentials(tt.in)
		if stored != tt.stored {
			t.Errorf("%s: stored %q, want %q", tt.in, stored, tt.stored)
		}
		switch {
		case tt.token == "" && a != nil:
			t.Errorf("%s: credentials %v, want none", tt.in, a)
		case tt.token != "" && (a == nil || a.User() != tt.user || a.token != tt.token):
			t.Errorf("%s: credentials %+v, want %s/%s", tt.in, a, tt.user, tt.token)
		}
	}
}

// TestHTTPTokenInURL: a token in the URL serves the clone (or the init's
// push) and is stored nowhere; later fetches and pushes take the token
// from the environment.
func TestHTTPTokenInURL(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	const token = "tok-in-url-51b2e0"
	srv := testenv.GitHTTP(t, token)
	url := srv.NewBareRepo(t, "data.git")
	withToken := strings.Replace(url, "://", "://x:"+token+"@", 1)
	for _, k := range []string{"DATOMFS_GIT_TOKEN", "GITHUB_PAT", "GITHUB_TOKEN"} {
		t.Setenv(k, "")
	}
	noToken := func(dir string) {
		t.Helper()
		filepath.WalkDir(filepath.Join(dir, ".git"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(token)) {
					t.Errorf("%s holds the token", p)
				}
			}
			return nil
		})
	}

	r, err := Init(ctx, t.TempDir(), withToken, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := mustCommit(t, r, "Initialize datom repository", map[string]string{"README.md": "# token in URL\n"})
	if err := r.Push(ctx); err != nil {
		t.Fatalf("push with the URL's token: %v", err)
	}
	noToken(r.Dir())
	if got := r.RemoteURL(); strings.Contains(got, token) || !strings.Contains(got, "://x@") {
		t.Errorf("init remote %q, want the URL with its user and without the token", got)
	}

	dir := filepath.Join(t.TempDir(), "clone")
	c, err := Clone(ctx, withToken, dir, CloneOptions{})
	if err != nil {
		t.Fatalf("clone with the URL's token: %v", err)
	}
	if mustHead(t, c) != h {
		t.Error("clone content differs")
	}
	noToken(dir)
	if got := gitCLI(t, dir, "config", "remote.origin.url"); got != strings.Replace(url, "://", "://x@", 1) {
		t.Errorf("remote.origin.url = %q", got)
	}

	// Later: the clone opened again has no token until the environment
	// gives one.
	o, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkAuthErr(t, "Fetch without a token", o.Fetch(ctx), token)
	t.Setenv("DATOMFS_GIT_TOKEN", token)
	o, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Fetch(ctx); err != nil {
		t.Fatalf("fetch with DATOMFS_GIT_TOKEN: %v", err)
	}
	mustCommit(t, o, "second", map[string]string{"x.json": "1"})
	if err := o.Push(ctx); err != nil {
		t.Fatalf("push with DATOMFS_GIT_TOKEN: %v", err)
	}
}

// TestHTTPTokenAuth drives go-git against git's own smart-HTTP server with
// token auth taken from the environment.
func TestHTTPTokenAuth(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	const token = "tok-3f9a1c0b7e"
	srv := testenv.GitHTTP(t, token)
	url := srv.NewBareRepo(t, "data.git")

	t.Setenv("GITHUB_TOKEN", token)
	r, err := Init(ctx, t.TempDir(), url, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := mustCommit(t, r, "Initialize datom repository", map[string]string{"README.md": "# over http\n"})
	if err := r.Push(ctx); err != nil {
		t.Fatalf("push with the right token: %v", err)
	}
	bare := filepath.Join(srv.Root, "data.git")
	if got := gitCLI(t, bare, "rev-parse", "main"); got != h {
		t.Errorf("server main = %s, want %s", got, h)
	}
	verifyRepo(t, bare)

	dir := filepath.Join(t.TempDir(), "clone")
	c, err := Clone(ctx, url, dir, CloneOptions{})
	if err != nil {
		t.Fatalf("clone with the right token: %v", err)
	}
	if mustHead(t, c) != h || readFile(t, dir, "README.md") != "# over http\n" {
		t.Error("clone content differs")
	}
	h2 := mustCommit(t, c, "second", map[string]string{"x.json": "1"})
	if err := c.Push(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := r.Pull(ctx); err != nil || res.To != h2 || res.Commits != 1 {
		t.Fatalf("pull over http = %+v, %v", res, err)
	}

	for name, env := range map[string]string{"wrong token": "wrong-tok-77c1d2", "no token": ""} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("GITHUB_TOKEN", "")
			t.Setenv("DATOMFS_GIT_TOKEN", env)
			_, err := Clone(ctx, url, filepath.Join(t.TempDir(), "c"), CloneOptions{})
			checkAuthErr(t, "Clone", err, env, token)
			o, err := Open(r.Dir()) // picks up the environment
			if err != nil {
				t.Fatal(err)
			}
			checkAuthErr(t, "Fetch", o.Fetch(ctx), env, token)
			mustCommit(t, o, "third "+name, map[string]string{"y.json": name})
			checkAuthErr(t, "Push", o.Push(ctx), env, token)
		})
	}

	// Explicit credentials override the environment.
	t.Setenv("DATOMFS_GIT_TOKEN", "wrong")
	o, err := Open(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	o.SetAuth(TokenAuth("someone", token))
	if err := o.Fetch(ctx); err != nil {
		t.Errorf("Fetch after SetAuth: %v", err)
	}
}

func checkAuthErr(t *testing.T, op string, err error, secrets ...string) {
	t.Helper()
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("%s = %v, want ErrAuth", op, err)
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("%s error %q contains a secret", op, msg)
		}
	}
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "127.0.0.1") {
		t.Errorf("%s error %q: want one line naming the remote", op, msg)
	}
}

func TestScrubURLPassword(t *testing.T) {
	err := mapRemoteErr("fetch", "https://u:hunter2@127.0.0.1:1/x.git",
		errors.New(`Get "https://u:hunter2@127.0.0.1:1/x.git/info/refs": boom`), "tok")
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("password in %q", err)
	}
	if !strings.Contains(err.Error(), "boom") {
		t.Errorf("cause lost: %q", err)
	}
}
