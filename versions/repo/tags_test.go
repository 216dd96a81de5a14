package repo

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

// Tags over a file remote and over git's smart-HTTP server with a token:
// created, pushed (one object), fetched by another clone's pull; a tag of
// the same name with another target is refused and the local copy can go.
func TestTagsPushAndFetch(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	const token = "tok-9d2c"
	srv := testenv.GitHTTP(t, token)
	remotes := map[string]string{"file": testenv.BareRemoteGitDefaults(t), "http": srv.NewBareRepo(t, "tags.git")}
	for name, remote := range remotes {
		t.Run(name, func(t *testing.T) {
			t.Setenv("GITHUB_TOKEN", token)
			r, err := Init(ctx, t.TempDir(), remote, InitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			h1 := mustCommit(t, r, "one", map[string]string{"a.json": "1"})
			if err := r.Push(ctx); err != nil {
				t.Fatal(err)
			}
			c, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "c"), CloneOptions{})
			if err != nil {
				t.Fatal(err)
			}
			when := time.Date(2026, 3, 31, 17, 0, 0, 0, time.UTC)
			tag, err := r.CreateTag("db-lock", h1, "Database lock\n\nsigned off", when)
			if err != nil || tag.Commit != h1 {
				t.Fatalf("create tag: %+v %v", tag, err)
			}
			if _, err := r.CreateTag("db-lock", h1, "again", when); !errors.Is(err, ErrTagExists) {
				t.Errorf("create an existing tag: %v", err)
			}
			if err := r.PushTag(ctx, "db-lock"); err != nil {
				t.Fatalf("push tag: %v", err)
			}
			if err := r.PushTag(ctx, "db-lock"); err != nil {
				t.Errorf("push the same tag again: %v", err)
			}
			// The other clone fetches it with the branch.
			if _, err := c.Pull(ctx); err != nil {
				t.Fatal(err)
			}
			got, ok, err := c.LookupTag("db-lock")
			if err != nil || !ok || got.Commit != h1 || got.Message != "Database lock\n\nsigned off" || !got.When.Equal(when) || got.Tagger.Name == "" {
				t.Fatalf("fetched tag: %+v %v %v", got, ok, err)
			}
			// Its own tag of that name, another target: refused; deleted.
			h2 := mustCommit(t, c, "two", map[string]string{"b.json": "2"})
			if err := c.Push(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteTag("db-lock"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateTag("db-lock", h2, "mine", when); err != nil {
				t.Fatal(err)
			}
			err = c.PushTag(ctx, "db-lock")
			if !errors.Is(err, ErrPushRejected) || !errors.Is(err, ErrTagExists) || strings.Contains(err.Error(), token) {
				t.Errorf("push of a clashing tag: %v, want ErrPushRejected and ErrTagExists", err)
			}
			if err := c.DeleteTag("db-lock"); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := c.LookupTag("db-lock"); ok {
				t.Error("the deleted tag is still there")
			}
			tags, err := r.Tags()
			if err != nil || len(tags) != 1 || tags[0].Name != "db-lock" || tags[0].Commit != h1 {
				t.Errorf("tags: %+v %v", tags, err)
			}
			if name == "http" {
				t.Setenv("GITHUB_TOKEN", "wrong-token-1")
				o, err := Open(r.Dir())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := o.CreateTag("v2", h1, "x", when); err != nil {
					t.Fatal(err)
				}
				if err := o.PushTag(ctx, "v2"); !errors.Is(err, ErrAuth) || strings.Contains(err.Error(), "wrong-token-1") {
					t.Errorf("push tag with a wrong token: %v, want ErrAuth", err)
				}
			}
		})
	}
}

func TestValidTagName(t *testing.T) {
	for _, ok := range []string{"db-lock", "v1.0", "a/b", "x@y"} {
		if err := ValidTagName(ok); err != nil {
			t.Errorf("ValidTagName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a..b", "a.lock", "-a", ".a", "a.", "a:b", "a/", "/a", "a//b", "a\x7f", "a@{0}"} {
		if err := ValidTagName(bad); err == nil {
			t.Errorf("ValidTagName(%q): want an error", bad)
		}
	}
}
