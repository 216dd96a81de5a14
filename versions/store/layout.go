package store

import (
	"strings"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
)

// Layout builds every object key of a datom store (contract 3.1). A store is
// (backend, root, prefix); keys are relative to the root (the bucket or the
// local directory) and start with the prefix, then "datom".
//
// Table names come as a meta.TableName (valid by construction) and are
// spliced in verbatim, as are hashes: a hash read from a document must be
// checked first (identity.ValidKeySHA, contract 7.2).
type Layout struct {
	// Prefix is the store prefix; leading and trailing "/" are ignored,
	// inner "//" are kept.
	Prefix string
}

// Key joins the prefix, "datom" and the relative segments with "/". Each
// segment loses its leading and trailing "/" (inner ones stay, so
// "dm/abc.parquet" is one segment) and empty parts are dropped.
func (l Layout) Key(rel ...string) string {
	parts := make([]string, 0, len(rel)+2)
	if p := strings.Trim(l.Prefix, "/"); p != "" {
		parts = append(parts, p)
	}
	parts = append(parts, "datom")
	for _, r := range rel {
		if r = strings.Trim(r, "/"); r != "" {
			parts = append(parts, r)
		}
	}
	return strings.Join(parts, "/")
}

// Root is the prefix under which every object of the store lives, ending in
// "/": "proj/datom/". Pass it to List to see the whole store.
func (l Layout) Root() string { return l.Key() + "/" }

// TablePrefix is the List prefix of one table's objects: "proj/datom/dm/".
func (l Layout) TablePrefix(table meta.TableName) string { return l.Key(table.String()) + "/" }

// ParquetKey is the key of a table's data file: <t>/<data_sha>.parquet.
func (l Layout) ParquetKey(table meta.TableName, dataSHA identity.DataSHA) string {
	return l.Key(table.String(), dataSHA.String()+".parquet")
}

// TableMetaKey is the key of a file in a table's reader mirror:
// <t>/.metadata/<file>.
func (l Layout) TableMetaKey(table meta.TableName, file string) string {
	return l.Key(table.String(), ".metadata", file)
}

// MetadataKey is <t>/.metadata/metadata.json, the current metadata mirror.
func (l Layout) MetadataKey(table meta.TableName) string {
	return l.TableMetaKey(table, meta.MetadataFile)
}

// VersionHistoryKey is <t>/.metadata/version_history.json.
func (l Layout) VersionHistoryKey(table meta.TableName) string {
	return l.TableMetaKey(table, meta.HistoryFile)
}

// SnapshotKey is <t>/.metadata/<metadata_sha>.json, the metadata of one
// version.
func (l Layout) SnapshotKey(table meta.TableName, version identity.MetadataSHA) string {
	return l.TableMetaKey(table, version.String()+".json")
}

// ManifestKey is .metadata/manifest.json, the copy of .datom/manifest.json.
func (l Layout) ManifestKey() string { return l.Key(".metadata", meta.ManifestFile) }

// GovernanceKey is .metadata/governance.json, the copy of
// .datom/governance.json.
func (l Layout) GovernanceKey() string { return l.Key(".metadata", meta.GovernanceFile) }

// TagKey is .metadata/tags/<tag>.json, datomfs's mirror of a git tag of
// the data repo for readers (the commit and the table versions it pins).
// datom reads no key there.
func (l Layout) TagKey(tag string) string { return l.Key(".metadata", "tags", tag+".json") }

// TagsPrefix is the List prefix of the tag mirrors.
func (l Layout) TagsPrefix() string { return l.Key(".metadata", "tags") + "/" }

// Governance store keys (contract 3.3, 8): use a Layout with the governance
// prefix.

// GovProjectKey is projects/<project>/<file> in a governance store.
func (l Layout) GovProjectKey(project, file string) string {
	return l.Key("projects", project, file)
}

// GovRefKey is projects/<project>/ref.json in a governance store.
func (l Layout) GovRefKey(project string) string { return l.GovProjectKey(project, "ref.json") }

// GovDispatchKey is projects/<project>/dispatch.json in a governance store.
func (l Layout) GovDispatchKey(project string) string {
	return l.GovProjectKey(project, "dispatch.json")
}

// GovMigrationHistoryKey is projects/<project>/migration_history.json in a
// governance store.
func (l Layout) GovMigrationHistoryKey(project string) string {
	return l.GovProjectKey(project, "migration_history.json")
}

// GovProjectsPrefix is the List prefix of all projects in a governance
// store: "gov/datom/projects/".
func (l Layout) GovProjectsPrefix() string { return l.Key("projects") + "/" }
