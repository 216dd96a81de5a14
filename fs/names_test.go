package fs

import "github.com/datomfs/datomfs/versions/meta"

// tn is a table name known to be valid.
func tn(s string) meta.TableName { return meta.MustTableName(s) }

// dirOf is the folder a test names: "" is tables/, else a table's folder.
func dirOf(s string) meta.TableName {
	if s == "" {
		return meta.TableName{}
	}
	return tn(s)
}

// outside stands, in the tests' tables, for a destination out of tables/
// and the table folders (core.renameOut).
const outside = "/"
