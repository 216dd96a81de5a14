package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type validateOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	Fix     bool
	JSON    bool
}

func newValidateCmd(f *factory, runF func(context.Context, *validateOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &validateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "validate [--fix]",
		Short: "Check git against the store: missing objects, stale mirrors",
		Long: `Check that every version in git has its parquet object in the store and that
the store mirrors readers use (.metadata/…) match git. --fix rewrites the
mirrors; objects that are gone cannot be recreated and stay reported.`,
		Example: `  datomfs validate
  datomfs validate --fix`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return validateRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, false)
	cmd.Flags().BoolVar(&opts.Fix, "fix", false, "rewrite stale or missing mirrors")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func validateRun(ctx context.Context, opts *validateOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	rep, err := p.Validate(ctx, opts.Fix)
	if err != nil {
		return err
	}
	open := 0
	for _, pr := range rep.Problems {
		if !pr.Fixed {
			open++
		}
	}
	if opts.JSON {
		type problem struct {
			Table string `json:"table,omitempty"`
			Key   string `json:"key"`
			What  string `json:"what"`
			Fixed bool   `json:"fixed"`
		}
		ps := []problem{}
		for _, pr := range rep.Problems {
			ps = append(ps, problem{pr.Table, pr.Key, pr.What, pr.Fixed})
		}
		if err := writeJSON(opts.IO.Out, map[string]any{"tables": rep.Tables, "versions": rep.Versions, "problems": ps, "consistent": open == 0}); err != nil {
			return err
		}
	} else {
		for _, pr := range rep.Problems {
			state := "problem"
			if pr.Fixed {
				state = "fixed"
			}
			fmt.Fprintf(opts.IO.Out, "%-8s %s: %s\n", state, pr.Key, pr.What)
		}
		fmt.Fprintf(opts.IO.Out, "Checked %d table(s), %d version(s): %d problem(s)", rep.Tables, rep.Versions, len(rep.Problems))
		if opts.Fix {
			fmt.Fprintf(opts.IO.Out, ", %d fixed", len(rep.Problems)-open)
		}
		fmt.Fprintln(opts.IO.Out)
	}
	if open > 0 {
		return withHint(fmt.Errorf("project is not consistent: %d problem(s)", open), `run "datomfs validate --fix" to rewrite mirrors`)
	}
	return nil
}
