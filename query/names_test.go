package query

import (
	"testing"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// tn is a table name known to be valid.
func tn(s string) meta.TableName { return meta.MustTableName(s) }

// formatOf is the input format a test file's name says.
func formatOf(t *testing.T, path string) versions.Format {
	t.Helper()
	f, ok := versions.FormatOf(path)
	if !ok {
		t.Fatalf("%s: not an input format", path)
	}
	return f
}
