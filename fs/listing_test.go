package fs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
)

// longHistoryProject is a developer clone with one table, "long", of n
// versions, its files written directly (n real writes would take minutes):
// version i's object holds 10+i%37 bytes, its timestamp is t0+i s.
func longHistoryProject(t testing.TB, n int) (*versions.Project, []meta.HistoryEntry) {
	t.Helper()
	pf := projecttest.New(t, projecttest.Options{})
	fake := func(parts ...any) string {
		s := sha256.Sum256([]byte(fmt.Sprint(parts...)))
		return hex.EncodeToString(s[:])
	}
	tn := meta.MustTableName("long")
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	entries := make([]meta.HistoryEntry, n)
	h := meta.History{}
	for i := range entries {
		e := meta.HistoryEntry{
			Version:       identity.MetadataSHA(fake("v", i)),
			DataSHA:       identity.DataSHA(fake("d", i)),
			Timestamp:     t0.Add(time.Duration(i) * time.Second),
			Author:        meta.Author{Name: "Test", Email: "test@example.org"},
			CommitMessage: fmt.Sprintf("v%d", i),
			ParquetSHA:    identity.ParquetSHA(fake("p", i)),
		}
		entries[i] = e
		h = h.Prepend(e)
		obj := filepath.Join(pf.Store, filepath.FromSlash(pf.Project.Key(versions.Version{Table: tn, DataSHA: e.DataSHA})))
		if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(obj, bytes.Repeat([]byte{'x'}, 10+i%37), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, body []byte) {
		full := filepath.Join(pf.Dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(meta.HistoryPath(tn), h.JSON())
	write(meta.MetadataPath(tn), []byte("{}\n"))
	raw, err := os.ReadFile(filepath.Join(pf.Dir, filepath.FromSlash(meta.ManifestPath)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := meta.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[n-1]
	m = m.WithTable(tn, meta.ManifestEntry{CurrentVersion: last.Version, CurrentDataSHA: last.DataSHA,
		LastUpdated: last.Timestamp, SizeBytes: 1000, VersionCount: n}, last.Timestamp)
	write(meta.ManifestPath, m.File())
	return pf.Project, entries
}

// A plain listing of a folder too long for one kernel request (the kernel
// then reads names without attributes, READDIRPLUS_AUTO) is complete, in
// order, the same again, and every name it gave stats with the right type,
// mode, size and time.
func TestLongListingThenStatEveryEntry(t *testing.T) {
	const n = 400 // 1,203 names: many requests
	p, entries := longHistoryProject(t, n)
	dir := t.TempDir()
	srv, err := Mount(context.Background(), dir, p, Options{Converter: testConverter{}, Logger: testLogger(&testenv.SyncBuffer{})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	folder := filepath.Join(dir, "tables", "long")
	listed := func() []string {
		es, err := os.ReadDir(folder)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.Name()
		}
		return out
	}
	got := listed()
	type want struct {
		size  int64
		mtime time.Time
		mode  os.FileMode
	}
	wants := map[string]want{}
	for i, e := range entries {
		id := e.Version.Short()
		wants["@"+id+".parquet"] = want{int64(10 + i%37), e.Timestamp, 0o444}
		wants["@"+id+".csv"] = want{0, e.Timestamp, 0o444}
		wants["@"+id+".rds"] = want{0, e.Timestamp, 0o444}
	}
	var names []string
	for name := range wants {
		names = append(names, name)
	}
	names = append(names, currentName, currentRDSName, historyName)
	slices.Sort(names)
	sorted := slices.Sorted(slices.Values(got))
	if !slices.Equal(sorted, names) {
		t.Fatalf("listed %d names, want %d (every version, its renditions, current.*, history.json)", len(got), len(names))
	}
	for _, name := range got {
		fi, err := os.Lstat(filepath.Join(folder, name))
		if err != nil {
			t.Fatalf("lstat %s after a listing: %v", name, err)
		}
		switch name {
		case currentName, currentRDSName:
			if fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("%s: mode %v, want a symlink", name, fi.Mode())
			}
			continue
		case historyName:
			if fi.Mode() != 0o444 || fi.Size() == 0 {
				t.Errorf("%s: mode %v size %d", name, fi.Mode(), fi.Size())
			}
			continue
		}
		w := wants[name]
		if fi.Mode() != w.mode || fi.Size() != w.size || !fi.ModTime().Equal(w.mtime) {
			t.Errorf("%s: mode %v size %d mtime %v, want %v %d %v", name, fi.Mode(), fi.Size(), fi.ModTime(), w.mode, w.size, w.mtime)
		}
	}
	if again := listed(); !slices.Equal(again, got) {
		t.Errorf("a second listing differs from the first (%d names, then %d)", len(got), len(again))
	}
}

// Inode numbers are stable across mounts (and releases): 64-bit FNV-1a of
// the parts, each followed by a zero byte, cut to 62 bits.
func TestInodeNumbersAreFNV(t *testing.T) {
	for _, parts := range [][]string{
		{"table", "lb"},
		{"version", "lb", "19f44e3a00000000000000000000000000000000000000000000000000000001", "parquet"},
		{"current", "lb", "rds"},
		{"history", "ünïcode table"},
		{""},
	} {
		h := fnv.New64a()
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		want := h.Sum64() & (1<<62 - 1)
		if want < 16 {
			want += 16
		}
		if got := inoOf(parts...); got != want {
			t.Errorf("inoOf(%q) = %d, want %d", parts, got, want)
		}
	}
}

// Listed ids are the shortest (at least 8 digits) that no other version
// shares, whichever neighbour in id order is the closer one.
func TestListedNamesLongerWhereNeeded(t *testing.T) {
	id := func(prefix string, n int) identity.MetadataSHA {
		return identity.MetadataSHA(prefix + fmt.Sprintf("%0*x", 64-len(prefix), n))
	}
	vs := []versions.Version{
		{ID: id("aaaaaaaa1234", 1)},
		{ID: id("aaaaaaaa12", 2)},
		{ID: id("bbbbbbbb", 3)},
		{ID: id("aaaaaaaa1235", 4)},
		{ID: id("aaaaaaab", 5)},
	}
	names, byName := listedNames(vs)
	want := []string{"aaaaaaaa1234", "aaaaaaaa120", "bbbbbbbb", "aaaaaaaa1235", "aaaaaaab"}
	if !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	for i, n := range names {
		if byName[n].ID != vs[i].ID {
			t.Errorf("byName[%s] = %s, want %s", n, byName[n].ID, vs[i].ID)
		}
	}
}
