package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestMachineOutput: init, write, sync and clone --json print one JSON
// value on stdout with stable field names (as list --json) and nothing else.
func TestMachineOutput(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	base := t.TempDir()
	t.Setenv("DATOMFS_CACHE", filepath.Join(base, "cache"))
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(base, "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	remote := filepath.Join(base, "remote.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=master", remote).CombinedOutput(); err != nil {
		t.Fatalf("git init --bare: %v %s", err, out)
	}
	study := filepath.Join(base, "study")
	run := func(v any, args ...string) map[string]any {
		t.Helper()
		io, _, out, errOut := TestIO()
		if code := Main(args, io); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		if err := json.Unmarshal(out.Bytes(), v); err != nil {
			t.Fatalf("%v: stdout is not one JSON value: %v: %q", args, err, out.String())
		}
		var m map[string]any
		json.Unmarshal(out.Bytes(), &m)
		return m
	}
	keys := func(m map[string]any) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, " ")
	}

	var in initRow
	m := run(&in, "init", study, "--project", "S1", "--store", filepath.Join(base, "store"), "--remote", remote, "--json")
	if got := keys(m); got != "branch dir project remote remote_head remote_head_set role store" {
		t.Errorf("init keys: %s", got)
	}
	if in.Project != "S1" || in.Dir != study || in.Branch != "main" || in.RemoteHead != "main" || !in.RemoteHeadSet || in.Role != "developer" {
		t.Errorf("init: %+v", in)
	}

	dir := filepath.Join(base, "extract")
	os.MkdirAll(dir, 0o755)
	file := filepath.Join(dir, "lb.csv")
	if err := os.WriteFile(file, []byte("id,val\n1,10\n2,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.md"), []byte("x"), 0o644)
	var rows []syncRow
	run(&rows, "sync", dir, "-C", study, "--json")
	if len(rows) != 2 {
		t.Fatalf("sync rows: %+v", rows)
	}
	var lb syncRow
	for _, r := range rows {
		if r.Table == "lb" {
			lb = r
		}
	}
	if lb.Status != "new" || lb.Change != "full" || len(lb.Version) != 64 || len(lb.DataSHA) != 64 || !lb.Uploaded || lb.File == "" {
		t.Errorf("sync lb: %+v (all %+v)", lb, rows)
	}
	var raw []map[string]any
	run(&raw, "sync", dir, "-C", study, "--json")
	if got := keys(raw[0]); got != "change data_sha error file status table uploaded version" {
		t.Errorf("sync keys: %s", got)
	}

	var w writeRow
	m = run(&w, "write", file, "--table", "lb", "-C", study, "--json")
	if got := keys(m); got != "attempts change data_sha table uploaded version" {
		t.Errorf("write keys: %s", got)
	}
	if w.Table != "lb" || w.Change != "metadata_only" || w.DataSHA != lb.DataSHA || w.Uploaded || w.Version == lb.Version {
		t.Errorf("write after sync: %+v", w)
	}
	m = run(&w, "write", file, "--table", "lb", "-C", study, "--json")
	if w.Change != "none" {
		t.Errorf("identical write: %+v", m)
	}

	var c projectRow
	m = run(&c, "clone", remote, filepath.Join(base, "b"), "--json")
	if got := keys(m); got != "branch dir project remote role store" {
		t.Errorf("clone keys: %s", got)
	}
	if c.Project != "S1" || c.Branch != "main" || c.Remote != remote || !reflect.DeepEqual(c.Store, in.Store) {
		t.Errorf("clone: %+v", c)
	}
}
