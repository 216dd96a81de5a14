package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
)

// completeTables is a ValidArgsFunction: the first argument completes to the
// project's table names (the project of -C, or --store), and, after an
// '@', to the table's version ids (newest first). Later arguments complete
// to versions of the first one's table when versionArgs says so (diff).
func completeTables(f *factory, pf *projectFlags, versionArgs bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		none := cobra.ShellCompDirectiveNoFileComp
		if len(args) > 0 && !versionArgs {
			return nil, none
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		p, err := f.loader(pf, false)(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		table, prefix, withAt := strings.Cut(toComplete, "@")
		if len(args) > 0 {
			table, prefix, withAt = strings.Split(args[0], "@")[0], toComplete, false
		} else if !withAt {
			tables, err := p.List(ctx)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			var out []cobra.Completion
			for _, t := range tables {
				if name := t.Name.String(); strings.HasPrefix(name, toComplete) {
					out = append(out, name)
				}
			}
			return out, none
		}
		name, err := versions.ParseTableName(table)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		vs, err := p.Versions(ctx, name)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, v := range vs {
			id := v.ID.Short()
			if !strings.HasPrefix(id, prefix) {
				continue
			}
			if withAt {
				id = table + "@" + id
			}
			out = append(out, id)
		}
		return out, none
	}
}
