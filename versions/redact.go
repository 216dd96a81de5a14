package versions

import "net/url"

// redactURL strips credentials from a URL before it is shown anywhere.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}
