package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes the man pages of every command, from the same help text
// "--help" shows (datomfs.1, datomfs-write.1, ...). Hidden: it is for
// packagers and "make man", not for daily use.
func newManCmd(f *factory) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:     "man --dir DIR",
		Short:   "Write man pages for every command into DIR",
		Hidden:  true,
		Example: `  datomfs man --dir /usr/local/share/man/man1`,
		Args:    namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			// The commit's date keeps the pages reproducible (not the
			// moment they are generated); none known: no date.
			var date *time.Time
			if t, ok := commitTime(); ok {
				date = &t
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{Title: "DATOMFS", Section: "1", Source: "datomfs " + version, Manual: "datomfs manual", Date: date}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			fmt.Fprintf(f.IO.ErrOut, "Wrote man pages into %s\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "man", "folder to write the pages into")
	return cmd
}

// commitTime is the time of the commit the binary was built from, when
// the build recorded it.
func commitTime() (time.Time, bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return time.Time{}, false
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.time" {
			t, err := time.Parse(time.RFC3339, s.Value)
			return t, err == nil
		}
	}
	return time.Time{}, false
}
