package query

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/parquet/file"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// The SQL surface besides table names:
//
//	history('t')       one row per version, newest first
//	all_versions('t')  every version's rows plus _version and _timestamp
//	snapshot('ref')    one row per table at a point in time (a tag, an ISO
//	                   date or datetime, a commit prefix, HEAD): table,
//	                   version, data_sha, timestamp
//
// all_versions is a table macro over read_parquet(union_by_name) so DuckDB
// reads the parquet files itself (projection and filter pushdown included);
// its file list comes from datomfs_files('t'), a scalar function DuckDB folds
// at bind time, and the version of each row from a join on the file name with
// datomfs_version_files('t'). Versions with identical data share one cached
// file, which is read once and joined to each of its versions.
const allVersionsMacro = `CREATE OR REPLACE TEMP MACRO all_versions(t) AS TABLE
SELECT p.* EXCLUDE (_datomfs_file), v._version, v._timestamp
FROM read_parquet(datomfs_files(t), union_by_name = true, filename = '_datomfs_file') AS p
JOIN datomfs_version_files(t) AS v ON p._datomfs_file = v._datomfs_file`

func (e *Engine) registerFunctions(ctx context.Context) error {
	varchar, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return err
	}
	list, err := duckdb.NewListInfo(varchar)
	if err != nil {
		return err
	}
	if err := duckdb.RegisterTableUDF(e.conn, "history", duckdb.RowTableFunction{
		Config:        duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{varchar}},
		BindArguments: e.bindHistory,
	}); err != nil {
		return fmt.Errorf("register history(): %w", err)
	}
	if err := duckdb.RegisterTableUDF(e.conn, "snapshot", duckdb.RowTableFunction{
		Config:        duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{varchar}},
		BindArguments: e.bindSnapshot,
	}); err != nil {
		return fmt.Errorf("register snapshot(): %w", err)
	}
	if err := duckdb.RegisterTableUDF(e.conn, "datomfs_version_files", duckdb.RowTableFunction{
		Config:        duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{varchar}},
		BindArguments: e.bindVersionFiles,
	}); err != nil {
		return fmt.Errorf("register datomfs_version_files(): %w", err)
	}
	if err := duckdb.RegisterScalarUDF(e.conn, "datomfs_files", &filesFunc{e: e, cfg: duckdb.ScalarFuncConfig{
		InputTypeInfos: []duckdb.TypeInfo{varchar},
		ResultTypeInfo: list,
	}}); err != nil {
		return fmt.Errorf("register datomfs_files(): %w", err)
	}
	if _, err := e.conn.ExecContext(ctx, allVersionsMacro); err != nil {
		return fmt.Errorf("create all_versions(): %w", cleanDuckErr(err))
	}
	return nil
}

// tableArg reads the table name argument of a table function: an SQL
// string parsed once into a table name.
func tableArg(fn string, args []any) (meta.TableName, error) {
	if len(args) != 1 {
		return meta.TableName{}, fmt.Errorf("%s() takes one table name", fn)
	}
	s, ok := args[0].(string)
	if !ok || s == "" {
		return meta.TableName{}, fmt.Errorf("%s() takes a table name, e.g. %s('lb')", fn, fn)
	}
	return versions.ParseTableName(s)
}

func (e *Engine) bindHistory(_ map[string]any, args ...any) (duckdb.RowTableSource, error) {
	table, err := tableArg("history", args)
	if err != nil {
		return nil, e.record(err)
	}
	ctx := e.stmtCtx()
	vs, err := e.tableVersions(ctx, table)
	if err != nil {
		return nil, e.record(err)
	}
	rows := make([]historyRow, len(vs))
	for i, v := range vs {
		nrow, ncol, err := e.shape(ctx, v)
		if err != nil {
			return nil, e.record(err)
		}
		rows[i] = historyRow{v: v, nrow: nrow, ncol: ncol}
	}
	return &historySource{rows: rows}, nil
}

// shape is a version's row and column count: from its metadata snapshot, or
// from the parquet footer when the snapshot is missing.
func (e *Engine) shape(ctx context.Context, v versions.Version) (nrow, ncol int64, err error) {
	md, err := e.p.VersionMetadata(ctx, v)
	if err == nil {
		return md.NRow(), md.NCol(), nil
	}
	if !errors.Is(err, versions.ErrNotFound) {
		return 0, 0, err
	}
	path, err := e.fetch(ctx, v)
	if err != nil {
		return 0, 0, err
	}
	return parquetShape(path)
}

// parquetShape reads the row count and top-level column count of a parquet
// file from its footer.
func parquetShape(path string) (nrow, ncol int64, err error) {
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return 0, 0, fmt.Errorf("read parquet footer of %s: %w", path, err)
	}
	defer r.Close()
	return r.NumRows(), int64(r.MetaData().Schema.Root().NumFields()), nil
}

type historyRow struct {
	v          versions.Version
	nrow, ncol int64
}

type historySource struct {
	rows []historyRow
	i    int
}

func (s *historySource) ColumnInfos() []duckdb.ColumnInfo {
	return columnInfos(
		"version", duckdb.TYPE_VARCHAR,
		"data_sha", duckdb.TYPE_VARCHAR,
		"timestamp", duckdb.TYPE_TIMESTAMP_TZ,
		"author", duckdb.TYPE_VARCHAR,
		"commit_message", duckdb.TYPE_VARCHAR,
		"nrow", duckdb.TYPE_BIGINT,
		"ncol", duckdb.TYPE_BIGINT,
	)
}

func (s *historySource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.rows)), Exact: true}
}

func (s *historySource) Init() {}

func (s *historySource) FillRow(row duckdb.Row) (bool, error) {
	if s.i >= len(s.rows) {
		return false, nil
	}
	r := s.rows[s.i]
	s.i++
	ts := any(nil)
	if t := r.v.Timestamp; !t.IsZero() {
		ts = t
	}
	vals := []any{string(r.v.ID), string(r.v.DataSHA), ts, r.v.Author, r.v.Message, r.nrow, r.ncol}
	for i, v := range vals {
		if err := duckdb.SetRowValue(row, i, v); err != nil {
			return false, err
		}
	}
	return true, nil
}

// bindSnapshot backs snapshot('ref'): the version of every table at a
// point in time.
func (e *Engine) bindSnapshot(_ map[string]any, args ...any) (duckdb.RowTableSource, error) {
	ref, ok := "", len(args) == 1
	if ok {
		ref, ok = args[0].(string)
	}
	if !ok || ref == "" {
		return nil, e.record(errors.New("snapshot() takes a tag, a date or a commit, e.g. snapshot('db-lock')"))
	}
	ctx := e.stmtCtx()
	pt, err := e.p.At(ctx, ref)
	if err != nil {
		return nil, e.record(err)
	}
	vs, err := e.p.VersionsAt(ctx, pt)
	if err != nil {
		return nil, e.record(err)
	}
	return &snapshotSource{vs: vs}, nil
}

type snapshotSource struct {
	vs []versions.Version
	i  int
}

func (s *snapshotSource) ColumnInfos() []duckdb.ColumnInfo {
	return columnInfos(
		"table", duckdb.TYPE_VARCHAR,
		"version", duckdb.TYPE_VARCHAR,
		"data_sha", duckdb.TYPE_VARCHAR,
		"timestamp", duckdb.TYPE_TIMESTAMP,
	)
}

func (s *snapshotSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.vs)), Exact: true}
}

func (s *snapshotSource) Init() {}

func (s *snapshotSource) FillRow(row duckdb.Row) (bool, error) {
	if s.i >= len(s.vs) {
		return false, nil
	}
	v := s.vs[s.i]
	s.i++
	ts := any(nil)
	if t := v.Timestamp; !t.IsZero() {
		ts = t
	}
	for i, x := range []any{v.Table.String(), string(v.ID), string(v.DataSHA), ts} {
		if err := duckdb.SetRowValue(row, i, x); err != nil {
			return false, err
		}
	}
	return true, nil
}

// bindVersionFiles backs datomfs_version_files('t'): one row per version with
// its cached file, id and timestamp.
func (e *Engine) bindVersionFiles(_ map[string]any, args ...any) (duckdb.RowTableSource, error) {
	table, err := tableArg("all_versions", args)
	if err != nil {
		return nil, e.record(err)
	}
	ctx := e.stmtCtx()
	vs, err := e.tableVersions(ctx, table)
	if err != nil {
		return nil, e.record(err)
	}
	paths, err := e.fetchAll(ctx, vs)
	if err != nil {
		return nil, e.record(err)
	}
	return &versionFilesSource{vs: vs, paths: paths}, nil
}

type versionFilesSource struct {
	vs    []versions.Version
	paths []string
	i     int
}

func (s *versionFilesSource) ColumnInfos() []duckdb.ColumnInfo {
	return columnInfos(
		"_datomfs_file", duckdb.TYPE_VARCHAR,
		"_version", duckdb.TYPE_VARCHAR,
		"_timestamp", duckdb.TYPE_TIMESTAMP_TZ,
	)
}

func (s *versionFilesSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.vs)), Exact: true}
}

func (s *versionFilesSource) Init() {}

func (s *versionFilesSource) FillRow(row duckdb.Row) (bool, error) {
	if s.i >= len(s.vs) {
		return false, nil
	}
	v := s.vs[s.i]
	ts := any(nil)
	if t := v.Timestamp; !t.IsZero() {
		ts = t
	}
	vals := []any{s.paths[s.i], string(v.ID), ts}
	s.i++
	for i, x := range vals {
		if err := duckdb.SetRowValue(row, i, x); err != nil {
			return false, err
		}
	}
	return true, nil
}

// filesFunc is datomfs_files('t'): the distinct cached files of every
// version of t (fetched on demand).
type filesFunc struct {
	e   *Engine
	cfg duckdb.ScalarFuncConfig
}

func (f *filesFunc) Config() duckdb.ScalarFuncConfig { return f.cfg }

func (f *filesFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		s, ok := args[0].(string)
		if !ok || s == "" {
			return nil, f.e.record(errors.New("all_versions() takes a table name, e.g. all_versions('lb')"))
		}
		table, err := versions.ParseTableName(s)
		if err != nil {
			return nil, f.e.record(err)
		}
		ctx := f.e.stmtCtx()
		vs, err := f.e.tableVersions(ctx, table)
		if err != nil {
			return nil, f.e.record(err)
		}
		paths, err := f.e.fetchAll(ctx, vs)
		if err != nil {
			return nil, f.e.record(err)
		}
		seen := map[string]bool{}
		var out []any
		for _, p := range paths {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
		return out, nil
	}}
}

// columnInfos builds column infos from name, type pairs.
func columnInfos(pairs ...any) []duckdb.ColumnInfo {
	out := make([]duckdb.ColumnInfo, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		ti, err := duckdb.NewTypeInfo(pairs[i+1].(duckdb.Type))
		if err != nil {
			panic(err) // primitive types always have a TypeInfo
		}
		out = append(out, duckdb.ColumnInfo{Name: pairs[i].(string), T: ti})
	}
	return out
}
