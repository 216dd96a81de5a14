package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/iceberg"
	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
)

// projectFlags select the project: a clone (-C) or, for readers, a store
// and a project name.
type projectFlags struct {
	dir      string
	store    string
	project  string
	endpoint string
}

func (pf *projectFlags) register(cmd *cobra.Command, readerOK bool) {
	cmd.Flags().StringVarP(&pf.dir, "dir", "C", ".", "the project clone")
	cmd.Flags().StringVar(&pf.endpoint, "endpoint", "", "S3 endpoint URL for S3-compatible servers (else AWS_ENDPOINT_URL)")
	if readerOK {
		cmd.Flags().StringVar(&pf.store, "store", "", "reader access without a clone: the store (folder or s3://bucket/prefix)")
		cmd.Flags().StringVar(&pf.project, "project", "", "with --store: the project name to expect")
	}
}

// options builds the versions options every command shares.
func (f *factory) options(endpoint string, progress bool) versions.Options {
	o := versions.Options{
		Logger:        f.Logger,
		Converter:     query.Converter{},
		StoreEndpoint: endpoint,
		WrapStore:     f.wrapStore,
		// Every new version updates its table's Iceberg metadata once
		// it has landed, and a sync's batch together; trouble there is a
		// warning (iceberg.AfterWrites).
		AfterWrites: iceberg.AfterWrites(iceberg.Options{Logger: f.Logger}),
	}
	if progress && f.IO.StderrTTY {
		o.Progress = newProgress(f.IO.ErrOut).update
	}
	return o
}

// loader returns the lazy project opener for pf.
func (f *factory) loader(pf *projectFlags, progress bool) func(ctx context.Context) (*versions.Project, error) {
	return func(ctx context.Context) (*versions.Project, error) {
		opts := f.options(pf.endpoint, progress)
		if pf.store != "" {
			return versions.OpenReader(ctx, pf.store, pf.project, opts)
		}
		p, err := versions.Open(ctx, pf.dir, opts)
		if errors.Is(err, versions.ErrNotProject) {
			return nil, withHint(err, "run inside a clone, pass -C DIR, or use --store and --project for reader access")
		}
		return p, err
	}
}

// writeJSON prints v as indented JSON on out.
func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// tablePrinter prints aligned columns on a terminal and tab-separated values
// otherwise.
type tablePrinter struct {
	tty bool
	w   *tabwriter.Writer
	out io.Writer
}

func newTablePrinter(out io.Writer, tty bool) *tablePrinter {
	tp := &tablePrinter{tty: tty, out: out}
	if tty {
		tp.w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	}
	return tp
}

func (tp *tablePrinter) row(cols ...string) {
	line := strings.Join(cols, "\t") + "\n"
	if tp.w != nil {
		io.WriteString(tp.w, line)
		return
	}
	io.WriteString(tp.out, line)
}

func (tp *tablePrinter) flush() {
	if tp.w != nil {
		tp.w.Flush()
	}
}

// progress draws one bar per transfer on a terminal (schollz/progressbar:
// bytes, rate and time left), only ever on a TTY (options checks).
type progress struct {
	out   io.Writer
	what  string
	total int64
	bar   *progressbar.ProgressBar
}

func newProgress(out io.Writer) *progress { return &progress{out: out} }

func (p *progress) update(what string, done, total int64) {
	if p.bar == nil || what != p.what || total != p.total {
		if p.bar != nil && !p.bar.IsFinished() {
			p.bar.Finish()
		}
		p.what, p.total = what, total
		max := total
		if max <= 0 {
			max = -1 // unknown: a spinner with the bytes so far
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.out) }),
		)
	}
	p.bar.Set64(done)
	if total > 0 && done >= total && !p.bar.IsFinished() {
		p.bar.Finish()
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// displayTime renders a datom timestamp: for people on a terminal in local
// time to the minute, else as datom writes it (RFC 3339, UTC, seconds).
func displayTime(t time.Time, tty bool) string {
	if !tty {
		return meta.FormatTimestamp(t)
	}
	return t.Local().Format("2006-01-02 15:04")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
