package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

type tagOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	Name    string
	Message string
	At      string
}

func newTagCmd(f *factory, runF func(context.Context, *tagOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &tagOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "tag NAME [-m MSG] [--at COMMIT|DATE|TAG]",
		Short: "Freeze the project at a point in time: an annotated git tag, pushed",
		Long: `Tag the project's latest state (after a pull), or the point --at names (a
commit prefix, an ISO date or datetime in UTC: the last commit at or before
it, a date meaning its end, or another tag), with an annotated git tag on
the data repo, push it, and mirror it to the store for readers. The tag
pins the version of every table at that commit: T@NAME then means that
version everywhere (read, history, diff, the mount's snapshots/NAME/, SQL).

Names follow git's rules for tags and must not read as something else: no
"/", not HEAD, not all hex digits (a version or commit prefix), not a date.
A tag of that name on the remote (another engineer was first) is refused
with exit code 3 and nothing is left behind. Tags are plain git tags: datom
(R) ignores them.`,
		Example: `  datomfs tag db-lock -m "Database lock"
  datomfs tag interim-1 --at 2026-03-31
  datomfs tag dmc-3 --at 1a2b3c4d -m "DMC meeting 3"`,
		Args: namedArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tagRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, false)
	cmd.Flags().StringVarP(&opts.Message, "message", "m", "", "the tag's message (default: its name)")
	cmd.Flags().StringVar(&opts.At, "at", "", "what to tag: a commit prefix, an ISO date or datetime (UTC), a tag (default: the latest state)")
	return cmd
}

func tagRun(ctx context.Context, opts *tagOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	res, err := p.Tag(ctx, versions.TagRequest{Name: opts.Name, Message: opts.Message, At: opts.At})
	if errors.Is(err, versions.ErrPushRejected) {
		return withHint(err, fmt.Sprintf("another engineer pushed a tag %q first: see \"datomfs tags\", pick another name", opts.Name))
	}
	if errors.Is(err, versions.ErrInvalidName) {
		return withHint(err, `tag names follow git's rules (no space, "..", ":", "~", "^", "?", "*", "[", "\\"), have no "/", and are not HEAD, all hex digits or a date`)
	}
	if errors.Is(err, versions.ErrExists) {
		return withHint(err, `see "datomfs tags"; tags never move, pick another name`)
	}
	if err != nil {
		return err
	}
	t := res.Tag
	fmt.Fprintf(opts.IO.ErrOut, "Tagged %s: commit %s (%s), %d tables\n", t.Name, short8(t.Commit), meta.FormatTimestamp(t.CommitTime), len(t.Tables))
	if res.MirrorErr != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: readers do not see the tag yet (store mirror: %v); run \"datomfs validate --fix\"\n", res.MirrorErr)
	}
	return nil
}

type tagsOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	JSON    bool
}

func newTagsCmd(f *factory, runF func(context.Context, *tagsOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &tagsOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "tags",
		Short: "List the project's tags: date, author, message, pinned table versions",
		Long: `List the tags of the data repo (as of the last pull), oldest first, with the
commit they name, its date, who tagged it, the message and the version of
each table they pin. Readers (--store) see the tags mirrored to the store.`,
		Example: `  datomfs tags
  datomfs tags --json | jq '.[] | select(.tag == "db-lock") | .tables'
  datomfs tags --store s3://acme-data/study001 --project STUDY_001`,
		Args: namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tagsRun(cmd.Context(), opts)
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: tag, commit, commit_time, tagger, tagged_at, message, tables")
	return cmd
}

type tagJSON struct {
	Tag        string                   `json:"tag"`
	Commit     string                   `json:"commit"`
	CommitTime string                   `json:"commit_time"`
	Tagger     string                   `json:"tagger"`
	TaggedAt   string                   `json:"tagged_at"`
	Message    string                   `json:"message"`
	Tables     map[string]pinnedVersion `json:"tables"`
}

type pinnedVersion struct {
	Version string `json:"version"`
	DataSHA string `json:"data_sha"`
}

func tagsRun(ctx context.Context, opts *tagsOptions) error {
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	tags, err := p.Tags(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		out := make([]tagJSON, 0, len(tags))
		for _, t := range tags {
			j := tagJSON{Tag: t.Name, Commit: t.Commit, CommitTime: meta.FormatTimestamp(t.CommitTime),
				Tagger: t.Tagger, Message: t.Message, Tables: map[string]pinnedVersion{}}
			if !t.When.IsZero() {
				j.TaggedAt = meta.FormatTimestamp(t.When)
			}
			for _, pin := range t.Tables {
				j.Tables[pin.Table.String()] = pinnedVersion{Version: string(pin.Version), DataSHA: string(pin.DataSHA)}
			}
			out = append(out, j)
		}
		return writeJSON(opts.IO.Out, out)
	}
	tty := opts.IO.StdoutTTY
	tp := newTablePrinter(opts.IO.Out, tty)
	if tty {
		tp.row("TAG", "COMMIT", "DATE", "TAGGER", "MESSAGE", "TABLES")
	}
	for _, t := range tags {
		pins := make([]string, 0, len(t.Tables))
		for _, pin := range t.Tables {
			pins = append(pins, pin.Table.String()+"@"+pin.Version.Short())
		}
		sort.Strings(pins)
		commit := t.Commit
		if tty {
			commit = short8(commit)
		}
		tp.row(t.Name, commit, displayTime(t.CommitTime, tty), t.Tagger, oneLineMsg(t.Message), strings.Join(pins, " "))
	}
	tp.flush()
	return nil
}

// oneLineMsg is a message's first line.
func oneLineMsg(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
