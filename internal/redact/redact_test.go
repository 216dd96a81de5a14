package redact

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok@github.com/a/b":       "https://user:***@github.com/a/b",
		"http://x:TOKEN@127.0.0.1:8080/p.git":   "http://x:***@127.0.0.1:8080/p.git",
		"https://:tok@h/r":                      "https://:***@h/r",
		"https://u:p%40ss%3Aw@h/r?q=1#f":        "https://u:***@h/r?q=1#f",
		"https://github.com/a/b":                "https://github.com/a/b",
		"https://user@github.com/a/b":           "https://user@github.com/a/b",
		"/srv/git/b.git":                        "/srv/git/b.git",
		"git@github.com:a/b.git":                "git@github.com:a/b.git",
		"ssh://git:pw@github.com/a/b.git":       "ssh://git:***@github.com/a/b.git",
		"https://datomfs-redacted-password@h/r": "https://datomfs-redacted-password@h/r",
		"http://127.0.0.1:9000":                 "http://127.0.0.1:9000",
		// url.Parse refuses these; the password goes all the same.
		"https://u:p%zz@h/r":       "https://u:***@h/r",
		"https://u:p%zz@h":         "https://u:***@h",
		"https://u:a@b%zz@h/r?x=@": "https://u:***@h/r?x=@",
		"https://h/%zz@x":          "https://h/%zz@x",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPassword(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p%40ss@h/r": "p@ss",
		"https://u@h/r":        "",
		"/srv/git":             "",
		"https://u:p%zz@h/r":   "",
	} {
		if got := Password(in); got != want {
			t.Errorf("Password(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestError(t *testing.T) {
	cause := &fs.PathError{Op: "get", Path: "https://u:p@ss@h/x?tok=s3cr%2Ft", Err: fs.ErrPermission}
	err := Error(cause, "", "p@ss", "s3cr/t")
	if msg := err.Error(); strings.Contains(msg, "p@ss") || strings.Contains(msg, "s3cr") || !strings.Contains(msg, "https://u:***@h/x?tok=***") {
		t.Errorf("message %q still shows a secret", msg)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("the chain is lost: %v", err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe != cause {
		t.Errorf("errors.As does not find the cause")
	}
	if Error(cause, "absent") != error(cause) {
		t.Errorf("an error without secrets should come back as is")
	}
	if Error(nil, "x") != nil {
		t.Errorf("Error(nil) != nil")
	}
}
