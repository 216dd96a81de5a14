// Package atomicfile writes files by a rename, so that a reader in another
// process sees the old content or the new one, never a part of it.
package atomicfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Write writes body to path through a temporary file in the same folder
// and a rename. The file gets perm less the process umask, as os.WriteFile
// gives a new file. With durable, the bytes are synced before the rename,
// so a crash leaves the old file or the whole new one.
func Write(path string, body []byte, perm os.FileMode, durable bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".datomfs-tmp-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm &^ Umask()); err != nil {
		return err
	}
	if _, err := tmp.Write(body); err != nil {
		return err
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	ok = true
	return nil
}

// Umask is the process umask, read from /proc/self/status: setting it to
// read it (syscall.Umask) would race with files other goroutines create.
// Without /proc it is taken to be 022.
func Umask() os.FileMode {
	umaskOnce.Do(func() {
		umaskValue = 0o022
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					umaskValue = os.FileMode(m)
				}
			}
		}
	})
	return umaskValue
}

var (
	umaskOnce  sync.Once
	umaskValue os.FileMode
)
