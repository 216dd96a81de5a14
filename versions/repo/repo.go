// Package repo is datom's data git repository, driven through go-git: init,
// clone, commit of listed paths, fetch, fast-forward pull, push, and the
// undo of a local commit after a rejected push. It never runs the git
// command itself; go-git does spawn git-upload-pack/git-receive-pack for
// file:// and plain-path remotes, as git does.
//
// A Repo serialises its own operations; two Repo values (or processes) on
// the same directory are not coordinated.
package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/datomfs/datomfs/internal/netdeadline"
	"github.com/datomfs/datomfs/internal/redact"
)

const remoteName = "origin"

// Author is a git identity.
type Author struct {
	Name  string
	Email string
}

// InitOptions configure Init.
type InitOptions struct {
	// Branch overrides the initial branch (default: init.defaultBranch from
	// the global git config, else "main").
	Branch string
	// Auth for the remote; nil means the password of remoteURL, if it has
	// one, else AuthFromEnv.
	Auth *Auth
	// DialTimeout caps each connect to an HTTP(S) remote. IdleTimeout fails
	// a remote operation whose connection saw no bytes move in either
	// direction for that long, with ErrUnreachable saying the server is
	// "not responding". Zero means the defaults of internal/netdeadline
	// (5 s, and 30 s or DATOMFS_NET_IDLE_TIMEOUT), as for a Repo from Open.
	DialTimeout, IdleTimeout time.Duration
}

// CloneOptions configure Clone.
type CloneOptions struct {
	// Branch to check out (default: the remote's HEAD, else "main", else
	// "master", else its only branch).
	Branch string
	// Auth for the remote; nil means the password of url, if it has one,
	// else AuthFromEnv.
	Auth *Auth
	// DialTimeout and IdleTimeout: see InitOptions.
	DialTimeout, IdleTimeout time.Duration
}

// Repo is a non-bare git repository with an "origin" remote and a checked
// out branch.
type Repo struct {
	mu     sync.Mutex // serialises all operations on g and the work tree
	dir    string
	g      *git.Repository
	branch string
	remote string
	auth   *Auth
	net    netdeadline.Timeouts // of HTTP(S) remote operations

	// lastPushPack is the size of the last pack the fast push sent
	// (tests: thin packs send deltas, not whole histories).
	lastPushPack atomic.Int64

	// Blobs this process wrote, for pushes (blobs.go).
	blobsMu   sync.Mutex
	blobs     map[plumbing.Hash][]byte
	blobOrder []plumbing.Hash
	blobBytes int
}

// Init creates a new repository in dir (created if missing) on the default
// branch with origin = remoteURL, and sets the repo-local user.name and
// user.email to the global identity, else "datom" / "datom@noreply"
// (contract 2.5). It makes no commit. A password in remoteURL is used by
// this Repo but not stored: origin is the URL without it.
func Init(ctx context.Context, dir, remoteURL string, opts InitOptions) (*Repo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if remoteURL == "" {
		return nil, fmt.Errorf("init repository %s: empty remote URL", dir)
	}
	timeouts, err := netTimeouts(opts.DialTimeout, opts.IdleTimeout)
	if err != nil {
		return nil, fmt.Errorf("init repository %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("init repository %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(abs, git.GitDirName)); err == nil {
		return nil, fmt.Errorf("init repository %s: %w", abs, ErrExists)
	}
	glob, err := loadGlobalConfig()
	if err != nil {
		return nil, fmt.Errorf("init repository %s: %w", abs, err)
	}
	branch := opts.Branch
	if branch == "" {
		branch = glob.defaultBranch
	}
	if branch == "" {
		branch = "main"
	}
	ref := plumbing.NewBranchReferenceName(branch)
	if err := ref.Validate(); err != nil {
		return nil, fmt.Errorf("init repository %s: branch %q: %w", abs, branch, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("init repository %s: %w", abs, err)
	}
	g, err := git.PlainInitWithOptions(abs, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: ref},
	})
	if err != nil {
		return nil, fmt.Errorf("init repository %s: %w", abs, err)
	}
	stored, urlAuth := splitCredentials(remoteURL)
	if _, err := g.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{stored}}); err != nil {
		return nil, fmt.Errorf("init repository %s: add remote %s: %w", abs, redact.URL(remoteURL), err)
	}
	if err := configureClone(g, branch, glob); err != nil {
		return nil, fmt.Errorf("init repository %s: %w", abs, err)
	}
	auth := opts.Auth
	if auth == nil {
		auth = urlAuth
	}
	if auth == nil {
		auth = AuthFromEnv(stored)
	}
	return &Repo{dir: abs, g: g, branch: branch, remote: stored, auth: auth, net: timeouts}, nil
}

// configureClone writes the branch's upstream and the repo-local identity.
func configureClone(g *git.Repository, branch string, glob globalConfig) error {
	cfg, err := g.Config()
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	cfg.Branches[branch] = &config.Branch{
		Name:   branch,
		Remote: remoteName,
		Merge:  plumbing.NewBranchReferenceName(branch),
	}
	if glob.name != "" && glob.email != "" {
		cfg.User.Name, cfg.User.Email = glob.name, glob.email
	} else {
		cfg.User.Name, cfg.User.Email = fallbackName, fallbackEmail
	}
	if err := g.SetConfig(cfg); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// Open opens the repository whose work tree root is dir. Credentials for
// the remote come from AuthFromEnv; SetAuth replaces them. Network timeouts
// are the defaults (see InitOptions).
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	timeouts, err := netTimeouts(0, 0)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", abs, err)
	}
	g, err := git.PlainOpen(abs)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("open repository %s: %w", abs, ErrNotARepo)
	}
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", abs, err)
	}
	if _, err := g.Worktree(); err != nil {
		return nil, fmt.Errorf("open repository %s: %w (%w)", abs, ErrNotARepo, err)
	}
	head, err := g.Storer.Reference(plumbing.HEAD)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: read HEAD: %w", abs, err)
	}
	if head.Type() != plumbing.SymbolicReference || !head.Target().IsBranch() {
		return nil, fmt.Errorf("open repository %s: HEAD is detached; check out a branch", abs)
	}
	r := &Repo{dir: abs, g: g, branch: head.Target().Short(), net: timeouts}
	if rem, err := g.Remote(remoteName); err == nil && len(rem.Config().URLs) > 0 {
		r.remote = rem.Config().URLs[0]
	}
	r.auth = AuthFromEnv(r.remote)
	return r, nil
}

// Clone clones url into dir (which must be missing or empty) and sets the
// repo-local identity as Init does. A remote without commits gives
// ErrEmptyRemote; nothing is left in dir on failure. A password in url is
// used for the clone but not stored: origin is the URL without it.
func Clone(ctx context.Context, url, dir string, opts CloneOptions) (_ *Repo, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("clone into %s: %w", dir, err)
	}
	glob, err := loadGlobalConfig()
	if err != nil {
		return nil, fmt.Errorf("clone into %s: %w", abs, err)
	}
	stored, urlAuth := splitCredentials(url)
	auth := opts.Auth
	if auth == nil {
		auth = urlAuth
	}
	if auth == nil {
		auth = AuthFromEnv(stored)
	}
	timeouts, err := netTimeouts(opts.DialTimeout, opts.IdleTimeout)
	if err != nil {
		return nil, fmt.Errorf("clone into %s: %w", abs, err)
	}
	ctx = remoteCtx(ctx, timeouts)
	branch, err := pickCloneBranch(ctx, stored, auth, opts.Branch)
	if err != nil {
		return nil, err
	}

	created, err := prepareEmptyDir(abs)
	if err != nil {
		return nil, fmt.Errorf("clone into %s: %w", abs, err)
	}
	defer func() {
		if err != nil {
			cleanupDir(abs, created)
		}
	}()
	g, err := git.PlainCloneContext(ctx, abs, false, &git.CloneOptions{
		URL:           stored,
		Auth:          auth.method(stored),
		RemoteName:    remoteName,
		ReferenceName: plumbing.NewBranchReferenceName(branch),
		Tags:          git.NoTags,
	})
	if err != nil {
		return nil, mapRemoteErr("clone", url, err, auth.secret())
	}
	if err := configureClone(g, branch, glob); err != nil {
		return nil, fmt.Errorf("clone into %s: %w", abs, err)
	}
	return &Repo{dir: abs, g: g, branch: branch, remote: stored, auth: auth, net: timeouts}, nil
}

// pickCloneBranch lists the remote's refs and chooses the branch to check
// out. ctx comes from remoteCtx.
func pickCloneBranch(ctx context.Context, url string, auth *Auth, want string) (string, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: remoteName, URLs: []string{url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth.method(url)})
	if err != nil {
		return "", mapRemoteErr("clone", url, err, auth.secret())
	}
	branches := map[string]bool{}
	headTarget := ""
	for _, ref := range refs {
		switch {
		case ref.Name().IsBranch():
			branches[ref.Name().Short()] = true
		case ref.Name() == plumbing.HEAD && ref.Type() == plumbing.SymbolicReference:
			headTarget = ref.Target().Short()
		}
	}
	if len(branches) == 0 {
		return "", fmt.Errorf("clone %s: %w", redact.URL(url), ErrEmptyRemote)
	}
	if want != "" {
		if !branches[want] {
			return "", fmt.Errorf("clone %s: branch %q not found on the remote", redact.URL(url), want)
		}
		return want, nil
	}
	for _, b := range []string{headTarget, "main", "master"} {
		if b != "" && branches[b] {
			return b, nil
		}
	}
	if len(branches) == 1 {
		for b := range branches {
			return b, nil
		}
	}
	return "", fmt.Errorf("clone %s: remote HEAD names no existing branch and there are several; choose one", redact.URL(url))
}

// prepareEmptyDir makes sure dir exists and is empty; created reports
// whether it had to be created.
func prepareEmptyDir(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, os.MkdirAll(dir, 0o755)
	case err != nil:
		return false, err
	case len(entries) > 0:
		return false, fmt.Errorf("directory is not empty: %w", ErrExists)
	}
	return false, nil
}

// cleanupDir removes what a failed clone left: the directory itself when
// Clone created it, else its contents.
func cleanupDir(dir string, created bool) {
	if created {
		_ = os.RemoveAll(dir)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// SetAuth replaces the credentials used for the remote (nil: none).
func (r *Repo) SetAuth(a *Auth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.auth = a
}

// Dir is the absolute path of the work tree root.
func (r *Repo) Dir() string { return r.dir }

// Branch is the checked out branch (short name, e.g. "main").
func (r *Repo) Branch() string { return r.branch }

// RemoteURL is origin's URL as configured (may hold credentials; print it
// through redact.URL).
func (r *Repo) RemoteURL() string { return r.remote }

// Head returns the full hash of the branch tip, or "" when the branch has
// no commit yet.
func (r *Repo) Head() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.head()
	if err != nil {
		return "", err
	}
	if h.IsZero() {
		return "", nil
	}
	return h.String(), nil
}

// head returns the branch tip or the zero hash for an unborn branch.
func (r *Repo) head() (plumbing.Hash, error) {
	ref, err := r.g.Storer.Reference(r.branchRef())
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read branch %s in %s: %w", r.branch, r.dir, err)
	}
	return ref.Hash(), nil
}

func (r *Repo) branchRef() plumbing.ReferenceName {
	return plumbing.NewBranchReferenceName(r.branch)
}

func (r *Repo) trackingRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(remoteName, r.branch)
}

// Author returns the identity git would record: user.name and user.email
// from the repo-local config, each falling back to the global config. ok is
// false when either is missing.
func (r *Repo) Author() (Author, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.author()
}

func (r *Repo) author() (Author, bool) {
	var a Author
	if cfg, err := r.g.Config(); err == nil {
		a.Name, a.Email = cfg.User.Name, cfg.User.Email
	}
	if a.Name == "" || a.Email == "" {
		if glob, err := loadGlobalConfig(); err == nil {
			if a.Name == "" {
				a.Name = glob.name
			}
			if a.Email == "" {
				a.Email = glob.email
			}
		}
	}
	return a, a.Name != "" && a.Email != ""
}
