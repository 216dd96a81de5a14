package versions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/repo"
	"github.com/datomfs/datomfs/versions/store"
)

// A sync commits and pushes its files in batches: one commit and one push
// per batch instead of per file, so that onboarding 1,000 files costs a few
// pushes, not 1,000. A batch is bounded so that a failure loses little work
// and the staged copies of CSV inputs stay small.
var (
	syncBatchFiles       = 250
	syncBatchBytes int64 = 1 << 30
)

const (
	// storeWorkers is how many store requests a batch keeps in flight
	// (classify, upload, mirrors): S3 is latency-bound, a local store's
	// fsyncs overlap.
	storeWorkers = 4
)

// SyncItem is the outcome for one file of a sync.
type SyncItem struct {
	File   string
	Table  string
	Status string // "new", "changed", "unchanged", "unsupported", "failed"
	Result WriteResult
	Err    error
}

// SyncResult summarises a sync.
type SyncResult struct {
	Items []SyncItem
}

// Count returns how many items have a status.
func (r SyncResult) Count(status string) int {
	n := 0
	for _, it := range r.Items {
		if it.Status == status {
			n++
		}
	}
	return n
}

// syncJob is a staged file waiting for its batch.
type syncJob struct {
	index int // in SyncResult.Items
	name  meta.TableName
	st    *staged
	req   WriteRequest
	md    meta.Metadata
	hist  meta.History
	err   error
	skip  bool // identical to the current version: nothing to commit
	res   WriteResult
}

// syncRun is one Sync: results in directory order, reported as soon as
// every item before them is final.
type syncRun struct {
	p        *Project
	res      SyncResult
	final    []bool
	reported int
	progress func(SyncItem)
	batch    []*syncJob
	bytes    int64
	// The AfterWrites hook of the last batch written runs while the next
	// batch is staged and written: hook is closed when they are done, and
	// hooked's items are final then.
	hook   chan struct{}
	hooked []*syncJob
	ahead  *hashAhead
}

// Sync onboards every supported file of a flat folder as datom_sync does:
// the table is the file name without its extension; files whose
// original_file_sha matches the manifest are skipped. It goes on after a
// failed file and reports it. Files are committed and pushed in batches
// (one commit per batch, its message listing each table as datom's
// "Sync <t> (new|changed)"); a batch that fails to push leaves the clone as
// it was and its files are reported failed.
func (p *Project) Sync(ctx context.Context, dir string, progress func(SyncItem)) (SyncResult, error) {
	if err := p.requireDeveloper(); err != nil {
		return SyncResult{}, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return SyncResult{}, fmt.Errorf("sync %s: %w", dir, err)
	}
	SweepStaging(p.cache.StagingBase(), p.opts.Logger)
	run := &syncRun{p: p, progress: progress}
	defer run.cleanup()
	defer run.waitHooks()
	man, err := p.localManifest()
	if err != nil {
		return SyncResult{}, err
	}
	var ahead []string
	var aheadTables []meta.TableName
	for _, e := range entries {
		if f, ok := FormatOf(e.Name()); ok && f == FormatParquet && !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			if name, err := ParseTableName(strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))); err == nil {
				ahead = append(ahead, filepath.Join(dir, e.Name()))
				aheadTables = append(aheadTables, name)
			}
		}
	}
	run.ahead = startHashAhead(ctx, ahead, aheadTables, man, syncBatchFiles)
	defer run.ahead.stop()
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := ctx.Err(); err != nil {
			run.failPending(err)
			return run.res, err
		}
		path := filepath.Join(dir, e.Name())
		item := SyncItem{File: e.Name(), Table: strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))}
		format, ok := FormatOf(e.Name())
		if !ok {
			item.Status = "unsupported"
			run.add(item, true)
			continue
		}
		name, err := ParseTableName(item.Table)
		if err == nil && run.pending(name) {
			// The same table twice (lb.csv and lb.parquet): the second is
			// a version on top of the first, in a later batch.
			run.flush(ctx)
			man, err = p.localManifest()
		}
		if err != nil {
			item.Status, item.Err = "failed", err
			run.add(item, true)
			continue
		}
		job, item := p.syncStage(ctx, path, format, name, item, man, run.ahead.take(path))
		idx := run.add(item, job == nil)
		if job == nil {
			continue
		}
		job.index = idx
		run.batch = append(run.batch, job)
		run.bytes += job.st.size
		if len(run.batch) >= syncBatchFiles || run.bytes >= syncBatchBytes {
			run.flush(ctx)
			if man, err = p.localManifest(); err != nil {
				run.failPending(err)
				return run.res, err
			}
		}
	}
	run.flush(ctx)
	run.waitHooks()
	return run.res, nil
}

// syncStage decides whether a file is new, changed or unchanged, and
// stages (validates and hashes) it when it must be written.
// ah is the file's hashes if made ahead (hashAhead), else nil.
func (p *Project) syncStage(ctx context.Context, path string, format Format, name meta.TableName, item SyncItem, man meta.Manifest, ah *aheadHash) (*syncJob, SyncItem) {
	var sha string
	var size int64
	var th *identity.TableHash
	if ah != nil {
		sha, size, th = ah.sha, ah.size, ah.th
	} else {
		var err error
		if sha, size, err = identity.SHA256File(ctx, path); err != nil {
			item.Status, item.Err = "failed", err
			return nil, item
		}
	}
	item.Status = "new"
	if t, ok := man.Table(name); ok {
		item.Status = "changed"
		if t.OriginalFileSHA == sha {
			item.Status = "unchanged"
			return nil, item
		}
	}
	if item.Status == "new" {
		// Refused before the work of staging; a name that differs only in
		// case from another table is refused in the batch.
		if err := meta.CheckPortableName(name); err != nil {
			item.Status, item.Err = "failed", fmt.Errorf("%w: %w", ErrInvalidName, err)
			return nil, item
		}
	}
	req := WriteRequest{
		Table: name, Path: path, Format: format, Import: true,
		Message: fmt.Sprintf("Sync %s (%s)", name, item.Status),
		fileSHA: sha, fileSize: size, tableHash: th,
	}
	st, err := p.stage(ctx, req)
	if err != nil {
		item.Status, item.Err = "failed", err
		return nil, item
	}
	if err := p.checkpoint("hash"); err != nil {
		st.cleanup()
		item.Status, item.Err = "failed", err
		return nil, item
	}
	return &syncJob{name: name, st: st, req: req}, item
}

func (r *syncRun) add(item SyncItem, final bool) int {
	r.res.Items = append(r.res.Items, item)
	r.final = append(r.final, final)
	r.report()
	return len(r.res.Items) - 1
}

func (r *syncRun) pending(name meta.TableName) bool {
	for _, j := range r.batch {
		if j.name == name {
			return true
		}
	}
	return false
}

// report hands the caller every item that is final and has no unfinished
// item before it.
func (r *syncRun) report() {
	for r.reported < len(r.res.Items) && r.final[r.reported] {
		if r.progress != nil {
			r.progress(r.res.Items[r.reported])
		}
		r.reported++
	}
}

// flush writes the pending batch and starts its AfterWrites hook; its
// files are reported once they are done.
func (r *syncRun) flush(ctx context.Context) {
	if len(r.batch) == 0 {
		return
	}
	batch := r.batch
	r.batch, r.bytes = nil, 0
	if r.hooksOverlap(batch) {
		// The running hooks must not read a table's clone files while
		// this batch changes them (or undoes a change).
		r.waitHooks()
	}
	r.p.syncBatch(ctx, batch)
	// Never two batches' hooks at once: a table may be in both.
	r.waitHooks()
	for _, j := range batch {
		it := &r.res.Items[j.index]
		it.Result = j.res
		if j.err != nil {
			it.Status, it.Err = "failed", j.err
		}
		j.st.cleanup()
	}
	done := make(chan struct{})
	r.hook, r.hooked = done, batch
	go func() {
		defer close(done)
		r.p.runSyncHooks(ctx, batch)
	}()
}

// hooksOverlap reports whether a table of batch is one whose hooks are
// running.
func (r *syncRun) hooksOverlap(batch []*syncJob) bool {
	for _, h := range r.hooked {
		for _, j := range batch {
			if h.name == j.name {
				return true
			}
		}
	}
	return false
}

// waitHooks waits for the running hooks and reports their batch's files.
func (r *syncRun) waitHooks() {
	if r.hook == nil {
		return
	}
	<-r.hook
	for _, j := range r.hooked {
		r.final[j.index] = true
	}
	r.hook, r.hooked = nil, nil
	r.report()
}

// runSyncHooks runs AfterWrites for the new versions of a batch, as Write
// does once a version has landed and the lock is released.
func (p *Project) runSyncHooks(ctx context.Context, batch []*syncJob) {
	after := p.opts.AfterWrites
	if after == nil {
		return
	}
	var landed []WriteResult
	for _, j := range batch {
		if j.err == nil && j.res.Change != ChangeNone {
			landed = append(landed, j.res)
		}
	}
	if len(landed) > 0 {
		after(ctx, p, landed)
	}
}

// failPending reports the files of an unwritten batch as failed.
func (r *syncRun) failPending(err error) {
	r.waitHooks()
	for _, j := range r.batch {
		r.res.Items[j.index].Status, r.res.Items[j.index].Err = "failed", err
		r.final[j.index] = true
	}
	r.cleanup()
	r.report()
}

func (r *syncRun) cleanup() {
	for _, j := range r.batch {
		j.st.cleanup()
	}
	r.batch = nil
}

// syncBatch writes staged files as one commit and one push, in the order
// of a single write (design §6): under the clone lock, fetch, classify and
// upload each, commit, push, mirror. A file that fails before the commit
// (a refused name, an upload) is left out of it; a failure from the commit
// on fails the batch and leaves the clone as it was.
func (p *Project) syncBatch(ctx context.Context, jobs []*syncJob) {
	label := fmt.Sprintf("sync %d file(s)", len(jobs))
	err := p.withCloneLock(ctx, label, func() error {
		for _, j := range jobs {
			j.res = WriteResult{Table: j.name, DataSHA: j.st.hash.DataSHA, Attempts: 1}
		}
		if err := p.checkUpToDate(ctx); err != nil {
			return err
		}
		if err := p.checkpoint("fetch"); err != nil {
			return err
		}
		if err := p.checkGovernance(ctx); err != nil {
			return err
		}
		man, err := p.localManifest()
		if err != nil {
			return err
		}
		existing := p.tableNames(man)
		for _, j := range jobs {
			if _, ok := man.Table(j.name); !ok {
				if j.err = checkNewName(j.name, existing); j.err != nil {
					continue
				}
				existing = append(existing, j.name.String())
			}
			j.md, j.err = p.buildMetadata(j.name, j.st, j.req)
			j.res.Version = j.md.Version()
		}
		if err := p.checkpoint("upload"); err != nil {
			return err
		}
		// Before any upload of the batch: its own temporary files, held
		// until the batch's objects are made durable, would otherwise be
		// looked at by every later sweep.
		for _, j := range jobs {
			if j.err == nil {
				p.sweepStoreTemp(ctx, p.layout.TablePrefix(j.name))
			}
		}
		// The parquet objects are made durable together (one fsync per
		// object and per folder otherwise), and before anything refers to
		// them: the commit.
		batch := new(store.Batch)
		forEach(storeWorkers, jobs, func(j *syncJob) {
			if j.err == nil {
				j.err = p.syncStore(ctx, j, batch)
			}
		})
		if err := p.checkpoint("upload-sync"); err != nil {
			batch.Abort()
			return err
		}
		if err := batch.Commit(ctx); err != nil {
			err = fmt.Errorf("upload: %w", mapStoreErr(err))
			for _, j := range jobs {
				if j.err == nil && j.res.Uploaded {
					j.err = err
				}
			}
		}
		var changes []tableChange
		var written []*syncJob
		for _, j := range jobs {
			if j.err == nil && !j.skip {
				changes = append(changes, tableChange{name: j.name, md: j.md, hist: j.hist, st: j.st, message: j.req.Message})
				written = append(written, j)
			}
		}
		if len(changes) == 0 {
			return nil
		}
		docs, err := p.commitAndPush(ctx, changes, syncMessage(changes))
		if err != nil {
			for _, j := range written {
				j.err = err
			}
			return nil
		}
		err = p.checkpoint("mirror")
		if err == nil {
			err = p.mirror(ctx, docs...)
		}
		if err != nil {
			for _, j := range written {
				j.err = fmt.Errorf("version %s of %s is pushed, but the store mirrors are stale: %w (run \"datomfs validate --fix\")", j.md.Version().Short(), j.name, err)
			}
		}
		if n, err := p.repo.PackLoose(repo.LooseThreshold); err != nil {
			p.opts.Logger.Warn("pack the clone's loose git objects", "err", err)
		} else if n > 0 {
			p.opts.Logger.Debug("packed loose git objects", "count", n)
		}
		return nil
	})
	if err != nil {
		for _, j := range jobs {
			if j.err == nil {
				j.err = err
			}
		}
	}
}

// syncStore is one file's store work in a batch: classify against the
// store, decide which parquet the version records, upload if needed.
// Its upload is durable once batch is committed.
func (p *Project) syncStore(ctx context.Context, j *syncJob, batch *store.Batch) error {
	change, stored, err := p.classify(ctx, j.name, j.md)
	if err != nil {
		return err
	}
	j.res.Change = change
	if change == ChangeNone {
		j.skip = true
		return nil
	}
	if j.hist, err = p.localHistory(j.name); err != nil {
		return err
	}
	md, upload, err := p.decideParquet(ctx, j.name, j.md, change, stored, j.hist)
	if err != nil {
		return err
	}
	j.md = md
	j.res.Version = md.Version()
	if upload {
		if err := p.uploadParquet(ctx, j.name, j.st, false, batch); err != nil {
			return err
		}
		j.res.Uploaded = true
	}
	return nil
}

// syncMessage is a batch's commit message: datom's own for one table, else
// a summary line and datom's line for each table.
func syncMessage(changes []tableChange) string {
	if len(changes) == 1 {
		return changes[0].message
	}
	var b strings.Builder
	news := 0
	for _, c := range changes {
		if strings.HasSuffix(c.message, "(new)") {
			news++
		}
	}
	fmt.Fprintf(&b, "Sync %d tables (%d new, %d changed)\n\n", len(changes), news, len(changes)-news)
	for _, c := range changes {
		b.WriteString(c.message)
		b.WriteByte('\n')
	}
	return b.String()
}

// forEach runs fn on every item with at most n at once.
func forEach[T any](n int, items []T, fn func(T)) {
	if n <= 1 || len(items) <= 1 {
		for _, it := range items {
			fn(it)
		}
		return
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(it)
		}()
	}
	wg.Wait()
}

// forEachErr runs fn on every item with at most n at once, and returns
// every error.
func forEachErr[T any](n int, items []T, fn func(T) error) error {
	var mu sync.Mutex
	var errs []error
	forEach(n, items, func(it T) {
		if err := fn(it); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	})
	return errors.Join(errs...)
}

// storePut is one small document for the store.
type storePut struct {
	key  string
	body []byte
}
