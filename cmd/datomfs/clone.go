package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/internal/redact"
	"github.com/datomfs/datomfs/versions"
)

type cloneOptions struct {
	IO       *IOStreams
	URL      string
	Dir      string
	Gov      string
	Endpoint string
	Opts     func(endpoint string) versions.Options
	JSON     bool
}

func newCloneCmd(f *factory, runF func(context.Context, *cloneOptions) error) *cobra.Command {
	opts := &cloneOptions{IO: f.IO, Opts: func(e string) versions.Options { return f.options(e, false) }}
	cmd := &cobra.Command{
		Use:   "clone GIT_URL DIR",
		Short: "Join a project: clone its data repo and check its store",
		Long: `Clone a project's data repository into DIR, read the store from
.datom/project.yaml and check that it is reachable. HTTPS remotes use a token
from DATOMFS_GIT_TOKEN, GITHUB_PAT or GITHUB_TOKEN. A token in the URL
(https://user:TOKEN@host/repo.git) is used for the clone only: .git/config
keeps the URL without it, and later pulls and pushes take the token from the
environment.`,
		Example: `  datomfs clone https://github.com/acme/study-001-data ~/study001
  datomfs clone /srv/git/study001.git ./study001 --gov /srv/git/governance.git
  datomfs clone /srv/git/study001.git ./study001 --json`,
		Args: namedArgs(2, "GIT_URL", "DIR"),
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
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: project, dir, role, store, remote, branch")
	return cmd
}

func cloneRun(ctx context.Context, opts *cloneOptions) error {
	p, err := versions.Clone(ctx, opts.URL, opts.Dir, versions.CloneOptions{Gov: opts.Gov}, opts.Opts(opts.Endpoint))
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Cloned project %q into %s\n  role:    %s\n  backend: %s\n  remote:  %s\n", p.Name(), p.Dir(), p.Role(), p.StoreLocation(), redact.URL(p.RemoteURL()))
	noteURLToken(opts.IO, opts.URL, opts.Gov)
	if opts.JSON {
		return writeJSON(opts.IO.Out, newProjectRow(p))
	}
	return nil
}

// noteURLToken tells, once, that a password given in a remote URL was used
// for this command only (it is not stored), and where later ones look.
func noteURLToken(io *IOStreams, remotes ...string) {
	for _, r := range remotes {
		if redact.URL(r) != r {
			fmt.Fprintln(io.ErrOut, urlTokenNote)
			return
		}
	}
}

const urlTokenNote = "note: the token in the remote URL was used for this command only and is not saved; for later pulls and pushes set DATOMFS_GIT_TOKEN (or GITHUB_TOKEN) to it"

// projectRow is the --json form of init and clone: where the project is.
// The remote is printed without a password.
type projectRow struct {
	Project string `json:"project"`
	Dir     string `json:"dir"`
	Role    string `json:"role"`
	Store   string `json:"store"`
	Remote  string `json:"remote"`
	Branch  string `json:"branch"`
}

func newProjectRow(p *versions.Project) projectRow {
	return projectRow{Project: p.Name(), Dir: p.Dir(), Role: string(p.Role()), Store: p.StoreLocation(),
		Remote: redact.URL(p.RemoteURL()), Branch: p.Branch()}
}
