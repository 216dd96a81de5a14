package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/versions"
)

func TestTagFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	var got *tagOptions
	cmd := newTagCmd(f, func(_ context.Context, o *tagOptions) error { got = o; return nil })
	if err := runCmd(t, cmd, "db-lock", "-m", "Database lock", "--at", "2026-03-31", "-C", "/p"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "db-lock" || got.Message != "Database lock" || got.At != "2026-03-31" {
		t.Errorf("got %+v", got)
	}
	cmd = newTagCmd(f, func(context.Context, *tagOptions) error { t.Fatal("runF called"); return nil })
	if _, ok := runCmd(t, cmd).(*usageError); !ok {
		t.Error("tag without NAME: want a usage error")
	}
}

func TestDiffRefFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	cases := []struct {
		args            []string
		table, from, to string
	}{
		{[]string{"--from", "db-lock", "--to", "HEAD"}, "", "db-lock", "HEAD"},
		{[]string{"--from", "2026-01-31"}, "", "2026-01-31", ""},
		{[]string{"lb", "--from", "db-lock", "--to", "HEAD"}, "lb", "db-lock", "HEAD"},
		{[]string{"lb", "19f4", "c1ff"}, "lb", "19f4", "c1ff"},
		{[]string{"lb", "db-lock"}, "lb", "db-lock", ""},
	}
	for _, c := range cases {
		var got *diffOptions
		cmd := newDiffCmd(f, func(_ context.Context, o *diffOptions) error { got = o; return nil })
		if err := runCmd(t, cmd, c.args...); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got.Table != c.table || got.From != c.from || got.To != c.to {
			t.Errorf("%v: table %q from %q to %q", c.args, got.Table, got.From, got.To)
		}
	}
	for _, bad := range [][]string{{}, {"lb"}, {"--to", "HEAD"}, {"lb", "a", "--from", "b"}} {
		cmd := newDiffCmd(f, func(context.Context, *diffOptions) error { t.Fatal("runF called"); return nil })
		if _, ok := runCmd(t, cmd, bad...).(*usageError); !ok {
			t.Errorf("%v: want a usage error", bad)
		}
	}
}

func TestQueryAtAndHistoryRefFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	var q *queryOptions
	cmd := newQueryCmd(f, func(_ context.Context, o *queryOptions) error { q = o; return nil })
	if err := runCmd(t, cmd, "--at", "db-lock", "SELECT 1"); err != nil || q.At != "db-lock" {
		t.Fatalf("query --at: %+v %v", q, err)
	}
	var h *historyOptions
	hc := newHistoryCmd(f, func(_ context.Context, o *historyOptions) error { h = o; return nil })
	if err := runCmd(t, hc, "lb@db-lock"); err != nil || h.Table != "lb" || h.At != "db-lock" {
		t.Fatalf("history lb@db-lock: %+v %v", h, err)
	}
}

// tag, tags (terminal, piped, JSON), history TABLE@TAG and read TABLE@TAG
// on a real project.
func TestTagRun(t *testing.T) {
	ctx := context.Background()
	p, res := cliProject(t)
	project := func(context.Context) (*versions.Project, error) { return p, nil }
	io, _, _, errOut := TestIO()
	if err := tagRun(ctx, &tagOptions{IO: io, Project: project, Name: "interim", Message: "Interim analysis\nmore", At: "HEAD"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "Tagged interim: commit ") || !strings.Contains(errOut.String(), "1 tables") {
		t.Errorf("tag message: %q", errOut.String())
	}
	err := tagRun(ctx, &tagOptions{IO: io, Project: project, Name: "bad name"})
	if !strings.Contains(hintOf(err), "git's rules") {
		t.Errorf("bad name: %v (hint %q)", err, hintOf(err))
	}
	err = tagRun(ctx, &tagOptions{IO: io, Project: project, Name: "interim"})
	if exitCode(err) != exitError || !strings.Contains(hintOf(err), "never move") {
		t.Errorf("existing tag: %v (hint %q)", err, hintOf(err))
	}
	pinned := "lb@" + string(res[1].Version)[:8]
	for _, tty := range []bool{true, false} {
		io, _, out, _ := TestIO()
		io.StdoutTTY = tty
		if err := tagsRun(ctx, &tagsOptions{IO: io, Project: project}); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		if !strings.Contains(s, "interim") || !strings.Contains(s, "Interim analysis") || strings.Contains(s, "more") || !strings.Contains(s, pinned) {
			t.Errorf("tags (tty %v): %q", tty, s)
		}
		if tty != strings.Contains(s, "TAG") {
			t.Errorf("tags (tty %v): header %q", tty, s)
		}
	}
	io, _, out, _ := TestIO()
	if err := tagsRun(ctx, &tagsOptions{IO: io, Project: project, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var tags []tagJSON
	if err := json.Unmarshal(out.Bytes(), &tags); err != nil || len(tags) != 1 || tags[0].Tables["lb"].Version != string(res[1].Version) ||
		tags[0].Tables["lb"].DataSHA != string(res[1].DataSHA) || tags[0].Message != "Interim analysis\nmore" {
		t.Fatalf("tags --json: %s %v", out, err)
	}

	io, _, out, _ = TestIO()
	if err := historyRun(ctx, &historyOptions{IO: io, Project: project, Table: "lb", At: string(res[0].Version)[:8], JSON: true}); err != nil {
		t.Fatal(err)
	}
	var hist []struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(out.Bytes(), &hist); err != nil || len(hist) != 1 || hist[0].Version != string(res[0].Version) {
		t.Errorf("history lb@v1: %s %v", out, err)
	}
}
