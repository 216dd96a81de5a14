package versions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/datomfs/datomfs/internal/atomicfile"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/repo"
)

// A journal records, before a write or a pull touches the clone, what it is
// about to change and how things were: the branch tip, the index bytes and
// the prior bytes of every file it writes. A failed write rolls back from it
// at once; a write or pull killed half-way is found by the next process that
// takes the clone lock (recoverInterrupted), which either finishes it (the
// push landed) or rolls it back (it did not). Only the lock holder writes or
// reads the journal, so a journal found under the lock has no live owner.

const journalName = "journal.json"

type journal struct {
	Op     string        `json:"op"`               // "write" or "pull"
	Table  string        `json:"table,omitempty"`  // what is written, for logs: a table or "N tables"
	Tables []string      `json:"tables,omitempty"` // write: the tables it commits (none: Table)
	PID    int           `json:"pid"`
	Head   string        `json:"head"`            // branch tip before
	Index  []byte        `json:"index,omitempty"` // index file before (nil: none)
	Files  []journalFile `json:"files,omitempty"` // write: work tree files before
	Paths  []string      `json:"paths,omitempty"` // pull: paths the fast-forward rewrites
}

type journalFile struct {
	Path    string `json:"path"` // relative to the clone root
	Existed bool   `json:"existed"`
	// The prior bytes: Saved names a hard link to the prior file in the
	// journal's folder (writes replace clone files by rename, so the
	// linked file keeps its bytes; a history of 10,000 versions is
	// megabytes, not worth copying into every journal), else Before holds
	// them (a file system without hard links).
	Saved  string `json:"saved,omitempty"`
	Before []byte `json:"before,omitempty"`
}

func (p *Project) journalPath() string {
	return filepath.Join(p.repo.GitDir(), "datomfs", journalName)
}

// journalFiles is the folder of the prior files a journal links.
func (p *Project) journalFiles() string {
	return filepath.Join(p.repo.GitDir(), "datomfs", "journal-files")
}

// beginWrite snapshots the clone before a write of tables (label names them
// for logs) changes the files rels.
func (p *Project) beginWrite(label string, tables, rels []string) (*journal, error) {
	table := label
	snap, err := p.repo.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("snapshot clone before writing %s: %w", table, err)
	}
	j := &journal{Op: "write", Table: table, Tables: tables, PID: os.Getpid(), Head: snap.Head, Index: snap.Index}
	// Left by a journal already settled (recoverInterrupted ran under
	// this lock): nothing refers to it.
	saved := p.journalFiles()
	if err := os.RemoveAll(saved); err != nil {
		return nil, fmt.Errorf("snapshot clone before writing %s: %w", table, err)
	}
	linked := false
	for i, rel := range rels {
		path := filepath.Join(p.dir, rel)
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			j.Files = append(j.Files, journalFile{Path: rel})
			continue
		}
		name := strconv.Itoa(i)
		if err := os.MkdirAll(saved, 0o700); err == nil && os.Link(path, filepath.Join(saved, name)) == nil {
			j.Files = append(j.Files, journalFile{Path: rel, Existed: true, Saved: name})
			linked = true
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s before writing %s: %w", rel, table, err)
		}
		j.Files = append(j.Files, journalFile{Path: rel, Existed: true, Before: b})
	}
	if linked {
		// The links must outlive a crash as surely as the journal naming them.
		if err := fsyncDir(saved); err != nil {
			return nil, fmt.Errorf("snapshot clone before writing %s: %w", table, err)
		}
	}
	if err := p.saveJournal(j); err != nil {
		return nil, err
	}
	return j, nil
}

// prior is the bytes a journaled file had before the write.
func (p *Project) prior(f journalFile) ([]byte, error) {
	if f.Saved == "" {
		return f.Before, nil
	}
	return os.ReadFile(filepath.Join(p.journalFiles(), f.Saved))
}

func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (p *Project) saveJournal(j *journal) error {
	body, err := json.Marshal(j)
	if err != nil {
		return err
	}
	path := p.journalPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := atomicfile.Write(path, body, 0o600, true); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

func (p *Project) loadJournal() (*journal, error) {
	body, err := os.ReadFile(p.journalPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	var j journal
	if err := json.Unmarshal(body, &j); err != nil {
		// A journal is written atomically; one we cannot parse was not
		// written by us. Say so and go on without it.
		p.opts.Logger.Warn("ignoring an unreadable write journal", "path", p.journalPath(), "err", err)
		os.Remove(p.journalPath())
		return nil, nil
	}
	return &j, nil
}

func (p *Project) endJournal() {
	if err := os.Remove(p.journalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.opts.Logger.Warn("remove write journal", "err", err)
		return // the journal still names its files
	}
	if err := os.RemoveAll(p.journalFiles()); err != nil {
		p.opts.Logger.Warn("remove write journal's files", "err", err)
	}
}

// rollback puts the clone back exactly as the journal found it: work tree
// files, index and branch tip.
func (p *Project) rollback(j *journal) error {
	var errs []error
	for _, f := range j.Files {
		path := filepath.Join(p.dir, f.Path)
		if f.Existed {
			b, err := p.prior(f)
			if err == nil {
				err = writeFileAtomic(path, b)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("restore %s: %w", f.Path, err))
			}
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", f.Path, err))
		}
		removeEmptyParents(p.dir, filepath.Dir(path))
	}
	if err := p.repo.Restore(repo.Snapshot{Head: j.Head, Index: j.Index}); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("undo the write of %s: %w", j.Table, err)
	}
	p.endJournal()
	return nil
}

// removeEmptyParents removes dir and its parents up to root while empty.
func removeEmptyParents(root, dir string) {
	for dir != root && len(dir) > len(root) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// recoverInterrupted finishes or undoes what a killed process left in the
// clone. It runs under the clone lock.
func (p *Project) recoverInterrupted(ctx context.Context) error {
	j, err := p.loadJournal()
	if err != nil || j == nil {
		return err
	}
	log := p.opts.Logger.With("op", j.Op, "table", j.Table, "pid", j.PID)
	if j.Op == "pull" {
		// The paths were clean before the pull; make them match HEAD,
		// whichever side of the fast-forward the crash left it on.
		if err := p.repo.ResetPaths(ctx, j.Paths); err != nil {
			return fmt.Errorf("finish an interrupted pull: %w", err)
		}
		log.Warn("finished a pull that was interrupted")
		p.endJournal()
		return nil
	}
	head, err := p.repo.Head()
	if err != nil {
		return err
	}
	if head == j.Head {
		log.Warn("undoing a write that was interrupted before its commit")
		return p.rollback(j)
	}
	parent, err := p.repo.Parent(head)
	if err != nil {
		return err
	}
	if parent != j.Head {
		// HEAD moved by more than one commit of ours: someone worked in
		// the clone by hand since. Touch nothing.
		log.Warn("a write was interrupted, but the clone changed since; leaving it as it is", "head", head)
		p.endJournal()
		return nil
	}
	if err := p.repo.Fetch(ctx); err != nil {
		return fmt.Errorf("an interrupted write of %s must be checked against the remote: %w", j.Table, mapRepoErr(err))
	}
	landed, err := p.repo.RemoteHas(head)
	if err != nil {
		return err
	}
	if !landed {
		log.Warn("undoing a write that was interrupted before its push landed")
		return p.rollback(j)
	}
	log.Warn("a write was interrupted after its push landed; updating the store mirrors")
	tables := j.Tables
	if len(tables) == 0 { // a journal written before batches
		tables = []string{j.Table}
	}
	if err := p.mirrorLocal(ctx, tables); err != nil {
		log.Warn("the store mirrors are stale; run \"datomfs validate --fix\"", "err", err)
	}
	p.endJournal()
	return nil
}

// mirrorLocal writes the store mirrors of tables (as the journal file holds
// their names) from the clone's files.
func (p *Project) mirrorLocal(ctx context.Context, tables []string) error {
	man, err := p.localManifest()
	if err != nil {
		return err
	}
	var all []versionDocs
	for _, t := range tables {
		table, err := ParseTableName(t)
		if err != nil {
			return err
		}
		docs, err := p.localDocs(table, man)
		if err != nil {
			return err
		}
		all = append(all, docs)
	}
	return p.mirror(ctx, all...)
}

// localDocs reads a table's documents as the clone has them.
func (p *Project) localDocs(table meta.TableName, man meta.Manifest) (versionDocs, error) {
	raw, err := os.ReadFile(p.clonePath(meta.MetadataPath(table)))
	if err != nil {
		return versionDocs{}, err
	}
	md, err := meta.ParseMetadata(raw)
	if err != nil {
		return versionDocs{}, fmt.Errorf("parse %s: %w", meta.MetadataPath(table), err)
	}
	hist, err := p.localHistory(table)
	if err != nil {
		return versionDocs{}, err
	}
	return versionDocs{table: table, metadata: md, history: hist, manifest: man}, nil
}
