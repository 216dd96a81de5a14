package fs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/datomfs/datomfs/versions"
)

// Options tune a mount.
type Options struct {
	// Logger receives one line per failed operation (other than not found)
	// and per write; nil discards.
	Logger *slog.Logger
	// Converter renders @<id>.csv files; nil hides them.
	Converter CSVConverter
	// Refresh is the interval of the background refresh (pull, or re-read
	// of the store mirrors for readers); 0 disables it.
	Refresh time.Duration
	// AllowOther lets other users read the mount (needs root or
	// user_allow_other in /etc/fuse.conf). Permissions are then enforced
	// by the kernel (default_permissions): others can read, only the
	// mounting user can write.
	AllowOther bool
	// StagingDir is where files being written are kept (outside the
	// mount); default: a fresh folder under the project's cache.
	StagingDir string
	// Debug logs every FUSE request.
	Debug bool
	// NoFill serves remote (S3) versions by ranged reads only, without
	// filling the cache in the background (to measure what readers fetch).
	NoFill bool
	// Prefetch fills the cache with a remote version in the background as
	// soon as it is opened; by default the fill starts once its reads look
	// sequential.
	Prefetch bool
	// NoPassthrough turns FUSE passthrough off: reads of cached versions
	// then go through this process (versionFile.Read) even where the kernel
	// could serve them from the cache file directly.
	NoPassthrough bool
}

// Server is a mounted project.
type Server struct {
	srv     *fuse.Server
	c       *core
	dir     string
	staging *versions.StagingDir
	cancel  context.CancelFunc
	loops   sync.WaitGroup

	// passthrough: the kernel accepted a backing file of the cache's file
	// system when we mounted (see probePassthrough).
	passthrough bool

	mu         sync.Mutex
	tables     *gofs.Inode
	unmounted  bool
	unmountErr error
}

// Mount mounts project p at mountpoint and serves it until Unmount (or an
// external fusermount3 -u). A reader project mounts read-only.
func Mount(ctx context.Context, mountpoint string, p *versions.Project, o Options) (*Server, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, err
	}
	if err := CheckNotMounted(dir); err != nil {
		return nil, err
	}
	// What killed mounts and writes left behind goes first; a live
	// process's staging folder is never touched (versions/staging.go).
	staging, err := p.NewMountStaging(ctx, o.StagingDir)
	if err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := newCore(p, coreOptions{log: log, conv: o.Converter, staging: staging.Path, bg: bg, noFill: o.NoFill, prefetch: o.Prefetch})
	m := &Server{c: c, dir: dir, staging: staging, cancel: cancel}
	c.onChange = m.invalidate
	// Load the table list before mounting: a project we cannot read is an
	// error now, not EIO later.
	if err := c.tree.ensureLoaded(ctx); err != nil {
		cancel()
		staging.Remove()
		return nil, err
	}

	short, zero := mutableTimeout, time.Duration(0)
	mopts := []string{"default_permissions"}
	if c.readOnly {
		mopts = append(mopts, "ro")
	}
	var disabled uint64
	if o.NoPassthrough {
		// Not negotiated: the kernel refuses every backing file, go-fuse
		// stops trying after the first and reads come to versionFile.Read.
		disabled |= fuse.CAP_PASSTHROUGH
	}
	root := &rootNode{c: c, tables: func(t *gofs.Inode) { m.mu.Lock(); m.tables = t; m.mu.Unlock() }}
	srv, err := mountNodes(dir, root, &gofs.Options{
		MountOptions: fuse.MountOptions{
			FsName:      "datomfs:" + p.Name(),
			Name:        "datomfs",
			AllowOther:  o.AllowOther,
			Options:     mopts,
			DirectMount: os.Geteuid() == 0,
			// Copy-in writes and uncached reads move whole files: 1 MiB
			// requests instead of go-fuse's 128 KiB cut the round trips 8x.
			MaxWrite: 1 << 20,
			Debug:    o.Debug,
			Logger:   slog.NewLogLogger(log.Handler(), slog.LevelDebug),
			// DisabledCapabilities: go-fuse offers CAP_PASSTHROUGH by
			// default (with MaxStackDepth 1: the cache must be on a plain
			// file system, not overlayfs).
			DisabledCapabilities: disabled,
			// READDIRPLUS_AUTO: the kernel asks for a listing's
			// attributes (READDIRPLUS) only for its first request and
			// when the program looked names up since the last one (ls -l
			// of a small folder); otherwise plain READDIR. A plain ls of
			// a table with 10,000 versions then costs no lookup, inode
			// or kernel dentry per name. go-fuse negotiates it only when
			// asked, and only if the kernel offers it.
			//
			// DIRECT_IO_ALLOW_MMAP: a file opened with direct I/O (a CSV
			// or .rds rendition, see versionNode.Open) can still be
			// mapped (polars maps a CSV it reads); Linux 6.6+.
			// ASYNC_DIO: the kernel sends the pieces of one large direct
			// read at once, not one after another.
			ExtraCapabilities: fuse.CAP_READDIRPLUS_AUTO | fuse.CAP_DIRECT_IO_ALLOW_MMAP | fuse.CAP_ASYNC_DIO,
		},
		EntryTimeout:    &short,
		AttrTimeout:     &short,
		NegativeTimeout: &zero,
		UID:             uint32(os.Getuid()),
		GID:             uint32(os.Getgid()),
	})
	if err != nil {
		cancel()
		staging.Remove()
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	m.srv = srv
	m.passthrough = probePassthrough(srv, p.CacheDir())
	log.Debug("mounted", "dir", dir, "passthrough", m.passthrough)
	if o.Refresh > 0 {
		m.loops.Add(1)
		go func() {
			defer m.loops.Done()
			c.refreshLoop(bg, o.Refresh)
		}()
	}
	go func() {
		// An external unmount (fusermount3 -u) ends the serve loop.
		srv.Wait()
		m.stop()
	}()
	return m, nil
}

// mountNodes is gofs.Mount with the node tree's requests passed through
// noXattrs.
func mountNodes(dir string, root gofs.InodeEmbedder, o *gofs.Options) (*fuse.Server, error) {
	srv, err := fuse.NewServer(noXattrs{gofs.NewNodeFS(root, o)}, dir, &o.MountOptions)
	if err != nil {
		return nil, err
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		return nil, err
	}
	return srv, nil
}

// noXattrs answers getxattr with ENOSYS: the mount keeps no extended
// attributes, and that answer makes the kernel stop asking (callers get
// EOPNOTSUPP from then on, with no request). go-fuse answers ENODATA,
// asked again for every name: ls -l asked for two attributes of every
// file, three requests per name with its stat.
type noXattrs struct{ fuse.RawFileSystem }

func (noXattrs) GetXAttr(cancel <-chan struct{}, header *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	return 0, fuse.ENOSYS
}

// Dir is the mount point.
func (m *Server) Dir() string { return m.dir }

// Passthrough reports whether reads of cached versions bypass this process:
// the kernel serves them from the cache file (FUSE passthrough). That needs
// a kernel built with it (CONFIG_FUSE_PASSTHROUGH, Linux 6.9+), CAP_SYS_ADMIN,
// a cache on a file system that is not itself stacked (overlayfs), and no
// Options.NoPassthrough. It is what the kernel answered when Mount
// registered a probe file of the cache's file system as a backing file.
func (m *Server) Passthrough() bool { return m.passthrough }

// probePassthrough asks the kernel to accept a regular file in the cache
// folder as a passthrough backing file, the same request go-fuse makes on
// each open of a cached version, and unregisters it at once. Any refusal
// (capability not negotiated, EPERM without CAP_SYS_ADMIN, ELOOP on a
// stacked file system) means reads go through versionFile.Read.
func probePassthrough(srv *fuse.Server, cacheRoot string) bool {
	if err := os.MkdirAll(cacheRoot, 0o700); err != nil {
		return false
	}
	f, err := os.CreateTemp(cacheRoot, ".passthrough-probe-*")
	if err != nil {
		return false
	}
	defer os.Remove(f.Name())
	defer f.Close()
	id, errno := srv.RegisterBackingFd(&fuse.BackingMap{Fd: int32(f.Fd())})
	if errno != 0 {
		return false
	}
	_ = srv.UnregisterBackingFd(id)
	return true
}

// Refresh pulls (or re-reads the store) now and invalidates what changed.
func (m *Server) Refresh(ctx context.Context) error { return m.c.refresh(ctx) }

// Wait blocks until the file system is unmounted.
func (m *Server) Wait() {
	m.srv.Wait()
	m.loops.Wait()
}

// Unmount unmounts, retrying while the kernel still counts open files for a
// few seconds. It is safe to call more than once.
func (m *Server) Unmount() error {
	m.mu.Lock()
	if m.unmounted {
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	var err error
	for i := 0; i < 20; i++ {
		if err = m.srv.Unmount(); err == nil {
			break
		}
		time.Sleep(time.Duration(50*(i+1)) * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", m.dir, err)
	}
	m.Wait()
	m.stop()
	return nil
}

// stop ends the background work and removes the staging folder.
func (m *Server) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unmounted {
		return
	}
	m.unmounted = true
	m.cancel()
	m.staging.Remove()
}

// invalidate tells the kernel what a reload changed: the entries of removed
// tables, and current.parquet and history.json of changed ones. Versions
// never change, so nothing else is invalidated. It runs on its own
// goroutine: a notification sent while the kernel holds the folder's lock
// for the request that caused it (a rename) would deadlock.
func (m *Server) invalidate(c changes) {
	m.mu.Lock()
	tables := m.tables
	m.mu.Unlock()
	if tables == nil {
		return
	}
	go func() {
		for _, t := range c.removed {
			_ = tables.NotifyEntry(t.String())
		}
		for _, t := range c.changed {
			dir := tables.GetChild(t.String())
			if dir == nil {
				continue
			}
			_ = dir.NotifyEntry(currentName)
			_ = dir.NotifyEntry(currentRDSName)
			_ = dir.NotifyEntry(historyName)
			if h := dir.GetChild(historyName); h != nil {
				_ = h.NotifyContent(0, 0)
			}
		}
	}()
}

// Detach unmounts lazily (the mount disappears from the namespace now and
// is torn down when its last file is closed), for a stop that must not wait
// for busy readers. Then it waits for the serve loop to end.
func (m *Server) Detach() error {
	var err error
	if os.Geteuid() == 0 {
		err = syscall.Unmount(m.dir, syscall.MNT_DETACH)
	} else {
		var out []byte
		out, err = exec.Command("fusermount3", "-u", "-z", m.dir).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
		}
	}
	if err != nil {
		return fmt.Errorf("detach %s: %w", m.dir, err)
	}
	m.Wait()
	m.stop()
	return nil
}

// ErrAlreadyMounted is a mount point that already holds a datomfs mount.
var ErrAlreadyMounted = errors.New("already a datomfs mount")

// CheckNotMounted refuses a folder that is already a datomfs mount (a second
// mount would stack on it and hide it), reading /proc/self/mountinfo.
func CheckNotMounted(mountpoint string) error {
	dir, err := filepath.Abs(mountpoint)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil // not Linux, or no /proc: the kernel decides
	}
	if source, ok := datomfsMountAt(string(raw), dir); ok {
		return fmt.Errorf("%s: %w (%s); unmount it first: fusermount3 -u %s", dir, ErrAlreadyMounted, source, dir)
	}
	return nil
}

// datomfsMountAt finds a datomfs mount at dir in a mountinfo table and
// returns its source ("datomfs:PROJECT").
func datomfsMountAt(mountinfo, dir string) (string, bool) {
	unescape := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 2 {
			continue
		}
		if unescape.Replace(f[4]) == dir && g[0] == "fuse.datomfs" {
			return unescape.Replace(g[1]), true
		}
	}
	return "", false
}
