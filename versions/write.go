package versions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/datomfs/datomfs/internal/atomicfile"
	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/repo"
	"github.com/datomfs/datomfs/versions/store"
)

// Change classifies a write against the table's current version (contract 6.1).
type Change string

const (
	ChangeNone         Change = "none"
	ChangeMetadataOnly Change = "metadata_only"
	ChangeFull         Change = "full"
)

// WriteRequest is one new version of one table.
type WriteRequest struct {
	Table meta.TableName // parsed once where the name came in (ParseTableName)
	Path  string         // the file to store; its name does not matter
	// Format is what Path holds (one of Formats); delimited text needs a
	// Converter.
	Format  Format
	Message string // commit message; default "Update <table>"
	// Import records the write as datom_sync does: table_type "imported",
	// original_file_sha and original_format (Path's extension as written),
	// a self source_lineage entry.
	Import bool
	// Pull fetches and fast-forwards before writing (design §6 step 2; the
	// mount always does, the CLI with --pull).
	Pull bool
	// Retries is how many times a rejected push is answered by pull and redo
	// (the mount); 0 returns ErrPushRejected with the clone unchanged (the CLI).
	Retries int
	// CacheLater: Path is the caller's own file, which it gives to the
	// cache with Project.CacheWritten once nothing can change it any more
	// (a mount's staging file may still be written through a descriptor
	// that outlives the close that published it). Write then does not copy
	// it into a remote store's cache itself.
	CacheLater bool

	// fileSHA is Path's SHA-256 when the caller has just computed it (a
	// sync, to find unchanged files): not computed again.
	fileSHA  string
	fileSize int64
	// tableHash is Path's parquet hashes when a sync made them ahead
	// (hashAhead), for a parquet Path unchanged since.
	tableHash *identity.TableHash
}

// WriteResult says what a write did.
type WriteResult struct {
	Table    meta.TableName
	Change   Change
	Version  identity.MetadataSHA
	DataSHA  identity.DataSHA
	Uploaded bool
	Attempts int

	// cacheSHA is the parquet_sha of Path when a CacheLater write
	// uploaded it to a remote store: CacheWritten keeps it then.
	cacheSHA identity.ParquetSHA
}

// CacheWritten keeps path, the file a CacheLater write uploaded, as the
// cached copy of its version: by a hard link, so the caller must never
// change it again (it still removes its own name). It does nothing for
// other writes.
func (p *Project) CacheWritten(res WriteResult, path string) {
	if res.cacheSHA != "" {
		p.cache.Add(p.layout.ParquetKey(res.Table, res.DataSHA), res.cacheSHA, path, true)
	}
}

// Write stores a file as a new version of a table, in the order of design §6:
// stage and hash, pull, classify, upload the bytes, commit, push, mirror.
// Steps from the pull on run under the clone lock (one writer per clone,
// across processes). A write that fails leaves the clone exactly as it was
// (see journal.go); a rejected push is answered by WriteRequest.Retries.
func (p *Project) Write(ctx context.Context, req WriteRequest) (WriteResult, error) {
	if err := p.requireDeveloper(); err != nil {
		return WriteResult{}, err
	}
	name := req.Table
	if err := checkTable(name); err != nil {
		return WriteResult{}, err
	}
	// Refuse a bad new name before the work of staging; checked again
	// under the clone lock after the pull, which may bring other tables
	// (so only a refusal counts here, not a failure to read the clone).
	if err := p.checkNewTable(name); errors.Is(err, ErrInvalidName) {
		return WriteResult{}, err
	}
	SweepStaging(p.cache.StagingBase(), p.opts.Logger)
	st, err := p.stage(ctx, req)
	if err != nil {
		return WriteResult{}, err
	}
	defer st.cleanup()
	if err := p.checkpoint("hash"); err != nil {
		return WriteResult{}, err
	}
	var res WriteResult
	err = p.withCloneLock(ctx, "write "+name.String(), func() error {
		for attempt := 1; ; attempt++ {
			var err error
			res, err = p.writeStaged(ctx, name, st, req, req.Pull || attempt > 1)
			res.Attempts = attempt
			if errors.Is(err, ErrPushRejected) && attempt <= req.Retries {
				p.opts.Logger.Info("push rejected, pulling and redoing the write", "table", name.String(), "attempt", attempt)
				continue
			}
			return err
		}
	})
	if err == nil && st.uploaded && st.cacheLater && p.RemoteStore() {
		// Uploaded by this or an earlier (rejected) attempt: the caller
		// keeps it in the cache.
		res.cacheSHA = st.parquetSHA
	}
	if err == nil && res.Change != ChangeNone && p.opts.AfterWrites != nil {
		p.opts.AfterWrites(ctx, p, []WriteResult{res})
	}
	return res, err
}

// staged is a validated, hashed input ready to be written.
type staged struct {
	parquetPath     string
	hash            identity.TableHash
	parquetSHA      identity.ParquetSHA
	size            int64
	originalFileSHA string
	originalFormat  string
	tmp             *StagingDir // holds the converted parquet of a CSV
	cacheLater      bool        // the caller caches parquetPath (WriteRequest.CacheLater)
	uploaded        bool        // uploadParquet stored parquetPath
}

func (s *staged) cleanup() { s.tmp.Remove() }

// stage validates the input and computes every hash, with no side effect
// outside a temporary directory.
func (p *Project) stage(ctx context.Context, req WriteRequest) (*staged, error) {
	fi, err := os.Stat(req.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", req.Path, ErrInvalidInput)
	}
	st := &staged{parquetPath: req.Path}
	switch {
	case req.Format == FormatParquet:
		st.cacheLater = req.CacheLater
	case req.Format.Delimited():
		if p.opts.Converter == nil {
			return nil, fmt.Errorf("%s: %w: CSV input needs the DuckDB converter", req.Path, ErrInvalidInput)
		}
		// In the cache's staging area: a killed write's copy is swept
		// by the next one, and the cache can link the file it keeps.
		tmp, err := NewStagingDir(p.cache.StagingBase(), "write")
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", req.Path, err)
		}
		st.tmp = tmp
		st.parquetPath = filepath.Join(tmp.Path, "table.parquet")
		if err := p.opts.Converter.CSVToParquet(ctx, req.Path, req.Format, st.parquetPath); err != nil {
			st.cleanup()
			return nil, fmt.Errorf("%s: %w: %w", req.Path, ErrInvalidInput, err)
		}
	default:
		return nil, fmt.Errorf("%s: %w: unsupported input format %q (use one of %s)", req.Path, ErrInvalidInput, req.Format, ExtensionList("or"))
	}
	if err := p.checkpoint("stage"); err != nil {
		st.cleanup()
		return nil, err
	}
	// The byte hash (parquet_sha) reads the file sequentially while the
	// column hashing decodes it: run them side by side.
	type byteHash struct {
		sha  string
		size int64
		err  error
	}
	bytesDone := make(chan byteHash, 1)
	go func() {
		if req.fileSHA != "" && st.parquetPath == req.Path {
			bytesDone <- byteHash{req.fileSHA, req.fileSize, nil}
			return
		}
		sha, size, err := identity.SHA256File(ctx, st.parquetPath)
		bytesDone <- byteHash{sha, size, err}
	}()
	hashTable := func() (identity.TableHash, error) {
		if req.tableHash != nil && st.parquetPath == req.Path {
			return *req.tableHash, nil
		}
		return identity.HashParquetFile(ctx, st.parquetPath, identity.HashOptions{})
	}
	th, err := hashTable()
	bh := <-bytesDone
	if err != nil {
		st.cleanup()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	st.hash = th
	if bh.err != nil {
		st.cleanup()
		return nil, fmt.Errorf("hash %s: %w", st.parquetPath, bh.err)
	}
	st.parquetSHA, st.size = identity.ParquetSHA(bh.sha), bh.size
	if req.Import {
		if st.parquetPath == req.Path {
			st.originalFileSHA = bh.sha
		} else if req.fileSHA != "" {
			st.originalFileSHA = req.fileSHA
		} else if st.originalFileSHA, _, err = identity.SHA256File(ctx, req.Path); err != nil {
			st.cleanup()
			return nil, fmt.Errorf("hash %s: %w", req.Path, err)
		}
		// The source file's extension as written, case kept (contract 2.3).
		ext := filepath.Ext(req.Path)
		if ext == "" {
			ext = req.Format.Ext()
		}
		st.originalFormat = strings.TrimPrefix(ext, ".")
	}
	return st, nil
}

// writeStaged runs steps 2–7 of the write once, under the clone lock.
func (p *Project) writeStaged(ctx context.Context, name meta.TableName, st *staged, req WriteRequest, pull bool) (WriteResult, error) {
	res := WriteResult{Table: name, DataSHA: st.hash.DataSHA}
	if pull {
		if err := p.pullForWrite(ctx); err != nil {
			return res, err
		}
	} else if err := p.checkUpToDate(ctx); err != nil {
		return res, err
	}
	if err := p.checkpoint("fetch"); err != nil {
		return res, err
	}
	if err := p.checkGovernance(ctx); err != nil {
		return res, err
	}
	if err := p.checkNewTable(name); err != nil {
		return res, err
	}
	md, err := p.buildMetadata(name, st, req)
	if err != nil {
		return res, err
	}
	res.Version = md.Version()
	change, stored, err := p.classify(ctx, name, md)
	if err != nil {
		return res, err
	}
	res.Change = change
	if change == ChangeNone {
		return res, nil
	}
	hist, err := p.localHistory(name)
	if err != nil {
		return res, err
	}
	md, upload, err := p.decideParquet(ctx, name, md, change, stored, hist)
	if err != nil {
		return res, err
	}
	if err := p.checkpoint("upload"); err != nil {
		return res, err
	}
	if upload {
		p.sweepStoreTemp(ctx, p.layout.TablePrefix(name))
		if err := p.uploadParquet(ctx, name, st, true, nil); err != nil {
			return res, err
		}
		res.Uploaded = true
	}
	msg := req.Message
	if msg == "" {
		msg = "Update " + name.String()
	}
	docs, err := p.commitAndPush(ctx, []tableChange{{name: name, md: md, hist: hist, st: st, message: msg}}, msg)
	if err != nil {
		return res, err
	}
	err = p.checkpoint("mirror")
	if err == nil {
		err = p.mirror(ctx, docs...)
	}
	if err != nil {
		return res, fmt.Errorf("version %s of %s is pushed, but the store mirrors are stale: %w (run \"datomfs validate --fix\")", md.Version().Short(), name, err)
	}
	// Keep the clone packed, as git gc --auto would (repo/pack.go).
	if n, err := p.repo.PackLoose(repo.LooseThreshold); err != nil {
		p.opts.Logger.Warn("pack the clone's loose git objects", "err", err)
	} else if n > 0 {
		p.opts.Logger.Debug("packed loose git objects", "count", n)
	}
	return res, nil
}

// checkNewTable refuses a new table whose name git or a common file
// system cannot hold: see meta.CheckPortableName, and a name that differs
// only in case from an existing table (one folder on macOS and Windows).
func (p *Project) checkNewTable(name meta.TableName) error {
	man, err := p.localManifest()
	if err != nil {
		return err
	}
	if _, ok := man.Table(name); ok {
		return nil
	}
	return checkNewName(name, p.tableNames(man))
}

// tableNames are the clone's tables: the manifest's and any folder that
// holds a metadata.json.
func (p *Project) tableNames(man meta.Manifest) []string {
	existing := discoverTables(p.dir)
	for _, t := range man.Tables() {
		existing = append(existing, t.Name.String())
	}
	return existing
}

// checkNewName refuses a name for a new table beside the existing ones.
func checkNewName(name meta.TableName, existing []string) error {
	if err := meta.CheckPortableName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	for _, t := range existing {
		if t != name.String() && strings.EqualFold(t, name.String()) {
			return fmt.Errorf("%w: table name %q differs only in case from the existing table %q (one folder on macOS and Windows); write to %q or choose another name", ErrInvalidName, name, t, t)
		}
	}
	return nil
}

// pullForWrite is step 2: fetch and fast-forward, refusing a diverged clone.
func (p *Project) pullForWrite(ctx context.Context) error {
	if _, err := p.pullLocked(ctx); err != nil {
		return fmt.Errorf("pull before write: %w", mapRepoErr(err))
	}
	return nil
}

// checkUpToDate fetches and refuses early when the remote has commits we
// lack: the push could only be rejected, so nothing is uploaded. It also
// finds an unreachable remote before any side effect.
func (p *Project) checkUpToDate(ctx context.Context) error {
	if err := p.repo.Fetch(ctx); err != nil {
		return fmt.Errorf("fetch before write: %w", mapRepoErr(err))
	}
	_, behind, err := p.repo.AheadBehind(ctx)
	if err != nil {
		return fmt.Errorf("compare with the remote: %w", err)
	}
	if behind > 0 {
		return fmt.Errorf("push %w: the remote has %d commit(s) this clone lacks", ErrPushRejected, behind)
	}
	return nil
}

// buildMetadata is step 3: the metadata document of the new version.
func (p *Project) buildMetadata(table meta.TableName, st *staged, req WriteRequest) (meta.Metadata, error) {
	th := st.hash
	in := meta.MetadataInput{
		DataSHA:      th.DataSHA,
		ParquetSHA:   st.parquetSHA,
		TableType:    "derived",
		NRow:         int(th.NRow),
		NCol:         int(th.NCol),
		CreatedAt:    p.now(),
		DatomVersion: DatomVersion,
		SizeBytes:    st.size,
	}
	for _, c := range th.Columns {
		in.Colnames = append(in.Colnames, c.Name)
		in.ColumnHashes = append(in.ColumnHashes, meta.ColumnHash{Name: c.Name, SHA: c.SHA})
	}
	if req.Import {
		in.TableType = "imported"
		in.OriginalFileSHA = st.originalFileSHA
		self, err := meta.NewLineageEntry(p.name, table.String(), th.DataSHA)
		if err != nil {
			return meta.Metadata{}, err
		}
		in.SourceLineage = []meta.LineageEntry{self}
	}
	md, err := meta.NewMetadata(in)
	if err != nil {
		return meta.Metadata{}, fmt.Errorf("build metadata for %s: %w", table, err)
	}
	return md, nil
}

// classify compares with the store's copy of the current metadata (contract
// 6.1: the store, not git, so an interrupted write is re-detected).
func (p *Project) classify(ctx context.Context, table meta.TableName, md meta.Metadata) (Change, *meta.Metadata, error) {
	raw, err := p.getStoreFile(ctx, p.layout.MetadataKey(table))
	if errors.Is(err, ErrNotFound) {
		return ChangeFull, nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("read current metadata of %s: %w", table, err)
	}
	stored, err := meta.ParseMetadata(raw)
	if err != nil {
		return "", nil, fmt.Errorf("parse stored metadata of %s: %w", table, err)
	}
	switch {
	case stored.Version() == md.Version():
		return ChangeNone, &stored, nil
	case stored.DataSHA() == md.DataSHA():
		return ChangeMetadataOnly, &stored, nil
	}
	return ChangeFull, &stored, nil
}

// decideParquet is the end of step 3: which parquet_sha the version records
// and whether the bytes must be uploaded.
func (p *Project) decideParquet(ctx context.Context, table meta.TableName, md meta.Metadata, change Change, stored *meta.Metadata, hist meta.History) (meta.Metadata, bool, error) {
	if change == ChangeMetadataOnly {
		return md.WithParquetSHA(stored.ParquetSHA()), false, nil
	}
	if sha, ok := hist.FindDataSHA(md.DataSHA()); ok {
		// An earlier version holds the same data: reuse its object when it
		// is really there.
		if _, err := p.store.Stat(ctx, p.layout.ParquetKey(table, md.DataSHA())); err == nil {
			return md.WithParquetSHA(sha), false, nil
		}
	}
	return md, true, nil
}

// uploadParquet is step 4: content-addressed, safe to repeat.
// progress reports to Options.Progress (off in a sync's concurrent uploads).
// With batch (a sync's), the object is durable only once batch is
// committed (see store.Batch).
func (p *Project) uploadParquet(ctx context.Context, table meta.TableName, st *staged, progress bool, batch *store.Batch) error {
	key := p.layout.ParquetKey(table, st.hash.DataSHA)
	f, err := os.Open(st.parquetPath)
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	defer f.Close()
	var report func(done, total int64)
	if progress && p.opts.Progress != nil {
		report = func(done, total int64) { p.opts.Progress("upload "+table.String(), done, total) }
	}
	body := &checkpointReader{r: f, at: st.size / 2, point: func() error { return p.checkpoint("upload-partial") }}
	if err := p.store.Put(ctx, key, body, st.size, store.PutOptions{Progress: report, SHA256: shaBytes(st.parquetSHA), Batch: batch}); err != nil {
		return fmt.Errorf("upload %s: %w", key, mapStoreErr(err))
	}
	// Keep the bytes we have for readers. A CSV's parquet is our own
	// temporary file, open nowhere else: link it. A caller's file needs a
	// copy (it may still change), unless the caller links it itself once
	// it cannot (CacheLater: the copy is a good part of a large write).
	// From a local store a first read copies it just as fast, so only
	// remote stores pay for it here.
	st.uploaded = true
	if own := st.tmp != nil; own || (p.RemoteStore() && !st.cacheLater) {
		p.cache.Add(key, st.parquetSHA, st.parquetPath, own)
	}
	return nil
}

// shaBytes is a parquet_sha as raw bytes (nil if it is not hex SHA-256).
func shaBytes(s identity.ParquetSHA) []byte {
	b, err := hex.DecodeString(string(s))
	if err != nil || len(b) != sha256.Size {
		return nil
	}
	return b
}

// pushLanded asks the remote, briefly, whether a push whose answer was
// lost landed: landed is true when the remote branch holds our HEAD; known
// is false when the remote could not be asked.
func (p *Project) pushLanded(ctx context.Context) (landed, known bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := p.repo.Fetch(ctx); err != nil {
		return false, false
	}
	head, err := p.repo.Head()
	if err != nil {
		return false, false
	}
	ok, err := p.repo.RemoteHas(head)
	return ok && err == nil, err == nil
}

// checkpointReader calls point once, when the bytes read pass at: the
// "upload-partial" checkpoint, in the middle of an upload.
type checkpointReader struct {
	r     io.Reader
	n, at int64
	point func() error
	done  bool
}

func (c *checkpointReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if !c.done && c.n > c.at {
		c.done = true
		if perr := c.point(); perr != nil {
			return 0, perr
		}
	}
	return n, err
}

// versionDocs are the JSON documents one write produces.
type versionDocs struct {
	table       meta.TableName
	metadata    meta.Metadata
	history     meta.History
	historyJSON []byte // history's document when already made (it grows with the history)
	manifest    meta.Manifest
}

// historyDoc is the history's document, made once per write.
func (d versionDocs) historyDoc() []byte {
	if d.historyJSON != nil {
		return d.historyJSON
	}
	return d.history.JSON()
}

// tableChange is one table's new version, ready to be committed.
type tableChange struct {
	name    meta.TableName
	md      meta.Metadata
	hist    meta.History // the history before this version
	st      *staged
	message string // the history entry's message (and the commit's, alone)
}

// commitAndPush is steps 5 and 6 for one or more tables (a sync's batch):
// each table's metadata.json and version_history.json and the manifest,
// committed together and pushed once. Any failure, the push's included,
// rolls the clone back to exactly how the journal found it.
func (p *Project) commitAndPush(ctx context.Context, changes []tableChange, msg string) ([]versionDocs, error) {
	var author meta.Author // unknown unless git names one
	if a, ok := p.repo.Author(); ok {
		author = meta.Author{Name: a.Name, Email: a.Email}
	}
	man, err := p.localManifest()
	if err != nil {
		return nil, err
	}
	type file struct {
		rel  string // repository path, "/"-separated
		body []byte
	}
	var files []file
	docs := make([]versionDocs, len(changes))
	names := make([]string, len(changes))
	entries := make([]meta.ManifestTable, len(changes))
	var updated time.Time
	for i, c := range changes {
		hist := c.hist.Prepend(meta.EntryFor(c.md, author, c.message))
		entries[i] = meta.ManifestTable{Name: c.name, ManifestEntry: meta.ManifestEntry{
			CurrentVersion:  c.md.Version(),
			CurrentDataSHA:  c.md.DataSHA(),
			LastUpdated:     p.now(),
			SizeBytes:       c.md.SizeBytes(),
			VersionCount:    len(hist.Entries()),
			OriginalFileSHA: c.st.originalFileSHA,
			OriginalFormat:  c.st.originalFormat,
		}}
		updated = p.now()
		histJSON := hist.JSON()
		files = append(files, file{meta.MetadataPath(c.name), c.md.JSON()}, file{meta.HistoryPath(c.name), histJSON})
		docs[i] = versionDocs{table: c.name, metadata: c.md, history: hist, historyJSON: histJSON}
		names[i] = c.name.String()
	}
	man = man.WithTables(entries, updated)
	files = append(files, file{meta.ManifestPath, man.JSON()})
	for i := range docs {
		docs[i].manifest = man
	}
	label := names[0]
	if len(names) > 1 {
		label = fmt.Sprintf("%d tables", len(names))
	}
	rels := make([]string, len(files))
	for i, f := range files {
		rels[i] = filepath.FromSlash(f.rel)
	}
	j, err := p.beginWrite(label, names, rels)
	if err != nil {
		return nil, err
	}
	fail := func(err error) ([]versionDocs, error) {
		if rerr := p.rollback(j); rerr != nil {
			p.opts.Logger.Error("undo of a failed write failed; the next write or pull retries it", "table", label, "err", rerr)
			return nil, fmt.Errorf("%w (and the undo failed: %v)", err, rerr)
		}
		return nil, err
	}
	// The tables' files first, concurrently when many (a sync's batch:
	// each a create and a rename, in its own folder), then the manifest,
	// so that a reader who sees a table in it finds the table's files.
	tables, last := files[:len(files)-1], files[len(files)-1]
	workers := 1
	if len(tables) >= 2*storeWorkers {
		workers = storeWorkers
	}
	writeOne := func(f file) error {
		if err := writeFileAtomic(p.clonePath(f.rel), append(f.body, '\n')); err != nil {
			return fmt.Errorf("write %s: %w", filepath.FromSlash(f.rel), err)
		}
		return nil
	}
	if err := forEachErr(workers, tables, writeOne); err != nil {
		return fail(err)
	}
	if err := writeOne(last); err != nil {
		return fail(err)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.rel
	}
	if err := p.checkpoint("commit"); err != nil {
		return fail(err)
	}
	if _, _, err := p.repo.Commit(ctx, paths, msg); err != nil {
		return fail(fmt.Errorf("commit %s: %w", label, err))
	}
	if err := p.checkpoint("push"); err != nil {
		return fail(err)
	}
	if err := p.repo.Push(ctx); err != nil {
		err = mapRepoErr(err)
		if errors.Is(err, ErrUnreachable) {
			// The push may have landed and only its answer been lost.
			landed, known := p.pushLanded(ctx)
			if landed {
				p.opts.Logger.Warn("the push's answer was lost, but the remote has the version", "table", label)
				p.endJournal()
				return docs, nil
			}
			if !known {
				err = fmt.Errorf("%w (the push may still have reached the remote: \"datomfs pull\" shows whether it did)", err)
			}
		}
		return fail(fmt.Errorf("push %s: %w", label, err))
	}
	p.endJournal()
	return docs, nil
}

// mirror is step 7: the store copies readers use, each table's and then
// the manifest (once: every doc holds the same one). Several tables' copies
// are made durable together (store.Batch), before the manifest.
func (p *Project) mirror(ctx context.Context, docs ...versionDocs) error {
	var puts []storePut
	for _, d := range docs {
		puts = append(puts,
			storePut{p.layout.SnapshotKey(d.table, d.metadata.Version()), d.metadata.JSON()},
			storePut{p.layout.MetadataKey(d.table), d.metadata.JSON()},
			storePut{p.layout.VersionHistoryKey(d.table), d.historyDoc()})
	}
	if len(docs) == 1 {
		if err := forEachErr(1, puts, func(x storePut) error { return p.putStoreJSON(ctx, x.key, x.body) }); err != nil {
			return err
		}
	}
	// A chunk's Commit (fsyncs: waiting on the disk) runs while the next
	// chunk is written (creating files: the CPU), one Commit at a time.
	var committing chan error
	wait := func() error {
		if committing == nil {
			return nil
		}
		err := <-committing
		committing = nil
		return err
	}
	for len(docs) > 1 && len(puts) > 0 {
		chunk := puts[:min(len(puts), maxBatchPuts)]
		puts = puts[len(chunk):]
		batch := new(store.Batch)
		err := forEachErr(storeWorkers, chunk, func(x storePut) error { return p.putStoreJSONBatch(ctx, x.key, x.body, batch) })
		if err != nil {
			batch.Abort()
			return errors.Join(err, wait())
		}
		if err := wait(); err != nil {
			batch.Abort()
			return err
		}
		done := make(chan error, 1)
		committing = done
		go func(n int) {
			if err := batch.Commit(ctx); err != nil {
				done <- fmt.Errorf("store %d document(s): %w", n, mapStoreErr(err))
				return
			}
			done <- nil
		}(len(chunk))
	}
	if err := wait(); err != nil {
		return err
	}
	// The manifest last: a reader that sees the new version in it finds
	// its documents.
	if len(docs) == 0 {
		return nil
	}
	return p.putStoreJSON(ctx, p.layout.ManifestKey(), docs[len(docs)-1].manifest.JSON())
}

// maxBatchPuts bounds the objects of one store.Batch: a local folder keeps
// a file open for each until the batch is committed.
const maxBatchPuts = 256

// writeFileAtomic writes a clone file by a rename (readers in other
// processes never see a part of it), creating its folder.
func writeFileAtomic(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, body, 0o644, false)
}
