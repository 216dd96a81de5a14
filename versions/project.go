package versions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/datomfs/datomfs/versions/cache"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/repo"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/open"
)

// DatomVersion is the datom format version datomfs writes (datom_version).
const DatomVersion = "0.1.1"

// Role says what a connection may do.
type Role string

const (
	// Developer has a git clone and store write access.
	Developer Role = "developer"
	// Reader has store read access only.
	Reader Role = "reader"
)

// Converter turns delimited text into parquet. versions does not import
// DuckDB; the query package provides one and the CLI wires it in.
type Converter interface {
	// CSVToParquet converts csvPath, delimited text with a header row in
	// format (one of the Delimited formats: its Delimiter, or 0 to take
	// it from the header line), to a new parquet file at parquetPath.
	CSVToParquet(ctx context.Context, csvPath string, format Format, parquetPath string) error
}

// Options are the dependencies of a Project.
type Options struct {
	Logger *slog.Logger
	// Clock returns the current time; defaults to time.Now.
	Clock func() time.Time
	// CacheDir holds verified copies of versions; default: the user cache dir.
	CacheDir string
	// CacheMaxBytes bounds the cache, evicting least recently used entries (0: unbounded; see cache/evict.go).
	CacheMaxBytes int64
	// Converter is needed to write CSV input.
	Converter Converter
	// StoreEndpoint overrides the S3 endpoint (else AWS_ENDPOINT_URL / default).
	StoreEndpoint string
	// OpenStore overrides how a store location is opened (tests).
	OpenStore func(ctx context.Context, loc store.Location) (store.Store, error)
	// WrapStore, when set, stacks decorators (logging, request counting:
	// see store.WithGetHook) on every store the project opens, its own and
	// a governance store, once each. The CLI composes its decorators here.
	WrapStore func(loc store.Location, s store.Store) store.Store
	// Progress receives progress of long transfers; nil for none.
	Progress func(what string, done, total int64)
	// AfterWrites, when set, runs once new versions have landed (pushed
	// and mirrored), outside the clone lock, with their results: after a
	// write that made a version, with its one result, and after each batch
	// of a sync that landed, with the batch's new versions (in the sync's
	// order, each table once). Derived views of the store (the Iceberg
	// metadata) are brought up to date there, many tables together. It
	// cannot fail the write: it reports its own trouble (a warning), and
	// the versions have landed whatever it does.
	AfterWrites func(ctx context.Context, p *Project, res []WriteResult)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.CacheDir == "" {
		o.CacheDir = defaultCacheDir()
	}
	if o.OpenStore == nil {
		endpoint := o.StoreEndpoint
		o.OpenStore = func(ctx context.Context, loc store.Location) (store.Store, error) {
			return open.Open(ctx, loc, open.Options{Endpoint: endpoint, Region: loc.Region})
		}
	}
	return o
}

func defaultCacheDir() string {
	if d := os.Getenv("DATOMFS_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "datomfs")
	}
	return filepath.Join(os.TempDir(), "datomfs-cache")
}

// Project is an open connection to one datom project.
type Project struct {
	name   string
	cfg    meta.ProjectConfig // zero for readers
	role   Role
	dir    string     // clone directory; "" for readers
	repo   *repo.Repo // nil for readers
	store  store.Store
	loc    store.Location // where the store is, as configured (no credentials)
	layout store.Layout
	cache  *cache.Cache
	opts   Options

	// sizes remembers the size of version objects by store key
	// (VersionSize): versions never change.
	sizes sync.Map
	// sizeTables holds, per table, whether its sizes were listed at once
	// (*tableSizes, VersionSize).
	sizeTables sync.Map

	// writeMu serialises writes and pulls of this process on the clone.
	writeMu sync.Mutex
	// testHook, when set (tests), runs at each checkpoint of the write
	// path (faults.go); an error it returns fails the write there.
	testHook func(point string) error

	// pit remembers commits, manifests at commits and tag mirrors
	// (points.go).
	pit pointState

	// initHead is what Init found about the remote's HEAD (init.go).
	initHead    repo.RemoteHead
	initHeadErr error
}

// Name is the project name.
func (p *Project) Name() string { return p.name }

// Role is Developer or Reader.
func (p *Project) Role() Role { return p.role }

// Dir is the clone directory ("" for a reader).
func (p *Project) Dir() string { return p.dir }

// Store is the project's object store.
func (p *Project) Store() store.Store { return p.store }

// StoreLoc is where the store is: its type, root (directory or bucket),
// prefix and region, as the project configures it.
func (p *Project) StoreLoc() store.Location { return p.loc }

// StoreLocation is the store as shown to people (no credentials).
func (p *Project) StoreLocation() string { return p.store.Location() }

// RemoteURL is the data repo remote ("" for readers).
func (p *Project) RemoteURL() string {
	if p.repo == nil {
		return ""
	}
	return p.repo.RemoteURL()
}

// RemoteStore reports whether bytes come over the network (S3): reads are
// then worth serving before a version is fully cached.
func (p *Project) RemoteStore() bool { return p.isS3() }

// Logger is the project's logger.
func (p *Project) Logger() *slog.Logger { return p.opts.Logger }

// FindRoot walks up from dir to the clone root (the folder holding
// .datom/project.yaml).
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, filepath.FromSlash(meta.ProjectConfigPath))); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%s: %w (no %s here or above)", abs, ErrNotProject, meta.ProjectConfigPath)
		}
		d = parent
	}
}

// Open opens the developer clone containing dir.
func Open(ctx context.Context, dir string, opts Options) (*Project, error) {
	opts = opts.withDefaults()
	root, err := FindRoot(dir)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(meta.ProjectConfigPath)))
	if err != nil {
		return nil, fmt.Errorf("read project config: %w", err)
	}
	cfg, err := meta.ParseProjectConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(root, filepath.FromSlash(meta.ProjectConfigPath)), err)
	}
	r, err := repo.Open(root)
	if err != nil {
		return nil, fmt.Errorf("open git repo %s: %w", root, err)
	}
	st, layout, err := openConfiguredStore(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	return newProject(cfg.ProjectName.String(), cfg, Developer, root, r, st, layout, opts), nil
}

// OpenReader connects to a project from its store alone (no git), using the
// .metadata mirrors that datom keeps for readers.
func OpenReader(ctx context.Context, location, project string, opts Options) (*Project, error) {
	opts = opts.withDefaults()
	loc, err := store.ParseLocation(location)
	if err != nil {
		return nil, fmt.Errorf("store %q: %w", location, err)
	}
	st, err := opts.openStore(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", loc, mapStoreErr(err))
	}
	layout := store.Layout{Prefix: loc.Prefix}
	p := newProject(project, meta.ProjectConfig{}, Reader, "", nil, st, layout, opts)
	p.loc = loc
	m, err := p.storeManifest(ctx)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("no datom project at %s (no %s): %w", st.Location(), layout.ManifestKey(), ErrNotProject)
		}
		return nil, err
	}
	if project != "" && m.ProjectName() != project {
		return nil, fmt.Errorf("store %s holds project %q, not %q: %w", st.Location(), m.ProjectName(), project, ErrNotProject)
	}
	p.name = m.ProjectName()
	return p, nil
}

func newProject(name string, cfg meta.ProjectConfig, role Role, dir string, r *repo.Repo, st store.Store, layout store.Layout, opts Options) *Project {
	return &Project{
		name: name, cfg: cfg, role: role, dir: dir, repo: r,
		store: st, layout: layout, opts: opts,
		loc:   store.Location{Type: cfg.Storage.Type, Root: cfg.Storage.Root, Prefix: cfg.Storage.Prefix, Region: cfg.Storage.Region},
		cache: cache.New(opts.CacheDir, st, opts.Logger).WithMaxBytes(opts.CacheMaxBytes),
	}
}

func openConfiguredStore(ctx context.Context, cfg meta.ProjectConfig, opts Options) (store.Store, store.Layout, error) {
	loc := store.Location{Type: cfg.Storage.Type, Root: cfg.Storage.Root, Prefix: cfg.Storage.Prefix, Region: cfg.Storage.Region}
	st, err := opts.openStore(ctx, loc)
	if err != nil {
		return nil, store.Layout{}, fmt.Errorf("open store %s: %w", loc, mapStoreErr(err))
	}
	return st, store.Layout{Prefix: loc.Prefix}, nil
}

// mapStoreErr adds our sentinels to store errors.
func mapStoreErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, store.ErrUnreachable):
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return err
}

// mapRepoErr adds our sentinels to repo errors.
func mapRepoErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, repo.ErrPushRejected):
		return fmt.Errorf("%w: %w", ErrPushRejected, err)
	case errors.Is(err, repo.ErrDiverged):
		return fmt.Errorf("%w: %w", ErrDiverged, err)
	case errors.Is(err, repo.ErrUnreachable):
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	case errors.Is(err, repo.ErrAuth):
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return err
}

func (p *Project) now() time.Time { return p.opts.Clock().UTC() }

func (p *Project) requireDeveloper() error {
	if p.role != Developer {
		return ErrReadOnly
	}
	return nil
}
