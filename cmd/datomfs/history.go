package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type historyOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	Table   string
	At      string // the part after '@': the history as it was then
	JSON    bool
}

func newHistoryCmd(f *factory, runF func(context.Context, *historyOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &historyOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "history TABLE[@REF]",
		Short: "Show a table's versions, newest first",
		Long: `Show a table's versions, newest first. TABLE@REF shows the history as it
was at REF (a version prefix, a tag, an ISO date or datetime in UTC, a
commit prefix): REF's version of the table and the versions before it.`,
		Example: `  datomfs history lb
  datomfs history lb@db-lock
  datomfs history lb --json | jq '.[0].version'`,
		Args: namedArgs(1, "TABLE[@REF]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Table, opts.At, _ = strings.Cut(args[0], "@")
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return historyRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.ValidArgsFunction = completeTables(f, pf, false)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print datom's version_history.json (as the mount's history.json): version, data_sha, timestamp, author ({name, email} or \"unknown\"), commit_message, parquet_sha")
	return cmd
}

// historyRow is one line of the history table.
type historyRow struct {
	Version, DataSHA, Author, CommitMessage string
	at                                      time.Time
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
	from := 0
	if opts.At != "" {
		at, err := p.Resolve(ctx, table, opts.At)
		if err != nil {
			return err
		}
		for i, v := range vs {
			if v.ID == at.ID {
				vs, from = vs[i:], i
				break
			}
		}
	}
	if opts.JSON {
		// Exactly datom's version_history.json (the mount's history.json):
		// author as datom writes it, parquet_sha and any other keys kept.
		hist, err := p.History(ctx, table)
		if err != nil {
			return err
		}
		_, err = opts.IO.Out.Write(hist.From(from).File())
		return err
	}
	rows := make([]historyRow, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, historyRow{Version: string(v.ID), DataSHA: string(v.DataSHA), Author: v.Author, CommitMessage: v.Message, at: v.Timestamp})
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
