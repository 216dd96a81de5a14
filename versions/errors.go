package versions

import (
	"errors"

	"github.com/datomfs/datomfs/versions/cache"
	"github.com/datomfs/datomfs/versions/store"
)

// Sentinel errors callers branch on. Lower-level errors (store, repo, meta)
// are wrapped together with one of these so that errors.Is works on both.
var (
	// ErrNotFound: no such table, version or object.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous: a version prefix matches more than one version.
	ErrAmbiguous = errors.New("ambiguous version prefix")
	// ErrPushRejected: another engineer pushed first (non-fast-forward).
	ErrPushRejected = errors.New("rejected (non-fast-forward)")
	// ErrDiverged: the local clone has commits the remote lacks and vice versa.
	ErrDiverged = errors.New("local clone has diverged from the remote")
	// ErrInvalidName: a table or project name breaks datom's naming rules.
	ErrInvalidName = errors.New("invalid name")
	// ErrImmutable: an attempt to change an existing version.
	ErrImmutable = errors.New("versions are immutable")
	// ErrInvalidInput: the file to write is not a table datom can store.
	ErrInvalidInput = errors.New("invalid input")
	// ErrUnreachable: the store or the git remote cannot be reached.
	ErrUnreachable = errors.New("unreachable")
	// ErrReadOnly: a reader (store-only access) tried to write.
	ErrReadOnly = errors.New("read-only: reader access has no git clone")
	// ErrNotProject: the directory is not a datom project clone.
	ErrNotProject = errors.New("not a datom project")
	// ErrExists: init into a store namespace or directory already in use.
	ErrExists = errors.New("already exists")
	// ErrIntegrity: stored bytes do not match the recorded parquet_sha.
	// The cache (versions/cache) returns it; both names are one error.
	ErrIntegrity = cache.ErrIntegrity
	// ErrAuth: the git remote or the store refused our credentials.
	ErrAuth = errors.New("authentication failed")
	// ErrStoreCredentials: no credentials for the store were found (S3:
	// the AWS credential chain found none).
	ErrStoreCredentials = store.ErrNoCredentials
	// ErrStoreUnreachable is the store's part of ErrUnreachable (the git
	// remote's is not).
	ErrStoreUnreachable = store.ErrUnreachable
)

// alsoIs returns err, matching sentinel as well for errors.Is, with err's
// message alone: a lower layer's error that already says what the
// sentinel says is not told twice.
func alsoIs(err, sentinel error) error { return &withSentinel{err, sentinel} }

type withSentinel struct{ err, sentinel error }

func (w *withSentinel) Error() string   { return w.err.Error() }
func (w *withSentinel) Unwrap() []error { return []error{w.err, w.sentinel} }
