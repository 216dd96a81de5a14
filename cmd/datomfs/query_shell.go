package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/peterh/liner"

	"github.com/datomfs/datomfs/query"
)

// The query shell. Its model is DuckDB's CLI: statements end with ';' and
// may span lines, dot commands take one line, Ctrl-C cancels the line or
// interrupts the running statement, Ctrl-D leaves. On a terminal, line
// editing, history across sessions and reverse search come from
// github.com/peterh/liner; piped input is read line by line, without prompt
// or history file.

const shellHelp = `Statements end with ';' and may span lines. Names:
  lb                   the current version of table lb
  "lb@19f44e3a"        a version (any unique prefix of its id)
  history('lb')        the versions of lb
  all_versions('lb')   the rows of every version of lb, with _version, _timestamp
Commands:
  .tables              list the project's tables
  .schema [TABLE...]   the columns of the tables (default: all)
  .mode [MODE]         table, csv, json or line (no MODE: show it)
  .timer on|off        print each statement's run time
  .history             statements entered so far; !N runs statement N again
  .help                this text
  .quit                leave (Ctrl-D and end of input also leave)
Keys (on a terminal): Up/Down history, Ctrl-R search it, Tab completes names,
Ctrl-C cancels the line or interrupts the running statement.
`

// errLineAborted is a line cancelled with Ctrl-C.
var errLineAborted = errors.New("line aborted")

// lineReader is where the shell's lines come from.
type lineReader interface {
	// ReadLine shows prompt (if the reader shows any) and returns the next
	// line without its newline: errLineAborted on Ctrl-C, io.EOF at the end
	// of input (Ctrl-D).
	ReadLine(prompt string) (string, error)
	// Remember adds an entry to the history kept across sessions (if any).
	Remember(entry string)
	Close() error
}

// scanReader reads lines from a pipe or file; with a prompt writer (stdin
// is a terminal but stdout is not) it prompts there.
type scanReader struct {
	sc     *bufio.Scanner
	prompt io.Writer
}

func newScanReader(in io.Reader, prompt io.Writer) *scanReader {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &scanReader{sc: sc, prompt: prompt}
}

func (r *scanReader) ReadLine(prompt string) (string, error) {
	if r.prompt != nil {
		fmt.Fprint(r.prompt, prompt)
	}
	if r.sc.Scan() {
		return r.sc.Text(), nil
	}
	if err := r.sc.Err(); err != nil {
		return "", fmt.Errorf("read statements: %w", err)
	}
	return "", io.EOF
}

func (r *scanReader) Remember(string) {}
func (r *scanReader) Close() error    { return nil }

// linerReader is the terminal: liner reads the process's own stdin and
// writes to its stdout.
type linerReader struct {
	st   *liner.State
	file string // the history file ("" = none)
}

func newLinerReader(historyFile string, complete liner.WordCompleter) *linerReader {
	st := liner.NewLiner()
	st.SetCtrlCAborts(true)
	st.SetMultiLineMode(true)
	st.SetTabCompletionStyle(liner.TabPrints)
	if complete != nil {
		st.SetWordCompleter(complete)
	}
	r := &linerReader{st: st, file: historyFile}
	if historyFile != "" {
		if fh, err := os.Open(historyFile); err == nil {
			st.ReadHistory(fh)
			fh.Close()
		}
	}
	return r
}

func (r *linerReader) ReadLine(prompt string) (string, error) {
	line, err := r.st.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errLineAborted
	}
	return line, err
}

// Remember adds entry (on one line) to the history and saves the history
// file, so that a killed shell loses nothing.
func (r *linerReader) Remember(entry string) {
	r.st.AppendHistory(strings.Join(strings.Fields(entry), " "))
	if r.file == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(r.file), 0o700); err != nil {
		return
	}
	tmp := r.file + ".tmp-" + strconv.Itoa(os.Getpid())
	fh, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	_, err = r.st.WriteHistory(fh)
	if err2 := fh.Close(); err == nil && err2 == nil {
		os.Rename(tmp, r.file)
		return
	}
	os.Remove(tmp)
}

func (r *linerReader) Close() error { return r.st.Close() }

// defaultHistoryFile is where the shell keeps its history.
func defaultHistoryFile() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "datomfs", "query_history")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "datomfs", "query_history")
	}
	return ""
}

// shell is one interactive or piped session.
type shell struct {
	e          *query.Engine
	io         *IOStreams
	in         lineReader
	format     query.Format
	timer      bool
	hist       []string       // this session's statements (.history, !N)
	interrupts chan os.Signal // SIGINT while a statement runs (nil: none)
	tables     []string       // for completion, listed once
}

// queryShell reads statements until .quit or the end of input. A failing
// statement prints its one-line error and the shell goes on.
func queryShell(ctx context.Context, e *query.Engine, opts *queryOptions) error {
	s := opts.IO
	format := resolveFormat(opts.Format, "", s.StdoutTTY)
	if format == query.FormatParquet {
		return usagef("the interactive shell prints table, csv, json or line; use -o FILE with SQL for parquet")
	}
	sh := &shell{e: e, io: s, format: format, in: opts.lines, interrupts: opts.interrupts}
	if sh.in == nil {
		switch {
		case s.StdinTTY && s.StdoutTTY && s.In == os.Stdin:
			sh.in = newLinerReader(opts.HistoryFile, sh.complete(ctx))
		case s.StdinTTY:
			sh.in = newScanReader(s.In, s.ErrOut)
		default:
			sh.in = newScanReader(s.In, nil)
		}
	}
	defer sh.in.Close()
	if sh.interrupts == nil && s.StdinTTY {
		// Ctrl-C during a statement interrupts it (DuckDB's interrupt
		// through the statement's context), not the shell.
		sh.interrupts = make(chan os.Signal, 1)
		signal.Notify(sh.interrupts, os.Interrupt)
		defer signal.Stop(sh.interrupts)
	}
	if s.StdinTTY {
		fmt.Fprintf(s.ErrOut, "datomfs query on project %s (.help for help, Ctrl-D to leave)\n", e.Project().Name())
	}
	err := sh.loop(ctx)
	if s.StdinTTY && err == nil {
		fmt.Fprintln(s.ErrOut)
	}
	return err
}

func (sh *shell) loop(ctx context.Context) error {
	pending := ""
	for {
		prompt := "datomfs> "
		if pending != "" {
			prompt = "    ...> "
		}
		line, err := sh.in.ReadLine(prompt)
		switch {
		case errors.Is(err, errLineAborted):
			pending = ""
			continue
		case errors.Is(err, io.EOF):
			if pending != "" {
				sh.statement(ctx, strings.TrimSpace(pending)) // the last statement may lack its ';'
			}
			return nil
		case err != nil:
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if pending == "" {
			trimmed := strings.TrimSpace(line)
			switch {
			case trimmed == "":
				continue
			case strings.HasPrefix(trimmed, "."):
				sh.in.Remember(trimmed)
				if sh.command(ctx, trimmed) {
					return nil
				}
				continue
			case strings.HasPrefix(trimmed, "!"):
				n, err := strconv.Atoi(strings.TrimPrefix(trimmed, "!"))
				if err != nil || n < 1 || n > len(sh.hist) {
					fmt.Fprintf(sh.io.ErrOut, "Error: no statement %s in .history\n", strings.TrimPrefix(trimmed, "!"))
					continue
				}
				fmt.Fprintln(sh.io.ErrOut, sh.hist[n-1])
				sh.statement(ctx, sh.hist[n-1])
				continue
			}
			pending = line
		} else {
			pending += "\n" + line
		}
		var stmts []string
		stmts, pending = splitStatements(pending)
		for _, stmt := range stmts {
			sh.statement(ctx, stmt)
		}
	}
}

// statement runs one statement; Ctrl-C (a SIGINT on sh.interrupts)
// interrupts it.
func (sh *shell) statement(ctx context.Context, sql string) {
	if n := len(sh.hist); n == 0 || sh.hist[n-1] != sql {
		sh.hist = append(sh.hist, sql)
	}
	sh.in.Remember(sql)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if sh.interrupts != nil {
		for drained := false; !drained; { // a Ctrl-C from before the statement is not for it
			select {
			case <-sh.interrupts:
			default:
				drained = true
			}
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-sh.interrupts:
				cancel()
			case <-done:
			}
		}()
	}
	start := time.Now()
	err := writeResult(sctx, sh.e, sh.io, sql, sh.format)
	switch {
	case err != nil && ctx.Err() == nil && sctx.Err() != nil:
		fmt.Fprintln(sh.io.ErrOut, "Interrupted")
	case err != nil:
		fmt.Fprintf(sh.io.ErrOut, "Error: %s\n", oneLine(err.Error()))
	}
	if sh.timer {
		fmt.Fprintf(sh.io.ErrOut, "Run Time (s): real %.3f\n", time.Since(start).Seconds())
	}
}

// command runs a dot command; it reports whether the shell should end.
func (sh *shell) command(ctx context.Context, cmd string) bool {
	s := sh.io
	fields := strings.Fields(cmd)
	fail := func(format string, a ...any) { fmt.Fprintf(s.ErrOut, "Error: "+format+"\n", a...) }
	switch fields[0] {
	case ".quit", ".exit", ".q":
		return true
	case ".help":
		fmt.Fprint(s.Out, shellHelp)
	case ".tables":
		tables, err := sh.e.Tables(ctx)
		if err != nil {
			fail("%s", oneLine(err.Error()))
			break
		}
		for _, t := range tables {
			fmt.Fprintln(s.Out, t)
		}
	case ".schema":
		tables := fields[1:]
		if len(tables) == 0 {
			var err error
			if tables, err = sh.e.Tables(ctx); err != nil {
				fail("%s", oneLine(err.Error()))
				break
			}
		}
		for _, t := range tables {
			line, err := sh.schema(ctx, t)
			if err != nil {
				fail("%s", oneLine(err.Error()))
				continue
			}
			fmt.Fprintln(s.Out, line)
		}
	case ".mode", ".format":
		if len(fields) != 2 {
			fmt.Fprintf(s.Out, "mode: %s\n", sh.format)
			break
		}
		f, err := query.ParseFormat(fields[1])
		if err != nil || f == query.FormatParquet {
			fail("%s takes table, csv, json or line", fields[0])
			break
		}
		sh.format = f
	case ".timer":
		if len(fields) != 2 || (fields[1] != "on" && fields[1] != "off") {
			fail(".timer takes on or off")
			break
		}
		sh.timer = fields[1] == "on"
	case ".history":
		for i, sql := range sh.hist {
			fmt.Fprintf(s.Out, "%4d  %s\n", i+1, strings.ReplaceAll(sql, "\n", " "))
		}
	default:
		fail("unknown command %s (.help lists them)", fields[0])
	}
	return false
}

// schema renders a table's (or "t@version"'s) columns as DuckDB's .schema
// does: CREATE TABLE t(col TYPE, ...);
func (sh *shell) schema(ctx context.Context, name string) (string, error) {
	rows, err := sh.e.Query(ctx, "DESCRIBE SELECT * FROM "+query.Ident(name))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return "", err
		}
		cols = append(cols, fmt.Sprintf("%s %s", quoteIdent(fmt.Sprint(vals[0])), vals[1]))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("CREATE TABLE %s(%s);", quoteIdent(name), strings.Join(cols, ", ")), nil
}

// quoteIdent quotes a SQL name unless it is a plain identifier.
func quoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// complete is the Tab completion: dot commands at the start of a line, else
// table names (listed once).
func (sh *shell) complete(ctx context.Context) liner.WordCompleter {
	commands := []string{".tables", ".schema ", ".mode ", ".timer ", ".history", ".help", ".quit"}
	return func(line string, pos int) (string, []string, string) {
		head, tail := line[:pos], line[pos:]
		start := strings.LastIndexAny(head, " \t\n(,\"'") + 1
		word := head[start:]
		var cands []string
		if start == 0 && strings.HasPrefix(word, ".") {
			cands = commands
		} else {
			if sh.tables == nil {
				sh.tables, _ = sh.e.Tables(ctx)
			}
			cands = sh.tables
		}
		var out []string
		for _, c := range cands {
			if strings.HasPrefix(c, word) {
				out = append(out, c)
			}
		}
		return head[:start], out, tail
	}
}

// splitStatements cuts input at the semicolons that end statements (not
// those in quotes or comments). It returns the complete statements, trimmed
// and with their ';', and the incomplete rest ("" when it holds only space
// and comments).
func splitStatements(s string) (stmts []string, rest string) {
	start, content := 0, false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			content = true
			j := i + 1
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // '' or "" inside
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j + 1
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(s)
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if j := strings.Index(s[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(s)
			}
		case c == ';':
			if content {
				stmts = append(stmts, strings.TrimSpace(s[start:i+1]))
			}
			start, content = i+1, false
			i++
		default:
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				content = true
			}
			i++
		}
	}
	if !content {
		return stmts, ""
	}
	return stmts, s[start:]
}
