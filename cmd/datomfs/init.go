package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/internal/redact"
	"github.com/datomfs/datomfs/versions"
)

type initOptions struct {
	IO       *IOStreams
	Dir      string
	In       versions.InitOptions
	Endpoint string
	Opts     func(endpoint string) versions.Options
	JSON     bool
}

func newInitCmd(f *factory, runF func(context.Context, *initOptions) error) *cobra.Command {
	opts := &initOptions{IO: f.IO, Opts: func(e string) versions.Options { return f.options(e, false) }}
	cmd := &cobra.Command{
		Use:   "init DIR --project NAME --store PATH|s3://BUCKET/PREFIX --remote GIT_URL",
		Short: "Create a new project: a clone in DIR, a data store and a git remote",
		Long: `Create a datom project. DIR becomes the clone, with datom's files committed
and pushed to the remote (an empty bare repository or hosted repo). The store
is a shared folder or an S3 location; a store namespace that already holds a
project is refused.

HTTPS remotes use a token from DATOMFS_GIT_TOKEN, GITHUB_PAT or GITHUB_TOKEN.
A token in the URL (https://user:TOKEN@host/repo.git) is used for the first
push only and is never written down (.git/config, project.yaml, README.md).`,
		Example: `  git init --bare /srv/git/study001.git
  datomfs init ./study001 --project STUDY_001 --store /srv/datom-store --remote /srv/git/study001.git
  datomfs init ./study001 --project STUDY_001 --store s3://acme-data/study001 --remote https://github.com/acme/study001-data
  datomfs init ./study001 --project STUDY_001 --store /srv/datom-store --remote /srv/git/study001.git --json`,
		Args: namedArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if opts.In.Project == "" || opts.In.Store == "" || opts.In.Remote == "" {
				return usagef("--project, --store and --remote are required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return initRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.In.Project, "project", "", "project name (letters, digits, space, _ ( ) -)")
	cmd.Flags().StringVar(&opts.In.Store, "store", "", "data store: a folder or s3://bucket/prefix")
	cmd.Flags().StringVar(&opts.In.Remote, "remote", "", "git remote of the data repository")
	cmd.Flags().StringVar(&opts.In.Region, "region", "", "S3 region (default us-east-1)")
	cmd.Flags().StringVar(&opts.In.Description, "description", "", "project description")
	cmd.Flags().StringVar(&opts.Endpoint, "endpoint", "", "S3 endpoint URL for S3-compatible servers")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: project, dir, role, store, remote, branch, remote_head, remote_head_set")
	return cmd
}

func initRun(ctx context.Context, opts *initOptions) error {
	p, err := versions.Init(ctx, opts.Dir, opts.In, opts.Opts(opts.Endpoint))
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Initialized project %q in %s\n  store:  %s\n  remote: %s\n", p.Name(), p.Dir(), p.StoreLocation(), redact.URL(p.RemoteURL()))
	noteRemoteHead(opts.IO, p)
	noteURLToken(opts.IO, opts.In.Remote)
	if opts.JSON {
		h, _ := p.InitRemoteHead()
		return writeJSON(opts.IO.Out, initRow{projectRow: newProjectRow(p), RemoteHead: h.Target, RemoteHeadSet: h.Fixed})
	}
	return nil
}

// noteRemoteHead tells what was done, or is to be done, so that a plain
// "git clone" of the remote checks out the branch datomfs pushed.
func noteRemoteHead(io *IOStreams, p *versions.Project) {
	h, err := p.InitRemoteHead()
	switch {
	case err != nil:
		fmt.Fprintf(io.ErrOut, "warning: could not check the remote's default branch: %v\n", err)
	case h.Fixed:
		fmt.Fprintf(io.ErrOut, "note: the remote's HEAD named a branch that does not exist; it now names %s, so git clone checks out the files\n", h.Target)
	case h.Missing:
		b := p.Branch()
		which := "the remote's default branch does not exist"
		if h.Target != "" {
			which = fmt.Sprintf("the remote's default branch is %q, which does not exist", h.Target)
		}
		fmt.Fprintf(io.ErrOut, "hint: %s (datomfs pushed %q), so git clone checks out nothing: set the repository's default branch to %q (GitHub: Settings → General → Default branch; GitLab: Settings → Repository → Branch defaults; a bare repository on a server: git symbolic-ref HEAD refs/heads/%s in it)\n", which, b, b, b)
	}
}

// initRow is the --json form of init: projectRow, and the branch the
// remote's HEAD names ("" when the server does not say) and whether init
// set it.
type initRow struct {
	projectRow
	RemoteHead    string `json:"remote_head"`
	RemoteHeadSet bool   `json:"remote_head_set"`
}
