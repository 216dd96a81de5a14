package versions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/datomfs/datomfs/internal/redact"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/repo"
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
		if (file == meta.MetadataFile || file == meta.HistoryFile) && !seen[dir] {
			seen[dir] = true
			out = append(out, dir)
		}
	}
	sort.Strings(out)
	return out
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
	s.Remote = redact.URL(p.repo.RemoteURL())
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
		if _, err := os.Stat(filepath.Join(dir, n, meta.MetadataFile)); err == nil {
			out = append(out, n)
		}
	}
	return out
}
