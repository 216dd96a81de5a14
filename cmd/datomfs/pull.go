package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type pullOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	JSON    bool
}

func newPullCmd(f *factory, runF func(context.Context, *pullOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &pullOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:     "pull",
		Short:   "Fetch and fast-forward the clone to the remote",
		Example: `  datomfs pull -C ~/study001`,
		Args:    namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return pullRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, false)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: commits, tables")
	return cmd
}

func pullRun(ctx context.Context, opts *pullOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	res, err := p.Pull(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		tables := res.Tables
		if tables == nil {
			tables = []string{}
		}
		return writeJSON(opts.IO.Out, map[string]any{"commits": res.Commits, "tables": tables})
	}
	if res.Commits == 0 {
		fmt.Fprintln(opts.IO.Out, "Already up to date.")
		return nil
	}
	changed := "no tables changed"
	if len(res.Tables) > 0 {
		changed = "changed: " + strings.Join(res.Tables, ", ")
	}
	fmt.Fprintf(opts.IO.Out, "Pulled %d commit(s); %s\n", res.Commits, changed)
	return nil
}
