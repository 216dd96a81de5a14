package meta

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestGovernance(t *testing.T) {
	want := readTestdata(t, "governance.json")
	g, err := NewGovernance("https://github.com/acme/datom-governance.git",
		StorageConfig{Type: StorageS3, Root: "acme-gov", Prefix: "gov/", Region: "us-east-2"},
		time.Date(2026, 1, 5, 13, 0, 0, 0, time.FixedZone("CET", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	if got := g.File(); !bytes.Equal(got, want) {
		t.Errorf("built:\n%s\nwant\n%s", got, want)
	}
	p, err := ParseGovernance(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.File(), want) || p.RepoURL() != g.RepoURL() || p.Storage() != g.Storage() || !p.AttachedAt().Equal(g.AttachedAt()) {
		t.Errorf("parsed governance differs")
	}
	local, err := NewGovernance("file:///g.git", StorageConfig{Type: StorageLocal, Root: "/gov"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := local.Value().String(); got != `{"gov_repo_url":"file:///g.git","gov_storage":{"type":"local","root":"/gov"},"attached_at":"2026-01-02T03:04:05Z"}` {
		t.Errorf("local governance = %s", got)
	}
	for _, in := range []string{`[]`, `{}`, `{"gov_repo_url":"x"}`, `{"gov_repo_url":"x","gov_storage":{"type":"s3"}}`} {
		if _, err := ParseGovernance([]byte(in)); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseGovernance(%s) error = %v", in, err)
		}
	}
}

func TestRef(t *testing.T) {
	want := readTestdata(t, "ref_new.json")
	r, err := NewRef(StorageConfig{Type: StorageLocal, Root: "/srv/datom/study1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.File(); !bytes.Equal(got, want) {
		t.Errorf("new ref:\n%s\nwant\n%s", got, want)
	}
	migrated := readTestdata(t, "ref_migrated.json")
	m, err := ParseRef(migrated)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.File(), migrated) {
		t.Errorf("round trip:\n%s", m.File())
	}
	if got := m.Current(); got != (StorageConfig{Type: StorageS3, Root: "acme-data", Region: DefaultRegion}) {
		t.Errorf("current = %+v", got)
	}
	if len(m.Previous()) != 1 || len(r.Previous()) != 0 {
		t.Errorf("previous = %d / %d", len(m.Previous()), len(r.Previous()))
	}
	for _, prefix := range []string{`null`, `""`, `{}`} {
		x, err := ParseRef([]byte(`{"current":{"type":"s3","root":"b","prefix":` + prefix + `,"region":"r"}}`))
		if err != nil || x.Current().Prefix != "" || x.Current().Region != "r" {
			t.Errorf("prefix %s: %+v %v", prefix, x.Current(), err)
		}
	}
	for _, in := range []string{`[]`, `{}`, `{"current":{"type":"s3"}}`, `{"current":"x"}`} {
		if _, err := ParseRef([]byte(in)); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseRef(%s) error = %v", in, err)
		}
	}
}
