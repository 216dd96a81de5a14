package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// ErrSQL marks an error reported by DuckDB for a statement (syntax, binder,
// type or runtime errors), as opposed to a datom name that did not resolve.
var ErrSQL = errors.New("SQL error")

// sqlError is one DuckDB error reduced to its first line.
type sqlError struct{ msg string }

func (e *sqlError) Error() string        { return e.msg }
func (e *sqlError) Is(target error) bool { return target == ErrSQL }

// Options tune an Engine.
type Options struct {
	Logger *slog.Logger
	// Threads caps DuckDB's worker threads (0 = DuckDB's default).
	Threads int
	// MemoryLimit is DuckDB's memory_limit setting, e.g. "2GB" ("" = default).
	MemoryLimit string
	// At, when set, is a point in time (a tag, an ISO date or datetime, a
	// commit prefix: versions.Project.At) that bare table names mean:
	// "lb" is lb's version at that point, so that a script runs unchanged
	// against a frozen cut. "lb@ref" still names any version.
	At string
}

// Engine is an embedded DuckDB over a project. Every table name resolves to
// its current version and "t@prefix" to that version, through a replacement
// scan; history('t') and all_versions('t') are table functions. Nothing is
// resolved or downloaded until a statement names it, so opening an Engine
// costs the same for ten tables or ten thousand.
//
// An Engine runs one statement at a time; it is safe for concurrent use.
type Engine struct {
	p    *versions.Project
	log  *slog.Logger
	db   *sql.DB
	conn *sql.Conn

	mu sync.Mutex // held for the whole of a statement (until Rows.Close)
	st stmtState

	at *versions.Point // Options.At, resolved once
}

// stmtState is what the DuckDB callbacks of the running statement share.
// Callbacks run on DuckDB's threads while the caller holds Engine.mu.
type stmtState struct {
	mu       sync.Mutex
	ctx      context.Context
	err      error                                 // first resolution error of the statement
	versions map[meta.TableName][]versions.Version // newest first
	paths    map[string]string                     // table\x00version id -> cached parquet path
}

// New opens an Engine over p. It registers the name resolution and the table
// functions; it reads nothing from the project.
func New(ctx context.Context, p *versions.Project, opts Options) (_ *Engine, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{p: p, log: opts.Logger}
	e.st.ctx = context.Background()
	if opts.At != "" {
		pt, err := p.At(ctx, opts.At)
		if err != nil {
			return nil, err
		}
		e.at = &pt
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	duckdb.RegisterReplacementScan(connector, e.replacementScan)
	e.db = sql.OpenDB(connector)
	defer func() {
		if err != nil {
			e.db.Close()
		}
	}()
	e.conn, err = e.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open duckdb connection: %w", err)
	}
	settings := []string{
		// Version bytes come from the verified cache; never fetch extensions.
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
	}
	if opts.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", opts.Threads))
	}
	if opts.MemoryLimit != "" {
		settings = append(settings, "SET memory_limit = "+sqlString(opts.MemoryLimit))
	}
	for _, s := range settings {
		if _, err := e.conn.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("configure duckdb (%s): %w", s, cleanDuckErr(err))
		}
	}
	if err := e.registerFunctions(ctx); err != nil {
		e.conn.Close()
		return nil, err
	}
	return e, nil
}

// At is the point in time bare table names mean (Options.At), or nil.
func (e *Engine) At() *versions.Point { return e.at }

// Project is the project the Engine reads.
func (e *Engine) Project() *versions.Project { return e.p }

// Close releases DuckDB.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.conn.Close()
	if err2 := e.db.Close(); err == nil {
		err = err2
	}
	return err
}

// begin takes the statement lock and resets the callbacks' state.
func (e *Engine) begin(ctx context.Context) {
	e.mu.Lock()
	e.st.mu.Lock()
	e.st.ctx = ctx
	e.st.err = nil
	e.st.versions = map[meta.TableName][]versions.Version{}
	e.st.paths = map[string]string{}
	e.st.mu.Unlock()
}

// end releases the statement lock.
func (e *Engine) end() {
	e.st.mu.Lock()
	e.st.ctx = context.Background()
	e.st.versions, e.st.paths = nil, nil
	e.st.mu.Unlock()
	e.mu.Unlock()
}

// failure turns a DuckDB error of the running statement into the error to
// report: the resolution error a callback recorded (typed, e.g.
// versions.ErrNotFound), else DuckDB's message reduced to one line.
func (e *Engine) failure(err error) error {
	if err == nil {
		return nil
	}
	e.st.mu.Lock()
	rec := e.st.err
	e.st.mu.Unlock()
	if rec != nil {
		return rec
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return cleanDuckErr(err)
}

// record keeps the first resolution error of a statement and returns err.
func (e *Engine) record(err error) error {
	e.st.mu.Lock()
	if e.st.err == nil {
		e.st.err = err
	}
	e.st.mu.Unlock()
	return err
}

func (e *Engine) stmtCtx() context.Context {
	e.st.mu.Lock()
	defer e.st.mu.Unlock()
	return e.st.ctx
}

// Exec runs statements that return no rows of interest (SET, CREATE ...).
func (e *Engine) Exec(ctx context.Context, query string) error {
	e.begin(ctx)
	defer e.end()
	if _, err := e.conn.ExecContext(ctx, query); err != nil {
		return e.failure(err)
	}
	return nil
}

// Column describes one result column.
type Column struct {
	Name string
	Type string // DuckDB type name, e.g. BIGINT, VARCHAR, TIMESTAMP
}

// Rows is a running query's result. The Engine runs nothing else until it
// is closed.
type Rows struct {
	e      *Engine
	rows   *sql.Rows
	cols   []Column
	vals   []any
	ptrs   []any
	closed bool
}

// Query runs a statement and returns its rows. The caller must Close them.
func (e *Engine) Query(ctx context.Context, query string) (*Rows, error) {
	e.begin(ctx)
	rows, err := e.conn.QueryContext(ctx, query)
	if err != nil {
		err = e.failure(err)
		e.end()
		return nil, err
	}
	r := &Rows{e: e, rows: rows}
	cts, err := rows.ColumnTypes()
	if err != nil {
		r.Close()
		return nil, e.failure(err)
	}
	for _, ct := range cts {
		r.cols = append(r.cols, Column{Name: ct.Name(), Type: ct.DatabaseTypeName()})
	}
	r.vals = make([]any, len(r.cols))
	r.ptrs = make([]any, len(r.cols))
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r, nil
}

// Columns are the result's columns.
func (r *Rows) Columns() []Column { return r.cols }

// Next advances to the next row.
func (r *Rows) Next() bool { return r.rows.Next() }

// Values are the current row's values as duckdb-go scans them (nil for
// NULL). The slice is reused by the next call to Next.
func (r *Rows) Values() ([]any, error) {
	for i := range r.vals {
		r.vals[i] = nil
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		return nil, r.e.failure(err)
	}
	return r.vals, nil
}

// Err is the error that ended the iteration, if any.
func (r *Rows) Err() error { return r.e.failure(r.rows.Err()) }

// Close releases the result and the Engine.
func (r *Rows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.rows.Close()
	r.e.end()
	return err
}

// Tables lists the project's table names.
func (e *Engine) Tables(ctx context.Context) ([]string, error) {
	ts, err := e.p.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Name.String())
	}
	return out, nil
}

// splitRef splits "lb@19f4" into table and version prefix: the one place an
// SQL identifier becomes a table name. ok is false when the name cannot be
// a datom table (DuckDB then goes on with its own resolution, e.g. of
// 'file.parquet').
func splitRef(ident string) (table meta.TableName, prefix string, ok bool) {
	name := ident
	// The first '@': table names have none, tags may.
	if i := strings.IndexByte(ident, '@'); i >= 0 {
		name, prefix = ident[:i], ident[i+1:]
		if prefix == "" {
			return meta.TableName{}, "", false
		}
	}
	table, err := meta.ParseTableName(name)
	if err != nil {
		return meta.TableName{}, "", false
	}
	return table, prefix, true
}

// replacementScan resolves a table name DuckDB did not find in its catalog.
func (e *Engine) replacementScan(name string) (string, []any, error) {
	table, prefix, ok := splitRef(name)
	if !ok {
		return "", nil, nil
	}
	ctx := e.stmtCtx()
	v, err := e.resolve(ctx, table, prefix)
	if err != nil {
		return "", nil, e.record(err)
	}
	path, err := e.fetch(ctx, v)
	if err != nil {
		return "", nil, e.record(err)
	}
	return "read_parquet", []any{path}, nil
}

// tableVersions returns a table's versions (memoised for the statement).
func (e *Engine) tableVersions(ctx context.Context, table meta.TableName) ([]versions.Version, error) {
	e.st.mu.Lock()
	vs, ok := e.st.versions[table]
	e.st.mu.Unlock()
	if ok {
		return vs, nil
	}
	vs, err := e.p.Versions(ctx, table)
	if errors.Is(err, versions.ErrNotFound) {
		return nil, fmt.Errorf("unknown table %q: %w", table, versions.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("table %q has no versions yet: %w", table, versions.ErrNotFound)
	}
	e.st.mu.Lock()
	if e.st.versions != nil {
		e.st.versions[table] = vs
	}
	e.st.mu.Unlock()
	return vs, nil
}

// resolve finds the version a name refers to through Project.Resolve, the
// one prefix resolver ("" is the current version, or the version at
// Options.At).
func (e *Engine) resolve(ctx context.Context, table meta.TableName, prefix string) (versions.Version, error) {
	if _, err := e.tableVersions(ctx, table); err != nil {
		return versions.Version{}, err
	}
	if prefix == "" && e.at != nil {
		return e.p.VersionAt(ctx, table, *e.at)
	}
	return e.p.Resolve(ctx, table, prefix)
}

// fetch returns the verified cache path of a version (memoised).
func (e *Engine) fetch(ctx context.Context, v versions.Version) (string, error) {
	key := v.Table.String() + "\x00" + string(v.ID)
	e.st.mu.Lock()
	path, ok := e.st.paths[key]
	e.st.mu.Unlock()
	if ok {
		return path, nil
	}
	path, err := e.p.Fetch(ctx, v)
	if err != nil {
		return "", err
	}
	e.st.mu.Lock()
	if e.st.paths != nil {
		e.st.paths[key] = path
	}
	e.st.mu.Unlock()
	return path, nil
}

// fetchAll fetches every version, a few downloads at a time.
func (e *Engine) fetchAll(ctx context.Context, vs []versions.Version) ([]string, error) {
	paths := make([]string, len(vs))
	errs := make([]error, len(vs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, v := range vs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			paths[i], errs[i] = e.fetch(ctx, v)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return paths, nil
}

// sqlIdent quotes s as a SQL identifier.
func sqlIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Ident quotes s as an SQL identifier: any name, a datom table's, a
// "t@prefix" reference or one of DuckDB's own tables.
func Ident(s string) string { return sqlIdent(s) }

// Ref is the SQL name of a table version: "t@prefix" quoted ("t" for the
// current version when prefix is "").
func Ref(table meta.TableName, prefix string) string {
	if prefix == "" {
		return sqlIdent(table.String())
	}
	return sqlIdent(table.String() + "@" + prefix)
}
