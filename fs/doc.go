// Package fs is the FUSE filesystem over a versions project: tables as
// folders, versions as read-only files, copy-in writes.
//
// The tree:
//
//	/tables/<t>/@<id8>.parquet   one per version, 0444, mtime = version time
//	/tables/<t>/@<id8>.csv       CSV rendition, generated once and cached
//	/tables/<t>/@<id8>.rds       R's .rds rendition (internal/rds), the same way
//	/tables/<t>/current.parquet  symlink to the current version
//	/tables/<t>/current.rds      symlink to the current version's .rds
//	/tables/<t>/history.json     version history, newest first
//
// Any unique prefix of a version id resolves on lookup (@19f4.parquet). See
// SEMANTICS.md for what each operation does, which errno it fails with, and
// what is verified on each data path.
//
// The package owns the mount and nothing below it; reading a version,
// writing one, the cache and the store belong to versions, and the package
// reaches them only through Project methods (OpenVersion, Write, Pull...).
// It is split the way rclone splits vfs from its mount:
//
//   - a FUSE-free core (core.go), testable without a mount: the rules of
//     every operation (what unlink, rename, create, mkdir and open may do)
//     over three rooms: the tree of tables and versions (tree.go), the files
//     being written and their publication (staging.go, write.go), and the
//     CSV and .rds renditions (renditions.go); refresh.go keeps the tree
//     current;
//   - the FUSE adapter: nodes (nodes.go) and file handles (handles.go) that
//     make one core call per operation and turn its error into an errno
//     through the one table in errno.go; mount.go mounts, invalidates the
//     kernel's caches after a refresh, and unmounts.
package fs
