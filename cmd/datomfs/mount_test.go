package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datomfs/datomfs/fs"
	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/internal/testenv/projecttest"
)

func TestMountFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &factory{IO: io}
	mnt := t.TempDir()
	var got *mountOptions
	cmd := newMountCmd(f, func(_ context.Context, o *mountOptions) error { got = o; return nil })
	if err := runCmd(t, cmd, mnt, "-C", "/p", "--refresh", "5s", "--cache", "/c", "--foreground"); err != nil {
		t.Fatal(err)
	}
	if got.Mountpoint != mnt || got.Refresh != 5*time.Second || got.CacheDir != "/c" || got.Reader || got.AllowOther {
		t.Errorf("got %+v", got)
	}
	cmd = newMountCmd(f, func(_ context.Context, o *mountOptions) error { got = o; return nil })
	if err := runCmd(t, cmd, mnt); err != nil {
		t.Fatal(err)
	}
	if got.Refresh != 30*time.Second {
		t.Errorf("default refresh %v, want 30s", got.Refresh)
	}
	cmd = newMountCmd(f, func(_ context.Context, o *mountOptions) error { got = o; return nil })
	if err := runCmd(t, cmd, mnt, "--allow-other"); err != nil {
		t.Fatal(err)
	}
	if !got.AllowOther {
		t.Error("--allow-other not set")
	}
	for _, bad := range [][]string{
		{},
		{mnt, "--reader"},
		{mnt, "--refresh", "-1s"},
		{filepath.Join(mnt, "missing")},
	} {
		cmd := newMountCmd(f, func(context.Context, *mountOptions) error { t.Fatal("runF called"); return nil })
		err := runCmd(t, cmd, bad...)
		if _, ok := err.(*usageError); !ok && !isCobraUsage(err) {
			t.Errorf("%v: want a usage error, got %v", bad, err)
		}
	}
}

// TestMountHelperProcess is the datomfs process the mount tests start.
func TestMountHelperProcess(t *testing.T) {
	if os.Getenv("DATOMFS_MOUNT_HELPER") != "1" {
		return
	}
	args := strings.Split(os.Getenv("DATOMFS_MOUNT_ARGS"), "\x1f")
	os.Exit(mainWithMount(args, System()))
}

// mainWithMount is Main with the mount verb registered (in case
// commands.go does not list it yet).
func mainWithMount(args []string, io *IOStreams) int {
	f := &factory{IO: io, Logger: slog.New(slog.NewTextHandler(io.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	root := newRootCmd(f)
	if c, _, err := root.Find([]string{"mount"}); err != nil || c == root {
		root.AddCommand(newMountCmd(f, nil))
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	return reportError(io, cmd, err)
}

// startMount runs "datomfs mount" as its own process over a fresh project
// and waits until the mount is there.
func startMount(t *testing.T) (*mountProc, string, *testenv.SyncBuffer) {
	t.Helper()
	clone, mnt, cache := mountProject(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMountHelperProcess$")
	cmd.Env = append(os.Environ(), "DATOMFS_MOUNT_HELPER=1",
		"DATOMFS_MOUNT_ARGS="+strings.Join([]string{"mount", "-C", clone, mnt, "--refresh", "0", "--cache", cache}, "\x1f"))
	stderr := &testenv.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mp := &mountProc{cmd: cmd, exited: make(chan struct{})}
	go func() { mp.err = cmd.Wait(); close(mp.exited) }()
	t.Cleanup(func() {
		if !testenv.StopProcess(cmd.Process, syscall.SIGKILL, mp.exited, mnt, 5*time.Second) {
			t.Errorf("the mount process had to be forced off")
		}
		if !testenv.ForceUnmount(mnt) {
			t.Errorf("%s left mounted", mnt)
		}
	})
	// Ready once it says so: Mount has returned, go-fuse's own start-up
	// check (which keeps a file open on the mount) is over.
	for i := 0; i < 400 && !strings.Contains(stderr.String(), "Mounted "); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !testenv.Mounted(mnt) || !strings.Contains(stderr.String(), "Mounted ") {
		t.Fatalf("mount did not appear; stderr:\n%s", stderr.String())
	}
	return mp, mnt, stderr
}

// mountProject makes a project clone, an empty mount point and a cache
// folder.
func mountProject(t *testing.T) (clone, mnt, cache string) {
	t.Helper()
	pf := projecttest.New(t, projecttest.Options{})
	return pf.Dir, t.TempDir(), pf.Cache
}

// mountProc is the mount helper process; exited closes when it has ended.
type mountProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// wait waits for the process to end, at most d.
func (m *mountProc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-m.exited:
		return m.err
	case <-time.After(d):
		t.Fatalf("the mount process did not end within %s", d)
		return nil
	}
}

func TestMountProcessStopsOnSIGTERM(t *testing.T) {
	cmd, mnt, stderr := startMount(t)
	entries, err := os.ReadDir(mnt)
	if err != nil || len(entries) != 3 || entries[2].Name() != "tables" {
		t.Fatalf("ls mount: %v %v", entries, err)
	}
	if err := os.Mkdir(filepath.Join(mnt, "tables", "dm"), 0o755); err != nil {
		t.Errorf("mkdir tables/dm: %v", err)
	}
	if err := cmd.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.wait(t, 30*time.Second); err != nil {
		t.Fatalf("datomfs mount after SIGTERM: %v; stderr:\n%s", err, stderr.String())
	}
	if testenv.Mounted(mnt) {
		t.Error("still mounted after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "Mounted STUDY_001") {
		t.Errorf("stderr does not say where it is mounted:\n%s", stderr.String())
	}
}

func TestMountProcessEndsOnFusermountU(t *testing.T) {
	cmd, mnt, stderr := startMount(t)
	// A reader that just left may keep the mount busy for a moment.
	var out []byte
	var err error
	for i := 0; i < 50; i++ {
		if out, err = exec.Command("fusermount3", "-u", mnt).CombinedOutput(); err == nil || !strings.Contains(string(out), "busy") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("fusermount3 -u: %v: %s (install fuse3)", err, out)
	}
	if err := cmd.wait(t, 30*time.Second); err != nil {
		t.Fatalf("datomfs mount after fusermount3 -u: %v; stderr:\n%s", err, stderr.String())
	}
}

// TestMountRefusesSecondMount: a folder that already holds a datomfs mount
// is refused at once, before the project is opened.
func TestMountRefusesSecondMount(t *testing.T) {
	_, mnt, _ := startMount(t)
	io, _, _, _ := TestIO()
	cmd := newMountCmd(&factory{IO: io}, func(context.Context, *mountOptions) error {
		t.Fatal("a second mount went ahead")
		return nil
	})
	err := runCmd(t, cmd, mnt, "-C", "/nonexistent")
	if !errors.Is(err, fs.ErrAlreadyMounted) || !strings.Contains(err.Error(), "fusermount3 -u "+mnt) {
		t.Fatalf("second mount: %v", err)
	}
}

// TestMountLogsPublish: each publish is one line at the default level with
// table, version, size, change and seconds.
func TestMountLogsPublish(t *testing.T) {
	_, mnt, stderr := startMount(t)
	if err := os.WriteFile(filepath.Join(mnt, "tables", "lb.csv"), []byte("id,val\n1,10\n"), 0o644); err != nil {
		t.Fatalf("copy in: %v\n%s", err, stderr.String())
	}
	line := ""
	for i := 0; i < 200 && line == ""; i++ { // the line crosses a pipe
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "datomfs: published") {
				line = l
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"level=INFO", "table=lb", "size=12", "change=full", "seconds="} {
		if !strings.Contains(line, want) {
			t.Errorf("publish line lacks %q: %q\nstderr:\n%s", want, line, stderr.String())
		}
	}
	if !regexp.MustCompile(`version=[0-9a-f]{8} `).MatchString(line) {
		t.Errorf("publish line has no 8-hex version: %q", line)
	}
}

// TestMountDaemon: --daemon returns once the mount is ready, the mount
// stays served by a background process that logs to --log-file and ends on
// fusermount3 -u.
func TestMountDaemon(t *testing.T) {
	clone, mnt, cache := mountProject(t)
	logFile := filepath.Join(t.TempDir(), "mount.log")
	cmd := exec.Command(os.Args[0], "mount", "--daemon", "--log-file", logFile, "-C", clone, mnt, "--refresh", "0", "--cache", cache)
	cmd.Env = append(os.Environ(), "DATOMFS_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t.Cleanup(func() {
		if !testenv.ForceUnmount(mnt) {
			t.Errorf("%s left mounted", mnt)
		}
	})
	if err := cmd.Run(); err != nil {
		t.Fatalf("mount --daemon: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`Mounted STUDY_001 \(read-write\) at \S+ \(process (\d+)\)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("stderr: %q", stderr.String())
	}
	pid, _ := strconv.Atoi(m[1])
	daemon, _ := os.FindProcess(pid)
	t.Cleanup(func() { daemon.Signal(syscall.SIGKILL) })
	if !testenv.Mounted(mnt) {
		t.Fatal("not mounted when --daemon returned")
	}
	if err := os.WriteFile(filepath.Join(mnt, "tables", "dm.csv"), []byte("id\n1\n"), 0o644); err != nil {
		t.Fatalf("copy in: %v", err)
	}
	for i := 0; i < 50; i++ {
		out, err := exec.Command("fusermount3", "-u", mnt).CombinedOutput()
		if err == nil {
			break
		}
		if !strings.Contains(string(out), "busy") {
			t.Fatalf("fusermount3 -u: %v: %s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := 0; i < 300 && daemon.Signal(syscall.Signal(0)) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if daemon.Signal(syscall.Signal(0)) == nil {
		t.Errorf("the background process %d still runs after fusermount3 -u", pid)
	}
	log, _ := os.ReadFile(logFile)
	for _, want := range []string{"datomfs: mounted", "datomfs: published", "table=dm"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log file lacks %q:\n%s", want, log)
		}
	}
}

// TestMountDaemonFailure: a daemon that cannot mount says why, and fails.
func TestMountDaemonFailure(t *testing.T) {
	_, mnt, cache := mountProject(t)
	cmd := exec.Command(os.Args[0], "mount", "--daemon", "-C", t.TempDir(), mnt, "--cache", cache)
	cmd.Env = append(os.Environ(), "DATOMFS_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not a datom project") || !strings.Contains(string(out), "hint: ") || testenv.Mounted(mnt) {
		t.Fatalf("mount --daemon of no project: %v\n%s", err, out)
	}
}
