package netdeadline

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// kernelProbe returns a counter of the bytes the peer acknowledged plus the
// bytes received on a TCP connection (TCP_INFO), or nil when c is not one.
// Kernels older than 4.2 report zeros: the counter then never moves and
// only calls in the process count as movement.
func kernelProbe(c net.Conn) func() (uint64, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func() (uint64, bool) {
		var info *unix.TCPInfo
		var gerr error
		err := raw.Control(func(fd uintptr) {
			info, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		})
		if err != nil || gerr != nil {
			return 0, false
		}
		return info.Bytes_acked + info.Bytes_received, true
	}
}
