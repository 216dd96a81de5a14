package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/datomfs/datomfs/internal/redact"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/repo"
	"github.com/datomfs/datomfs/versions/store"
)

// InitOptions describe a new project.
type InitOptions struct {
	Project     string
	Description string
	Store       string // a folder or s3://bucket/prefix
	Region      string // S3 region (default us-east-1)
	Remote      string // the data repo's git remote (an empty bare repo)
}

// Init creates a new project: a clone in dir with datom's files, its first
// commit pushed to the remote, and the manifest mirrored to the store. It
// refuses a store namespace that already holds a project. On failure it
// removes what it created. A password in the remote URL is used for the
// first push and never written down (.git/config, project.yaml, README.md).
func Init(ctx context.Context, dir string, in InitOptions, opts Options) (_ *Project, err error) {
	opts = opts.withDefaults()
	name, err := meta.ParseProjectName(in.Project)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	if in.Remote == "" {
		return nil, errors.New("a git remote is required (an empty bare repository or hosted repo)")
	}
	loc, err := store.ParseLocation(in.Store)
	if err != nil {
		return nil, fmt.Errorf("store %q: %w", in.Store, err)
	}
	if loc.Type == "s3" && loc.Region == "" {
		loc.Region = in.Region
		if loc.Region == "" {
			loc.Region = "us-east-1"
		}
	}
	if loc.Type == "local" {
		// A local store is a folder the team shares; create it on first use.
		if err := os.MkdirAll(loc.Root, 0o755); err != nil {
			return nil, fmt.Errorf("create store folder %s: %w", loc.Root, err)
		}
	}
	st, err := opts.openStore(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", loc, mapStoreErr(err))
	}
	layout := store.Layout{Prefix: loc.Prefix}
	// The store namespace must be free (and reachable).
	if _, err := st.Stat(ctx, layout.ManifestKey()); err == nil {
		return nil, fmt.Errorf("store %s already holds a datom project (%s exists): %w", st.Location(), layout.ManifestKey(), ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("check store %s: %w", st.Location(), mapStoreErr(err))
	}

	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: %w", abs, ErrExists)
	}
	created := false
	if _, err := os.Stat(abs); errors.Is(err, os.ErrNotExist) {
		created = true
	}
	defer func() {
		if err != nil {
			if created {
				os.RemoveAll(abs)
			} else {
				removeContents(abs)
			}
		}
	}()

	r, err := repo.Init(ctx, abs, in.Remote, repo.InitOptions{})
	if err != nil {
		return nil, fmt.Errorf("init git repo: %w", mapRepoErr(err))
	}
	now := opts.Clock().UTC()
	cfg, err := meta.NewProjectConfig(name, DatomVersion,
		meta.StorageConfig{Type: loc.Type, Root: loc.Root, Prefix: loc.Prefix, Region: loc.Region},
		shareableURL(in.Remote), opts.Clock())
	if err != nil {
		return nil, err
	}
	cfg.Description = in.Description
	man := meta.NewManifest(name, now)
	files := map[string][]byte{
		meta.ProjectConfigPath: cfg.YAML(),
		meta.ManifestPath:      man.File(),
		".gitignore":           meta.Gitignore(),
		"README.md":            meta.README(cfg),
	}
	var paths []string
	for rel, body := range files {
		if err := writeFileAtomic(filepath.Join(abs, filepath.FromSlash(rel)), body); err != nil {
			return nil, fmt.Errorf("write %s: %w", rel, err)
		}
		paths = append(paths, rel)
	}
	if err := os.MkdirAll(filepath.Join(abs, "input_files"), 0o755); err != nil {
		return nil, err
	}
	if _, _, err := r.Commit(ctx, paths, "Initialize datom repository"); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	if err := r.Push(ctx); err != nil {
		return nil, fmt.Errorf("push to %s: %w", redact.URL(in.Remote), mapRepoErr(err))
	}
	p := newProject(name.String(), cfg, Developer, abs, r, st, layout, opts)
	if err := p.putStoreJSON(ctx, layout.ManifestKey(), man.JSON()); err != nil {
		return nil, err
	}
	// A plain "git clone" must see the files: a bare remote whose HEAD names
	// a branch never pushed (master while we pushed main) checks out
	// nothing. Not fatal: the project is there either way.
	p.initHead, p.initHeadErr = r.FollowPushedBranch(ctx)
	return p, nil
}

// RemoteHead is what a remote's HEAD named after Init's push (see
// repo.RemoteHead).
type RemoteHead = repo.RemoteHead

// InitRemoteHead reports what Init found about the remote's HEAD, and
// whether it pointed a local bare remote's HEAD at the pushed branch (the
// zero value for a project not made by Init in this process).
func (p *Project) InitRemoteHead() (RemoteHead, error) { return p.initHead, p.initHeadErr }

// Branch is the clone's branch, the one pushed ("" for a reader).
func (p *Project) Branch() string {
	if p.repo == nil {
		return ""
	}
	return p.repo.Branch()
}

func removeContents(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// CloneOptions describe how a new engineer joins.
type CloneOptions struct {
	// Gov is the governance repo to clone as well (optional).
	Gov string
}

// Clone is how a new engineer enters: clone the data repo, read the store
// from .datom/project.yaml and check that it is reachable. A password in a
// URL is used for the clone only (see repo.Clone).
func Clone(ctx context.Context, url, dir string, in CloneOptions, opts Options) (_ *Project, err error) {
	opts = opts.withDefaults()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: %w", abs, ErrExists)
	}
	if _, err := repo.Clone(ctx, url, abs, repo.CloneOptions{}); err != nil {
		os.RemoveAll(abs)
		return nil, fmt.Errorf("clone %s: %w", redact.URL(url), mapRepoErr(err))
	}
	defer func() {
		if err != nil {
			os.RemoveAll(abs)
		}
	}()
	if _, err := os.Stat(filepath.Join(abs, filepath.FromSlash(meta.ProjectConfigPath))); err != nil {
		return nil, fmt.Errorf("%s has no %s: %w", redact.URL(url), meta.ProjectConfigPath, ErrNotProject)
	}
	if in.Gov != "" {
		govDir := filepath.Join(abs, ".git", "datomfs", "gov")
		if _, err := repo.Clone(ctx, in.Gov, govDir, repo.CloneOptions{}); err != nil {
			return nil, fmt.Errorf("clone governance repo %s: %w", redact.URL(in.Gov), mapRepoErr(err))
		}
	}
	p, err := Open(ctx, abs, opts)
	if err != nil {
		return nil, err
	}
	if err := p.checkStore(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// checkStore verifies the store answers (and, on S3, that the bucket exists).
func (p *Project) checkStore(ctx context.Context) error {
	if c, ok := store.As[store.Checker](p.store); ok {
		if err := c.Check(ctx); err != nil {
			return fmt.Errorf("check store %s: %w", p.store.Location(), mapStoreErr(err))
		}
	}
	if _, err := p.store.Stat(ctx, p.layout.ManifestKey()); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("check store %s: %w", p.store.Location(), mapStoreErr(err))
	}
	return nil
}
