package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

type historyOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	Table   string
	JSON    bool
}

func newHistoryCmd(f *factory, runF func(context.Context, *historyOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &historyOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "history TABLE",
		Short: "Show a table's versions, newest first",
		Example: `  datomfs history lb
  datomfs history lb --json | jq '.[0].version'`,
		Args: namedArgs(1, "TABLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Table = args[0]
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return historyRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.ValidArgsFunction = completeTables(f, pf, false)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: version, data_sha, timestamp, author, commit_message")
	return cmd
}

type historyRow struct {
	Version       string `json:"version"`
	DataSHA       string `json:"data_sha"`
	Timestamp     string `json:"timestamp"`
	Author        string `json:"author"`
	CommitMessage string `json:"commit_message"`

	at time.Time // Timestamp, for the table
}

func historyRun(ctx context.Context, opts *historyOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	table, err := versions.ParseTableName(opts.Table)
	if err != nil {
		return err
	}
	vs, err := p.Versions(ctx, table)
	if err != nil {
		return err
	}
	rows := make([]historyRow, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, historyRow{Version: string(v.ID), DataSHA: string(v.DataSHA), Timestamp: meta.FormatTimestamp(v.Timestamp), Author: v.Author, CommitMessage: v.Message, at: v.Timestamp})
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, rows)
	}
	tty := opts.IO.StdoutTTY
	tp := newTablePrinter(opts.IO.Out, tty)
	if tty {
		tp.row("VERSION", "DATA_SHA", "TIME", "AUTHOR", "MESSAGE")
	}
	for _, r := range rows {
		v, d := r.Version, r.DataSHA
		if tty {
			v, d = short8(v), short8(d)
		}
		tp.row(v, d, displayTime(r.at, tty), r.Author, r.CommitMessage)
	}
	tp.flush()
	return nil
}
