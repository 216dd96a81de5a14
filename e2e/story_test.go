package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

// TestTwoEngineers replays the seed story once on a local-folder store and
// once on S3: A inits and writes four tables, B clones, both write at once,
// B's push is rejected and its clone left as it was, B pulls and retries.
func TestTwoEngineers(t *testing.T) {
	for _, mk := range []func(*testing.T) backend{localBackend, s3Backend} {
		b := mk(t)
		t.Run(b.name, func(t *testing.T) { twoEngineers(t, b) })
	}
}

func twoEngineers(t *testing.T, b backend) {
	remote := testenv.BareRemote(t)
	a := newEngineer(t, "Alice", b)
	bob := newEngineer(t, "Bob", b)
	dirA := filepath.Join(t.TempDir(), "a")
	dirB := filepath.Join(t.TempDir(), "b")

	a.must("init", dirA, "--project", "STUDY_001", "--store", b.store, "--remote", remote)
	jan := extract(t, "2026-01-31", "parquet")
	for _, tbl := range []string{"dm", "ex", "lb", "ae"} {
		r := a.must("write", jan[tbl], "--table", tbl, "-C", dirA)
		if !regexp.MustCompile(`^Wrote "` + tbl + `" \(full\): [0-9a-f]{8}\n$`).MatchString(r.out) {
			t.Fatalf("write %s printed %q", tbl, r.out)
		}
	}

	bob.must("clone", remote, dirB)

	// A writes lb while B writes ae: A pushes first.
	mar := extract(t, "2026-03-31", "parquet")
	a.must("write", mar["lb"], "--table", "lb", "-C", dirA)
	headB := git(t, dirB, "rev-parse", "HEAD")
	before := testenv.SnapshotTree(t, dirB)
	r := bob.run("write", mar["ae"], "--table", "ae", "-C", dirB)
	if r.code != 3 {
		t.Fatalf("B's racing write: want exit 3, got %s", r)
	}
	if !strings.Contains(r.err, "rejected (non-fast-forward)") || !strings.Contains(r.err, `run "datomfs pull", then retry`) {
		t.Fatalf("B's racing write: message lacks the rejection and advice:\n%s", r.err)
	}
	if got := git(t, dirB, "rev-parse", "HEAD"); got != headB {
		t.Fatalf("B's HEAD moved from %s to %s after a rejected push", headB, got)
	}
	if st := git(t, dirB, "status", "--porcelain"); st != "" {
		t.Fatalf("B's clone is not clean after a rejected push:\n%s", st)
	}
	if d := before.Diff(testenv.SnapshotTree(t, dirB)); d != "" {
		t.Fatalf("B's clone changed after a rejected push:\n%s", d)
	}

	r = bob.must("pull", "-C", dirB)
	if !strings.Contains(r.out, "1 commit") || !strings.Contains(r.out, "lb") {
		t.Fatalf("pull output: %q", r.out)
	}
	bob.must("write", mar["ae"], "--table", "ae", "-C", dirB)
	a.must("pull", "-C", dirA)

	listA := decode[[]listRow](t, a.must("list", "--json", "-C", dirA))
	listB := decode[[]listRow](t, bob.must("list", "--json", "-C", dirB))
	if len(listA) != 4 || !reflect.DeepEqual(listA, listB) {
		t.Fatalf("lists differ or are not 4 tables:\nA: %+v\nB: %+v", listA, listB)
	}
	counts := map[string]int{}
	for _, row := range listA {
		counts[row.Name] = row.VersionCount
	}
	if want := map[string]int{"dm": 1, "ex": 1, "lb": 2, "ae": 2}; !reflect.DeepEqual(counts, want) {
		t.Fatalf("version counts %v, want %v", counts, want)
	}

	// Identical content adds no version and no commit.
	head := git(t, dirA, "rev-parse", "HEAD")
	r = a.must("write", mar["lb"], "--table", "lb", "-C", dirA)
	if !strings.HasPrefix(r.out, `No change to "lb"`) {
		t.Fatalf("identical write printed %q", r.out)
	}
	if got := git(t, dirA, "rev-parse", "HEAD"); got != head {
		t.Fatal("identical write made a commit")
	}

	// read lb@<prefix> returns bytes whose data_sha is the recorded one.
	hist := decode[[]historyRow](t, a.must("history", "lb", "--json", "-C", dirA))
	if len(hist) != 2 || hist[0].CommitMessage != "Update lb" || hist[1].Author != "Alice <alice@example.org>" {
		t.Fatalf("history: %+v", hist)
	}
	old := hist[1]
	out := filepath.Join(t.TempDir(), "lb_old.parquet")
	a.must("read", "lb@"+old.Version[:6], "-o", out, "-C", dirA)
	if got := strings.TrimSpace(a.must("hash", out).out); got != old.DataSHA {
		t.Fatalf("read lb@%s: data_sha %s, recorded %s", old.Version[:6], got, old.DataSHA)
	}
	// The same via B's cache, as CSV, and as a reader without a clone.
	csv := filepath.Join(t.TempDir(), "lb.csv")
	bob.must("read", "lb", "-o", csv, "-C", dirB)
	if body, _ := os.ReadFile(csv); !strings.HasPrefix(string(body), "USUBJID,LBTESTCD,LBORRES,LBDTC\n") {
		t.Fatalf("csv read: %.200q", body)
	}
	reader := newEngineer(t, "Reader", b)
	rl := decode[[]listRow](t, reader.must("list", "--json", "--store", b.store, "--project", "STUDY_001"))
	if !reflect.DeepEqual(rl, listA) {
		t.Fatalf("reader list differs:\n%+v\n%+v", rl, listA)
	}
	rh := decode[[]historyRow](t, reader.must("history", "lb", "--json", "--store", b.store))
	if !reflect.DeepEqual(rh, hist) {
		t.Fatalf("reader history differs")
	}
	reader.must("read", "lb@"+old.Version[:8], "-o", filepath.Join(t.TempDir(), "r.parquet"), "--store", b.store)

	checkLayout(t, b, dirA, listA)
	a.must("validate", "-C", dirA)
}

// checkLayout checks the repo files and store objects against the format
// contract (sections 2 and 3).
func checkLayout(t *testing.T, b backend, dir string, list []listRow) {
	t.Helper()
	for _, f := range []string{".datom/project.yaml", ".datom/manifest.json", ".gitignore", "README.md", "lb/metadata.json", "lb/version_history.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("repo lacks %s", f)
		}
	}
	tracked := git(t, dir, "ls-files")
	for _, f := range []string{".datom/project.yaml", ".datom/manifest.json", "dm/metadata.json", "ae/version_history.json"} {
		if !strings.Contains(tracked, f) {
			t.Errorf("git does not track %s", f)
		}
	}
	yaml, _ := os.ReadFile(filepath.Join(dir, ".datom/project.yaml"))
	if !strings.HasPrefix(string(yaml), "project_name: STUDY_001\nproject_description: ''\ncreated_at: '") {
		t.Errorf("project.yaml starts:\n%.120s", yaml)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "lb/metadata.json"))
	keys := topKeys(t, md)
	want := []string{"data_sha", "hash_algo", "parquet_sha", "table_type", "nrow", "ncol", "colnames", "column_hashes", "created_at", "datom_version", "size_bytes"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("metadata.json keys %v, want %v", keys, want)
	}
	if md[len(md)-1] != '\n' {
		t.Error("metadata.json in git lacks its trailing newline")
	}

	objs := b.objects(t)
	prefix := "datom/"
	if b.s3 != nil {
		prefix = "proj/datom/"
	}
	need := []string{prefix + ".metadata/manifest.json"}
	for _, row := range list {
		need = append(need,
			prefix+row.Name+"/"+row.CurrentDataSHA+".parquet",
			prefix+row.Name+"/.metadata/metadata.json",
			prefix+row.Name+"/.metadata/version_history.json",
			prefix+row.Name+"/.metadata/"+row.CurrentVersion+".json")
	}
	for _, k := range need {
		body, ok := objs[k]
		if !ok {
			t.Errorf("store lacks %s (has %d objects)", k, len(objs))
			continue
		}
		if strings.HasSuffix(k, ".json") {
			ends := body[len(body)-1] == '\n'
			if b.s3 != nil && ends {
				t.Errorf("S3 object %s ends with a newline", k)
			}
			if b.s3 == nil && !ends {
				t.Errorf("local object %s lacks its trailing newline", k)
			}
		}
	}
}

// topKeys returns the top-level keys of a JSON object in document order.
func topKeys(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %.80s", doc)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
