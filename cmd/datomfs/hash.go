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
  datomfs hash --explain ae.parquet   # per column: kind, Arrow type, contract row, digest`,
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
	cmd.Flags().BoolVar(&opts.Explain, "explain", false, "also print each column's kind, Arrow type, the contract row that decided the kind, and digest")
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
		return writeJSON(opts.IO.Out, hashJSON(th))
	}
	fmt.Fprintln(opts.IO.Out, th.DataSHA)
	if opts.Explain {
		writeExplain(opts.IO, th)
	}
	if th.RMetadata {
		fmt.Fprintln(opts.IO.ErrOut, "note: the file carries arrow R attributes (an \"r\" metadata entry); R may compute a different data_sha")
	}
	return nil
}

// hashJSONColumn is one column of `hash --json`.
type hashJSONColumn struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Units string `json:"units,omitempty"`
	// Class is the Arrow type as read, Rule the contract row that decided
	// the kind: what a user compares when R computes another data_sha.
	Class string `json:"class"`
	Rule  string `json:"rule"`
	SHA   string `json:"sha"`
}

// hashJSONOutput is what `hash --json` prints (stable field names).
type hashJSONOutput struct {
	DataSHA     string           `json:"data_sha"`
	NRow        int64            `json:"nrow"`
	NCol        int64            `json:"ncol"`
	ArrowSchema bool             `json:"arrow_schema"`
	RMetadata   bool             `json:"r_metadata"`
	Columns     []hashJSONColumn `json:"columns"`
}

func hashJSON(th identity.TableHash) hashJSONOutput {
	out := hashJSONOutput{DataSHA: string(th.DataSHA), NRow: th.NRow, NCol: th.NCol,
		ArrowSchema: th.ArrowSchema, RMetadata: th.RMetadata, Columns: []hashJSONColumn{}}
	for _, c := range th.Columns {
		out.Columns = append(out.Columns, hashJSONColumn{Name: c.Name, Kind: string(c.Kind), Units: c.Units,
			Class: c.Class, Rule: c.Rule, SHA: c.SHA})
	}
	return out
}

// writeExplain prints, after the data_sha, one line per column: its name,
// cv1 kind, the Arrow type it was read as, the contract row that decided
// the kind, and its digest.
func writeExplain(io *IOStreams, th identity.TableHash) {
	schema := "types from the parquet schema (no ARROW:schema)"
	if th.ArrowSchema {
		schema = "types restored from ARROW:schema"
	}
	fmt.Fprintf(io.Out, "rows %d, columns %d, %s\n", th.NRow, th.NCol, schema)
	tp := newTablePrinter(io.Out, io.StdoutTTY)
	tp.row("COLUMN", "KIND", "ARROW TYPE", "CONTRACT ROW", "SHA")
	for _, c := range th.Columns {
		kind := string(c.Kind)
		if c.Units != "" {
			kind += " (" + c.Units + ")"
		}
		tp.row(c.Name, kind, c.Class, c.Rule, c.SHA)
	}
	tp.flush()
}
