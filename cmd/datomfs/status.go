package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type statusOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	JSON    bool
}

func newStatusCmd(f *factory, runF func(context.Context, *statusOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &statusOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the connection and whether the clone is in step with the remote",
		Example: `  datomfs status -C ~/study001`,
		Args:    namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func statusRun(ctx context.Context, opts *statusOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	s, err := p.Status(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, map[string]any{
			"project": s.Project, "role": s.Role, "store": s.Store, "remote": s.Remote,
			"branch": s.Branch, "head": s.Head, "ahead": s.Ahead, "behind": s.Behind,
			"clean": s.Clean, "tables": s.Tables, "versions": s.Versions,
		})
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "project: %s (%s)\nstore:   %s\n", s.Project, s.Role, s.Store)
	if s.Role == versions.Developer {
		fmt.Fprintf(out, "remote:  %s (branch %s, head %s)\n", s.Remote, s.Branch, short8(s.Head))
		switch {
		case s.Ahead == 0 && s.Behind == 0:
			fmt.Fprintln(out, "in step with the remote")
		default:
			fmt.Fprintf(out, "%d commit(s) ahead, %d behind the remote\n", s.Ahead, s.Behind)
		}
		if !s.Clean {
			fmt.Fprintln(out, "the clone has uncommitted changes to tracked files")
		}
	}
	fmt.Fprintf(out, "tables:  %d (%d versions)\n", s.Tables, s.Versions)
	return nil
}
