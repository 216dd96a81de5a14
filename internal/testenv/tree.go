package testenv

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Tree is a snapshot of a folder: each file's content by its path relative
// to the folder (slash-separated), and each empty folder as "path/" with
// no content. .git folders are left out. Tests take one before and after
// an operation that must leave a clone as it found it, and compare them
// with Diff.
type Tree map[string]string

// SnapshotTree reads the tree under root. A file or folder that cannot be
// read fails the test.
func SnapshotTree(t testing.TB, root string) Tree {
	t.Helper()
	tree := Tree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
			if entries, err := os.ReadDir(p); err != nil {
				return err
			} else if len(entries) == 0 && rel != "." {
				tree[rel+"/"] = ""
			}
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			tree[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", root, err)
	}
	return tree
}

// Diff says how got differs from want, one line per path in path order:
// "added x", "removed y" or "changed z: ..." (with both contents when they
// are short); "" when the trees are equal.
func (want Tree) Diff(got Tree) string {
	var lines []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			lines = append(lines, "removed "+p)
		} else if g != w && len(g)+len(w) <= 200 {
			lines = append(lines, fmt.Sprintf("changed %s: %q, was %q", p, g, w))
		} else if g != w {
			lines = append(lines, fmt.Sprintf("changed %s: %d bytes, was %d", p, len(g), len(w)))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, "added "+p)
		}
	}
	sort.Slice(lines, func(i, j int) bool { return pathOf(lines[i]) < pathOf(lines[j]) })
	return strings.Join(lines, "\n")
}

// pathOf is the path a Diff line is about.
func pathOf(line string) string {
	_, p, _ := strings.Cut(line, " ")
	p, _, _ = strings.Cut(p, ": ")
	return p
}
