package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
)

type queryOptions struct {
	IO      *IOStreams
	Logger  *slog.Logger
	Project func(context.Context) (*versions.Project, error)
	SQL     string
	Format  string // "" = table on a terminal, csv when piped (or from -o's extension)
	Output  string
	// At makes bare table names mean their version at that point in time.
	At string
	// HistoryFile keeps the interactive shell's statements ("" = none).
	HistoryFile string

	// lines and interrupts replace the shell's terminal in tests.
	lines      lineReader
	interrupts chan os.Signal
}

func newQueryCmd(f *factory, runF func(context.Context, *queryOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &queryOptions{IO: f.IO}
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "query [SQL]",
		Short: "Run SQL over every table and version (interactive without SQL)",
		Long: `Run SQL on an embedded DuckDB where every table is a view of its current
version and "TABLE@VERSION" (any unique prefix of the version id) is that
version; "TABLE@REF" is the table at a point in time: a tag ("lb@db-lock"),
an ISO date or datetime in UTC ("lb@2026-03-31": the end of that day), a
commit prefix. With --at REF every bare table name means its version at
REF, so a script runs unchanged against a frozen cut. Table functions:

  history('t')        one row per version: version, data_sha, timestamp,
                      author, commit_message, nrow, ncol (newest first)
  all_versions('t')   the rows of every version plus _version and _timestamp
                      (columns matched by name across versions)
  snapshot('ref')     one row per table at a point in time: table, version,
                      data_sha, timestamp

Only the versions a statement names are downloaded (into the verified cache).
Output is an aligned table on a terminal (fitted to its width, long cells
shortened) and CSV when piped, unless --format says otherwise; -o FILE writes
the result to FILE (format from its extension unless --format is given).

Without SQL, statements are read from stdin, each ending with ';'. On a
terminal this is a shell with line editing, history across sessions (Up,
Ctrl-R to search), Tab completion of table names; Ctrl-C cancels the line or
interrupts the running statement, Ctrl-D leaves; .help lists its commands.
Piped statements run without prompt and leave no history.`,
		Example: `  datomfs query "SELECT count(*) FROM lb"
  datomfs query 'SELECT * FROM "lb@19f44e3a" EXCEPT SELECT * FROM lb'
  datomfs query "SELECT _version, count(*) FROM all_versions('lb') GROUP BY ALL" --format json
  datomfs query "SELECT * FROM history('lb')" -o lb_history.csv
  datomfs query --at db-lock "SELECT count(*) FROM lb"
  datomfs query 'SELECT * FROM "lb@db-lock" EXCEPT SELECT * FROM "lb@2026-01-31"'
  datomfs query "SELECT * FROM snapshot('db-lock')"
  datomfs query --store s3://acme-data/study001 --project STUDY_001 "SELECT * FROM dm" -o dm.parquet
  datomfs query -C ./study001            # interactive shell`,
		Args: namedArgs(0, "SQL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.SQL = args[0]
				if strings.TrimSpace(opts.SQL) == "" {
					return usagef("the SQL statement is empty")
				}
			}
			if err := jsonFlag(jsonOut, &opts.Format); err != nil {
				return err
			}
			if opts.Format != "" {
				if _, err := query.ParseFormat(opts.Format); err != nil {
					return usagef("--format: %v", err)
				}
			}
			if err := checkOutputExt(opts.Output, opts.Format); err != nil {
				return err
			}
			if opts.SQL == "" && opts.Output != "" {
				return usagef("-o FILE needs a SQL statement")
			}
			opts.Logger = f.Logger
			opts.Project = f.loader(pf, true)
			opts.HistoryFile = defaultHistoryFile()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return queryRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print JSON (the same as --format json)")
	cmd.Flags().StringVar(&opts.Format, "format", "", "output format: table, csv, json, line or parquet (default: table on a terminal, else csv)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the result to FILE (replaced only on success)")
	cmd.Flags().StringVar(&opts.At, "at", "", "bare table names mean their version at this tag, ISO date/datetime (UTC) or commit")
	return cmd
}

// checkOutputExt refuses an -o whose extension names no format when
// --format does not say one (rather than writing CSV under any name).
func checkOutputExt(output, format string) error {
	if output == "" || format != "" {
		return nil
	}
	switch strings.ToLower(filepath.Ext(output)) {
	case ".csv", ".json", ".parquet", ".txt":
		return nil
	}
	return usagef("-o %s: unknown extension; use .csv, .json, .parquet or .txt, or give --format", output)
}

// resolveFormat picks the output format: the flag, else -o's extension, else
// table on a terminal and csv otherwise.
func resolveFormat(flag, output string, tty bool) query.Format {
	if flag != "" {
		f, _ := query.ParseFormat(flag)
		return f
	}
	if output != "" {
		switch strings.ToLower(filepath.Ext(output)) {
		case ".parquet":
			return query.FormatParquet
		case ".json":
			return query.FormatJSON
		case ".txt":
			return query.FormatTable
		}
		return query.FormatCSV
	}
	if tty {
		return query.FormatTable
	}
	return query.FormatCSV
}

func openEngine(ctx context.Context, project func(context.Context) (*versions.Project, error), log *slog.Logger) (*query.Engine, error) {
	p, err := project(ctx)
	if err != nil {
		return nil, err
	}
	return query.New(ctx, p, query.Options{Logger: log})
}

func queryRun(ctx context.Context, opts *queryOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	e, err := query.New(ctx, p, query.Options{Logger: opts.Logger, At: opts.At})
	if err != nil {
		return err
	}
	defer e.Close()
	if opts.SQL == "" {
		return queryShell(ctx, e, opts)
	}
	format := resolveFormat(opts.Format, opts.Output, opts.IO.StdoutTTY)
	return runStatement(ctx, e, opts.IO, opts.SQL, format, opts.Output)
}

// runStatement runs one statement and writes its result to out or to the
// file output (complete or not at all).
func runStatement(ctx context.Context, e *query.Engine, streams *IOStreams, sql string, format query.Format, output string) error {
	if output != "" {
		if format == query.FormatParquet {
			_, err := e.CopyParquet(ctx, sql, output)
			return err
		}
		return query.WriteFileAtomic(output, func(w io.Writer) error {
			_, err := e.Write(ctx, w, sql, format)
			return err
		})
	}
	if format == query.FormatParquet && streams.StdoutTTY {
		return usagef("parquet output goes to a file (-o FILE) or a pipe, not a terminal")
	}
	return writeResult(ctx, e, streams, sql, format)
}

// writeResult prints one statement's result on stdout. A table on a
// terminal is fitted to its width (long cells shortened); piped output is
// never cut.
func writeResult(ctx context.Context, e *query.Engine, streams *IOStreams, sql string, format query.Format) error {
	if width := streams.terminalWidth(); format == query.FormatTable && width > 0 {
		rows, err := e.Query(ctx, sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		_, err = query.WriteTable(streams.Out, rows, width)
		return err
	}
	_, err := e.Write(ctx, streams.Out, sql, format)
	return err
}
