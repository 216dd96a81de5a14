// Package projecttest makes real datom projects for tests of the packages
// above versions (fs, query, the CLI, benchmarks): a bare git remote, a
// store, a developer clone made by versions.Init, a private cache and a
// ticking clock. versions' own tests cannot import it (it imports
// versions); they use testenv's fixtures directly.
package projecttest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions"
)

// Options shape a project; the zero value is a "STUDY_001" project on a
// fresh local-folder store.
type Options struct {
	// Name is the project name; "" means "STUDY_001".
	Name string
	// Store is the store location; "" means a fresh local folder.
	Store string
	// Versions are the project's options. An empty CacheDir becomes a
	// fresh folder and a nil Clock a testenv.TickingClock.
	Versions versions.Options
}

// Fixture is a project made by New.
type Fixture struct {
	Project *versions.Project
	Dir     string // the clone
	Remote  string // the bare git remote's path
	Store   string // the store location
	Cache   string // the cache folder
	// Options are the versions options the project was made with (the
	// cache and clock filled in), for opening it again or a reader.
	Options versions.Options
}

// New makes a project under a fresh temporary folder; a failure fails the
// test.
func New(t testing.TB, o Options) *Fixture {
	t.Helper()
	root := t.TempDir()
	if o.Name == "" {
		o.Name = "STUDY_001"
	}
	if o.Store == "" {
		o.Store = filepath.Join(root, "store")
	}
	if o.Versions.CacheDir == "" {
		o.Versions.CacheDir = filepath.Join(root, "cache")
	}
	if o.Versions.Clock == nil {
		o.Versions.Clock = testenv.TickingClock()
	}
	fx := &Fixture{
		Dir:     filepath.Join(root, "clone"),
		Remote:  testenv.BareRemote(t),
		Store:   o.Store,
		Cache:   o.Versions.CacheDir,
		Options: o.Versions,
	}
	p, err := versions.Init(context.Background(), fx.Dir, versions.InitOptions{
		Project: o.Name, Store: fx.Store, Remote: fx.Remote,
	}, o.Versions)
	if err != nil {
		t.Fatalf("init project %s: %v", o.Name, err)
	}
	fx.Project = p
	return fx
}
