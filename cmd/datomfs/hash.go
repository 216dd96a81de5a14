package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/identity"
)

type hashOptions struct {
	IO      *IOStreams
	File    string
	JSON    bool
	Explain bool
}

func newHashCmd(f *factory, runF func(context.Context, *hashOptions) error) *cobra.Command {
	opts := &hashOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "hash FILE",
		Short: "Print the datom-cv1 data_sha of a parquet or CSV file",
		Long: `Print the data_sha that datom (R) computes for the table in FILE: the same
values give the same data_sha, whatever the file's bytes. CSV files are read
with DuckDB's type detection first.`,
		Example: `  datomfs hash lb.parquet
  datomfs hash --json dm.csv
  datomfs hash --explain ae.parquet   # per-column kinds and digests`,
		Args: namedArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return hashRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print data_sha, nrow, ncol and columns as JSON")
	cmd.Flags().BoolVar(&opts.Explain, "explain", false, "also print each column's kind and digest")
	return cmd
}

func hashRun(ctx context.Context, opts *hashOptions) error {
	path := opts.File
	if format, ok := versions.FormatOf(path); ok && format.Delimited() {
		tmp, err := os.MkdirTemp("", "datomfs-hash-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		pq := filepath.Join(tmp, "table.parquet")
		if err := (query.Converter{}).CSVToParquet(ctx, opts.File, format, pq); err != nil {
			return fmt.Errorf("read %s: %w", opts.File, err)
		}
		path = pq
	}
	th, err := identity.HashParquetFile(ctx, path, identity.HashOptions{})
	if err != nil {
		var refused *identity.RefusedError
		if errors.As(err, &refused) {
			return withHint(err, "convert or drop the columns above; datom hashes logical, integer, double, character, factor, Date, POSIXct, difftime and integer64 columns")
		}
		if os.IsNotExist(err) || errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: no such file", opts.File)
		}
		return withHint(err, "datomfs reads parquet files and CSV files with a header row")
	}
	if opts.JSON {
		type col struct {
			Name  string `json:"name"`
			Kind  string `json:"kind"`
			Units string `json:"units,omitempty"`
			SHA   string `json:"sha"`
		}
		out := struct {
			DataSHA string `json:"data_sha"`
			NRow    int64  `json:"nrow"`
			NCol    int64  `json:"ncol"`
			Columns []col  `json:"columns"`
		}{DataSHA: string(th.DataSHA), NRow: th.NRow, NCol: th.NCol, Columns: []col{}}
		for _, c := range th.Columns {
			out.Columns = append(out.Columns, col{Name: c.Name, Kind: string(c.Kind), Units: c.Units, SHA: c.SHA})
		}
		return writeJSON(opts.IO.Out, out)
	}
	fmt.Fprintln(opts.IO.Out, th.DataSHA)
	if opts.Explain {
		fmt.Fprintf(opts.IO.Out, "rows %d, columns %d\n", th.NRow, th.NCol)
		tp := newTablePrinter(opts.IO.Out, opts.IO.StdoutTTY)
		for _, c := range th.Columns {
			kind := string(c.Kind)
			if c.Units != "" {
				kind += " (" + c.Units + ")"
			}
			tp.row(c.Name, kind, c.SHA)
		}
		tp.flush()
	}
	if th.RMetadata {
		fmt.Fprintln(opts.IO.ErrOut, "note: the file carries arrow R attributes (an \"r\" metadata entry); R may compute a different data_sha")
	}
	return nil
}
