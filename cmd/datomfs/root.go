package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// version is the datomfs release (datom_version in metadata is the datom
// format version we write, versions.DatomVersion).
const version = "0.1.0"

// factory carries what every command may need, built lazily so that tests can
// swap any part of it.
type factory struct {
	IO     *IOStreams
	Logger *slog.Logger
}

// Main runs the CLI with args and returns the process exit code.
func Main(args []string, io *IOStreams) int {
	level := slog.LevelWarn
	f := &factory{IO: io, Logger: slog.New(slog.NewTextHandler(io.ErrOut, &slog.HandlerOptions{Level: level}))}
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	return reportError(io, cmd, err)
}

func reportError(io *IOStreams, cmd *cobra.Command, err error) int {
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		// The whole message: cobra's "Did you mean this?" follows the first line.
		fmt.Fprintf(io.ErrOut, "datomfs: %s\n", strings.TrimRight(err.Error(), "\n"))
		if cmd != nil {
			fmt.Fprintf(io.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return exitUsage
	}
	fmt.Fprintf(io.ErrOut, "datomfs: %s\n", err.Error())
	if h := hintOf(err); h != "" {
		fmt.Fprintf(io.ErrOut, "hint: %s\n", h)
	} else if h := defaultHint(err); h != "" {
		fmt.Fprintf(io.ErrOut, "hint: %s\n", h)
	}
	return exitCode(err)
}

// isCobraUsage recognises cobra's own flag and argument errors.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "accepts ", "requires at least", "requires at most", "flag needs an argument", "invalid argument", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func newRootCmd(f *factory) *cobra.Command {
	var verbose bool
	root := &cobra.Command{
		Use:   "datomfs <command>",
		Short: "Versioned study tables in datom's format: CLI, FUSE mount and SQL",
		Long: `datomfs keeps clinical and scientific tables as immutable, content-addressed
versions: history and metadata in a git repository, bytes in a local folder or S3,
in the same format as the R package datom.`,
		Example: `  datomfs init ./study --project STUDY_001 --store /srv/datom-store --remote /srv/git/study.git
  datomfs write dm.parquet --table dm -C ./study
  datomfs list -C ./study
  datomfs mount -C ./study /mnt/datom`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			if verbose {
				f.Logger = slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log what is being done (to stderr)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	root.AddCommand(commands(f)...)
	return root
}
