package repo

import (
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// defaultTokenUser is the basic-auth user sent with a token when the remote
// URL names none (GitHub accepts any user with a PAT; this is its convention).
const defaultTokenUser = "x-access-token"

// Auth holds credentials for an HTTP(S) remote: a user and a token sent as
// basic auth. Its String, GoString and LogValue never reveal the token.
type Auth struct {
	user  string
	token string
}

// TokenAuth returns basic-auth credentials; an empty user means
// "x-access-token".
func TokenAuth(user, token string) *Auth {
	if user == "" {
		user = defaultTokenUser
	}
	return &Auth{user: user, token: token}
}

// AuthFromEnv picks the first non-empty of DATOMFS_GIT_TOKEN, GITHUB_PAT and
// GITHUB_TOKEN for an http(s) remote, sent as basic auth with the URL's user
// or "x-access-token". It returns nil for file, plain-path and SSH remotes,
// when the URL carries its own password, and when no token is set.
func AuthFromEnv(remoteURL string) *Auth {
	u, err := url.Parse(remoteURL)
	if err != nil || !isHTTP(u) {
		return nil
	}
	user := ""
	if u.User != nil {
		if _, hasPass := u.User.Password(); hasPass {
			return nil
		}
		user = u.User.Username()
	}
	for _, name := range []string{"DATOMFS_GIT_TOKEN", "GITHUB_PAT", "GITHUB_TOKEN"} {
		if tok := os.Getenv(name); tok != "" {
			return TokenAuth(user, tok)
		}
	}
	return nil
}

// splitCredentials separates the password of a URL's userinfo from the URL:
// it returns the URL without the password (the user kept), and the user
// and password as credentials, or nil when there is no password. Only the
// returned URL is ever stored (.git/config): the password is used for the
// operation at hand, later ones take a token from the environment.
func splitCredentials(remote string) (string, *Auth) {
	u, err := url.Parse(remote)
	if err != nil || u.User == nil {
		return remote, nil
	}
	pass, ok := u.User.Password()
	if !ok {
		return remote, nil
	}
	user := u.User.Username()
	if user == "" {
		u.User = nil
	} else {
		u.User = url.User(user)
	}
	if !isHTTP(u) || pass == "" {
		return u.String(), nil
	}
	return u.String(), TokenAuth(user, pass)
}

func isHTTP(u *url.URL) bool {
	s := strings.ToLower(u.Scheme)
	return s == "http" || s == "https"
}

// User is the basic-auth user name.
func (a *Auth) User() string {
	if a == nil {
		return ""
	}
	return a.user
}

// String describes the credentials without the token.
func (a *Auth) String() string {
	if a == nil {
		return "no credentials"
	}
	return "token for " + a.user
}

// GoString keeps %#v from printing the token.
func (a *Auth) GoString() string { return a.String() }

// LogValue keeps slog from printing the token.
func (a *Auth) LogValue() slog.Value { return slog.StringValue(a.String()) }

// method returns the go-git auth method for remote, or nil when a has no
// credentials or remote is not http(s) (go-git rejects basic auth there).
func (a *Auth) method(remote string) transport.AuthMethod {
	if a == nil || a.token == "" {
		return nil
	}
	u, err := url.Parse(remote)
	if err != nil || !isHTTP(u) {
		return nil
	}
	return &githttp.BasicAuth{Username: a.user, Password: a.token}
}

// secret returns the token, for redact.Error to mask in messages.
func (a *Auth) secret() string {
	if a == nil {
		return ""
	}
	return a.token
}
