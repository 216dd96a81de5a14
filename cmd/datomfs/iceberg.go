package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/iceberg"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/store"
)

type icebergOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	JSON    bool
}

func newIcebergCmd(f *factory, runF func(context.Context, *icebergOptions) error, syncF func(context.Context, *icebergSyncOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &icebergOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "iceberg",
		Short: "Where each table's Apache Iceberg metadata is, and how engines read it",
		Long: `Every table is also an Apache Iceberg table (format v2) whose metadata sits in
the store beside the data, under {prefix}/iceberg/{table}/metadata/: one
snapshot per version in history order, its summary carrying the datom version
id, data_sha, author, message and time; a tag per version named by its 8-hex
prefix; main at the current version. No data is copied: each snapshot's one
data file is the version's parquet object. Writes keep it current; "datomfs
iceberg sync" rebuilds it.

This command prints each table's current metadata file and how Spark, Trino,
DuckDB and pyiceberg read it.`,
		Example: `  datomfs iceberg -C ~/study001
  datomfs iceberg --json
  datomfs iceberg --store s3://acme-data/study001`,
		Args: namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return icebergRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON, one object per table: table, table_location, metadata_location, snapshots, current_snapshot_id, current_version, up_to_date, warehouse, read (engine → snippet)")
	cmd.AddCommand(newIcebergSyncCmd(f, syncF))
	return cmd
}

type icebergTable struct {
	iceberg.TableInfo
	Warehouse string            `json:"warehouse"`
	Read      map[string]string `json:"read,omitempty"`
}

func icebergRun(ctx context.Context, opts *icebergOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	infos, err := iceberg.Locate(ctx, p)
	if err != nil {
		return err
	}
	loc := p.StoreLoc()
	wh := iceberg.Warehouse(loc)
	s3 := loc.Type == store.TypeS3
	if opts.JSON {
		out := make([]icebergTable, len(infos))
		for i, in := range infos {
			out[i] = icebergTable{TableInfo: in, Warehouse: wh}
			if in.MetadataLocation != "" {
				out[i].Read = iceberg.Howto(in, wh, s3)
			}
		}
		return writeJSON(opts.IO.Out, out)
	}
	tp := newTablePrinter(opts.IO.Out, opts.IO.StdoutTTY)
	if opts.IO.StdoutTTY {
		tp.row("TABLE", "SNAPSHOTS", "CURRENT", "METADATA")
	}
	stale := 0
	var example *iceberg.TableInfo
	for i, in := range infos {
		meta := in.MetadataLocation
		if meta == "" {
			meta = "(none)"
		}
		if !in.UpToDate {
			stale++
		}
		if in.Error != "" {
			fmt.Fprintf(opts.IO.ErrOut, "%s: %s\n", in.Table, in.Error)
		}
		if example == nil && in.MetadataLocation != "" {
			example = &infos[i]
		}
		tp.row(in.Table, strconv.Itoa(in.Snapshots), in.CurrentVersion, meta)
	}
	tp.flush()
	if stale > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "%d table(s) not up to date: run \"datomfs iceberg sync\"\n", stale)
	}
	if example == nil || !opts.IO.StdoutTTY {
		return nil
	}
	h := iceberg.Howto(*example, wh, s3)
	fmt.Fprintf(opts.IO.Out, "\nReading %s (every table alike; warehouse %s, namespace %q):\n", example.Table, wh, iceberg.Namespace)
	for _, engine := range []string{"pyiceberg", "duckdb", "spark", "trino"} {
		fmt.Fprintf(opts.IO.Out, "\n# %s\n%s\n", engine, h[engine])
	}
	return nil
}

type icebergSyncOptions struct {
	IO          *IOStreams
	Project     func(context.Context) (*versions.Project, error)
	Options     iceberg.Options
	JSON        bool
	Concurrency int
}

func newIcebergSyncCmd(f *factory, runF func(context.Context, *icebergSyncOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &icebergSyncOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Rebuild every table's Iceberg metadata from the histories",
		Long: `Regenerate every table's Iceberg metadata from its datom history. It is
idempotent: files already in the store that say the same are kept, and the
same history always gives the same metadata file, so two writers, a lost
update or a crash converge by running it again. --full reads every version's
parquet footer again instead of what the current metadata says of it.`,
		Example: `  datomfs iceberg sync -C ~/study001
  datomfs iceberg sync --full --json`,
		Args: namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Concurrency < 1 {
				return usagef("--jobs must be at least 1")
			}
			opts.Project = f.loader(pf, false)
			opts.Options.Logger = f.Logger
			opts.Options.Concurrency = opts.Concurrency
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return icebergSyncRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&opts.Options.Full, "full", false, "read every version's parquet footer again")
	cmd.Flags().IntVar(&opts.Concurrency, "jobs", 4, "tables built at once")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON, one object per table: table, metadata_location, snapshots, schemas, files_written, footers_read, error")
	return cmd
}

type icebergSyncRow struct {
	iceberg.TableResult
	Error string `json:"error,omitempty"`
}

func icebergSyncRun(ctx context.Context, opts *icebergSyncOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	res, err := iceberg.Sync(ctx, p, opts.Options)
	if opts.JSON {
		rows := make([]icebergSyncRow, len(res))
		for i, r := range res {
			rows[i] = icebergSyncRow{TableResult: r}
			if r.Err != nil {
				rows[i].Error = r.Err.Error()
			}
		}
		if jerr := writeJSON(opts.IO.Out, rows); jerr != nil {
			return jerr
		}
		return err
	}
	for _, r := range res {
		switch {
		case r.Err != nil:
			fmt.Fprintf(opts.IO.ErrOut, "  failed  %s: %v\n", r.Table, r.Err)
		case r.MetadataLocation == "":
			fmt.Fprintf(opts.IO.ErrOut, "  empty   %s (no versions)\n", r.Table)
		default:
			fmt.Fprintf(opts.IO.Out, "%s\t%d snapshot(s)\t%d file(s) written\t%s\n", r.Table, r.Snapshots, r.FilesWritten, r.MetadataLocation)
		}
	}
	return err
}
