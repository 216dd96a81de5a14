package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// namedArgs checks positional arguments by name: the first min names are
// required, the others optional. Unlike cobra's "accepts 1 arg(s), received
// 0" the error names what is missing.
func namedArgs(min int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return usagef("missing %s (usage: %s)", strings.Join(names[len(args):min], " and "), cmd.UseLine())
		}
		if len(args) > len(names) {
			extra := strings.Join(args[len(names):], " ")
			return usagef("unexpected argument %q (usage: %s)", extra, cmd.UseLine())
		}
		return nil
	}
}

// jsonFlag folds --json into --format.
func jsonFlag(jsonOut bool, format *string) error {
	if !jsonOut {
		return nil
	}
	if *format != "" && !strings.EqualFold(*format, "json") {
		return usagef("--json and --format %s disagree: give one", *format)
	}
	*format = "json"
	return nil
}
