package versions

import "net/url"

// shareableURL is a remote URL as recorded in the files the team shares
// (.datom/project.yaml, README.md): without the userinfo when it carries a
// password, whose user goes with it. (Messages and logs show locations
// through redact.URL instead.)
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
