package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	AllowOther bool
	// Daemon returns once the mount is ready, leaving a background process
	// serving it; LogFile receives the log (default: stderr, or nothing
	// for a daemon).
	Daemon  bool
	LogFile string
	// daemonArgs are the arguments of the background process (the
	// command line less --daemon); startDaemon starts it (tests swap it).
	daemonArgs  []string
	startDaemon func(args []string) *exec.Cmd
	Debug       bool
	Prefetch    bool // --prefetch: fill remote versions from open
	NoPrefetch  bool // --prefetch=false: never fill them
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

Copying a file that "datomfs write" takes (.parquet, .csv, .tsv, .psv, .txt)
into tables/<t>/ writes a new version of <t> when the file is closed (pull,
validate, hash, upload, commit, push; close() fails with the reason in the log
if any step fails). Copying into tables/ creates or updates the table named
after the file; mkdir tables/<t> makes an empty table. Temporary names
(dot-files, *.tmp, *~, *.partial) are kept until they are renamed to such a
name, which publishes them. Versions
cannot be changed, renamed or removed. A reader mount (--store) is read-only.

The mount is private: only the user who mounted it can use it (not even
root), unless --allow-other is given; then other users can read what the file
modes allow, and only the owner can write.

The mount refreshes from the remote every --refresh (0 disables). It stays in
the foreground until Ctrl-C, SIGTERM or "fusermount3 -u MOUNTPOINT"; with
--daemon it returns once the mount is ready and a background process serves
it until "fusermount3 -u MOUNTPOINT" or SIGTERM. Under systemd, run it in the
foreground (Type=simple, see fs/SEMANTICS.md). A folder that already holds a
datomfs mount is refused.

Each publish is logged (table, new version, size, change, seconds), as are
failures with their reason: on stderr, or in --log-file.`,
		Example: `  datomfs mount -C ~/study001 /mnt/datom
  cp extract.parquet /mnt/datom/tables/lb/
  datomfs mount --store s3://acme-data/study001 --project STUDY_001 /mnt/study001
  datomfs mount --cache /data/datomfs-cache --cache-size 50GiB /mnt/datom
  datomfs mount --allow-other -C ~/study001 /srv/datom   # shared with other users
  datomfs mount --daemon --log-file ~/datomfs-mount.log -C ~/study001 /mnt/datom
  fusermount3 -u /mnt/datom`,
		Args: namedArgs(1, "MOUNTPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Mountpoint = args[0]
			opts.NoPrefetch = cmd.Flags().Changed("prefetch") && !opts.Prefetch
			if opts.Reader && pf.store == "" {
				return usagef("--reader needs --store (and --project): a reader mounts from the store alone")
			}
			if opts.Refresh < 0 {
				return usagef("--refresh %s: must be 0 (off) or positive", opts.Refresh)
			}
			if err := fs.CheckNotMounted(opts.Mountpoint); err != nil {
				return err
			}
			if fi, err := os.Stat(opts.Mountpoint); errors.Is(err, syscall.ENOTCONN) {
				return fmt.Errorf("%s is a mount whose process has ended; unmount it first: fusermount3 -u %s", opts.Mountpoint, opts.Mountpoint)
			} else if err != nil || !fi.IsDir() {
				return usagef("mount point %s must be an existing folder", opts.Mountpoint)
			}
			if opts.Daemon {
				opts.daemonArgs = daemonArgs(cmd, opts.Mountpoint)
				opts.startDaemon = func(args []string) *exec.Cmd {
					self, err := os.Executable()
					if err != nil {
						self = os.Args[0]
					}
					return exec.Command(self, args...)
				}
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
	cmd.Flags().BoolVar(&opts.Daemon, "daemon", false, "return once the mount is ready, serving it from a background process (stop it with fusermount3 -u)")
	cmd.Flags().StringVar(&opts.LogFile, "log-file", "", "append the log to FILE instead of stderr")
	var foreground bool
	cmd.Flags().BoolVar(&foreground, "foreground", false, "")
	cmd.Flags().MarkDeprecated("foreground", "the mount stays in the foreground unless --daemon is given")
	cmd.Flags().BoolVar(&opts.AllowOther, "allow-other", false, "let other users read the mount (root, or user_allow_other in /etc/fuse.conf); by default only you can use it")
	cmd.Flags().BoolVar(&opts.Debug, "debug-fuse", false, "log every FUSE request")
	opts.CacheSize = 10 << 30
	cmd.Flags().Var(&opts.CacheSize, "cache-size", "bound of the version cache; least recently used versions not in use are evicted beyond it (10GiB, 500MB; 0: unbounded)")
	cmd.Flags().BoolVar(&opts.Passthrough, "passthrough", true, "let the kernel read cached versions straight from the cache file (FUSE passthrough, needs root and Linux 6.9+; false: every read goes through datomfs)")
	cmd.Flags().BoolVar(&opts.Prefetch, "prefetch", false, "fill the cache of a remote version in the background as soon as it is opened (default: once its reads look sequential; false: never, fetch only the ranges readers ask for)")
	return cmd
}

func mountRun(ctx context.Context, f *factory, opts *mountOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.Daemon && os.Getenv(readyFDEnv) == "" {
		return runDaemon(opts)
	}
	ready := readyPipe()
	err := serveMount(ctx, f, opts, ready)
	if ready != nil { // the parent of a daemon reports the failure
		if err != nil {
			hint := hintOf(err)
			if hint == "" {
				hint = defaultHint(err)
			}
			fmt.Fprintf(ready, "error %s\nhint %s\n", oneLine(err.Error()), hint)
		}
		ready.Close()
	}
	return err
}

// serveMount mounts and serves until unmounted or signalled; ready (the
// daemon's pipe to its parent, or nil) hears "ok" once the mount is there.
func serveMount(ctx context.Context, f *factory, opts *mountOptions, ready *os.File) error {
	// A mount logs each publish: its default level is Info (-v: Debug).
	logOut := opts.IO.ErrOut
	if opts.LogFile != "" {
		fh, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("open the log file: %w", err)
		}
		defer fh.Close()
		logOut = fh
	}
	level := slog.LevelInfo
	if f.Logger != nil && f.Logger.Enabled(ctx, slog.LevelDebug) {
		level = slog.LevelDebug
	}
	f.Logger = slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	allowOther := opts.AllowOther
	if allowOther && os.Geteuid() != 0 && !fuseConfAllowsOther() {
		allowOther = false
		fmt.Fprintln(opts.IO.ErrOut, "note: other users cannot read this mount (add user_allow_other to /etc/fuse.conf to allow it)")
	}
	// Signals are ours before the mount is announced: a script that sees
	// "Mounted" and sends SIGTERM must get a clean unmount, not the
	// default action (which would leave the mount point dead).
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	srv, err := fs.Mount(ctx, opts.Mountpoint, p, fs.Options{
		Logger:        f.Logger,
		Converter:     query.Converter{},
		Refresh:       opts.Refresh,
		AllowOther:    allowOther,
		Debug:         opts.Debug,
		NoFill:        opts.NoPrefetch,
		Prefetch:      opts.Prefetch,
		NoPassthrough: !opts.Passthrough,
	})
	if err != nil {
		return err
	}
	mode := "read-write"
	if p.Role() != versions.Developer {
		mode = "read-only"
	}
	msg := fmt.Sprintf("Mounted %s (%s) at %s", p.Name(), mode, srv.Dir())
	if opts.LogFile != "" {
		f.Logger.Info("datomfs: mounted", "project", p.Name(), "mode", mode, "dir", srv.Dir(), "pid", os.Getpid())
	}
	if ready != nil {
		fmt.Fprintf(ready, "ok %s\n", msg)
		ready.Close()
	} else {
		fmt.Fprintln(opts.IO.ErrOut, msg)
	}
	if opts.IO.StderrTTY && ready == nil {
		fmt.Fprintf(opts.IO.ErrOut, "Stop with Ctrl-C, or: fusermount3 -u %s\n", srv.Dir())
	}

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
		f.Logger.Warn("datomfs: unmount: files are still open, detaching the mount", "err", err)
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

// readyFDEnv names the descriptor on which a daemon's background process
// tells its parent that the mount is ready ("ok MESSAGE") or why it failed
// ("error MESSAGE").
const readyFDEnv = "DATOMFS_MOUNT_READY_FD"

// readyPipe is the daemon's pipe to its parent, if this is one.
func readyPipe() *os.File {
	fd, err := strconv.Atoi(os.Getenv(readyFDEnv))
	if err != nil || fd < 3 {
		return nil
	}
	os.Unsetenv(readyFDEnv)
	return os.NewFile(uintptr(fd), "ready")
}

// daemonArgs rebuilds the command line for the background process: the
// flags that were set (less --daemon) and the mount point made absolute.
func daemonArgs(cmd *cobra.Command, mountpoint string) []string {
	args := []string{"mount"}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "daemon", "foreground":
			return
		case "dir", "cache", "log-file":
			if v := fl.Value.String(); v != "" && !filepath.IsAbs(v) {
				if abs, err := filepath.Abs(v); err == nil {
					args = append(args, "--"+fl.Name+"="+abs)
					return
				}
			}
		}
		args = append(args, "--"+fl.Name+"="+fl.Value.String())
	})
	if abs, err := filepath.Abs(mountpoint); err == nil {
		mountpoint = abs
	}
	return append(args, "--", mountpoint)
}

// runDaemon starts the background process (its own session, stdin from
// /dev/null, output to the log file or nowhere) and returns once it reports
// the mount ready, or with the reason it failed.
func runDaemon(opts *mountOptions) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	child := opts.startDaemon(opts.daemonArgs)
	child.Env = append(child.Environ(), readyFDEnv+"=3")
	child.ExtraFiles = []*os.File{w}
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if opts.LogFile != "" {
		out, err = os.OpenFile(opts.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	}
	if err != nil {
		w.Close()
		return fmt.Errorf("open the log file: %w", err)
	}
	defer out.Close()
	child.Stdin, child.Stdout, child.Stderr = nil, out, out
	if err := child.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start the mount process: %w", err)
	}
	w.Close()
	br := bufio.NewReader(r)
	line, _ := br.ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(line, "ok "):
		pid := child.Process.Pid
		child.Process.Release()
		fmt.Fprintf(opts.IO.ErrOut, "%s (process %d)\n", strings.TrimPrefix(line, "ok "), pid)
		if opts.IO.StderrTTY {
			fmt.Fprintf(opts.IO.ErrOut, "Stop with: fusermount3 -u %s\n", opts.daemonArgs[len(opts.daemonArgs)-1])
		}
		return nil
	case strings.HasPrefix(line, "error "):
		hint, _ := br.ReadString('\n')
		child.Wait()
		err := errors.New(strings.TrimPrefix(line, "error "))
		if hint = strings.TrimSpace(strings.TrimPrefix(hint, "hint")); hint != "" {
			return withHint(err, hint)
		}
		return err
	}
	err = child.Wait()
	if opts.LogFile != "" {
		return fmt.Errorf("the mount process ended before the mount was ready (%v); see %s", err, opts.LogFile)
	}
	return fmt.Errorf("the mount process ended before the mount was ready (%v); run without --daemon to see why", err)
}
