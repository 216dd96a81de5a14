package query

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// diffRows renders a diff's rows as "mark id val name" lines.
func diffRows(t *testing.T, e *Engine, d *Diff) []string {
	t.Helper()
	var out []string
	for _, r := range queryAll(t, e, d.SQL) {
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func testDiff(t *testing.T, s *study) {
	ctx := context.Background()
	e := newTestEngine(t, s.p)
	v1, v2, v3 := string(s.lb[0].Version)[:8], string(s.lb[1].Version)[:8], string(s.lb[2].Version)[:8]

	t.Run("rows without keys", func(t *testing.T) {
		d, err := e.Diff(ctx, tn("lb"), v1, v2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Schema) != 0 {
			t.Errorf("schema changes: %v", d.Schema)
		}
		got := diffRows(t, e, d)
		want := []string{"- 2 20 n2", "- 3 30 n3", "+ 3 999 n3", "+ 6 60 n6"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		sum, err := e.Summary(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if sum != (DiffSummary{RowsRemoved: 2, RowsAdded: 2}) {
			t.Errorf("summary %+v", sum)
		}
		if line := sum.Line(d); line != "lb "+v1+" -> "+v2+": columns +0 -0 ~0; rows -2 +2" {
			t.Errorf("summary line %q", line)
		}
	})

	t.Run("rows by key", func(t *testing.T) {
		d, err := e.Diff(ctx, tn("lb"), v1, v2, []string{"id"})
		if err != nil {
			t.Fatal(err)
		}
		got := diffRows(t, e, d)
		want := []string{"- 2 20 n2", "+ 6 60 n6", "< 3 30 n3", "> 3 999 n3"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		sum, err := e.Summary(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if sum != (DiffSummary{RowsRemoved: 1, RowsAdded: 1, RowsChanged: 1}) {
			t.Errorf("summary %+v", sum)
		}
		if !strings.HasSuffix(sum.Line(d), "rows -1 +1, 1 changed") {
			t.Errorf("summary line %q", sum.Line(d))
		}
	})

	t.Run("added column", func(t *testing.T) {
		d, err := e.Diff(ctx, tn("lb"), v2, "", []string{"id"}) // "" is the current version (v3)
		if err != nil {
			t.Fatal(err)
		}
		if d.To.ID.Short() != v3 {
			t.Errorf("to = %s, want current %s", d.To.ID.Short(), v3)
		}
		if len(d.Schema) != 1 || d.Schema[0] != (ColumnChange{Column: "flag", Change: "added", NewType: "BOOLEAN"}) {
			t.Errorf("schema: %+v", d.Schema)
		}
		if got := diffRows(t, e, d); strings.Join(got, "|") != "+ 7 70 n7" {
			t.Errorf("rows: %v", got)
		}
		// Reversed, the column is removed.
		d, err = e.Diff(ctx, tn("lb"), v3, v1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Schema) != 1 || d.Schema[0].Change != "removed" || d.Schema[0].Column != "flag" {
			t.Errorf("reversed schema: %+v", d.Schema)
		}
		sum, err := e.Summary(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if sum.ColumnsRemoved != 1 || sum.RowsRemoved != 3 || sum.RowsAdded != 2 {
			t.Errorf("reversed summary %+v", sum)
		}
	})

	t.Run("same version", func(t *testing.T) {
		d, err := e.Diff(ctx, tn("lb"), v3, v3, []string{"id"})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := e.Summary(ctx, d)
		if err != nil || !sum.Same() {
			t.Errorf("same version: %+v %v", sum, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		if _, err := e.Diff(ctx, tn("lb"), v3, v3, []string{"flag"}); err == nil || !strings.Contains(err.Error(), "not unique") {
			t.Errorf("non-unique key: %v", err)
		}
		if _, err := e.Diff(ctx, tn("lb"), v1, v3, []string{"flag"}); err == nil || !strings.Contains(err.Error(), "flag") {
			t.Errorf("key missing in one version: %v", err)
		}
		if _, err := e.Diff(ctx, tn("lb"), "ffffffff", v3, nil); err == nil || !strings.Contains(err.Error(), "ffffffff") {
			t.Errorf("unknown version: %v", err)
		}
		if _, err := e.Diff(ctx, tn("nosuch"), "", "", nil); err == nil || !strings.Contains(err.Error(), "nosuch") {
			t.Errorf("unknown table: %v", err)
		}
	})
}
