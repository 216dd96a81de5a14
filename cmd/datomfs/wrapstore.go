package main

import "github.com/datomfs/datomfs/versions/store"

// wrapStore stacks the CLI's store decorators on every store a project
// opens (versions.Options.WrapStore), in this one place, as restic's
// wrapBackend does: a debug line for every ranged GET from S3 with the
// bytes it returned (e2e tests read these lines).
func (f *factory) wrapStore(loc store.Location, s store.Store) store.Store {
	if loc.Type == store.TypeS3 {
		s = store.WithGetHook(s, func(key string, offset, length int64) {
			// f.Logger is read at call time: -v swaps it after flags are parsed.
			f.Logger.Debug("store get", "key", key, "offset", offset, "length", length)
		})
	}
	return s
}
