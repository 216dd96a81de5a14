package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type validateOptions struct {
	IO       *IOStreams
	Project  func(context.Context) (*versions.Project, error)
	Fix      bool
	ReadData bool
	JSON     bool
}

func newValidateCmd(f *factory, runF func(context.Context, *validateOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &validateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "validate [--read-data] [--fix]",
		Short: "Check git against the store: missing or damaged objects, stale mirrors",
		Long: `Check that every version in git has its parquet object in the store, of the
size its metadata records, that the metadata snapshots and mirrors readers use
(.metadata/…) match git, and that no interrupted write left temporary files in
the store (on S3: multipart uploads left open for over a day, whose parts are
stored and billed out of sight). Exit status 1 when a problem is left.

--read-data also reads every object and re-hashes it against the parquet_sha
of each version that uses it (finds flipped bytes; reads the whole store).

--fix repairs what it can: rewrites mirrors and old versions' snapshots (from
git history), re-uploads a missing or damaged object from a verified copy in
the local cache, removes abandoned temporary files and aborts abandoned
uploads. What it cannot repair is named and stays reported.`,
		Example: `  datomfs validate
  datomfs validate --read-data
  datomfs validate --read-data --fix`,
		Args: namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return validateRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, false)
	cmd.Flags().BoolVar(&opts.Fix, "fix", false, "repair what can be repaired (mirrors, snapshots, objects from the cache, temporary files, abandoned uploads)")
	cmd.Flags().BoolVar(&opts.ReadData, "read-data", false, "also re-hash every stored object against its parquet_sha")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func validateRun(ctx context.Context, opts *validateOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	rep, err := p.Validate(ctx, versions.ValidateOptions{Fix: opts.Fix, ReadData: opts.ReadData})
	if err != nil {
		return err
	}
	open := rep.Open()
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
		if err := writeJSON(opts.IO.Out, map[string]any{"tables": rep.Tables, "versions": rep.Versions, "objects": rep.Objects, "read_data": rep.ReadData, "problems": ps, "consistent": open == 0}); err != nil {
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
		how := "present, sizes"
		if rep.ReadData {
			how = "bytes re-hashed"
		}
		fmt.Fprintf(opts.IO.Out, "Checked %d table(s), %d version(s), %d object(s) (%s): %d problem(s)", rep.Tables, rep.Versions, rep.Objects, how, len(rep.Problems))
		if opts.Fix {
			fmt.Fprintf(opts.IO.Out, ", %d fixed", len(rep.Problems)-open)
		}
		fmt.Fprintln(opts.IO.Out)
	}
	if open > 0 {
		hint := `run "datomfs validate --fix" to repair what can be repaired`
		if opts.Fix {
			hint = "the problems left need bytes this machine does not have: write those versions again from their source files, or restore the objects from a backup"
		}
		return withHint(fmt.Errorf("project is not consistent: %d problem(s)", open), hint)
	}
	return nil
}
