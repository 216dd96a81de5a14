package query

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions"
)

func TestPointsInTimeLocal(t *testing.T) { runPointsInTime(t, localStore(t)) }

func TestPointsInTimeS3(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "query-points")
	srv.SetEnv(t)
	runPointsInTime(t, "s3://query-points/study001")
}

// afterCommit waits until the wall clock is past the second of the
// project's last commit (commit times have whole seconds).
func afterCommit(t *testing.T, p *versions.Project) time.Time {
	t.Helper()
	head, err := p.At(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	for !time.Now().Truncate(time.Second).After(head.Time) {
		time.Sleep(50 * time.Millisecond)
	}
	return head.Time
}

// Two cuts, a tag, a third cut: "lb@tag", "lb@datetime", snapshot('tag'),
// Options.At and the project diff all see the tagged versions.
func runPointsInTime(t *testing.T, storeLoc string) {
	ctx := context.Background()
	tp := newTestProject(t, storeLoc)
	tp.write("lb", lbV1, "cut 1")
	dm := tp.write("dm", `SELECT i AS subjid FROM range(3) t(i)`, "dm")
	afterCommit(t, tp.p)
	lb2 := tp.write("lb", lbV2, "cut 2")
	cut2 := afterCommit(t, tp.p)
	if _, err := tp.p.Tag(ctx, versions.TagRequest{Name: "db-lock", Message: "lock"}); err != nil {
		t.Fatal(err)
	}
	lb3 := tp.write("lb", lbV3, "cut 3")

	e := newTestEngine(t, tp.p)
	for q, want := range map[string]int64{
		`SELECT count(*) FROM "lb@db-lock"`:                                                          5,
		`SELECT count(*) FROM "lb@` + cut2.Format(time.RFC3339) + `" WHERE id = 2`:                   0, // cut 2
		`SELECT count(*) FROM "lb@` + cut2.Add(-time.Second).Format(time.RFC3339) + `" WHERE id = 2`: 1, // cut 1
		`SELECT count(*) FROM lb`:                                                                    6,
		`SELECT count(*) FROM "lb@db-lock" WHERE id = 7`:                                             0,
		`SELECT count(*) FROM (SELECT * FROM "lb@db-lock" EXCEPT SELECT id, val, name FROM lb)`:      0,
	} {
		if got := queryInt(t, e, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	rows := queryAll(t, e, `SELECT "table", version, data_sha FROM snapshot('db-lock') ORDER BY 1`)
	if len(rows) != 2 || rows[0][0] != "dm" || rows[0][1] != string(dm.Version) || rows[0][2] != string(dm.DataSHA) ||
		rows[1][0] != "lb" || rows[1][1] != string(lb2.Version) || rows[1][2] != string(lb2.DataSHA) {
		t.Errorf("snapshot('db-lock') = %v, want dm %s and lb %s", rows, dm.Version.Short(), lb2.Version.Short())
	}
	if _, err := e.Query(ctx, `SELECT * FROM "lb@no-such-tag"`); !errors.Is(err, versions.ErrNotFound) {
		t.Errorf(`"lb@no-such-tag": %v, want ErrNotFound`, err)
	}
	if _, err := e.Query(ctx, `SELECT * FROM snapshot('2020-01-01')`); !errors.Is(err, versions.ErrNotFound) {
		t.Errorf(`snapshot('2020-01-01'): %v, want ErrNotFound`, err)
	}

	// --at: bare names are the tagged versions; "t@ref" still works.
	at, err := New(ctx, tp.p, Options{At: "db-lock"})
	if err != nil {
		t.Fatal(err)
	}
	defer at.Close()
	if got := queryInt(t, at, `SELECT count(*) FROM lb`); got != 5 {
		t.Errorf("at db-lock: count(lb) = %d, want 5", got)
	}
	if got := queryInt(t, at, `SELECT count(*) FROM "lb@`+lb3.Version.Short()+`"`); got != 6 {
		t.Errorf("at db-lock: count(lb@v3) = %d, want 6", got)
	}
	if _, err := New(ctx, tp.p, Options{At: "no-such-tag"}); !errors.Is(err, versions.ErrNotFound) {
		t.Errorf("Options.At no-such-tag: %v, want ErrNotFound", err)
	}

	// The project diff: lb gained a row and a column, dm is unchanged.
	_, _, changes, err := e.ProjectDiff(ctx, "db-lock", "HEAD", []string{"id"})
	if err != nil {
		t.Fatal(err)
	}
	byTable := map[string]TableChange{}
	for _, c := range changes {
		byTable[c.Table] = c
	}
	lb := byTable["lb"]
	if len(changes) != 2 || lb.Status != "changed" || lb.From != string(lb2.Version) || lb.To != string(lb3.Version) ||
		lb.Summary.RowsAdded != 1 || lb.Summary.RowsRemoved != 0 || lb.Summary.RowsChanged != 0 || lb.Summary.ColumnsAdded != 1 || !lb.Keyed {
		t.Errorf("project diff lb: %+v", lb)
	}
	if byTable["dm"].Status != "unchanged" {
		t.Errorf("project diff dm: %+v", byTable["dm"])
	}
	_, _, changes, err = e.ProjectDiff(ctx, "HEAD", "db-lock", nil)
	if err != nil || len(changes) != 2 {
		t.Fatalf("reverse project diff: %v %v", changes, err)
	}
	for _, c := range changes {
		if c.Table == "lb" && (c.Summary.RowsRemoved != 1 || c.Keyed) {
			t.Errorf("reverse project diff lb: %+v", c)
		}
	}
}
