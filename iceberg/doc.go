// Package iceberg describes every table of a datom project as an Apache
// Iceberg table (format v2), so that Spark, Trino, DuckDB and pyiceberg read
// any version in place: no data is copied.
//
// The metadata lives in the project's store beside the data, outside
// datom/ (which datom never lists): {prefix}/iceberg/{table}/metadata/ holds
// v{N}.metadata.json (N = the table's number of versions),
// version-hint.text (N, the Hadoop catalog's convention) and per snapshot a
// manifest list and one manifest. Each datom version is one snapshot, in
// history order, of operation overwrite: the version's parquet object added
// (by its absolute location, file:///… or s3://bucket/key), the previous
// version's removed. Snapshot ids are the first 63 bits of the version ids;
// the summary carries the datom version id, data_sha, author, message and
// timestamp; a tag per version is named by its 8-hex prefix; main is the
// table's current version. Field ids are given by column path, the same in
// every version, and the table's name mapping (schema.name-mapping.default)
// maps the files' column names to them, since datom's parquet files carry
// no field ids; a new column layout is a new schema id.
//
// Building is deterministic: the same history gives a byte-identical
// metadata.json. The Avro files are not byte-identical across rebuilds
// (their sync marker is random), so they are named by a hash of everything
// they hold and one already in the store is kept, never rewritten.
//
// The metadata, manifests and manifest lists are built and written by
// apache/iceberg-go (table.MetadataBuilder, iceberg.WriteManifest,
// iceberg.WriteManifestList); this package only decides what they say.
// SyncTable brings one table up to date, Sync all of them, AfterWrites is
// the hook a write or a sync's batch runs once its versions have landed, Locate says where
// each table's metadata is and RESTHandler serves them as a read-only
// Iceberg REST catalog.
package iceberg
