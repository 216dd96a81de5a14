package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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
	// HistoryFile keeps the interactive shell's statements ("" = none).
	HistoryFile string
}

func newQueryCmd(f *factory, runF func(context.Context, *queryOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &queryOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "query [SQL]",
		Short: "Run SQL over every table and version (interactive without SQL)",
		Long: `Run SQL on an embedded DuckDB where every table is a view of its current
version and "TABLE@VERSION" (any unique prefix of the version id) is that
version. Table functions:

  history('t')        one row per version: version, data_sha, timestamp,
                      author, commit_message, nrow, ncol (newest first)
  all_versions('t')   the rows of every version plus _version and _timestamp
                      (columns matched by name across versions)

Only the versions a statement names are downloaded (into the verified cache).
Output is an aligned table on a terminal and CSV when piped, unless --format
says otherwise; -o FILE writes the result to FILE (format from its extension
unless --format is given). Without SQL, statements are read from stdin, each
ending with ';' (.help lists the shell's commands).`,
		Example: `  datomfs query "SELECT count(*) FROM lb"
  datomfs query 'SELECT * FROM "lb@19f44e3a" EXCEPT SELECT * FROM lb'
  datomfs query "SELECT _version, count(*) FROM all_versions('lb') GROUP BY ALL" --format json
  datomfs query "SELECT * FROM history('lb')" -o lb_history.csv
  datomfs query --store s3://acme-data/study001 --project STUDY_001 "SELECT * FROM dm" -o dm.parquet
  datomfs query -C ./study001            # interactive shell`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.SQL = args[0]
				if strings.TrimSpace(opts.SQL) == "" {
					return usagef("the SQL statement is empty")
				}
			}
			if opts.Format != "" {
				if _, err := query.ParseFormat(opts.Format); err != nil {
					return usagef("--format: %v", err)
				}
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
	cmd.Flags().StringVar(&opts.Format, "format", "", "output format: table, csv, json or parquet (default: table on a terminal, else csv)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the result to FILE (replaced only on success)")
	return cmd
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
	e, err := openEngine(ctx, opts.Project, opts.Logger)
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
	_, err := e.Write(ctx, streams.Out, sql, format)
	return err
}

const shellHelp = `Statements end with ';' and may span lines. Names:
  lb                   the current version of table lb
  "lb@19f44e3a"        a version (any unique prefix of its id)
  history('lb')        the versions of lb
  all_versions('lb')   the rows of every version of lb, with _version, _timestamp
Commands:
  .tables              list the project's tables
  .format FMT          table, csv or json
  .history             statements entered so far; !N runs statement N again
  .help                this text
  .quit                leave (end of input also leaves)
`

// queryShell reads statements from stdin until .quit or end of input. A
// failing statement prints its one-line error and the shell goes on.
func queryShell(ctx context.Context, e *query.Engine, opts *queryOptions) error {
	s := opts.IO
	format := resolveFormat(opts.Format, "", s.StdoutTTY)
	if format == query.FormatParquet {
		return usagef("the interactive shell prints table, csv or json; use -o FILE with SQL for parquet")
	}
	hist := loadHistory(opts.HistoryFile)
	prompt := func(cont bool) {
		if !s.StdinTTY {
			return
		}
		if cont {
			fmt.Fprint(s.ErrOut, "    ...> ")
		} else {
			fmt.Fprint(s.ErrOut, "datomfs> ")
		}
	}
	if s.StdinTTY {
		fmt.Fprintf(s.ErrOut, "datomfs query on project %s (.help for help, .quit to leave)\n", e.Project().Name())
	}
	sc := bufio.NewScanner(s.In)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var stmt strings.Builder
	run := func(sql string) {
		hist.add(sql)
		if err := runStatement(ctx, e, s, sql, format, ""); err != nil {
			fmt.Fprintf(s.ErrOut, "Error: %s\n", oneLine(err.Error()))
		}
	}
	prompt(false)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if stmt.Len() == 0 {
			switch {
			case trimmed == "":
				prompt(false)
				continue
			case strings.HasPrefix(trimmed, "."):
				if quit := shellCommand(ctx, e, s, trimmed, &format, hist); quit {
					return nil
				}
				prompt(false)
				continue
			case strings.HasPrefix(trimmed, "!"):
				n, err := strconv.Atoi(strings.TrimPrefix(trimmed, "!"))
				if sql, ok := hist.get(n); err == nil && ok {
					fmt.Fprintln(s.ErrOut, sql)
					run(sql)
				} else {
					fmt.Fprintf(s.ErrOut, "Error: no statement %s in .history\n", strings.TrimPrefix(trimmed, "!"))
				}
				prompt(false)
				continue
			}
		}
		if stmt.Len() > 0 {
			stmt.WriteByte('\n')
		}
		stmt.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			run(strings.TrimSpace(stmt.String()))
			stmt.Reset()
			prompt(false)
			continue
		}
		prompt(true)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read statements: %w", err)
	}
	if rest := strings.TrimSpace(stmt.String()); rest != "" {
		run(rest) // the last statement may lack its ';'
	}
	if s.StdinTTY {
		fmt.Fprintln(s.ErrOut)
	}
	return nil
}

// shellCommand runs a dot command; it reports whether the shell should end.
func shellCommand(ctx context.Context, e *query.Engine, s *IOStreams, cmd string, format *query.Format, hist *shellHistory) bool {
	fields := strings.Fields(cmd)
	switch fields[0] {
	case ".quit", ".exit", ".q":
		return true
	case ".help":
		fmt.Fprint(s.Out, shellHelp)
	case ".tables":
		tables, err := e.Tables(ctx)
		if err != nil {
			fmt.Fprintf(s.ErrOut, "Error: %s\n", oneLine(err.Error()))
			break
		}
		for _, t := range tables {
			fmt.Fprintln(s.Out, t)
		}
	case ".format":
		if len(fields) != 2 {
			fmt.Fprintf(s.Out, "format: %s\n", *format)
			break
		}
		f, err := query.ParseFormat(fields[1])
		if err != nil || f == query.FormatParquet {
			fmt.Fprintf(s.ErrOut, "Error: .format takes table, csv or json\n")
			break
		}
		*format = f
	case ".history":
		for i, sql := range hist.items {
			fmt.Fprintf(s.Out, "%4d  %s\n", i+1, strings.ReplaceAll(sql, "\n", " "))
		}
	default:
		fmt.Fprintf(s.ErrOut, "Error: unknown command %s (.help lists them)\n", fields[0])
	}
	return false
}

// shellHistory is the statements of this and earlier sessions, appended to
// a file when one is set.
type shellHistory struct {
	file  string
	items []string
}

const maxHistory = 1000

func defaultHistoryFile() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "datomfs", "query_history")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "datomfs", "query_history")
	}
	return ""
}

func loadHistory(file string) *shellHistory {
	h := &shellHistory{file: file}
	if file == "" {
		return h
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return h
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if line != "" {
			if s, err := strconv.Unquote(line); err == nil {
				h.items = append(h.items, s)
			}
		}
	}
	if len(h.items) > maxHistory {
		h.items = h.items[len(h.items)-maxHistory:]
	}
	return h
}

func (h *shellHistory) add(sql string) {
	if n := len(h.items); n > 0 && h.items[n-1] == sql {
		return
	}
	h.items = append(h.items, sql)
	if h.file == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return
	}
	fh, err := os.OpenFile(h.file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintln(fh, strconv.Quote(sql))
	fh.Close()
}

func (h *shellHistory) get(n int) (string, bool) {
	if n < 1 || n > len(h.items) {
		return "", false
	}
	return h.items[n-1], true
}
