// Package open turns a store.Location into a store.Store, so callers get a
// backend in one call without importing each backend.
package open

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
	"github.com/datomfs/datomfs/versions/store/s3"
)

// Options are the user settings that are not part of a Location.
type Options struct {
	// Endpoint is an S3-compatible server URL (--endpoint); empty leaves
	// AWS_ENDPOINT_URL and the SDK configuration in charge.
	Endpoint string
	// Region overrides the location's region; empty keeps it.
	Region string
	Logger *slog.Logger
	// CreateLocalRoot creates a missing local root directory (init).
	CreateLocalRoot bool
	// S3Credentials replace the AWS default chain when set (tests).
	S3Credentials *s3.Credentials
}

// Open returns the store at loc. It does not contact a remote store; use
// store.Checker for that.
func Open(ctx context.Context, loc store.Location, opts Options) (store.Store, error) {
	switch loc.Type {
	case store.TypeLocal:
		return local.New(loc.Root, local.Options{Prefix: loc.Prefix, CreateRoot: opts.CreateLocalRoot})
	case store.TypeS3:
		region := loc.Region
		if opts.Region != "" {
			region = opts.Region
		}
		return s3.New(ctx, s3.Options{
			Bucket:      loc.Root,
			Prefix:      loc.Prefix,
			Endpoint:    opts.Endpoint,
			Region:      region,
			Credentials: opts.S3Credentials,
			Logger:      opts.Logger,
		})
	default:
		return nil, fmt.Errorf("open store: %w: unknown type %q (want %q or %q)", store.ErrBadLocation, loc.Type, store.TypeLocal, store.TypeS3)
	}
}
