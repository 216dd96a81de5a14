package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

type versionOptions struct {
	IO   *IOStreams
	JSON bool
}

func newVersionCmd(f *factory, runF func(context.Context, *versionOptions) error) *cobra.Command {
	opts := &versionOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the datomfs version and the datom format version it writes",
		Example: `  datomfs version
  datomfs version --json`,
		Args: namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return versionRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: version, datom_version, go, platform")
	return cmd
}

func versionRun(opts *versionOptions) error {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			Version      string `json:"version"`
			DatomVersion string `json:"datom_version"`
			Go           string `json:"go"`
			Platform     string `json:"platform"`
		}{version, versions.DatomVersion, runtime.Version(), platform})
	}
	_, err := fmt.Fprintf(opts.IO.Out, "datomfs %s (datom format %s, %s, %s)\n", version, versions.DatomVersion, runtime.Version(), platform)
	return err
}
