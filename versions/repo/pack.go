package repo

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// go-git writes every commit's objects loose: a clone with thousands of
// versions holds tens of thousands of small files (hundreds of MB, where
// git would keep a few packs). Like `git gc --auto`, PackLoose packs the
// loose objects once there are many, into one new pack, and deletes them:
// the cost follows the number of loose objects, not the history.

// LooseThreshold is the estimated number of loose objects at which
// PackLoose packs them (git's gc.auto is 6700).
const LooseThreshold = 2000

// PackLoose packs the loose objects into a new pack when there are about
// threshold or more (estimated from one of the 256 object folders, as git
// does) and returns how many it packed.
func (r *Repo) PackLoose(threshold int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Objects spread evenly over .git/objects/00..ff by hash.
	entries, err := os.ReadDir(filepath.Join(r.GitDir(), "objects", "17"))
	if err != nil || len(entries)*256 < threshold {
		return 0, nil
	}
	los, ok := r.g.Storer.(storer.LooseObjectStorer)
	if !ok {
		return 0, nil
	}
	pfw, ok := r.g.Storer.(storer.PackfileWriter)
	if !ok {
		return 0, nil
	}
	var loose []plumbing.Hash
	if err := los.ForEachObjectHash(func(h plumbing.Hash) error {
		loose = append(loose, h)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("list loose objects in %s: %w", r.dir, err)
	}
	if len(loose) == 0 {
		return 0, nil
	}
	cfg, err := r.g.Storer.Config()
	if err != nil {
		return 0, err
	}
	w, err := pfw.PackfileWriter()
	if err != nil {
		return 0, fmt.Errorf("pack objects in %s: %w", r.dir, err)
	}
	if _, err := packfile.NewEncoder(w, r.g.Storer, false).Encode(loose, cfg.Pack.Window); err != nil {
		w.Close()
		return 0, fmt.Errorf("pack objects in %s: %w", r.dir, err)
	}
	// Close writes the pack's index: only then are the objects in it.
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("pack objects in %s: %w", r.dir, err)
	}
	for _, h := range loose {
		if err := los.DeleteLooseObject(h); err != nil && !os.IsNotExist(err) {
			return 0, fmt.Errorf("remove packed loose object %s: %w", h, err)
		}
	}
	return len(loose), nil
}
