package iceberg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	ice "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"golang.org/x/sync/errgroup"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/store"
)

// HintFile is the file in a table's metadata folder that names its current
// metadata file by number (the Hadoop catalog's convention, which Spark's
// hadoop catalog and DuckDB's iceberg_scan follow).
const HintFile = "version-hint.text"

// Options tune a sync.
type Options struct {
	Logger *slog.Logger
	// Full reads every version's parquet footer again, instead of taking
	// what the table's current metadata already says of a version whose
	// object has not changed.
	Full bool
	// Concurrency is how many tables are built at once (default 4).
	Concurrency int

	// batch, when set, defers the durability of the files written to its
	// Commit (AfterWrites).
	batch *store.Batch
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o.Logger
}

// TableResult says what a sync did for one table.
type TableResult struct {
	Table            string `json:"table"`
	MetadataLocation string `json:"metadata_location,omitempty"` // empty when the table has no versions
	Snapshots        int    `json:"snapshots"`
	Schemas          int    `json:"schemas"`
	FilesWritten     int    `json:"files_written"`
	FootersRead      int    `json:"footers_read"`
	Err              error  `json:"-"`
}

// Keys and URLs of a project's Iceberg metadata.
type place struct {
	loc store.Location
}

// key is the store key of rel in table's Iceberg folder:
// {prefix}/iceberg/{table}/{rel}, beside datom/ (never inside it).
func (pl place) key(tbl string, rel ...string) string {
	parts := []string{}
	if p := strings.Trim(pl.loc.Prefix, "/"); p != "" {
		parts = append(parts, p)
	}
	parts = append(parts, "iceberg", tbl)
	parts = append(parts, rel...)
	return strings.Join(parts, "/")
}

// url is the absolute location of a store key as engines name it:
// file:///abs/path/key for a local store, s3://bucket/key for S3.
func (pl place) url(key string) string {
	switch pl.loc.Type {
	case store.TypeS3:
		return "s3://" + pl.loc.Root + "/" + key
	default:
		return "file://" + path.Join(pl.loc.Root, key)
	}
}

// SyncTable brings table's Iceberg metadata up to date with its datom
// history: Avro files for snapshots not yet described, then
// v<N>.metadata.json (N = the number of versions) and version-hint.text.
// It is idempotent: a second run writes nothing new, and two runs from the
// same history give byte-identical metadata.json.
func SyncTable(ctx context.Context, p *versions.Project, name meta.TableName, o Options) (TableResult, error) {
	vs, err := p.Versions(ctx, name)
	if err != nil {
		return TableResult{Table: name.String()}, fmt.Errorf("history of %s: %w", name, err)
	}
	return syncVersions(ctx, p, name, vs, o)
}

// syncVersions is SyncTable with the table's versions (newest first)
// already read.
func syncVersions(ctx context.Context, p *versions.Project, name meta.TableName, vs []versions.Version, o Options) (TableResult, error) {
	res := TableResult{Table: name.String()}
	vs = slices.Clone(vs)
	slices.Reverse(vs) // oldest first
	if len(vs) == 0 {
		return res, nil
	}
	pl := place{loc: p.StoreLoc()}
	st := p.Store()
	tbl := name.String()
	dirKey := pl.key(tbl, "metadata") + "/"
	listed, err := st.List(ctx, dirKey)
	if err != nil {
		return res, fmt.Errorf("list %s: %w", dirKey, err)
	}
	existing := map[string]int64{}
	for _, in := range listed {
		existing[strings.TrimPrefix(in.Key, dirKey)] = in.Size
	}
	hint, _ := readHint(ctx, st, dirKey)
	known := map[string]versionFile{}
	if !o.Full && hint > 0 {
		if md, err := readMetadata(ctx, st, dirKey, hint); err == nil {
			known = knownFiles(md)
		} else {
			o.logger().Debug("iceberg: current metadata unreadable, reading footers", "table", tbl, "err", err)
		}
	}

	spec := tableSpec{Project: p.Name(), Table: tbl, Location: pl.url(pl.key(tbl))}
	for _, v := range vs {
		key := p.Key(v)
		u := pl.url(key)
		if v.Current {
			spec.Current = v.ID.String()
		}
		if k, ok := known[v.ID.String()]; ok && k.URL == u {
			k.Version = v
			spec.Files = append(spec.Files, k)
			continue
		}
		f, err := readFooter(ctx, st, key)
		if err != nil {
			return res, fmt.Errorf("version %s of %s: %w", v.ID.Short(), tbl, err)
		}
		res.FootersRead++
		f.Version, f.URL = v, u
		spec.Files = append(spec.Files, f)
	}
	pln, err := buildPlan(spec)
	if err != nil {
		return res, err
	}
	put := func(name string, body []byte) error {
		key := dirKey + name
		opts := store.PutOptions{Batch: o.batch}
		if strings.HasSuffix(name, ".json") {
			opts.ContentType = store.ContentTypeJSON
		}
		if err := st.Put(ctx, key, bytes.NewReader(body), int64(len(body)), opts); err != nil {
			return fmt.Errorf("upload %s: %w", key, err)
		}
		res.FilesWritten++
		return nil
	}
	for _, s := range pln.snapshots {
		if _, ok := existing[s.list]; ok {
			continue
		}
		if err := s.writeAvro(spec.metadataDir(), put); err != nil {
			return res, fmt.Errorf("snapshot of version %s of %s: %w", s.file.Version.ID.Short(), tbl, err)
		}
	}
	n := len(spec.Files)
	if size, ok := existing[pln.name]; !ok || size != int64(len(pln.json)) || !sameObject(ctx, st, dirKey+pln.name, pln.json) {
		if err := put(pln.name, pln.json); err != nil {
			return res, err
		}
	}
	switch {
	case hint == n:
	case hint > n:
		// Another writer has described more versions than this clone
		// knows: leave the hint to it.
		o.logger().Debug("iceberg: store's metadata is ahead of this clone", "table", tbl, "store", hint, "here", n)
	default:
		if err := put(HintFile, []byte(strconv.Itoa(n))); err != nil {
			return res, err
		}
	}
	res.MetadataLocation = spec.metadataDir() + pln.name
	res.Snapshots = len(pln.snapshots)
	res.Schemas = len(pln.metadata.Schemas())
	return res, nil
}

// Sync brings every table's Iceberg metadata up to date. A table that
// fails does not stop the others; its result carries the error, and the
// returned error says how many failed.
func Sync(ctx context.Context, p *versions.Project, o Options) ([]TableResult, error) {
	tables, err := p.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TableResult, len(tables))
	g, gctx := errgroup.WithContext(ctx)
	limit := o.Concurrency
	if limit <= 0 {
		limit = 4
	}
	g.SetLimit(limit)
	for i, t := range tables {
		g.Go(func() error {
			// The current version from the listing: reading the manifest
			// again for each table would make a sync quadratic.
			var r TableResult
			h, err := p.History(gctx, t.Name)
			if err == nil {
				r, err = syncVersions(gctx, p, t.Name, versions.VersionsOf(t.Name, h, t.CurrentVersion), o)
			}
			r.Table, r.Err = t.Name.String(), err
			out[i] = r
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	failed := 0
	for _, r := range out {
		if r.Err != nil {
			failed++
		}
	}
	if failed > 0 {
		return out, fmt.Errorf("iceberg metadata of %d of %d tables not written", failed, len(out))
	}
	return out, nil
}

// afterWritesGroup is how many tables' files AfterWrites makes durable
// together: a local store keeps a file open for each until then (a table
// writes about four), while the sync's next batch holds its own.
const afterWritesGroup = 32

// AfterWrites is a versions.Options.AfterWrites: it brings the tables of
// new versions (a write's one, a sync's batch) up to date, Concurrency
// at a time, their files made durable together (store.Batch: a local
// store syncs them at once, not one by one). Each table's current version
// is the one its write made, so the manifest is not read again for every
// table. Trouble is a warning: the versions have landed whatever happens
// here, and `datomfs iceberg sync` catches up.
func AfterWrites(o Options) func(ctx context.Context, p *versions.Project, res []versions.WriteResult) {
	return func(ctx context.Context, p *versions.Project, res []versions.WriteResult) {
		start := time.Now()
		limit := o.Concurrency
		if limit <= 0 {
			limit = 4
		}
		written := 0
		for len(res) > 0 {
			group := res[:min(len(res), afterWritesGroup)]
			res = res[len(group):]
			bo := o
			bo.batch = new(store.Batch)
			errs := make([]error, len(group))
			files := make([]int, len(group))
			var g errgroup.Group
			g.SetLimit(limit)
			for i, w := range group {
				g.Go(func() error {
					h, err := p.History(ctx, w.Table)
					if err == nil {
						var r TableResult
						r, err = syncVersions(ctx, p, w.Table, versions.VersionsOf(w.Table, h, w.Version), bo)
						files[i] = r.FilesWritten
					}
					errs[i] = err
					return nil
				})
			}
			_ = g.Wait()
			// What was written is kept even for a table that failed half
			// way, as SyncTable would leave it: a later sync completes it.
			cerr := bo.batch.Commit(ctx)
			for i, w := range group {
				err := errs[i]
				if err == nil {
					err = cerr
				}
				if err != nil {
					o.logger().Warn("iceberg metadata not updated (the write itself succeeded); run \"datomfs iceberg sync\"",
						"table", w.Table.String(), "err", err)
				} else if files[i] > 0 {
					written++
				}
			}
		}
		o.logger().Debug("iceberg metadata updated", "tables", written, "seconds", time.Since(start).Seconds())
	}
}

// TableInfo is where a table's Iceberg metadata is.
type TableInfo struct {
	Table            string `json:"table"`
	TableLocation    string `json:"table_location"`
	MetadataLocation string `json:"metadata_location"` // empty: not built yet
	Snapshots        int    `json:"snapshots"`
	CurrentSnapshot  int64  `json:"current_snapshot_id,omitempty"`
	CurrentVersion   string `json:"current_version,omitempty"`
	UpToDate         bool   `json:"up_to_date"`      // one snapshot per version, main at the current one
	Error            string `json:"error,omitempty"` // why the metadata could not be read
}

// Locate reads where each table's current Iceberg metadata is, without
// changing anything.
func Locate(ctx context.Context, p *versions.Project) ([]TableInfo, error) {
	tables, err := p.List(ctx)
	if err != nil {
		return nil, err
	}
	pl := place{loc: p.StoreLoc()}
	st := p.Store()
	out := make([]TableInfo, len(tables))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8) // two reads per table: on S3, one after the other is slow
	for i, t := range tables {
		g.Go(func() error {
			tbl := t.Name.String()
			dirKey := pl.key(tbl, "metadata") + "/"
			// A table without versions has no metadata and needs none.
			info := TableInfo{Table: tbl, TableLocation: pl.url(pl.key(tbl)), UpToDate: t.VersionCount == 0}
			defer func() { out[i] = info }()
			hint, err := readHint(gctx, st, dirKey)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err == nil && hint > 0 {
				var md table.Metadata
				if md, err = readMetadata(gctx, st, dirKey, hint); err == nil {
					info.MetadataLocation = pl.url(dirKey + metadataName(hint))
					info.Snapshots = len(md.Snapshots())
					if s := md.CurrentSnapshot(); s != nil {
						info.CurrentSnapshot = s.SnapshotID
						if s.Summary != nil {
							info.CurrentVersion = s.Summary.Properties[SummaryVersion]
						}
					}
					info.UpToDate = info.Snapshots == t.VersionCount && info.CurrentVersion == t.CurrentVersion.Short()
				}
			}
			if err != nil {
				if store.IsPermanent(err) || errors.Is(err, store.ErrUnreachable) || gctx.Err() != nil {
					return err
				}
				info.UpToDate, info.Error = false, err.Error()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func metadataName(n int) string { return fmt.Sprintf("v%d.metadata.json", n) }

// readHint reads version-hint.text; 0 with ErrNotFound when there is none.
func readHint(ctx context.Context, st store.Store, dirKey string) (int, error) {
	raw, err := readAll(ctx, st, dirKey+HintFile)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s%s holds %q, not a number", dirKey, HintFile, raw)
	}
	return n, nil
}

func readMetadata(ctx context.Context, st store.Store, dirKey string, n int) (table.Metadata, error) {
	raw, err := readAll(ctx, st, dirKey+metadataName(n))
	if err != nil {
		return nil, err
	}
	md, err := table.ParseMetadataBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s%s: %w", dirKey, metadataName(n), err)
	}
	return md, nil
}

func readAll(ctx context.Context, st store.Store, key string) ([]byte, error) {
	rc, err := st.Open(ctx, key, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}

func sameObject(ctx context.Context, st store.Store, key string, want []byte) bool {
	got, err := readAll(ctx, st, key)
	return err == nil && bytes.Equal(got, want)
}

// knownFiles is what a table's metadata already says of each version's
// object (location, size, rows, schema), by version id.
func knownFiles(md table.Metadata) map[string]versionFile {
	out := map[string]versionFile{}
	for _, s := range md.Snapshots() {
		if s.Summary == nil || s.SchemaID == nil {
			continue
		}
		props := s.Summary.Properties
		id, u := props[SummaryVersionID], props[SummaryDataFile]
		size, err1 := strconv.ParseInt(props["added-files-size"], 10, 64)
		rows, err2 := strconv.ParseInt(props["added-records"], 10, 64)
		var sc *ice.Schema
		for _, x := range md.Schemas() {
			if x.ID == *s.SchemaID {
				sc = x
			}
		}
		if id == "" || u == "" || err1 != nil || err2 != nil || sc == nil {
			continue
		}
		out[id] = versionFile{URL: u, Size: size, Records: rows, Schema: sc}
	}
	return out
}

// readFooter reads the size, row count and schema of a parquet object
// from its footer (one or two ranged reads), without fetching the data.
func readFooter(ctx context.Context, st store.Store, key string) (versionFile, error) {
	info, err := st.Stat(ctx, key)
	if err != nil {
		return versionFile{}, fmt.Errorf("stat %s: %w", key, err)
	}
	r := &objectReader{ctx: ctx, st: st, key: key, size: info.Size}
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return versionFile{}, fmt.Errorf("read parquet footer of %s: %w", key, err)
	}
	defer pf.Close()
	md := pf.MetaData()
	asc, err := pqarrow.FromParquet(md.Schema, &pqarrow.ArrowReadProperties{}, md.KeyValueMetadata())
	if err != nil {
		return versionFile{}, fmt.Errorf("schema of %s: %w", key, err)
	}
	sc, err := table.ArrowSchemaToIcebergWithFreshIDs(asc, true)
	if err != nil {
		return versionFile{}, fmt.Errorf("schema of %s as Iceberg: %w", key, err)
	}
	return versionFile{Size: info.Size, Records: md.NumRows, Schema: sc}, nil
}

// objectReader reads a stored object by ranges (io.ReaderAt, io.Seeker).
type objectReader struct {
	ctx  context.Context
	st   store.Store
	key  string
	size int64
	pos  int64
}

func (r *objectReader) ReadAt(b []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	rc, err := r.st.Open(r.ctx, r.key, off, int64(len(b)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, b)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

func (r *objectReader) Read(b []byte) (int, error) {
	n, err := r.ReadAt(b, r.pos)
	r.pos += int64(n)
	return n, err
}

func (r *objectReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += r.pos
	case io.SeekEnd:
		off += r.size
	default:
		return 0, fmt.Errorf("seek: bad whence %d", whence)
	}
	if off < 0 {
		return 0, errors.New("seek: negative position")
	}
	r.pos = off
	return off, nil
}
