package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Mounted reports whether dir is a mount point of this mount namespace.
func Mounted(dir string) bool {
	_, ok := mountDevice(dir)
	return ok
}

// mountDevice returns the "major:minor" of the filesystem mounted at dir.
func mountDevice(dir string) (string, bool) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return f[2], true
		}
	}
	return "", false
}

// ForceUnmount removes a FUSE mount whose server may be stuck: it aborts
// the FUSE connection (through fusectl, mounted if needed), which fails
// every pending request so a server blocked on its own mount can exit, then
// detaches the mount lazily. It returns whether dir is unmounted.
func ForceUnmount(dir string) bool {
	if dev, ok := mountDevice(dir); ok {
		if _, minor, ok := strings.Cut(dev, ":"); ok {
			conns := "/sys/fs/fuse/connections"
			if _, err := os.Stat(filepath.Join(conns, minor)); err != nil {
				exec.Command("mount", "-t", "fusectl", "none", conns).Run()
			}
			os.WriteFile(filepath.Join(conns, minor, "abort"), []byte("1"), 0o200)
		}
	}
	for i := 0; i < 50 && Mounted(dir); i++ {
		exec.Command("fusermount3", "-u", "-z", dir).Run()
		time.Sleep(100 * time.Millisecond)
	}
	return !Mounted(dir)
}

// StopProcess signals a process and waits for exited to close (the caller
// owns cmd.Wait); if it does not end in grace, the mount it serves is
// forced off and the process killed. It returns false if it had to force.
func StopProcess(p *os.Process, sig os.Signal, exited <-chan struct{}, mountDir string, grace time.Duration) bool {
	p.Signal(sig)
	select {
	case <-exited:
		return true
	case <-time.After(grace):
	}
	ForceUnmount(mountDir)
	p.Kill()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
	}
	return false
}

// SyncBuffer collects output (a process's stderr, log lines) and is safe to
// read while it is being written.
type SyncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
