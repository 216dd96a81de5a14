// Package redact keeps credentials out of what datomfs shows: locations in
// messages, logs and status lines, and error messages that may quote a
// secret. It is the one place that decides how a credential is hidden.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces every hidden credential.
const Mask = "***"

// URL returns a location fit for messages and logs: the password of a
// URL's userinfo shown as "***" (https://user:***@host/p.git), the rest
// unchanged. Forms that are not URLs (plain paths, scp-like
// "git@host:path") carry no password and come back as they are. A URL that
// does not parse loses its password all the same.
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return unparsed(s)
	}
	if u.User == nil {
		return s
	}
	if _, hasPass := u.User.Password(); !hasPass {
		return s
	}
	// url.URL would escape the stars; a placeholder of unreserved
	// characters goes through unchanged.
	const mark = "datomfs-redacted-password"
	u.User = url.UserPassword(u.User.Username(), mark)
	return strings.Replace(u.String(), ":"+mark+"@", ":"+Mask+"@", 1)
}

// unparsed masks the password of "scheme://user:pass@host..." by hand,
// for strings url.Parse refuses (a bad escape in the password, say).
func unparsed(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return s
	}
	return scheme + "://" + user + ":" + Mask + rest[at:]
}

// Password returns the password of a URL's userinfo, "" when there is
// none, for passing to Error.
func Password(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// Error returns err with every non-empty secret in its message, as is or
// URL-escaped, replaced by "***". errors.Is and errors.As still see err's
// chain. err itself is returned when its message holds no secret.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if strings.Contains(msg, form) {
				msg = strings.ReplaceAll(msg, form, Mask)
				changed = true
			}
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError keeps err's chain for errors.Is/As but not its message.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
