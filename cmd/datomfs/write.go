package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type writeOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	File    string
	Table   string
	Message string
	Pull    bool
	JSON    bool
}

func newWriteCmd(f *factory, runF func(context.Context, *writeOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &writeOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "write FILE --table T [-m MSG]",
		Short: "Write a parquet or CSV file as a new version of a table",
		Long: `Write FILE as the next version of table T: pull, hash, upload the bytes,
commit and push. If another engineer pushed first, the local commit is undone
and the command exits with code 3: run "datomfs pull", then retry (or pass
--pull next time).

A version is identified by its data and its metadata (datom's metadata_sha).
A write that changes neither adds no version ("No change"). The same data with
different metadata adds a metadata-only version and uploads nothing: this is
what a plain write of a table last written by "datomfs sync" (or datom's
sync) gives, because an import records the source file's sha, its format and
a lineage entry, and a plain write does not.

CSV input (.csv comma, .tsv tab, .psv pipe; .txt: the header line's most
frequent of , tab | ;) needs a header row; column types are detected by
DuckDB. A file whose rows have a different number of fields than the header,
with an unclosed quote, with an empty or duplicate (ignoring case) column
name, or with no data rows is refused with the line number and nothing is
published. Column names are never renamed. Parquet input is stored as is.`,
		Example: `  datomfs write extract/lb.parquet --table lb -m "LB cut 2026-01-31"
  datomfs write dm.csv --table dm -C ~/study001
  datomfs write lb.parquet --json | jq -r .version`,
		Args: namedArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.Table == "" {
				base := filepath.Base(opts.File)
				opts.Table = strings.TrimSuffix(base, filepath.Ext(base))
			}
			opts.Project = f.loader(pf, true)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return writeRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, false)
	cmd.Flags().StringVarP(&opts.Table, "table", "t", "", "table name (default: the file name without extension)")
	tables := completeTables(f, pf, false)
	cmd.RegisterFlagCompletionFunc("table", func(c *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return tables(c, nil, toComplete) // whatever FILE is
	})
	cmd.Flags().StringVarP(&opts.Message, "message", "m", "", `commit message (default "Update <table>")`)
	cmd.Flags().BoolVar(&opts.Pull, "pull", false, "pull and retry when another engineer pushed first")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: table, change (none, metadata_only, full), version, data_sha, uploaded, attempts")
	return cmd
}

func writeRun(ctx context.Context, opts *writeOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	table, err := versions.ParseTableName(opts.Table)
	if err != nil {
		return err
	}
	format, err := versions.InputFormat(opts.File)
	if err != nil {
		return err
	}
	req := versions.WriteRequest{Table: table, Path: opts.File, Format: format, Message: opts.Message}
	if opts.Pull {
		req.Pull, req.Retries = true, 3
	}
	res, err := p.Write(ctx, req)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, newWriteRow(res))
	}
	switch res.Change {
	case versions.ChangeNone:
		fmt.Fprintf(opts.IO.Out, "No change to %q: identical to version %s\n", res.Table.String(), res.Version.Short())
	default:
		fmt.Fprintf(opts.IO.Out, "Wrote %q (%s): %s\n", res.Table.String(), strings.ReplaceAll(string(res.Change), "_", "-"), res.Version.Short())
	}
	return nil
}

// writeRow is the --json form of a write (the change classes of the format
// contract §6.1; version and data_sha in full).
type writeRow struct {
	Table    string `json:"table"`
	Change   string `json:"change"`
	Version  string `json:"version"`
	DataSHA  string `json:"data_sha"`
	Uploaded bool   `json:"uploaded"`
	Attempts int    `json:"attempts"`
}

func newWriteRow(res versions.WriteResult) writeRow {
	return writeRow{Table: res.Table.String(), Change: string(res.Change), Version: string(res.Version),
		DataSHA: string(res.DataSHA), Uploaded: res.Uploaded, Attempts: res.Attempts}
}
