package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/store"
)

// Problem is one inconsistency between git and the store.
type Problem struct {
	Table   string
	Key     string
	What    string
	Fixed   bool
	Fixable bool
}

// ValidateReport lists what validate found.
type ValidateReport struct {
	Tables   int
	Versions int
	Objects  int // distinct parquet objects checked
	ReadData bool
	Problems []Problem
}

// Open counts the problems left unfixed.
func (r ValidateReport) Open() int {
	n := 0
	for _, pr := range r.Problems {
		if !pr.Fixed {
			n++
		}
	}
	return n
}

// ValidateOptions choose how deep validate looks and whether it repairs.
type ValidateOptions struct {
	// ReadData re-hashes every stored object against the parquet_sha of
	// each version that uses it (restic's --read-data); otherwise objects
	// are checked by existence and size.
	ReadData bool
	// Fix rewrites missing or stale mirrors (also old versions' snapshots,
	// rebuilt from git), re-uploads a missing or damaged object from a
	// verified copy in the local cache, and removes temporary files that
	// killed writers left in the store, or aborts their multipart uploads
	// (S3, started over a day ago). What it cannot repair stays
	// reported.
	Fix bool
}

// Validate checks git against the store: every version's parquet object
// (present, with its recorded size; with ReadData, its bytes), the
// version snapshots and mirrors readers use, and leftovers of killed
// writes.
func (p *Project) Validate(ctx context.Context, o ValidateOptions) (ValidateReport, error) {
	var rep ValidateReport
	if err := p.requireDeveloper(); err != nil {
		return rep, err
	}
	err := p.withCloneLock(ctx, "validate", func() (err error) {
		rep, err = p.validate(ctx, o)
		return err
	})
	return rep, err
}

func (p *Project) validate(ctx context.Context, o ValidateOptions) (ValidateReport, error) {
	rep := ValidateReport{ReadData: o.ReadData}
	man, err := p.localManifest()
	if err != nil {
		return rep, err
	}
	for _, dir := range discoverTables(p.dir) {
		rep.Tables++
		t, err := ParseTableName(dir)
		if err != nil {
			// Not a table datom could have written: nothing to check it by.
			rep.Problems = append(rep.Problems, Problem{Table: dir, What: fmt.Sprintf("folder has a %s but is not a valid table name (%v); not checked", meta.MetadataFile, err)})
			continue
		}
		docs, err := p.localDocs(t, man)
		if err != nil {
			return rep, err
		}
		hist, md := docs.history, docs.metadata
		rep.Versions += len(hist.Entries())
		stale := p.staleMirrors(ctx, t, docs)
		for _, pr := range stale {
			if o.Fix {
				if err := p.mirror(ctx, docs); err != nil {
					return rep, err
				}
				pr.Fixed = true
			}
			rep.Problems = append(rep.Problems, pr)
		}
		metas, probs, err := p.versionMetadatas(ctx, t, hist, md, o.Fix)
		if err != nil {
			return rep, err
		}
		rep.Problems = append(rep.Problems, probs...)
		n, probs, err := p.checkObjects(ctx, t, hist, metas, o)
		if err != nil {
			return rep, err
		}
		rep.Objects += n
		rep.Problems = append(rep.Problems, probs...)
	}
	// The manifest mirror.
	if sm, err := p.storeManifest(ctx); err != nil || string(sm.JSON()) != string(man.JSON()) {
		pr := Problem{Key: p.layout.ManifestKey(), What: "store manifest mirror is missing or stale", Fixable: true}
		if o.Fix {
			if err := p.putStoreJSON(ctx, p.layout.ManifestKey(), man.JSON()); err != nil {
				return rep, err
			}
			pr.Fixed = true
		}
		rep.Problems = append(rep.Problems, pr)
	}
	// The tag mirrors readers resolve tags with (points.go).
	stale, err := p.staleTagMirrors(ctx)
	if err != nil {
		return rep, err
	}
	for _, t := range stale {
		pr := Problem{Key: p.layout.TagKey(t.Name), What: fmt.Sprintf("tag %s has no up-to-date mirror for readers", t.Name), Fixable: true}
		if o.Fix {
			if err := p.mirrorTag(ctx, t); err != nil {
				return rep, err
			}
			pr.Fixed = true
		}
		rep.Problems = append(rep.Problems, pr)
	}
	// Temporary files of killed writes.
	if sw, ok := store.As[store.TempSweeper](p.store); ok {
		left, err := sw.SweepTemp(ctx, p.layout.Root(), o.Fix)
		if err != nil {
			return rep, fmt.Errorf("look for leftover temporary files: %w", mapStoreErr(err))
		}
		for _, k := range left {
			rep.Problems = append(rep.Problems, Problem{Key: k, What: "temporary file left by an interrupted write", Fixable: true, Fixed: o.Fix})
		}
	}
	// Multipart uploads of killed writes (S3): their parts are billed.
	if us, ok := store.As[store.UploadSweeper](p.store); ok {
		left, err := us.StaleUploads(ctx, p.layout.Root(), staleUploadAge, o.Fix)
		if err != nil {
			return rep, fmt.Errorf("look for abandoned uploads: %w", mapStoreErr(err))
		}
		for _, k := range left {
			rep.Problems = append(rep.Problems, Problem{Key: k, What: "multipart upload left open by an interrupted write (its parts are stored until it is aborted)", Fixable: true, Fixed: o.Fix})
		}
	}
	return rep, nil
}

// staleUploadAge is how old an open multipart upload must be for validate
// to take it for a killed writer's: no upload of one version lasts a day.
var staleUploadAge = 24 * time.Hour

// versionMetadatas reads every version's metadata snapshot from the store
// (<t>/.metadata/<version>.json), which says its size_bytes and
// parquet_sha. A missing or unreadable snapshot is a problem; with fix it
// is rebuilt from the table's metadata.json in git history.
func (p *Project) versionMetadatas(ctx context.Context, t meta.TableName, hist meta.History, current meta.Metadata, fix bool) (map[identity.MetadataSHA]meta.Metadata, []Problem, error) {
	out := map[identity.MetadataSHA]meta.Metadata{current.Version(): current}
	var missing []meta.HistoryEntry
	for _, e := range hist.Entries() {
		if e.Version == current.Version() {
			continue // checked with the mirrors
		}
		raw, err := p.getStoreFile(ctx, p.layout.SnapshotKey(t, e.Version))
		if err == nil {
			if m, err := meta.ParseMetadata(raw); err == nil && m.Version() == e.Version {
				out[e.Version] = m
				continue
			}
		} else if !errors.Is(err, ErrNotFound) {
			return nil, nil, fmt.Errorf("read snapshot of %s@%s: %w", t, e.Version.Short(), err)
		}
		missing = append(missing, e)
	}
	if len(missing) == 0 {
		return out, nil, nil
	}
	var fromGit map[identity.MetadataSHA]meta.Metadata
	if fix {
		fromGit = map[identity.MetadataSHA]meta.Metadata{}
		bodies, err := p.repo.FileVersions(ctx, meta.MetadataPath(t))
		if err != nil {
			return nil, nil, err
		}
		for _, b := range bodies {
			if m, err := meta.ParseMetadata(b); err == nil {
				fromGit[m.Version()] = m
			}
		}
	}
	var probs []Problem
	for _, e := range missing {
		pr := Problem{Table: t.String(), Key: p.layout.SnapshotKey(t, e.Version), Fixable: true,
			What: fmt.Sprintf("metadata snapshot of version %s is missing or damaged", e.Version.Short())}
		if m, ok := fromGit[e.Version]; ok {
			if err := p.putStoreJSON(ctx, pr.Key, m.JSON()); err != nil {
				return nil, nil, err
			}
			out[e.Version] = m
			pr.Fixed = true
		} else if fix {
			pr.What += "; git history has no " + meta.MetadataFile + " with that version"
			pr.Fixable = false
		}
		probs = append(probs, pr)
	}
	return out, probs, nil
}

// storedObject is one parquet object and the versions that use it.
type storedObject struct {
	key      string
	versions []meta.HistoryEntry
	sizes    map[int64]bool // size_bytes the versions record
}

// checkObjects checks each distinct parquet object of a table: present,
// of a size one of its versions records (the write that uploaded it
// records the object's own size; contract 4.4), and with ReadData, equal
// to every version's parquet_sha. Fix re-uploads from a verified cache copy.
func (p *Project) checkObjects(ctx context.Context, t meta.TableName, hist meta.History, metas map[identity.MetadataSHA]meta.Metadata, o ValidateOptions) (int, []Problem, error) {
	objects := map[string]*storedObject{}
	var keys []string
	for _, e := range hist.Entries() {
		key := p.layout.ParquetKey(t, e.DataSHA)
		obj, ok := objects[key]
		if !ok {
			obj = &storedObject{key: key, sizes: map[int64]bool{}}
			objects[key] = obj
			keys = append(keys, key)
		}
		obj.versions = append(obj.versions, e)
		if m, ok := metas[e.Version]; ok && m.SizeBytes() > 0 {
			obj.sizes[m.SizeBytes()] = true
		}
	}
	sort.Strings(keys)
	var probs []Problem
	for _, key := range keys {
		obj := objects[key]
		what, err := p.checkObject(ctx, obj, o.ReadData)
		if err != nil {
			return 0, nil, err
		}
		if what == "" {
			continue
		}
		pr := Problem{Table: t.String(), Key: key, What: what}
		if src := p.verifiedCacheCopy(ctx, obj); src != "" {
			pr.Fixable = true
			if o.Fix {
				if err := p.reupload(ctx, key, src); err != nil {
					return 0, nil, err
				}
				pr.Fixed = true
			}
		} else if o.Fix {
			pr.What += "; no verified copy in the local cache to restore it from"
		}
		probs = append(probs, pr)
	}
	return len(keys), probs, nil
}

// checkObject returns what is wrong with one object ("" when nothing).
func (p *Project) checkObject(ctx context.Context, obj *storedObject, readData bool) (string, error) {
	ids := versionList(obj.versions)
	info, err := p.store.Stat(ctx, obj.key)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Sprintf("parquet object of version(s) %s is missing from the store", ids), nil
	}
	if err != nil {
		return "", fmt.Errorf("check %s: %w", obj.key, mapStoreErr(err))
	}
	if len(obj.sizes) > 0 && !obj.sizes[info.Size] {
		return fmt.Sprintf("parquet object of version(s) %s is %d bytes, not the recorded %s (truncated or replaced)", ids, info.Size, sizeList(obj.sizes)), nil
	}
	if !readData {
		return "", nil
	}
	r, err := p.store.Open(ctx, obj.key, 0, -1)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", obj.key, mapStoreErr(err))
	}
	sum, _, err := identity.SHA256Reader(ctx, r)
	r.Close()
	if err != nil {
		return "", fmt.Errorf("read %s: %w", obj.key, mapStoreErr(err))
	}
	var bad []meta.HistoryEntry
	for _, e := range obj.versions {
		if !e.ParquetSHA.Verifies(sum) {
			bad = append(bad, e)
		}
	}
	if len(bad) > 0 {
		return fmt.Sprintf("parquet object's bytes do not match the parquet_sha of version(s) %s (damaged)", versionList(bad)), nil
	}
	return "", nil
}

// verifiedCacheCopy finds a local copy of the object whose bytes match the
// parquet_sha its newest version records, or "".
func (p *Project) verifiedCacheCopy(ctx context.Context, obj *storedObject) string {
	for _, e := range obj.versions { // newest first
		if e.ParquetSHA.IsZero() {
			continue
		}
		path, ok := p.cache.Cached(obj.key, e.ParquetSHA)
		if !ok {
			continue
		}
		if sum, _, err := identity.SHA256File(ctx, path); err == nil && e.ParquetSHA.Verifies(sum) {
			return path
		}
	}
	return ""
}

func (p *Project) reupload(ctx context.Context, key, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("restore %s: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("restore %s: %w", key, err)
	}
	if err := p.store.Put(ctx, key, f, fi.Size(), store.PutOptions{}); err != nil {
		return fmt.Errorf("restore %s: %w", key, mapStoreErr(err))
	}
	return nil
}

func versionList(es []meta.HistoryEntry) string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.Version.Short()
	}
	return strings.Join(ids, ", ")
}

func sizeList(sizes map[int64]bool) string {
	var s []string
	for n := range sizes {
		s = append(s, fmt.Sprint(n))
	}
	sort.Strings(s)
	return strings.Join(s, " or ")
}

// staleMirrors compares the store mirrors of one table with git (parsed, as
// readers must: byte layouts may differ).
func (p *Project) staleMirrors(ctx context.Context, t meta.TableName, d versionDocs) []Problem {
	var out []Problem
	check := func(key string, want meta.Metadata) {
		raw, err := p.getStoreFile(ctx, key)
		if err == nil {
			if got, err := meta.ParseMetadata(raw); err == nil && got.Version() == want.Version() {
				return
			}
		}
		out = append(out, Problem{Table: t.String(), Key: key, What: "metadata mirror is missing or stale", Fixable: true})
	}
	check(p.layout.MetadataKey(t), d.metadata)
	check(p.layout.SnapshotKey(t, d.metadata.Version()), d.metadata)
	key := p.layout.VersionHistoryKey(t)
	raw, err := p.getStoreFile(ctx, key)
	ok := false
	if err == nil {
		if h, err := meta.ParseHistory(raw); err == nil && len(h.Entries()) == len(d.history.Entries()) {
			ok = len(h.Entries()) == 0 || h.Entries()[0].Version == d.history.Entries()[0].Version
		}
	}
	if !ok {
		out = append(out, Problem{Table: t.String(), Key: key, What: "history mirror is missing or stale", Fixable: true})
	}
	return out
}
