package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type projectsOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	JSON    bool
}

func newProjectsCmd(f *factory, runF func(context.Context, *projectsOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &projectsOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "projects",
		Short: "List the governance portfolio: every registered project and where its data lives",
		Long: `List the projects registered in the governance repository (clone with
--gov to attach one): each project's data location from projects/<name>/ref.json.`,
		Example: `  datomfs clone /srv/git/study001.git ./study001 --gov /srv/git/governance.git
  datomfs projects -C ./study001`,
		Args: namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return projectsRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, false)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: project, type, root, prefix, region")
	return cmd
}

func projectsRun(ctx context.Context, opts *projectsOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	list, err := p.Projects(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		type row struct {
			Project string `json:"project"`
			Type    string `json:"type"`
			Root    string `json:"root"`
			Prefix  string `json:"prefix"`
			Region  string `json:"region,omitempty"`
		}
		rows := []row{}
		for _, e := range list {
			rows = append(rows, row{e.Project, e.Type, e.Root, e.Prefix, e.Region})
		}
		return writeJSON(opts.IO.Out, rows)
	}
	tty := opts.IO.StdoutTTY
	tp := newTablePrinter(opts.IO.Out, tty)
	if tty {
		tp.row("PROJECT", "TYPE", "ROOT", "PREFIX", "")
	}
	for _, e := range list {
		mark := ""
		if e.This {
			mark = "(this clone)"
		}
		tp.row(e.Project, e.Type, e.Root, e.Prefix, mark)
	}
	tp.flush()
	return nil
}
