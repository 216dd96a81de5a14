package main

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runCmd builds a command with a capturing runF and executes args.
func runCmd(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&strings.Builder{})
	cmd.SetErr(&strings.Builder{})
	return cmd.Execute()
}

func TestWriteFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	cases := []struct {
		args            []string
		table, msg, dir string
		pull            bool
	}{
		{[]string{"x/lb.parquet"}, "lb", "", ".", false},
		{[]string{"x/lb.parquet", "--table", "LB2", "-m", "cut 1", "-C", "/p", "--pull"}, "LB2", "cut 1", "/p", true},
		{[]string{"dm.csv", "-t", "dm"}, "dm", "", ".", false},
	}
	for _, c := range cases {
		var got *writeOptions
		cmd := newWriteCmd(f, func(_ context.Context, o *writeOptions) error { got = o; return nil })
		if err := runCmd(t, cmd, c.args...); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got.Table != c.table || got.Message != c.msg || got.Pull != c.pull || got.File != c.args[0] {
			t.Errorf("%v: got table %q msg %q pull %v file %q", c.args, got.Table, got.Message, got.Pull, got.File)
		}
	}
}

func TestReadFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	var got *readOptions
	cmd := newReadCmd(f, func(_ context.Context, o *readOptions) error { got = o; return nil })
	if err := runCmd(t, cmd, "lb@19f4", "-o", "out.csv"); err != nil {
		t.Fatal(err)
	}
	if got.Table != "lb" || got.Version != "19f4" || got.Output != "out.csv" {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range [][]string{{"lb"}, {"lb", "-o", "out.xlsx"}} {
		cmd := newReadCmd(f, func(context.Context, *readOptions) error { t.Fatal("runF called"); return nil })
		err := runCmd(t, cmd, bad...)
		if _, ok := err.(*usageError); !ok {
			t.Errorf("%v: want a usage error, got %v", bad, err)
		}
	}
}

func TestMainExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--version"}, 0, ""},
		{[]string{"nosuchverb"}, 2, "unknown command"},
		{[]string{"write"}, 2, "accepts 1 arg"},
		{[]string{"list", "--bogus"}, 2, "unknown flag"},
		{[]string{"init", "x"}, 2, "--project, --store and --remote are required"},
		{[]string{"list", "-C", "/nonexistent-dir"}, 1, "not a datom project"},
		{[]string{"hash", "/nonexistent.parquet"}, 1, "nonexistent.parquet"},
	}
	for _, c := range cases {
		io, _, _, errOut := TestIO()
		if code := Main(c.args, io); code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, c.code, errOut.String())
		}
		if c.msg != "" && !strings.Contains(errOut.String(), c.msg) {
			t.Errorf("%v: stderr %q lacks %q", c.args, errOut.String(), c.msg)
		}
	}
}

func TestEveryVerbHasAnExample(t *testing.T) {
	io, _, _, _ := TestIO()
	root := newRootCmd(&factory{IO: io})
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no Example", c.Name())
		}
	}
}

func TestTablePrinter(t *testing.T) {
	for _, tty := range []bool{true, false} {
		var b strings.Builder
		tp := newTablePrinter(&b, tty)
		tp.row("NAME", "N")
		tp.row("a_long_name", "1")
		tp.flush()
		got := b.String()
		if tty && !strings.Contains(got, "NAME         N\n") {
			t.Errorf("tty output not aligned: %q", got)
		}
		if !tty && got != "NAME\tN\na_long_name\t1\n" {
			t.Errorf("piped output not tab-separated: %q", got)
		}
	}
}
