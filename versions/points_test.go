package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/meta"
)

func TestParseInstant(t *testing.T) {
	cases := []struct {
		in   string
		want string // RFC 3339 nano, "" = not an instant
	}{
		{"2026-03-31", "2026-03-31T23:59:59.999999999Z"},
		{"2026-03-31T12:00:00Z", "2026-03-31T12:00:00Z"},
		{"2026-03-31T12:00:00", "2026-03-31T12:00:00Z"},
		{"2026-03-31T12:00", "2026-03-31T12:00:00Z"},
		{"2026-03-31T14:00:00+02:00", "2026-03-31T12:00:00Z"},
		{"2026-03-31T12:00:00.5Z", "2026-03-31T12:00:00.5Z"},
		{"2026-02-30", ""},
		{"db-lock", ""},
		{"19f44e3a", ""},
		{"2026-03", ""},
	}
	for _, c := range cases {
		got, ok := ParseInstant(c.in)
		if c.want == "" {
			if ok {
				t.Errorf("ParseInstant(%q) = %v, want not an instant", c.in, got)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339Nano) != c.want {
			t.Errorf("ParseInstant(%q) = %v %v, want %s", c.in, got.Format(time.RFC3339Nano), ok, c.want)
		}
	}
}

func TestCheckTagName(t *testing.T) {
	for _, ok := range []string{"db-lock", "interim_1", "DMC.2026-03", "v1.0", "lock@march"} {
		if err := CheckTagName(ok); err != nil {
			t.Errorf("CheckTagName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "bad name", "a..b", "x.lock", "-x", ".x", "x.", "a:b", "a~1", "a^", "a?", "a*", "a[", `a\b`, "a@{1}", "@", "HEAD", "abc123", "2026-03-31", "2026-03-31T12:00:00Z", "x/y", "a\x7f"} {
		if err := CheckTagName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckTagName(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

// pointsProject makes a project on store (a folder or s3:// location).
func pointsProject(t *testing.T, store string) (*Project, string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	remote := testenv.BareRemote(t)
	p, err := Init(context.Background(), filepath.Join(t.TempDir(), "clone"), InitOptions{
		Project: "STUDY_001", Store: store, Remote: remote,
	}, Options{CacheDir: t.TempDir(), Clock: testenv.TickingClock()})
	if err != nil {
		t.Fatal(err)
	}
	return p, remote
}

// nextSecond waits until the wall clock is in a later second than t:
// commit times have whole seconds.
func nextSecond(t time.Time) {
	for !time.Now().Truncate(time.Second).After(t) {
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPointsLocal(t *testing.T) { runPoints(t, filepath.Join(t.TempDir(), "store")) }

func TestPointsS3(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "points")
	srv.SetEnv(t)
	runPoints(t, "s3://points/study001")
}

func runPoints(t *testing.T, store string) {
	ctx := context.Background()
	p, remote := pointsProject(t, store)
	jan, mar, may := extractFiles(t, "2026-01-31"), extractFiles(t, "2026-03-31"), extractFiles(t, "2026-05-31")
	write := func(table, path string) (Version, Point) {
		t.Helper()
		if _, err := p.Write(ctx, WriteRequest{Table: tn(table), Path: path, Format: FormatParquet}); err != nil {
			t.Fatalf("write %s: %v", table, err)
		}
		v, err := p.Resolve(ctx, tn(table), "")
		if err != nil {
			t.Fatal(err)
		}
		head, err := p.At(ctx, "HEAD")
		if err != nil {
			t.Fatal(err)
		}
		nextSecond(head.Time)
		return v, head
	}
	initHead, err := p.At(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	nextSecond(initHead.Time)
	// Two cuts, a tag, a third cut.
	lb1, _ := write("lb", jan["lb"])
	dm1, cut1 := write("dm", jan["dm"])
	lb2, cut2 := write("lb", mar["lb"])
	res, err := p.Tag(ctx, TagRequest{Name: "db-lock", Message: "database lock"})
	if err != nil {
		t.Fatal(err)
	}
	if res.MirrorErr != nil || res.Tag.Commit != cut2.Commit || len(res.Tag.Tables) != 2 {
		t.Fatalf("tag: %+v", res)
	}
	if _, err := p.Tag(ctx, TagRequest{Name: "interim", At: cut1.Commit[:7]}); err != nil {
		t.Fatal(err)
	}
	lb3, cut3 := write("lb", may["lb"])

	type want struct {
		table, ref string
		v          Version
		err        error
		msg        string
	}
	cases := []want{
		{"lb", "db-lock", lb2, nil, ""},
		{"dm", "db-lock", dm1, nil, ""},
		{"lb", "interim", lb1, nil, ""},
		{"lb", "HEAD", lb3, nil, ""},
		{"lb", cut2.Commit[:10], lb2, nil, ""},
		{"lb", cut1.Commit, lb1, nil, ""},
		// Dates: the last commit at or before the instant; a date is its end.
		{"lb", cut2.Time.Format(time.RFC3339), lb2, nil, ""},
		{"lb", cut2.Time.Add(-time.Second).Format(time.RFC3339), lb1, nil, ""},
		{"lb", cut3.Time.Add(-time.Second).Format(time.RFC3339), lb2, nil, ""},
		{"lb", cut3.Time.Format(time.DateOnly), lb3, nil, ""},
		{"lb", "2020-01-01", Version{}, ErrNotFound, "nothing existed"},
		{"lb", initHead.Time.Format(time.RFC3339), Version{}, ErrNotFound, "lb had no version"},
		{"dm", cut1.Time.Add(-time.Second).Format(time.RFC3339), Version{}, ErrNotFound, "its first version is from"},
		{"lb", "no-such-tag", Version{}, ErrNotFound, "no version, tag, date or commit"},
	}
	check := func(p *Project, cases []want) {
		t.Helper()
		for _, c := range cases {
			v, err := p.Resolve(ctx, tn(c.table), c.ref)
			if c.err != nil {
				if !errors.Is(err, c.err) || !strings.Contains(fmt.Sprint(err), c.msg) {
					t.Errorf("%s@%s: %v, want %v (%q)", c.table, c.ref, err, c.err, c.msg)
				}
				continue
			}
			if err != nil || v.ID != c.v.ID || v.DataSHA != c.v.DataSHA {
				t.Errorf("%s@%s = %s %v, want %s", c.table, c.ref, v.ID.Short(), err, c.v.ID.Short())
			}
		}
	}
	check(p, cases)

	// The commit index is kept in the clone: a fresh Project (the next CLI
	// call) reads it, and rebuilds a damaged one.
	if raw, err := os.ReadFile(p.commitIndexPath()); err != nil || strings.Count(string(raw), "\n") < 5 {
		t.Fatalf("commit index file: %q %v", raw, err)
	}
	for _, damage := range []string{"", "garbage\n", cut2.Commit + " x y\n"} {
		if damage != "" {
			os.WriteFile(p.commitIndexPath(), []byte(damage), 0o600)
		}
		q, err := Open(ctx, p.Dir(), Options{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		check(q, []want{{"lb", cut2.Commit[:10], lb2, nil, ""}, {"lb", cut2.Time.Format(time.RFC3339), lb2, nil, ""}, {"lb", "db-lock", lb2, nil, ""}})
	}

	// The whole project at the tag.
	pt, err := p.At(ctx, "db-lock")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := p.VersionsAt(ctx, pt)
	if err != nil || len(vs) != 2 {
		t.Fatalf("VersionsAt(db-lock) = %v %v", vs, err)
	}
	got := map[string]Version{}
	for _, v := range vs {
		got[v.Table.String()] = v
	}
	if got["lb"].DataSHA != lb2.DataSHA || got["dm"].DataSHA != dm1.DataSHA {
		t.Errorf("VersionsAt(db-lock): %+v", got)
	}

	// A tag whose name is also a version prefix (made by git, not by
	// datomfs tag, which refuses hex names) is ambiguous, naming both.
	hexName := string(lb1.ID)[:6]
	if _, err := p.repo.CreateTag(hexName, cut3.Commit, "hex", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = p.Resolve(ctx, tn("lb"), hexName)
	if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "version "+string(lb1.ID)[:8]) || !strings.Contains(err.Error(), "tag "+hexName) {
		t.Errorf("lb@%s: %v, want ErrAmbiguous naming the version and the tag", hexName, err)
	}
	p.repo.DeleteTag(hexName)

	// Refused names, an existing tag.
	if _, err := p.Tag(ctx, TagRequest{Name: "bad name"}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("tag 'bad name': %v", err)
	}
	if _, err := p.Tag(ctx, TagRequest{Name: "db-lock"}); !errors.Is(err, ErrExists) {
		t.Errorf("tag db-lock again: %v", err)
	}

	// A reader (store only) resolves tags from the store's mirror and
	// dates from version timestamps.
	r, err := OpenReader(ctx, store, "STUDY_001", Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := r.Tags(ctx)
	if err != nil || len(tags) != 2 || tags[0].Name != "interim" || tags[1].Name != "db-lock" {
		t.Fatalf("reader tags: %+v %v", tags, err)
	}
	if tags[1].Message != "database lock" || tags[1].Commit != cut2.Commit || !strings.Contains(tags[1].Tagger, "@") {
		t.Errorf("reader tag db-lock: %+v", tags[1])
	}
	check(r, []want{
		{"lb", "db-lock", lb2, nil, ""},
		{"dm", "db-lock", dm1, nil, ""},
		{"lb", "interim", lb1, nil, ""},
		{"lb", meta.FormatTimestamp(lb2.Timestamp), lb2, nil, ""},
		{"lb", meta.FormatTimestamp(lb2.Timestamp.Add(-time.Second)), lb1, nil, ""},
		{"lb", "2020-01-01", Version{}, ErrNotFound, "lb had no version"},
		{"lb", cut2.Commit[:10], Version{}, ErrNotFound, "commit prefixes need a clone"},
	})
	rv, err := r.Resolve(ctx, tn("lb"), "db-lock")
	if err != nil {
		t.Fatal(err)
	}
	path, err := r.Fetch(ctx, rv)
	if err != nil || path == "" {
		t.Fatalf("reader fetch of lb@db-lock: %v", err)
	}

	// A lost tag mirror is reported by validate and written by --fix.
	if err := p.store.Remove(ctx, p.layout.TagKey("interim")); err != nil {
		t.Fatal(err)
	}
	for _, fix := range []bool{false, true} {
		rep, err := p.Validate(ctx, ValidateOptions{Fix: fix})
		if err != nil {
			t.Fatal(err)
		}
		var found *Problem
		for i, pr := range rep.Problems {
			if pr.Key == p.layout.TagKey("interim") {
				found = &rep.Problems[i]
			}
		}
		if found == nil || found.Fixed != fix || len(rep.Problems) != 1 {
			t.Errorf("validate (fix %v) with a lost tag mirror: %+v", fix, rep.Problems)
		}
	}
	if rep, err := p.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
		t.Errorf("validate after --fix: %+v %v", rep.Problems, err)
	}

	// Tags made at once from two clones: different names both land; the
	// same name lands once, the other clone is refused and keeps nothing.
	p2, err := Clone(ctx, remote, filepath.Join(t.TempDir(), "clone2"), CloneOptions{}, Options{CacheDir: t.TempDir(), Clock: testenv.TickingClock()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, req := range []struct {
		p    *Project
		name string
	}{{p, "dmc-a"}, {p2, "dmc-b"}, {p, "same"}, {p2, "same"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = req.p.Tag(ctx, TagRequest{Name: req.name, Message: fmt.Sprintf("from %d", i)})
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("different names from two clones: %v, %v", errs[0], errs[1])
	}
	if (errs[2] == nil) == (errs[3] == nil) {
		t.Fatalf("same name from two clones: %v, %v; want exactly one refused", errs[2], errs[3])
	}
	loser, loserErr, winnerMsg := p, errs[2], "from 3"
	if errs[2] == nil {
		loser, loserErr, winnerMsg = p2, errs[3], "from 2"
	}
	if !errors.Is(loserErr, ErrPushRejected) && !errors.Is(loserErr, ErrExists) {
		t.Errorf("the refused tag: %v, want ErrPushRejected or ErrExists", loserErr)
	}
	// Nothing of the refused tag is left behind: the loser's clone has
	// the winner's tag (fetched by a pull) or none.
	if tg, ok, _ := loser.repo.LookupTag("same"); ok && tg.Message != winnerMsg {
		t.Errorf("the refused tag was left in the clone: %+v (want the winner's, %q)", tg, winnerMsg)
	}
	// Each clone sees every tag after a pull.
	for _, q := range []*Project{p, p2} {
		if _, err := q.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		tags, err := q.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, tg := range tags {
			names[tg.Name] = true
		}
		for _, n := range []string{"db-lock", "interim", "dmc-a", "dmc-b", "same"} {
			if !names[n] {
				t.Errorf("%s: tag %s missing after pull: %v", q.Dir(), n, names)
			}
		}
	}
}
