//go:build !faults

package versions

// crashPoint does nothing outside fault builds.
func crashPoint(string) {}
