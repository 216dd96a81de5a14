package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
)

type diffOptions struct {
	IO      *IOStreams
	Logger  *slog.Logger
	Project func(context.Context) (*versions.Project, error)
	Table   string
	From    string
	To      string
	Keys    []string
	Format  string
	Output  string
}

func newDiffCmd(f *factory, runF func(context.Context, *diffOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &diffOptions{IO: f.IO}
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "diff [TABLE V1 [V2]] [--from REF] [--to REF]",
		Short: "Compare two versions of a table, or the whole project at two points in time",
		Long: `Compare version V1 of TABLE with V2 (any unique prefixes, or points in time:
a tag, an ISO date or datetime in UTC, a commit prefix, HEAD; V2 defaults to
the current version). --from and --to may name them instead.

Without TABLE, --from REF [--to REF] (default HEAD) compares the whole
project: one line per table that was added, removed or changed, with its
rows removed, added and (with --key, in the tables that have the key
columns) changed; unchanged tables are listed too. Then ask for one table's
rows with "datomfs diff TABLE --from REF --to REF".

For one table, schema changes come first (added, removed and retyped
columns), then the rows over the columns both versions have, marked in a
_diff column:

  -   only in V1            +   only in V2
  <   changed row, as in V1 >   changed row, as in V2   (with --key)

Without --key, rows are matched on all their values (EXCEPT ALL); with
--key, rows are matched by the key columns and a row whose other values
differ is shown as a changed pair. A summary line ends the report.
With --format csv or parquet, the schema changes and the summary go to
stderr so that stdout (or -o FILE) holds only the rows.`,
		Example: `  datomfs diff --from db-lock --to HEAD
  datomfs diff --from 2026-01-31 --to db-lock --key USUBJID --json
  datomfs diff lb --from db-lock --to HEAD --key USUBJID --key LBSEQ
  datomfs diff lb 19f44e3a c1ffea90
  datomfs diff lb 19f4 --key USUBJID --key LBSEQ
  datomfs diff ae 19f4 c1ff --format json | jq .summary
  datomfs diff lb 19f4 c1ff -o lb_changes.parquet`,
		Args: namedArgs(0, "TABLE", "V1", "V2"),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, to := opts.From, opts.To
			if len(args) > 0 {
				opts.Table = args[0]
			}
			if len(args) > 1 {
				if from != "" || (len(args) > 2 && to != "") {
					return usagef("give the versions as arguments or as --from/--to, not both")
				}
				opts.From = args[1]
			}
			if len(args) > 2 {
				opts.To = args[2]
			}
			switch {
			case opts.Table == "" && opts.From == "":
				return usagef("missing TABLE and V1, or --from REF (usage: %s)", cmd.UseLine())
			case opts.Table != "" && opts.From == "":
				return usagef("missing V1 or --from REF (usage: %s)", cmd.UseLine())
			}
			if err := jsonFlag(jsonOut, &opts.Format); err != nil {
				return err
			}
			if opts.Format != "" {
				if _, err := query.ParseFormat(opts.Format); err != nil {
					return usagef("--format: %v", err)
				}
			}
			if err := checkOutputExt(opts.Output, opts.Format); err != nil {
				return err
			}
			opts.Logger = f.Logger
			opts.Project = f.loader(pf, true)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.ValidArgsFunction = completeTables(f, pf, true)
	cmd.Flags().StringVar(&opts.From, "from", "", "the older side: a version prefix, a tag, a date or a commit")
	cmd.Flags().StringVar(&opts.To, "to", "", "the newer side (default: the current version, HEAD)")
	cmd.Flags().StringArrayVar(&opts.Keys, "key", nil, "key column identifying a row (repeat for a composite key)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print JSON (the same as --format json)")
	cmd.Flags().StringVar(&opts.Format, "format", "", "output format: table, csv, json or parquet (default: table on a terminal, else csv)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the report to FILE (replaced only on success)")
	return cmd
}

// diffJSON is the --format json document.
type diffJSON struct {
	Table   string               `json:"table"`
	From    string               `json:"from"`
	To      string               `json:"to"`
	Keys    []string             `json:"keys"`
	Schema  []query.ColumnChange `json:"schema"`
	Rows    json.RawMessage      `json:"rows"`
	Summary query.DiffSummary    `json:"summary"`
}

func diffRun(ctx context.Context, opts *diffOptions) error {
	e, err := openEngine(ctx, opts.Project, opts.Logger)
	if err != nil {
		return err
	}
	defer e.Close()
	if opts.Table == "" {
		return projectDiffRun(ctx, e, opts)
	}
	table, err := versions.ParseTableName(opts.Table)
	if err != nil {
		return err
	}
	d, err := e.Diff(ctx, table, opts.From, opts.To, opts.Keys)
	if err != nil {
		return err
	}
	sum, err := e.Summary(ctx, d)
	if err != nil {
		return err
	}
	format := resolveFormat(opts.Format, opts.Output, opts.IO.StdoutTTY)
	if format == query.FormatParquet && opts.Output == "" && opts.IO.StdoutTTY {
		return usagef("parquet output goes to a file (-o FILE) or a pipe, not a terminal")
	}
	report := func(w io.Writer) error {
		switch format {
		case query.FormatJSON:
			var rows bytes.Buffer
			if _, err := e.Write(ctx, &rows, d.SQL, query.FormatJSON); err != nil {
				return err
			}
			keys := d.Keys
			if keys == nil {
				keys = []string{}
			}
			schema := d.Schema
			if schema == nil {
				schema = []query.ColumnChange{}
			}
			return writeJSON(w, diffJSON{
				Table: d.Table.String(), From: string(d.From.ID), To: string(d.To.ID), Keys: keys,
				Schema: schema, Rows: rows.Bytes(), Summary: sum,
			})
		case query.FormatTable:
			if len(d.Schema) > 0 {
				fmt.Fprintln(w, "schema:")
				for _, c := range d.Schema {
					fmt.Fprintf(w, "  %s\n", c)
				}
				fmt.Fprintln(w)
			}
			if sum.RowsAdded+sum.RowsRemoved+sum.RowsChanged > 0 {
				if _, err := e.Write(ctx, w, d.SQL, query.FormatTable); err != nil {
					return err
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w, sum.Line(d))
			return nil
		default: // csv, parquet: rows only; the rest on stderr
			for _, c := range d.Schema {
				fmt.Fprintln(opts.IO.ErrOut, c)
			}
			if _, err := e.Write(ctx, w, d.SQL, format); err != nil {
				return err
			}
			fmt.Fprintln(opts.IO.ErrOut, sum.Line(d))
			return nil
		}
	}
	if opts.Output != "" {
		return query.WriteFileAtomic(opts.Output, report)
	}
	return report(opts.IO.Out)
}

// projectDiffJSON is the --format json document of a project diff.
type projectDiffJSON struct {
	From   string              `json:"from"`
	To     string              `json:"to"`
	Keys   []string            `json:"keys"`
	Tables []query.TableChange `json:"tables"`
}

// projectDiffRun compares the whole project between two points in time.
func projectDiffRun(ctx context.Context, e *query.Engine, opts *diffOptions) error {
	to := opts.To
	if to == "" {
		to = "HEAD"
	}
	fromPt, toPt, changes, err := e.ProjectDiff(ctx, opts.From, to, opts.Keys)
	if err != nil {
		return err
	}
	format := resolveFormat(opts.Format, opts.Output, opts.IO.StdoutTTY)
	report := func(w io.Writer) error {
		switch format {
		case query.FormatJSON:
			keys := opts.Keys
			if keys == nil {
				keys = []string{}
			}
			if changes == nil {
				changes = []query.TableChange{}
			}
			return writeJSON(w, projectDiffJSON{From: fromPt.Describe(), To: toPt.Describe(), Keys: keys, Tables: changes})
		case query.FormatParquet:
			return usagef("a project diff is a table, CSV or JSON report")
		}
		tty := format == query.FormatTable
		tp := newTablePrinter(w, tty)
		if tty {
			fmt.Fprintf(w, "%s -> %s\n", fromPt.Describe(), toPt.Describe())
			tp.row("TABLE", "STATUS", "FROM", "TO", "ROWS -", "ROWS +", "ROWS ~", "COLUMNS")
		} else {
			tp.row("table", "status", "from", "to", "rows_removed", "rows_added", "rows_changed", "columns")
		}
		for _, c := range changes {
			from, to := c.From, c.To
			if tty {
				from, to = short8(from), short8(to)
			}
			changed := "-"
			if c.Keyed {
				changed = fmt.Sprint(c.Summary.RowsChanged)
			}
			cols := fmt.Sprintf("+%d -%d ~%d", c.Summary.ColumnsAdded, c.Summary.ColumnsRemoved, c.Summary.ColumnsRetyped)
			tp.row(c.Table, c.Status, from, to, fmt.Sprint(c.Summary.RowsRemoved), fmt.Sprint(c.Summary.RowsAdded), changed, cols)
		}
		tp.flush()
		return nil
	}
	if opts.Output != "" {
		return query.WriteFileAtomic(opts.Output, report)
	}
	return report(opts.IO.Out)
}
