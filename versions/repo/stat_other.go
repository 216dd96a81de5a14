//go:build !linux

package repo

import (
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// fillStatInfo leaves the platform's stat fields empty: git then compares
// such an entry by content, which is only slower.
func fillStatInfo(e *index.Entry, fi fs.FileInfo) {}
