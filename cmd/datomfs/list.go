package main

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

type listOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	JSON    bool
}

func newListCmd(f *factory, runF func(context.Context, *listOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &listOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the project's tables and their current versions",
		Example: `  datomfs list -C ~/study001
  datomfs list --json
  datomfs list --store /srv/datom-store --project STUDY_001`,
		Args: namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: name, current_version, current_data_sha, last_updated, version_count")
	return cmd
}

type listRow struct {
	Name           string `json:"name"`
	CurrentVersion string `json:"current_version"`
	CurrentDataSHA string `json:"current_data_sha"`
	LastUpdated    string `json:"last_updated"`
	VersionCount   int    `json:"version_count"`

	updated time.Time // LastUpdated, for the table
}

func listRun(ctx context.Context, opts *listOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	tables, err := p.List(ctx)
	if err != nil {
		return err
	}
	rows := make([]listRow, 0, len(tables))
	for _, t := range tables {
		rows = append(rows, listRow{
			Name: t.Name.String(), CurrentVersion: string(t.CurrentVersion), CurrentDataSHA: string(t.CurrentDataSHA),
			LastUpdated: meta.FormatTimestamp(t.LastUpdated), VersionCount: t.VersionCount, updated: t.LastUpdated,
		})
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, rows)
	}
	tty := opts.IO.StdoutTTY
	tp := newTablePrinter(opts.IO.Out, tty)
	if tty {
		tp.row("NAME", "VERSION", "DATA_SHA", "UPDATED", "VERSIONS")
	}
	for _, r := range rows {
		v, d := r.CurrentVersion, r.CurrentDataSHA
		if tty {
			v, d = short8(v), short8(d)
		}
		tp.row(r.Name, v, d, displayTime(r.updated, tty), strconv.Itoa(r.VersionCount))
	}
	tp.flush()
	return nil
}

func short8(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}
