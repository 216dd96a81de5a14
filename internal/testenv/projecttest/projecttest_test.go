package projecttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestNew(t *testing.T) {
	fx := New(t, Options{Name: "study001"})
	if got := fx.Project.Name(); got != "study001" {
		t.Errorf("Name() = %q", got)
	}
	if fx.Project.Dir() != fx.Dir {
		t.Errorf("Dir() = %q, want %q", fx.Project.Dir(), fx.Dir)
	}
	if _, err := os.Stat(filepath.Join(fx.Dir, ".datom", "project.yaml")); err != nil {
		t.Errorf("no project.yaml in the clone: %v", err)
	}
	if out, err := exec.Command("git", "-C", fx.Remote, "rev-parse", "main").CombinedOutput(); err != nil {
		t.Errorf("init pushed nothing to main: %v\n%s", err, out)
	}
	if a, b := fx.Options.Clock(), fx.Options.Clock(); !b.After(a) {
		t.Errorf("the clock does not tick: %v then %v", a, b)
	}
	if fx.Options.CacheDir != fx.Cache || fx.Cache == "" {
		t.Errorf("cache %q, options' %q", fx.Cache, fx.Options.CacheDir)
	}
}
