// Package store defines where datom keeps bytes: a small object store
// interface, the sentinel errors backends map their failures to, the key
// layout of the format contract (section 3) and store locations.
//
// Backends live in sub-packages (local, s3); open.Open turns a Location into
// a Store. Backends never build keys: every key comes from a Layout.
// Cross-cutting concerns are decorators that embed a Store (WithGetHook),
// stacked where a project opens its store; As reaches a backend's optional
// interfaces (Checker, TempSweeper) through them. ContextReader is the one
// reader that stops a copy when its context is done.
package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// Info describes one stored object.
type Info struct {
	Key     string    // the object's key, as passed to Put
	Size    int64     // length in bytes
	ModTime time.Time // last modification as the store reports it
	ETag    string    // S3 entity tag without quotes; empty for local stores
}

// PutOptions tunes one Put.
type PutOptions struct {
	// ContentType is sent to stores that keep one (S3); empty leaves the
	// store's default. The contract wants "application/json" for JSON and
	// nothing for parquet (ContentTypeJSON).
	ContentType string
	// Progress, when set, is called as bytes are sent, with the bytes done so
	// far and the total size; the last call has done == total. It may be
	// called from other goroutines but never concurrently with itself.
	Progress func(done, total int64)
	// SHA256, when set, is the SHA-256 the caller already knows of the
	// bytes (a version's parquet_sha, hashed while staging): a store that
	// checks uploads end to end (S3's x-amz-checksum-sha256) sends it
	// instead of reading the bytes once more to compute it. A wrong value
	// fails the Put.
	SHA256 []byte
	// Batch, when set, lets the store defer the object's durability and
	// visibility to Batch.Commit (see Batch).
	Batch *Batch
}

// ContentTypeJSON is the Content-Type of JSON objects on S3 (contract 3.2).
const ContentTypeJSON = "application/json"

// Store is an object store holding datom's objects under keys built by a
// Layout. Implementations are safe for concurrent use.
type Store interface {
	// Stat describes the object at key, or fails with ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)

	// Open reads length bytes of the object at key starting at offset;
	// length < 0 reads to the end. A range that runs past the end is cut at
	// the end, and an offset at or past the end gives an empty reader, not
	// an error. A missing key fails with ErrNotFound. The caller closes the
	// reader; reads fail once ctx is done.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Put stores exactly size bytes read from r at key, replacing any
	// object there. It is atomic: readers see the complete old bytes or the
	// complete new bytes, never a part, and a failed Put leaves no partial
	// object. Repeating a Put is safe. If r yields fewer or more than size
	// bytes, Put fails with ErrSizeMismatch and stores nothing.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) error

	// List returns every object whose key starts with prefix, sorted by
	// key. The prefix is a plain string prefix: end it with "/" to list a
	// "directory" ("datom/dm/" does not match "datom/dm2/x").
	List(ctx context.Context, prefix string) ([]Info, error)

	// Remove deletes the object at key; a missing key is not an error.
	Remove(ctx context.Context, key string) error

	// Location names the store for messages, never with credentials:
	// "/abs/path" or "s3://bucket/prefix".
	Location() string
}

// Checker is implemented by stores that can check, cheaply, that they are
// usable at all: the root directory exists, or the endpoint answers and the
// bucket exists. It fails with ErrUnreachable or ErrPermission.
type Checker interface {
	Check(ctx context.Context) error
}

// TempSweeper is implemented by stores whose Put writes a temporary file
// that a killed process leaves behind (local folders; an S3 PutObject is
// atomic on the server). SweepTemp lists the temporary files under prefix
// whose writer is gone, as keys, and removes them when remove is set; a
// live writer's are never touched.
type TempSweeper interface {
	SweepTemp(ctx context.Context, prefix string, remove bool) ([]string, error)
}

// UploadSweeper is implemented by stores whose large Puts are multipart
// uploads (S3). A writer killed mid-upload leaves its upload open: its
// parts stay stored, and billed, and no listing of objects shows them,
// until the upload is aborted. StaleUploads lists the keys of the uploads
// under prefix started more than olderThan ago, and aborts them when abort
// is set. Only age tells a killed writer's upload from a live one.
type UploadSweeper interface {
	StaleUploads(ctx context.Context, prefix string, olderThan time.Duration, abort bool) ([]string, error)
}

// Errors backends map their native failures to. Callers test them with
// errors.Is; the returned errors also wrap the backend's own error.
var (
	// ErrNotFound: the object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrPermission: the store refused the operation (EACCES, EPERM, EROFS,
	// S3 AccessDenied or a bad signature). Permanent: do not retry.
	ErrPermission = errors.New("permission denied")
	// ErrNoCredentials: no credentials could be found for the store (S3:
	// the AWS credential chain found none). Permanent: do not retry.
	ErrNoCredentials = errors.New("no credentials for the store")
	// ErrNoSpace: the store is full (ENOSPC, EDQUOT). Permanent: do not retry.
	ErrNoSpace = errors.New("no space left in store")
	// ErrUnreachable: the store as a whole cannot be used: connection
	// refused, DNS failure or timeout talking to it, or its root (the local
	// directory, the bucket) does not exist.
	ErrUnreachable = errors.New("store unreachable")
	// ErrSizeMismatch: Put was handed a reader whose length differs from
	// the size it was told.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrBadKey: the key cannot name an object (empty, absolute, "..").
	ErrBadKey = errors.New("invalid object key")
	// ErrBadLocation: a location string that ParseLocation cannot use.
	ErrBadLocation = errors.New("invalid store location")
)

// IsPermanent reports whether err is a failure that retrying cannot fix.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrPermission) || errors.Is(err, ErrNoSpace) || errors.Is(err, ErrNoCredentials) ||
		errors.Is(err, ErrBadKey) || errors.Is(err, ErrSizeMismatch)
}
