// Package query is the embedded DuckDB layer over a versions project: SQL
// over every version, CSV conversions and diffs.
//
// It owns:
//
//   - the Engine (engine.go): a DuckDB connection in which a table name
//     means its current version and "t@prefix" a given one, resolved
//     through Project.Resolve and read from the verified cache
//     (Project.Fetch) only when a statement names it; history('t') and
//     all_versions('t') (functions.go);
//   - Diff between two versions (diff.go);
//   - Converter (convert.go): CSV to parquet and back, the
//     versions.Converter and fs.CSVConverter the CLI wires in, with the
//     CSV checks that refuse malformed input (csvcheck.go);
//   - output formats of query results (format.go).
//
// It never writes to a project; versions does.
package query
