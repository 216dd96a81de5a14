package versions

import "github.com/datomfs/datomfs/versions/meta"

// tn is a table name known to be valid.
func tn(s string) meta.TableName { return meta.MustTableName(s) }
