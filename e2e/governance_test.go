package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

// TestGovernancePortfolio: clone --gov brings the governance repository and
// `projects` lists what it registers.
func TestGovernancePortfolio(t *testing.T) {
	p := newProject(t, localBackend(t))
	gov := testenv.BareRemote(t)
	work := filepath.Join(t.TempDir(), "gov-work")
	git(t, filepath.Dir(work), "clone", "-q", gov, work)
	for name, root := range map[string]string{"STUDY_001": p.b.store, "STUDY_002": "/srv/other"} {
		dir := filepath.Join(work, "projects", name)
		os.MkdirAll(dir, 0o755)
		ref := `{
  "current": {
    "type": "local",
    "root": "` + root + `"
  },
  "previous": []
}
`
		os.WriteFile(filepath.Join(dir, "ref.json"), []byte(ref), 0o644)
	}
	git(t, work, "add", ".")
	git(t, work, "-c", "user.name=Gov", "-c", "user.email=gov@example.org", "commit", "-qm", "Register projects")
	git(t, work, "push", "-q", "origin", "HEAD:main")

	bob := newEngineer(t, "Bob", p.b)
	dir := filepath.Join(t.TempDir(), "b")
	bob.must("clone", p.remote, dir, "--gov", gov)
	type row struct {
		Project string `json:"project"`
		Type    string `json:"type"`
		Root    string `json:"root"`
	}
	rows := decode[[]row](t, bob.must("projects", "--json", "-C", dir))
	if len(rows) != 2 || rows[0].Project != "STUDY_001" || rows[0].Root != p.b.store || rows[1].Root != "/srv/other" {
		t.Fatalf("portfolio: %+v", rows)
	}
	// Without a governance repo: a clear error.
	r := p.e.run("projects", "-C", p.dir)
	oneLineError(t, r)
	if !strings.Contains(r.err, "--gov") {
		t.Errorf("want a hint about --gov: %s", r.err)
	}
}
