package versions

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection enforces the layering of design §3: the model
// knows nothing of FUSE, SQL or the CLI, and only store/s3 talks AWS.
func TestDependencyDirection(t *testing.T) {
	list := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	forbidden := []string{"github.com/hanwen/go-fuse", "github.com/duckdb/", "github.com/spf13/cobra", "golang.org/x/term", "github.com/datomfs/datomfs/fs", "github.com/datomfs/datomfs/query", "github.com/datomfs/datomfs/cmd"}
	deps := list("github.com/datomfs/datomfs/versions/...")
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("versions depends on %s", d)
			}
		}
	}
	if len(deps) < 10 {
		t.Fatalf("go list returned too little to judge: %v", deps)
	}
	// The AWS SDK only in store/s3 (and the factory that opens stores).
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/datomfs/datomfs/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if strings.Contains(imports, "github.com/aws/") && pkg != "github.com/datomfs/datomfs/versions/store/s3" {
			t.Errorf("%s imports the AWS SDK; only versions/store/s3 may", pkg)
		}
	}
}
