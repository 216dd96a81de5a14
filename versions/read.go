package versions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/store"
)

// Version is one resolved version of a table.
type Version struct {
	Table      meta.TableName
	ID         identity.MetadataSHA
	DataSHA    identity.DataSHA
	ParquetSHA identity.ParquetSHA // "" when none was recorded (no integrity check)
	Timestamp  time.Time           // UTC, whole seconds; zero if the stored text is malformed
	Author     string
	Message    string
	Current    bool
}

// Key is the store key of the version's parquet bytes.
func (p *Project) Key(v Version) string { return p.layout.ParquetKey(v.Table, v.DataSHA) }

// ParseTableName validates a table name given by a person or a program
// (a CLI argument, a mount path, an SQL identifier): the one check at the
// edge, after which the typed name travels. Errors match ErrInvalidName.
func ParseTableName(s string) (meta.TableName, error) {
	name, err := meta.ParseTableName(s)
	if err != nil {
		return meta.TableName{}, fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	return name, nil
}

// checkTable refuses the zero TableName (no table given).
func checkTable(name meta.TableName) error {
	if name.IsZero() {
		return fmt.Errorf("%w: no table name", ErrInvalidName)
	}
	return nil
}

// clonePath is where a repository path (meta.MetadataPath, ...) is in the
// clone.
func (p *Project) clonePath(rel string) string {
	return filepath.Join(p.dir, filepath.FromSlash(rel))
}

// List returns the project's tables in manifest order. Developers read their
// clone; readers the store mirror.
func (p *Project) List(ctx context.Context) ([]meta.ManifestTable, error) {
	m, err := p.manifest(ctx)
	if err != nil {
		return nil, err
	}
	return m.Tables(), nil
}

// History returns a table's versions, newest first.
func (p *Project) History(ctx context.Context, table meta.TableName) (meta.History, error) {
	if err := checkTable(table); err != nil {
		return meta.History{}, err
	}
	if p.role == Developer {
		if _, err := os.Stat(p.clonePath(meta.MetadataPath(table))); err != nil {
			return meta.History{}, fmt.Errorf("table %q: %w", table, ErrNotFound)
		}
		return p.localHistory(table)
	}
	raw, err := p.getStoreFile(ctx, p.layout.VersionHistoryKey(table))
	if errors.Is(err, ErrNotFound) {
		return meta.History{}, fmt.Errorf("table %q: %w", table, ErrNotFound)
	}
	if err != nil {
		return meta.History{}, fmt.Errorf("read history of %s: %w", table, err)
	}
	h, err := meta.ParseHistory(raw)
	if err != nil {
		return meta.History{}, fmt.Errorf("parse history of %s: %w", table, err)
	}
	return h, nil
}

// Versions returns a table's versions, newest first.
func (p *Project) Versions(ctx context.Context, table meta.TableName) ([]Version, error) {
	h, err := p.History(ctx, table)
	if err != nil {
		return nil, err
	}
	cur, err := p.currentID(ctx, table)
	if err != nil {
		return nil, err
	}
	return VersionsOf(table, h, cur), nil
}

// VersionsOf is Versions from a history already read and the table's
// current version (the manifest's current_version), for callers that keep
// both (the mount caches them between refreshes).
func VersionsOf(table meta.TableName, h meta.History, current identity.MetadataSHA) []Version {
	entries := h.Entries()
	out := make([]Version, len(entries))
	for i, e := range entries {
		out[i] = versionOf(table, e, e.Version == current)
	}
	return out
}

// currentID is the table's current version as the manifest records it. It
// is usually the newest history entry, but not always: writing back an
// older version's exact metadata makes it current again without a new
// history entry (the history is deduplicated, contract 2.5).
func (p *Project) currentID(ctx context.Context, table meta.TableName) (identity.MetadataSHA, error) {
	m, err := p.manifest(ctx)
	if err != nil {
		return "", err
	}
	e, ok := m.Table(table)
	if !ok {
		return "", fmt.Errorf("table %q: %w", table, ErrNotFound)
	}
	return e.CurrentVersion, nil
}

func versionOf(table meta.TableName, e meta.HistoryEntry, current bool) Version {
	author := "unknown"
	if !e.Author.IsUnknown() {
		author = e.Author.Name + " <" + e.Author.Email + ">"
	}
	return Version{
		Table: table, ID: e.Version, DataSHA: e.DataSHA, ParquetSHA: e.ParquetSHA,
		Timestamp: e.Timestamp, Author: author, Message: e.CommitMessage, Current: current,
	}
}

// Resolve finds a version by any unique prefix of its id ("" = current),
// or by a point in time: a tag, an ISO date or datetime, a commit prefix,
// HEAD (points.go). A ref that is more than one of these is ErrAmbiguous.
func (p *Project) Resolve(ctx context.Context, table meta.TableName, prefix string) (Version, error) {
	h, err := p.History(ctx, table)
	if err != nil {
		return Version{}, err
	}
	entries := h.Entries()
	if len(entries) == 0 {
		return Version{}, fmt.Errorf("table %q has no versions: %w", table, ErrNotFound)
	}
	cur, err := p.currentID(ctx, table)
	if err != nil {
		return Version{}, err
	}
	if prefix != "" {
		return p.resolveRef(ctx, table, h, cur, prefix)
	}
	prefix = string(cur)
	e, err := h.Find(prefix)
	switch {
	case errors.Is(err, meta.ErrAmbiguousVersion):
		return Version{}, fmt.Errorf("%s@%s: %w", table, prefix, alsoIs(err, ErrAmbiguous))
	case errors.Is(err, meta.ErrVersionNotFound):
		return Version{}, fmt.Errorf("%s@%s: version %w", table, prefix, ErrNotFound)
	case err != nil:
		return Version{}, err
	}
	return versionOf(table, e, e.Version == cur), nil
}

// Fetch returns a verified local copy of a version's parquet bytes.
func (p *Project) Fetch(ctx context.Context, v Version) (string, error) {
	var progress func(done, total int64)
	if p.opts.Progress != nil {
		progress = func(done, total int64) { p.opts.Progress("download "+v.Table.String(), done, total) }
	}
	path, err := p.cache.Get(ctx, p.Key(v), v.ParquetSHA, progress)
	if err != nil {
		return "", fmt.Errorf("read %s@%s: %w", v.Table, v.ID.Short(), mapStoreErr(err))
	}
	return path, nil
}

// VersionMetadata returns the metadata of one version: the store snapshot
// <t>/.metadata/<version>.json, or the current metadata for the current one.
func (p *Project) VersionMetadata(ctx context.Context, v Version) (meta.Metadata, error) {
	raw, err := p.getStoreFile(ctx, p.layout.SnapshotKey(v.Table, v.ID))
	if errors.Is(err, ErrNotFound) && v.Current {
		raw, err = p.currentMetadataRaw(ctx, v.Table)
	}
	if err != nil {
		return meta.Metadata{}, fmt.Errorf("metadata of %s@%s: %w", v.Table, v.ID.Short(), err)
	}
	return meta.ParseMetadata(raw)
}

func (p *Project) currentMetadataRaw(ctx context.Context, table meta.TableName) ([]byte, error) {
	if p.role == Developer {
		raw, err := os.ReadFile(p.clonePath(meta.MetadataPath(table)))
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotFound
		}
		return raw, err
	}
	return p.getStoreFile(ctx, p.layout.MetadataKey(table))
}

// manifest is the project catalogue: the clone's for developers, the store
// mirror for readers.
func (p *Project) manifest(ctx context.Context) (meta.Manifest, error) {
	if p.role == Developer {
		return p.localManifest()
	}
	return p.storeManifest(ctx)
}

func (p *Project) localManifest() (meta.Manifest, error) {
	raw, err := os.ReadFile(p.clonePath(meta.ManifestPath))
	if errors.Is(err, os.ErrNotExist) {
		name, err := meta.ParseProjectName(p.name)
		if err != nil {
			return meta.Manifest{}, err
		}
		return meta.NewManifest(name, p.now()), nil
	}
	if err != nil {
		return meta.Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	m, err := meta.ParseManifest(raw)
	if err != nil {
		return meta.Manifest{}, fmt.Errorf("parse %s: %w", meta.ManifestPath, err)
	}
	return m, nil
}

func (p *Project) storeManifest(ctx context.Context) (meta.Manifest, error) {
	raw, err := p.getStoreFile(ctx, p.layout.ManifestKey())
	if err != nil {
		return meta.Manifest{}, err
	}
	m, err := meta.ParseManifest(raw)
	if err != nil {
		return meta.Manifest{}, fmt.Errorf("parse store manifest: %w", err)
	}
	return m, nil
}

func (p *Project) localHistory(table meta.TableName) (meta.History, error) {
	raw, err := os.ReadFile(p.clonePath(meta.HistoryPath(table)))
	if errors.Is(err, os.ErrNotExist) {
		return meta.History{}, nil
	}
	if err != nil {
		return meta.History{}, fmt.Errorf("read history of %s: %w", table, err)
	}
	h, err := meta.ParseHistory(raw)
	if err != nil {
		return meta.History{}, fmt.Errorf("parse %s: %w", meta.HistoryPath(table), err)
	}
	return h, nil
}

// getStoreFile reads a whole (small) store object.
func (p *Project) getStoreFile(ctx context.Context, key string) ([]byte, error) {
	rc, err := p.store.Open(ctx, key, 0, -1)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, mapStoreErr(err))
	}
	return b, nil
}

// putStoreJSON writes a JSON document with the store's framing (contract
// 1.1): a trailing newline on local stores, none on S3.
func (p *Project) putStoreJSON(ctx context.Context, key string, body []byte) error {
	return p.putStoreJSONBatch(ctx, key, body, nil)
}

// putStoreJSONBatch is putStoreJSON into a store.Batch (nil: none).
func (p *Project) putStoreJSONBatch(ctx context.Context, key string, body []byte, batch *store.Batch) error {
	opts := store.PutOptions{Batch: batch}
	if p.isS3() {
		opts.ContentType = "application/json"
	} else {
		body = append(append([]byte{}, body...), '\n')
	}
	if err := p.store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), opts); err != nil {
		return fmt.Errorf("store %s: %w", key, mapStoreErr(err))
	}
	return nil
}

func (p *Project) isS3() bool { return strings.HasPrefix(p.store.Location(), "s3://") }
