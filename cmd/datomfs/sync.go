package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type syncOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	Dir     string
	JSON    bool
}

func newSyncCmd(f *factory, runF func(context.Context, *syncOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &syncOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "sync DIR",
		Short: "Onboard every parquet/CSV file of a flat folder as tables",
		Long: `Import each supported file of DIR (.parquet, .csv, .tsv, .psv, .txt) as a
version of the table named after the file, as datom's sync does. Files whose
bytes are unchanged since their last import (original_file_sha) are skipped.

Files are committed and pushed in batches of up to 250 (one commit per
batch, its message listing datom's "Sync <t> (new|changed)" line for each
table), so onboarding many files costs a few pushes. A batch that cannot be
pushed leaves the clone as it was and its files are reported failed;
earlier batches stay written.`,
		Example: `  datomfs sync ./extracts -C ~/study001
  datomfs sync ./extracts --json`,
		Args: namedArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			opts.Project = f.loader(pf, true)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return syncRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, false)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON, one object per file: file, table, status (new, changed, unchanged, unsupported, failed), change, version, data_sha, uploaded, error")
	return cmd
}

func syncRun(ctx context.Context, opts *syncOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	res, err := p.Sync(ctx, opts.Dir, func(it versions.SyncItem) {
		switch it.Status {
		case "failed":
			fmt.Fprintf(opts.IO.ErrOut, "  %-12s %s: %v\n", it.Status, it.File, it.Err)
		case "unsupported":
			fmt.Fprintf(opts.IO.ErrOut, "  %-12s %s\n", it.Status, it.File)
		case "unchanged":
			fmt.Fprintf(opts.IO.ErrOut, "  %-12s %s\n", it.Status, it.File)
		default:
			fmt.Fprintf(opts.IO.ErrOut, "  %-12s %s → %s@%s\n", it.Status, it.File, it.Table, it.Result.Version.Short())
		}
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		rows := make([]syncRow, 0, len(res.Items))
		for _, it := range res.Items {
			r := syncRow{File: it.File, Table: it.Table, Status: it.Status}
			if it.Result.Version != "" {
				w := newWriteRow(it.Result)
				r.Change, r.Version, r.DataSHA, r.Uploaded = w.Change, w.Version, w.DataSHA, w.Uploaded
			}
			if it.Err != nil {
				r.Error = it.Err.Error()
			}
			rows = append(rows, r)
		}
		if err := writeJSON(opts.IO.Out, rows); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "Synced %d file(s): %d new, %d changed, %d unchanged, %d unsupported, %d failed\n",
			len(res.Items), res.Count("new"), res.Count("changed"), res.Count("unchanged"), res.Count("unsupported"), res.Count("failed"))
	}
	if n := res.Count("failed"); n > 0 {
		return fmt.Errorf("%d file(s) failed to sync", n)
	}
	return nil
}

// syncRow is the --json form of one file of a sync.
type syncRow struct {
	File     string `json:"file"`
	Table    string `json:"table"`
	Status   string `json:"status"`
	Change   string `json:"change"`
	Version  string `json:"version"`
	DataSHA  string `json:"data_sha"`
	Uploaded bool   `json:"uploaded"`
	Error    string `json:"error"`
}
