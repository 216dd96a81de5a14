// Package cache keeps verified local copies of a store's parquet objects:
// content-addressed by parquet_sha (objects without one, from before
// datom-cv1, are kept per store key, unverified), complete or absent
// (downloads land under a temporary name and are renamed into place once
// their SHA-256 matches), private to the user (0700/0600).
//
// It owns:
//   - Get: one shared download per object, verified before it is visible;
//   - OpenPartial: a remote object served by ranged reads before it is
//     complete (footer first, misses with priority and never fetched twice,
//     a parquet column chunk whole on its first read, the rest filled in
//     the background once reads look sequential or when asked), which
//     becomes the verified entry once its hash matches;
//   - the bound (WithMaxBytes): least recently used entries go, never a
//     pinned one (Pin);
//   - where staging folders live (StagingBase).
//
// Errors from the store come back wrapped, unmapped (store.ErrNotFound,
// store.ErrUnreachable); the versions package adds its sentinels. A hash
// mismatch is ErrIntegrity.
package cache
