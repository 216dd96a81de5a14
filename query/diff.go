package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// Markers in the _diff column of a diff's rows.
const (
	DiffRemoved = "-" // only in From
	DiffAdded   = "+" // only in To
	DiffOld     = "<" // a changed row (same key) as it was in From
	DiffNew     = ">" // the same row as it is in To
)

// ColumnChange is one schema difference between two versions.
type ColumnChange struct {
	Column  string `json:"column"`
	Change  string `json:"change"` // "added", "removed" or "retyped"
	OldType string `json:"old_type,omitempty"`
	NewType string `json:"new_type,omitempty"`
}

func (c ColumnChange) String() string {
	switch c.Change {
	case "added":
		return fmt.Sprintf("+ column %s %s", c.Column, c.NewType)
	case "removed":
		return fmt.Sprintf("- column %s %s", c.Column, c.OldType)
	}
	return fmt.Sprintf("~ column %s %s -> %s", c.Column, c.OldType, c.NewType)
}

// Diff compares two versions of a table. Its SQL yields the differing rows
// over the columns both versions have (retyped ones compared as text): a
// _diff column with DiffRemoved / DiffAdded for rows only in From / To
// (EXCEPT ALL, or by key when keys are given) and, with keys, DiffOld /
// DiffNew pairs for rows whose key is in both but whose values changed.
// Rows come removed first, then added, then changed pairs, each in key (or
// column) order.
type Diff struct {
	Table  meta.TableName
	From   versions.Version
	To     versions.Version
	Keys   []string
	Schema []ColumnChange
	Common []string // compared columns, in From's order
	SQL    string
}

// DiffSummary counts a diff.
type DiffSummary struct {
	ColumnsAdded   int   `json:"columns_added"`
	ColumnsRemoved int   `json:"columns_removed"`
	ColumnsRetyped int   `json:"columns_retyped"`
	RowsRemoved    int64 `json:"rows_removed"`
	RowsAdded      int64 `json:"rows_added"`
	RowsChanged    int64 `json:"rows_changed"`
}

// Line is the one-line summary.
func (s DiffSummary) Line(d *Diff) string {
	changed := ""
	if len(d.Keys) > 0 {
		changed = fmt.Sprintf(", %d changed", s.RowsChanged)
	}
	return fmt.Sprintf("%s %s -> %s: columns +%d -%d ~%d; rows -%d +%d%s",
		d.Table, d.From.ID.Short(), d.To.ID.Short(),
		s.ColumnsAdded, s.ColumnsRemoved, s.ColumnsRetyped,
		s.RowsRemoved, s.RowsAdded, changed)
}

// Same reports whether the versions hold the same rows and columns.
func (s DiffSummary) Same() bool { return s == DiffSummary{} }

type schemaCol struct{ name, typ string }

// Diff prepares the comparison of two versions of a table (any unique
// prefixes; "" is the current version) keyed by keys (may be empty).
func (e *Engine) Diff(ctx context.Context, table meta.TableName, from, to string, keys []string) (*Diff, error) {
	d := &Diff{Table: table, Keys: keys}
	var err error
	if d.From, err = e.resolveOutside(ctx, table, from); err != nil {
		return nil, err
	}
	if d.To, err = e.resolveOutside(ctx, table, to); err != nil {
		return nil, err
	}
	ref1, ref2 := Ref(table, string(d.From.ID)), Ref(table, string(d.To.ID))
	s1, err := e.describe(ctx, ref1)
	if err != nil {
		return nil, err
	}
	s2, err := e.describe(ctx, ref2)
	if err != nil {
		return nil, err
	}
	types2 := map[string]string{}
	for _, c := range s2 {
		types2[c.name] = c.typ
	}
	types1 := map[string]string{}
	retyped := map[string]bool{}
	for _, c := range s1 {
		types1[c.name] = c.typ
		t2, ok := types2[c.name]
		switch {
		case !ok:
			d.Schema = append(d.Schema, ColumnChange{Column: c.name, Change: "removed", OldType: c.typ})
		case t2 != c.typ:
			d.Schema = append(d.Schema, ColumnChange{Column: c.name, Change: "retyped", OldType: c.typ, NewType: t2})
			retyped[c.name] = true
			d.Common = append(d.Common, c.name)
		default:
			d.Common = append(d.Common, c.name)
		}
	}
	for _, c := range s2 {
		if _, ok := types1[c.name]; !ok {
			d.Schema = append(d.Schema, ColumnChange{Column: c.name, Change: "added", NewType: c.typ})
		}
	}
	common := map[string]bool{}
	for _, c := range d.Common {
		common[c] = true
	}
	for _, k := range keys {
		if !common[k] {
			return nil, fmt.Errorf("key column %q is not in both %s@%s and %s@%s: %w",
				k, table, d.From.ID.Short(), table, d.To.ID.Short(), versions.ErrNotFound)
		}
	}
	if len(d.Common) == 0 {
		return nil, fmt.Errorf("%s@%s and %s@%s have no column in common", table, d.From.ID.Short(), table, d.To.ID.Short())
	}
	sel := make([]string, len(d.Common))
	for i, c := range d.Common {
		sel[i] = sqlIdent(c)
		if retyped[c] {
			sel[i] = fmt.Sprintf("CAST(%s AS VARCHAR) AS %s", sqlIdent(c), sqlIdent(c))
		}
	}
	with := fmt.Sprintf("WITH _from AS (SELECT %s FROM %s), _to AS (SELECT %s FROM %s)",
		strings.Join(sel, ", "), ref1, strings.Join(sel, ", "), ref2)
	order := d.Common
	if len(keys) > 0 {
		order = keys
	}
	orderBy := make([]string, 0, len(order)+2)
	orderBy = append(orderBy, fmt.Sprintf("CASE _diff WHEN '%s' THEN 0 WHEN '%s' THEN 1 ELSE 2 END", DiffRemoved, DiffAdded))
	for _, c := range order {
		orderBy = append(orderBy, sqlIdent(c))
	}
	orderBy = append(orderBy, "_diff")

	if len(keys) == 0 {
		d.SQL = fmt.Sprintf(`%s
SELECT * FROM (
  SELECT '%s' AS _diff, * FROM (SELECT * FROM _from EXCEPT ALL SELECT * FROM _to)
  UNION ALL
  SELECT '%s' AS _diff, * FROM (SELECT * FROM _to EXCEPT ALL SELECT * FROM _from)
) ORDER BY %s`, with, DiffRemoved, DiffAdded, strings.Join(orderBy, ", "))
		return d, nil
	}
	if err := e.checkUnique(ctx, d, ref1, d.From); err != nil {
		return nil, err
	}
	if err := e.checkUnique(ctx, d, ref2, d.To); err != nil {
		return nil, err
	}
	var keq, neq []string
	isKey := map[string]bool{}
	for _, k := range keys {
		isKey[k] = true
		keq = append(keq, fmt.Sprintf("_l.%s IS NOT DISTINCT FROM _r.%s", sqlIdent(k), sqlIdent(k)))
	}
	for _, c := range d.Common {
		if !isKey[c] {
			neq = append(neq, fmt.Sprintf("_l.%s IS DISTINCT FROM _r.%s", sqlIdent(c), sqlIdent(c)))
		}
	}
	if len(neq) == 0 {
		neq = []string{"false"}
	}
	on := strings.Join(keq, " AND ")
	d.SQL = fmt.Sprintf(`%s,
_changed AS (SELECT _l, _r FROM _from AS _l JOIN _to AS _r ON %s WHERE %s)
SELECT * FROM (
  SELECT '%s' AS _diff, _l.* FROM _from AS _l ANTI JOIN _to AS _r ON %s
  UNION ALL
  SELECT '%s' AS _diff, _r.* FROM _to AS _r ANTI JOIN _from AS _l ON %s
  UNION ALL
  SELECT '%s' AS _diff, unnest(_l) FROM _changed
  UNION ALL
  SELECT '%s' AS _diff, unnest(_r) FROM _changed
) ORDER BY %s`, with, on, strings.Join(neq, " OR "),
		DiffRemoved, on, DiffAdded, on, DiffOld, DiffNew, strings.Join(orderBy, ", "))
	return d, nil
}

// resolveOutside resolves a version outside of a statement.
func (e *Engine) resolveOutside(ctx context.Context, table meta.TableName, prefix string) (versions.Version, error) {
	v, err := e.p.Resolve(ctx, table, prefix)
	if errors.Is(err, versions.ErrNotFound) && prefix == "" {
		return v, fmt.Errorf("unknown table %q: %w", table, err)
	}
	return v, err
}

func (e *Engine) describe(ctx context.Context, ref string) ([]schemaCol, error) {
	rows, err := e.Query(ctx, "DESCRIBE SELECT * FROM "+ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schemaCol
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		out = append(out, schemaCol{name: name, typ: typ})
	}
	return out, rows.Err()
}

func (e *Engine) checkUnique(ctx context.Context, d *Diff, ref string, v versions.Version) error {
	ks := make([]string, len(d.Keys))
	for i, k := range d.Keys {
		ks[i] = sqlIdent(k)
	}
	q := fmt.Sprintf("SELECT count(*) - count(DISTINCT (%s)) FROM %s", strings.Join(ks, ", "), ref)
	if len(ks) == 1 {
		// DISTINCT over one column skips NULLs; count them as one value.
		q = fmt.Sprintf("SELECT count(*) - count(DISTINCT {'k': %s}) FROM %s", ks[0], ref)
	}
	rows, err := e.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	var dup int64
	if rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		dup, _ = vals[0].(int64)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if dup > 0 {
		return fmt.Errorf("key (%s) is not unique in %s@%s: %d duplicate rows; pick columns that identify a row",
			strings.Join(d.Keys, ", "), d.Table, v.ID.Short(), dup)
	}
	return nil
}

// Summary counts the diff's schema changes and rows.
func (e *Engine) Summary(ctx context.Context, d *Diff) (DiffSummary, error) {
	var s DiffSummary
	for _, c := range d.Schema {
		switch c.Change {
		case "added":
			s.ColumnsAdded++
		case "removed":
			s.ColumnsRemoved++
		default:
			s.ColumnsRetyped++
		}
	}
	rows, err := e.Query(ctx, "SELECT _diff, count(*) FROM ("+d.SQL+") GROUP BY _diff")
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return s, err
		}
		mark, _ := vals[0].(string)
		n, _ := vals[1].(int64)
		switch mark {
		case DiffRemoved:
			s.RowsRemoved = n
		case DiffAdded:
			s.RowsAdded = n
		case DiffOld:
			s.RowsChanged = n
		}
	}
	return s, rows.Err()
}

// TableChange is one table's line in a project diff.
type TableChange struct {
	Table  string `json:"table"`
	Status string `json:"status"` // "added", "removed", "changed", "same data" (metadata only) or "unchanged"
	From   string `json:"from"`   // version id at From ("" when the table did not exist)
	To     string `json:"to"`     // version id at To ("" when the table is gone)
	// Summary counts the rows (and columns) that differ; for an added or
	// removed table, all its rows.
	Summary DiffSummary `json:"summary"`
	// Keyed is true when rows were matched by the diff's key columns (so
	// that changed rows are counted); tables without them are matched on
	// all values.
	Keyed bool `json:"keyed"`
}

// ProjectDiff compares every table between two points in time (tags,
// dates, commit prefixes, HEAD: versions.Project.At): tables added,
// removed and changed, with their row counts. keys, when given, match rows
// in the tables that have all of them.
func (e *Engine) ProjectDiff(ctx context.Context, from, to string, keys []string) (fromPt, toPt versions.Point, out []TableChange, err error) {
	if fromPt, err = e.p.At(ctx, from); err != nil {
		return fromPt, toPt, nil, err
	}
	if toPt, err = e.p.At(ctx, to); err != nil {
		return fromPt, toPt, nil, err
	}
	fromVs, err := e.p.VersionsAt(ctx, fromPt)
	if err != nil {
		return fromPt, toPt, nil, err
	}
	toVs, err := e.p.VersionsAt(ctx, toPt)
	if err != nil {
		return fromPt, toPt, nil, err
	}
	before := map[meta.TableName]versions.Version{}
	for _, v := range fromVs {
		before[v.Table] = v
	}
	seen := map[meta.TableName]bool{}
	for _, v := range toVs {
		seen[v.Table] = true
		old, ok := before[v.Table]
		c := TableChange{Table: v.Table.String(), To: string(v.ID)}
		switch {
		case !ok:
			c.Status = "added"
			nrow, _, err := e.shape(ctx, v)
			if err != nil {
				return fromPt, toPt, nil, err
			}
			c.Summary.RowsAdded = nrow
		case old.ID == v.ID:
			c.Status, c.From = "unchanged", string(old.ID)
		case old.DataSHA == v.DataSHA:
			c.Status, c.From = "same data", string(old.ID)
		default:
			c.Status, c.From = "changed", string(old.ID)
			if c.Summary, c.Keyed, err = e.tableSummary(ctx, v.Table, old, v, keys); err != nil {
				return fromPt, toPt, nil, err
			}
		}
		out = append(out, c)
	}
	for _, v := range fromVs {
		if seen[v.Table] {
			continue
		}
		nrow, _, err := e.shape(ctx, v)
		if err != nil {
			return fromPt, toPt, nil, err
		}
		out = append(out, TableChange{Table: v.Table.String(), Status: "removed", From: string(v.ID), Summary: DiffSummary{RowsRemoved: nrow}})
	}
	return fromPt, toPt, out, nil
}

// tableSummary counts the differences between two versions, keyed when
// both have every key column.
func (e *Engine) tableSummary(ctx context.Context, table meta.TableName, from, to versions.Version, keys []string) (DiffSummary, bool, error) {
	d, err := e.Diff(ctx, table, string(from.ID), string(to.ID), keys)
	if len(keys) > 0 && errors.Is(err, versions.ErrNotFound) {
		keys = nil // a key column is missing in this table
		d, err = e.Diff(ctx, table, string(from.ID), string(to.ID), nil)
	}
	if err != nil {
		return DiffSummary{}, false, err
	}
	s, err := e.Summary(ctx, d)
	return s, len(keys) > 0, err
}
