// Package versions is the datom model: projects, tables and their immutable
// versions, kept in a git repository (metadata and history) and an object
// store (bytes). It knows nothing of FUSE, SQL or terminals.
//
// A Project (project.go) is one open connection, a developer's clone or a
// reader's store-only view, and owns:
//
//   - reading: the table list, histories, prefix resolution (Resolve, the
//     one resolver), and version bytes: Fetch for a verified local copy,
//     OpenVersion for a reader that also serves a remote version before it
//     is fully cached (read.go, open.go);
//   - writing: Write, the design's steps as named functions under the clone
//     lock, with a journal that lets a crashed write be undone or finished
//     (write.go, journal.go, clonelock.go), and Init, Clone, Pull, Sync;
//   - checking: Validate and its repairs (validate.go), governance
//     (governance.go, govcheck.go);
//   - the sentinel errors callers branch on (errors.go); errors of the
//     store, the repo and the cache are mapped to them here, once
//     (mapStoreErr, mapRepoErr);
//   - staging folders owned by a live process (staging.go).
//
// Below it: identity (hashing), meta (the documents), repo (git), store and
// its backends (bytes), cache (verified local copies and partial fills).
package versions
