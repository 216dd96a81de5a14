package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/repo"
	"github.com/datomfs/datomfs/versions/store"
)

// PullResult says what a pull brought.
type PullResult struct {
	Commits int
	Tables  []string // tables whose metadata changed
}

// Pull fetches and fast-forwards the clone.
func (p *Project) Pull(ctx context.Context) (PullResult, error) {
	if err := p.requireDeveloper(); err != nil {
		return PullResult{}, err
	}
	var r repo.PullResult
	err := p.withCloneLock(ctx, "pull", func() (err error) {
		r, err = p.pullLocked(ctx)
		return err
	})
	if err != nil {
		return PullResult{}, fmt.Errorf("pull: %w", mapRepoErr(err))
	}
	return PullResult{Commits: r.Commits, Tables: tablesOf(r.ChangedPaths)}, nil
}

// pullLocked fetches and fast-forwards under the clone lock, journaling
// the paths the fast-forward rewrites so that a crash half-way is finished
// by the next lock holder.
func (p *Project) pullLocked(ctx context.Context) (repo.PullResult, error) {
	journaled := false
	r, err := p.repo.PullWith(ctx, func(paths []string) error {
		journaled = true
		return p.saveJournal(&journal{Op: "pull", PID: os.Getpid(), Paths: paths})
	})
	if journaled {
		if err == nil {
			p.endJournal()
		} else if rerr := p.recoverInterrupted(context.WithoutCancel(ctx)); rerr != nil {
			p.opts.Logger.Error("a failed pull left files behind; the next write or pull retries", "err", rerr)
		}
	}
	return r, err
}

// tablesOf picks the table names out of changed repo paths.
func tablesOf(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		dir, file, ok := strings.Cut(filepath.ToSlash(p), "/")
		if !ok || strings.Contains(file, "/") || strings.HasPrefix(dir, ".") {
			continue
		}
		if (file == "metadata.json" || file == "version_history.json") && !seen[dir] {
			seen[dir] = true
			out = append(out, dir)
		}
	}
	sort.Strings(out)
	return out
}

// SyncItem is the outcome for one file of a sync.
type SyncItem struct {
	File   string
	Table  string
	Status string // "new", "changed", "unchanged", "unsupported", "failed"
	Result WriteResult
	Err    error
}

// SyncResult summarises a sync.
type SyncResult struct {
	Items []SyncItem
}

// Count returns how many items have a status.
func (r SyncResult) Count(status string) int {
	n := 0
	for _, it := range r.Items {
		if it.Status == status {
			n++
		}
	}
	return n
}

// Sync onboards every supported file of a flat folder as datom_sync does:
// the table is the file name without its extension; files whose
// original_file_sha matches the manifest are skipped. It goes on after a
// failed file and reports it.
func (p *Project) Sync(ctx context.Context, dir string, progress func(SyncItem)) (SyncResult, error) {
	if err := p.requireDeveloper(); err != nil {
		return SyncResult{}, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return SyncResult{}, fmt.Errorf("sync %s: %w", dir, err)
	}
	var res SyncResult
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		path := filepath.Join(dir, e.Name())
		item := SyncItem{File: e.Name(), Table: strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))}
		if !SupportedInput(e.Name()) {
			item.Status = "unsupported"
		} else {
			item = p.syncOne(ctx, path, item)
		}
		res.Items = append(res.Items, item)
		if progress != nil {
			progress(item)
		}
	}
	return res, nil
}

func (p *Project) syncOne(ctx context.Context, path string, item SyncItem) SyncItem {
	sha, _, err := identity.SHA256File(ctx, path)
	if err != nil {
		item.Status, item.Err = "failed", err
		return item
	}
	man, err := p.localManifest()
	if err != nil {
		item.Status, item.Err = "failed", err
		return item
	}
	name, err := meta.ParseTableName(item.Table)
	if err != nil {
		item.Status, item.Err = "failed", fmt.Errorf("%w: %w", ErrInvalidName, err)
		return item
	}
	status := "new"
	if t, ok := man.Table(name); ok {
		status = "changed"
		if t.OriginalFileSHA == sha {
			item.Status = "unchanged"
			return item
		}
	}
	res, err := p.Write(ctx, WriteRequest{
		Table: item.Table, Path: path, Import: true,
		Message: fmt.Sprintf("Sync %s (%s)", item.Table, status),
	})
	item.Result = res
	if err != nil {
		item.Status, item.Err = "failed", err
		return item
	}
	item.Status = status
	return item
}

// Status describes the connection and the clone.
type Status struct {
	Project  string
	Role     Role
	Store    string
	Remote   string
	Branch   string
	Head     string
	Ahead    int
	Behind   int
	Clean    bool
	Tables   int
	Versions int
}

// Status reports the project's state; it fetches to count ahead/behind.
func (p *Project) Status(ctx context.Context) (Status, error) {
	s := Status{Project: p.name, Role: p.role, Store: p.store.Location()}
	tables, err := p.List(ctx)
	if err != nil {
		return s, err
	}
	s.Tables = len(tables)
	for _, t := range tables {
		s.Versions += t.VersionCount
	}
	if p.role != Developer {
		return s, nil
	}
	s.Remote = redactURL(p.repo.RemoteURL())
	s.Branch = p.repo.Branch()
	// The fetch moves the remote-tracking branch: it changes the clone.
	err = p.withCloneLock(ctx, "status", func() (err error) {
		if s.Head, err = p.repo.Head(); err != nil {
			return err
		}
		if err := p.repo.Fetch(ctx); err != nil {
			return fmt.Errorf("fetch: %w", mapRepoErr(err))
		}
		if s.Ahead, s.Behind, err = p.repo.AheadBehind(ctx); err != nil {
			return err
		}
		s.Clean, err = p.repo.Clean(ctx)
		return err
	})
	return s, err
}

// Problem is one inconsistency between git and the store.
type Problem struct {
	Table   string
	Key     string
	What    string
	Fixed   bool
	Fixable bool
}

// ValidateReport lists what validate found.
type ValidateReport struct {
	Tables   int
	Versions int
	Problems []Problem
}

// Validate checks git against the store: every version's parquet object,
// the mirrors readers use and the current snapshots. With fix, it rewrites
// the mirrors and snapshots it can (bytes that are gone cannot be fixed).
func (p *Project) Validate(ctx context.Context, fix bool) (ValidateReport, error) {
	var rep ValidateReport
	if err := p.requireDeveloper(); err != nil {
		return rep, err
	}
	err := p.withCloneLock(ctx, "validate", func() (err error) {
		rep, err = p.validate(ctx, fix)
		return err
	})
	return rep, err
}

func (p *Project) validate(ctx context.Context, fix bool) (ValidateReport, error) {
	var rep ValidateReport
	man, err := p.localManifest()
	if err != nil {
		return rep, err
	}
	for _, t := range discoverTables(p.dir) {
		rep.Tables++
		hist, err := p.localHistory(t)
		if err != nil {
			return rep, err
		}
		for _, e := range hist.Entries() {
			rep.Versions++
			key := p.layout.ParquetKey(t, string(e.DataSHA))
			if _, err := p.store.Stat(ctx, key); errors.Is(err, store.ErrNotFound) {
				rep.Problems = append(rep.Problems, Problem{Table: t, Key: key, What: fmt.Sprintf("parquet of version %s is missing from the store", e.Version.Short())})
			} else if err != nil {
				return rep, fmt.Errorf("check %s: %w", key, mapStoreErr(err))
			}
		}
		raw, err := os.ReadFile(filepath.Join(p.dir, t, "metadata.json"))
		if err != nil {
			return rep, err
		}
		md, err := meta.ParseMetadata(raw)
		if err != nil {
			return rep, fmt.Errorf("parse %s/metadata.json: %w", t, err)
		}
		docs := versionDocs{metadata: md, history: hist, manifest: man}
		stale := p.staleMirrors(ctx, t, docs)
		for _, pr := range stale {
			if fix {
				if err := p.mirror(ctx, t, docs); err != nil {
					return rep, err
				}
				pr.Fixed = true
			}
			rep.Problems = append(rep.Problems, pr)
		}
	}
	// The manifest mirror.
	if sm, err := p.storeManifest(ctx); err != nil || string(sm.JSON()) != string(man.JSON()) {
		pr := Problem{Key: p.layout.ManifestKey(), What: "store manifest mirror is missing or stale", Fixable: true}
		if fix {
			if err := p.putStoreJSON(ctx, p.layout.ManifestKey(), man.JSON()); err != nil {
				return rep, err
			}
			pr.Fixed = true
		}
		rep.Problems = append(rep.Problems, pr)
	}
	return rep, nil
}

// staleMirrors compares the store mirrors of one table with git (parsed, as
// readers must: byte layouts may differ).
func (p *Project) staleMirrors(ctx context.Context, t string, d versionDocs) []Problem {
	var out []Problem
	check := func(key string, want meta.Metadata) {
		raw, err := p.getStoreFile(ctx, key)
		if err == nil {
			if got, err := meta.ParseMetadata(raw); err == nil && got.Version() == want.Version() {
				return
			}
		}
		out = append(out, Problem{Table: t, Key: key, What: "metadata mirror is missing or stale", Fixable: true})
	}
	check(p.layout.TableMetaKey(t, "metadata.json"), d.metadata)
	check(p.layout.SnapshotKey(t, string(d.metadata.Version())), d.metadata)
	key := p.layout.TableMetaKey(t, "version_history.json")
	raw, err := p.getStoreFile(ctx, key)
	ok := false
	if err == nil {
		if h, err := meta.ParseHistory(raw); err == nil && len(h.Entries()) == len(d.history.Entries()) {
			ok = len(h.Entries()) == 0 || h.Entries()[0].Version == d.history.Entries()[0].Version
		}
	}
	if !ok {
		out = append(out, Problem{Table: t, Key: key, What: "history mirror is missing or stale", Fixable: true})
	}
	return out
}

// discoverTables finds tables as datom does (contract 2.1).
func discoverTables(dir string) []string {
	skip := map[string]bool{"input_files": true, "renv": true, "man": true, "R": true, "tests": true, "vignettes": true, "src": true}
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || strings.HasPrefix(n, ".") || skip[n] {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, n, "metadata.json")); err == nil {
			out = append(out, n)
		}
	}
	return out
}
