package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type cloneOptions struct {
	IO       *IOStreams
	URL      string
	Dir      string
	Gov      string
	Endpoint string
	Opts     func(endpoint string) versions.Options
}

func newCloneCmd(f *factory, runF func(context.Context, *cloneOptions) error) *cobra.Command {
	opts := &cloneOptions{IO: f.IO, Opts: func(e string) versions.Options { return f.options(e, false) }}
	cmd := &cobra.Command{
		Use:   "clone GIT_URL DIR",
		Short: "Join a project: clone its data repo and check its store",
		Long: `Clone a project's data repository into DIR, read the store from
.datom/project.yaml and check that it is reachable. HTTPS remotes use a token
from DATOMFS_GIT_TOKEN, GITHUB_PAT or GITHUB_TOKEN.`,
		Example: `  datomfs clone https://github.com/acme/study-001-data ~/study001
  datomfs clone /srv/git/study001.git ./study001 --gov /srv/git/governance.git`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.URL, opts.Dir = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return cloneRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Gov, "gov", "", "governance repository to clone as well")
	cmd.Flags().StringVar(&opts.Endpoint, "endpoint", "", "S3 endpoint URL for S3-compatible servers")
	return cmd
}

func cloneRun(ctx context.Context, opts *cloneOptions) error {
	p, err := versions.Clone(ctx, opts.URL, opts.Dir, versions.CloneOptions{Gov: opts.Gov}, opts.Opts(opts.Endpoint))
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Cloned project %q into %s\n  role:    %s\n  backend: %s\n  remote:  %s\n", p.Name(), p.Dir(), p.Role(), p.StoreLocation(), p.RemoteURL())
	return nil
}
