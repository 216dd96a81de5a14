package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/internal/rds"
	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
)

type readOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	Table   string
	Version string
	Output  string // "-" is stdout
	Format  string // "parquet", "csv" or "rds"
}

func newReadCmd(f *factory, runF func(context.Context, *readOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &readOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "read TABLE[@VERSION] -o FILE",
		Short: "Read a version of a table into a parquet, CSV or .rds file",
		Long: `Read the current version of TABLE, or the version named by any unique prefix
of its id, into FILE (.parquet, .csv or .rds by extension, or --format), or
to stdout with -o - (parquet unless --format csv or rds; parquet and rds are
not written to a terminal). The bytes are checked against the recorded
parquet_sha before they are handed out.

An .rds file is what base R's readRDS() reads: the data.frame arrow's
read_parquet would give, columns typed as R's arrow types them (factor,
Date, POSIXct, hms, difftime, integer64, ...), without the arrow package.
It is the same file as the mount's @<id>.rds. A column R's arrow would not
give as a plain vector (binary, list, struct) is refused, naming it.`,
		Example: `  datomfs read lb -o lb.parquet
  datomfs read lb@19f44e3a -o lb_old.csv
  datomfs read lb -o lb.rds            # then in R: lb <- readRDS("lb.rds")
  datomfs read lb -o - --format csv | head
  datomfs read lb -o - | duckdb -c "SELECT count(*) FROM read_parquet('/dev/stdin')"
  datomfs read dm --store s3://acme-data/study001 --project STUDY_001 -o dm.parquet`,
		Args: namedArgs(1, "TABLE[@VERSION]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Table, opts.Version, _ = strings.Cut(args[0], "@")
			if opts.Output == "" {
				return usagef("-o FILE is required (a .parquet, .csv or .rds path)")
			}
			switch opts.Format = strings.ToLower(opts.Format); {
			case opts.Format == "parquet" || opts.Format == "csv" || opts.Format == "rds":
			case opts.Format != "":
				return usagef("--format %s: read writes parquet, csv or rds", opts.Format)
			case opts.Output == "-":
				opts.Format = "parquet"
			default:
				switch ext := strings.ToLower(filepath.Ext(opts.Output)); ext {
				case ".parquet", ".csv", ".rds":
					opts.Format = ext[1:]
				default:
					return usagef("-o %s: the output must end in .parquet, .csv or .rds (or give --format)", opts.Output)
				}
			}
			if opts.Output == "-" && opts.Format != "csv" && opts.IO.StdoutTTY {
				return usagef("%s is not written to a terminal: pipe it, or use --format csv", opts.Format)
			}
			opts.Project = f.loader(pf, true)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return readRun(cmd.Context(), opts)
		},
	}
	// Points in time (versions/points.go).
	cmd.Use = "read TABLE[@VERSION|@REF] -o FILE"
	cmd.Long += `

TABLE@REF is TABLE's version at a point in time: a tag, an ISO date or
datetime in UTC (a date means its end), a commit prefix, HEAD.`
	cmd.Example = strings.Replace(cmd.Example, "\n", "\n  datomfs read lb@db-lock -o lb_lock.parquet\n  datomfs read lb@2026-03-31 -o lb_march.parquet\n", 1)

	pf.register(cmd, true)
	cmd.ValidArgsFunction = completeTables(f, pf, false)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "output file (.parquet, .csv or .rds), or - for stdout")
	cmd.Flags().StringVar(&opts.Format, "format", "", "parquet, csv or rds (default: from -o's extension; parquet for -o -)")
	return cmd
}

func readRun(ctx context.Context, opts *readOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	table, err := versions.ParseTableName(opts.Table)
	if err != nil {
		return err
	}
	v, err := p.Resolve(ctx, table, opts.Version)
	if err != nil {
		return err
	}
	src, err := p.Fetch(ctx, v)
	if err != nil {
		return err
	}
	if opts.Output == "-" {
		return readToStdout(ctx, opts, src)
	}
	tmp := opts.Output + ".datomfs-tmp"
	defer os.Remove(tmp)
	switch opts.Format {
	case "csv":
		err = (query.Converter{}).ParquetToCSV(ctx, src, tmp)
	case "rds":
		err = (rds.Converter{}).ParquetToRDS(ctx, src, tmp)
	default:
		err = copyFile(src, tmp)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", opts.Output, err)
	}
	if err := os.Rename(tmp, opts.Output); err != nil {
		return fmt.Errorf("write %s: %w", opts.Output, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Read %s@%s into %s\n", v.Table, v.ID.Short(), opts.Output)
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.Open(src)
	if err != nil {
		return err
	}
	defer b.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(b); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// readToStdout copies the verified parquet file src, or its CSV or .rds
// rendition, to stdout.
func readToStdout(ctx context.Context, opts *readOptions, src string) error {
	if opts.Format == "csv" || opts.Format == "rds" {
		// Rendered whole first: a refused or failed rendition writes
		// nothing to stdout.
		dir, err := os.MkdirTemp("", "datomfs-read-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "out."+opts.Format)
		if opts.Format == "csv" {
			err = (query.Converter{}).ParquetToCSV(ctx, src, out)
		} else {
			err = (rds.Converter{}).ParquetToRDS(ctx, src, out)
		}
		if err != nil {
			return fmt.Errorf("render %s: %w", opts.Format, err)
		}
		src = out
	}
	fh, err := os.Open(src)
	if err != nil {
		return err
	}
	defer fh.Close()
	if _, err := io.Copy(opts.IO.Out, fh); err != nil {
		return fmt.Errorf("write to stdout: %w", err)
	}
	return nil
}
