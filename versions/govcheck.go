package versions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/store"
)

// ErrGovernance: the governance registry says the project's data lives
// elsewhere (or cannot be read), so writing here would split the project.
var ErrGovernance = errors.New("governance check failed")

// checkGovernance is step 1 of datom's write (contract 6.2, 8): on a
// governed project (.datom/governance.json present), re-read ref.json from
// the governance store and abort unless it names this project's store.
func (p *Project) checkGovernance(ctx context.Context) error {
	raw, err := os.ReadFile(p.clonePath(meta.GovernancePath))
	if errors.Is(err, os.ErrNotExist) {
		return nil // not governed
	}
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrGovernance, meta.GovernancePath, err)
	}
	gov, err := meta.ParseGovernance(raw)
	if err != nil {
		return fmt.Errorf("%w: parse %s: %w", ErrGovernance, meta.GovernancePath, err)
	}
	gs := gov.Storage()
	loc := store.Location{Type: gs.Type, Root: gs.Root, Prefix: gs.Prefix, Region: gs.Region}
	st, err := p.opts.openStore(ctx, loc)
	if err != nil {
		return fmt.Errorf("%w: open governance store %s: %w", ErrGovernance, loc, mapStoreErr(err))
	}
	key := store.Layout{Prefix: loc.Prefix}.GovRefKey(p.name)
	rc, err := st.Open(ctx, key, 0, -1)
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrGovernance, key, mapStoreErr(err))
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrGovernance, key, mapStoreErr(err))
	}
	ref, err := meta.ParseRef(body)
	if err != nil {
		return fmt.Errorf("%w: parse %s: %w", ErrGovernance, key, err)
	}
	cur, mine := ref.Current(), p.cfg.Storage
	if cur.Type != mine.Type || strings.TrimRight(cur.Root, "/") != strings.TrimRight(mine.Root, "/") || trimSlashes(cur.Prefix) != trimSlashes(mine.Prefix) {
		return fmt.Errorf("%w: the governance registry places %s at %s %s/%s, this clone writes to %s %s/%s (pull, or ask the governance owner)",
			ErrGovernance, p.name, cur.Type, cur.Root, cur.Prefix, mine.Type, mine.Root, mine.Prefix)
	}
	return nil
}

func trimSlashes(s string) string { return strings.Trim(s, "/") }
