package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/datomfs/datomfs/versions/meta"
)

// PortfolioEntry is one project registered in the governance repository.
type PortfolioEntry struct {
	Project string
	Type    string // where its data lives: "local" or "s3"
	Root    string
	Prefix  string
	Region  string
	This    bool // the project of this clone
}

// GovDir is where clone --gov puts the governance repository.
func (p *Project) GovDir() string {
	if p.dir == "" {
		return ""
	}
	return filepath.Join(p.dir, ".git", "datomfs", "gov")
}

// ErrNoGovernance: the clone has no governance repository attached.
var ErrNoGovernance = errors.New("no governance repository")

// Projects lists the governance portfolio (projects/<name>/ref.json).
func (p *Project) Projects(ctx context.Context) ([]PortfolioEntry, error) {
	if err := p.requireDeveloper(); err != nil {
		return nil, err
	}
	root := filepath.Join(p.GovDir(), "projects")
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: clone with --gov GIT_URL to see the portfolio", ErrNoGovernance)
	}
	if err != nil {
		return nil, fmt.Errorf("read governance repo: %w", err)
	}
	var out []PortfolioEntry
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(root, e.Name(), "ref.json"))
		if err != nil {
			continue // a project folder without ref.json is not registered
		}
		ref, err := meta.ParseRef(raw)
		if err != nil {
			return nil, fmt.Errorf("parse projects/%s/ref.json: %w", e.Name(), err)
		}
		cur := ref.Current()
		out = append(out, PortfolioEntry{
			Project: e.Name(), Type: cur.Type, Root: cur.Root, Prefix: cur.Prefix, Region: cur.Region,
			This: e.Name() == p.name,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Project < out[j].Project })
	return out, nil
}
