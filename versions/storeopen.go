package versions

import (
	"context"

	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/open"
)

// openStore opens a configured store location.
func openStore(ctx context.Context, loc store.Location, endpoint string, onGet func(string, int64, int64)) (store.Store, error) {
	return open.Open(ctx, loc, open.Options{Endpoint: endpoint, Region: loc.Region, OnGet: onGet})
}
