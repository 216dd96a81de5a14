//go:build faults

package versions

import (
	"os"
	"syscall"
)

// crashPoint kills the process at the point DATOMFS_CRASH_AT names: the
// crash tests of the torture suite build datomfs with -tags faults.
func crashPoint(point string) {
	if os.Getenv("DATOMFS_CRASH_AT") != point {
		return
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}
