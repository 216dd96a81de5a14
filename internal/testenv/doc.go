// Package testenv holds what tests of several packages share: real servers
// on loopback (a Versity S3 gateway, git's smart HTTP server, a proxy that
// injects network faults), FUSE mount helpers, and fixtures: bare git
// remotes, a ticking clock, and tree snapshots with a diff.
//
// It imports nothing of datomfs, so that any package's tests can use it;
// fixtures that need a versions.Project are in projecttest.
package testenv
