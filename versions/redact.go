package versions

import (
	"net/url"

	"github.com/datomfs/datomfs/versions/repo"
)

// RedactURL shows a location with the password of its userinfo, if any, as
// "***" (http://x:***@host/p.git): for messages, logs and status.
func RedactURL(s string) string { return repo.Redact(s) }

func redactURL(s string) string { return RedactURL(s) }

// shareableURL is a remote URL as recorded in the files the team shares
// (.datom/project.yaml, README.md): without the userinfo when it carries a
// password, whose user goes with it.
func shareableURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, hasPass := u.User.Password(); !hasPass {
		return s
	}
	u.User = nil
	return u.String()
}
