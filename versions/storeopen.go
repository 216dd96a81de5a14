package versions

import (
	"context"

	"github.com/datomfs/datomfs/versions/store"
)

// openStore opens a store location (OpenStore) and stacks the caller's
// decorators on it (WrapStore): every store a project uses is opened here.
func (o Options) openStore(ctx context.Context, loc store.Location) (store.Store, error) {
	st, err := o.OpenStore(ctx, loc)
	if err != nil || o.WrapStore == nil {
		return st, err
	}
	return o.WrapStore(loc, st), nil
}
