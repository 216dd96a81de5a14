package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/fs"
	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
)

type mountOptions struct {
	IO         *IOStreams
	Project    func(context.Context) (*versions.Project, error)
	Mountpoint string
	Reader     bool
	Refresh    time.Duration
	CacheDir   string
	Foreground bool
	AllowOther bool
	Debug      bool
	Prefetch   bool
	// Passthrough lets the kernel read cached versions from the cache file
	// directly (FUSE passthrough) where it can.
	Passthrough bool
	CacheSize   byteSize
}

func newMountCmd(f *factory, runF func(context.Context, *mountOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &mountOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "mount MOUNTPOINT",
		Short: "Mount the project's tables as files (FUSE)",
		Long: `Mount the project at MOUNTPOINT: tables/<t>/ holds one read-only file per
version (@<id>.parquet and its @<id>.csv rendition), current.parquet (a symlink
to the current version) and history.json. Any unique prefix of a version id
works in a path (tables/lb/@19f4.parquet).

Copying a .parquet or .csv file into tables/<t>/ writes a new version of <t>
when the file is closed (pull, validate, hash, upload, commit, push; close()
fails with the reason in the log if any step fails). Copying into tables/
creates or updates the table named after the file; mkdir tables/<t> makes an
empty table. Temporary names (dot-files, *.tmp, *~, *.partial) are kept until
they are renamed to a .parquet or .csv name, which publishes them. Versions
cannot be changed, renamed or removed. A reader mount (--store) is read-only.

The mount is private: only the user who mounted it can use it (not even
root), unless --allow-other is given; then other users can read what the file
modes allow, and only the owner can write.

The mount refreshes from the remote every --refresh (0 disables). It stays in
the foreground until Ctrl-C, SIGTERM or "fusermount3 -u MOUNTPOINT"; run it
under a service manager (or with &) to keep it in the background.`,
		Example: `  datomfs mount -C ~/study001 /mnt/datom
  cp extract.parquet /mnt/datom/tables/lb/
  datomfs mount --store s3://acme-data/study001 --project STUDY_001 /mnt/study001
  datomfs mount --cache /data/datomfs-cache --cache-size 50GiB /mnt/datom
  datomfs mount --allow-other -C ~/study001 /srv/datom   # shared with other users
  fusermount3 -u /mnt/datom`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Mountpoint = args[0]
			if opts.Reader && pf.store == "" {
				return usagef("--reader needs --store (and --project): a reader mounts from the store alone")
			}
			if opts.Refresh < 0 {
				return usagef("--refresh %s: must be 0 (off) or positive", opts.Refresh)
			}
			if fi, err := os.Stat(opts.Mountpoint); err != nil || !fi.IsDir() {
				return usagef("mount point %s must be an existing folder", opts.Mountpoint)
			}
			opts.Project = func(ctx context.Context) (*versions.Project, error) {
				o := f.options(pf.endpoint, false)
				o.CacheDir = opts.CacheDir
				o.CacheMaxBytes = int64(opts.CacheSize)
				if pf.store != "" {
					return versions.OpenReader(ctx, pf.store, pf.project, o)
				}
				p, err := versions.Open(ctx, pf.dir, o)
				if errors.Is(err, versions.ErrNotProject) {
					return nil, withHint(err, "run inside a clone, pass -C DIR, or use --store and --project for a read-only mount")
				}
				return p, err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return mountRun(cmd.Context(), f, opts)
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&opts.Reader, "reader", false, "read-only mount from the store alone (with --store and --project)")
	cmd.Flags().DurationVar(&opts.Refresh, "refresh", 30*time.Second, "how often to pull from the remote (0 disables)")
	cmd.Flags().StringVar(&opts.CacheDir, "cache", "", "folder of the verified version cache, kept private (0700) (default: $DATOMFS_CACHE or the user cache dir)")
	cmd.Flags().BoolVar(&opts.Foreground, "foreground", false, "stay in the foreground (always the case: datomfs does not daemonize)")
	cmd.Flags().BoolVar(&opts.AllowOther, "allow-other", false, "let other users read the mount (root, or user_allow_other in /etc/fuse.conf); by default only you can use it")
	cmd.Flags().BoolVar(&opts.Debug, "debug-fuse", false, "log every FUSE request")
	opts.CacheSize = 10 << 30
	cmd.Flags().Var(&opts.CacheSize, "cache-size", "bound of the version cache; least recently used versions not in use are evicted beyond it (10GiB, 500MB; 0: unbounded)")
	cmd.Flags().BoolVar(&opts.Passthrough, "passthrough", true, "let the kernel read cached versions straight from the cache file (FUSE passthrough, needs root and Linux 6.9+; false: every read goes through datomfs)")
	cmd.Flags().BoolVar(&opts.Prefetch, "prefetch", true, "fill the cache of a remote version in the background once it is opened (false: fetch only the ranges readers ask for)")
	return cmd
}

func mountRun(ctx context.Context, f *factory, opts *mountOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	allowOther := opts.AllowOther
	if allowOther && os.Geteuid() != 0 && !fuseConfAllowsOther() {
		allowOther = false
		fmt.Fprintln(opts.IO.ErrOut, "note: other users cannot read this mount (add user_allow_other to /etc/fuse.conf to allow it)")
	}
	srv, err := fs.Mount(ctx, opts.Mountpoint, p, fs.Options{
		Logger:        f.Logger,
		Converter:     query.Converter{},
		Refresh:       opts.Refresh,
		AllowOther:    allowOther,
		Debug:         opts.Debug,
		NoFill:        !opts.Prefetch,
		NoPassthrough: !opts.Passthrough,
	})
	if err != nil {
		return err
	}
	mode := "read-write"
	if p.Role() != versions.Developer {
		mode = "read-only"
	}
	fmt.Fprintf(opts.IO.ErrOut, "Mounted %s (%s) at %s\n", p.Name(), mode, srv.Dir())
	if opts.IO.StderrTTY {
		fmt.Fprintf(opts.IO.ErrOut, "Stop with Ctrl-C, or: fusermount3 -u %s\n", srv.Dir())
	}

	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan struct{})
	go func() {
		srv.Wait()
		close(done)
	}()
	select {
	case <-done:
		// Unmounted from outside (fusermount3 -u).
		return nil
	case <-sig:
	case <-ctx.Done():
	}
	if err := srv.Unmount(); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "%v; files are still open, detaching the mount\n", err)
		if err := srv.Detach(); err != nil {
			return err
		}
	}
	<-done
	return nil
}

// fuseConfAllowsOther reports whether /etc/fuse.conf lets users mount with
// allow_other.
func fuseConfAllowsOther() bool {
	b, err := os.ReadFile("/etc/fuse.conf")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "user_allow_other" {
			return true
		}
	}
	return false
}
