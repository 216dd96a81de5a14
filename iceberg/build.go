package iceberg

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	ice "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/datomfs/datomfs/versions"
)

// formatTag names the rules this file builds by; it is part of every
// manifest's name, so that files built by other rules are never reused.
const formatTag = "datomfs-iceberg-1"

// Summary keys datomfs adds to each snapshot's summary.
const (
	SummaryVersionID = "datom.version-id"
	SummaryVersion   = "datom.version"
	SummaryDataSHA   = "datom.data-sha"
	SummaryAuthor    = "datom.author"
	SummaryMessage   = "datom.message"
	SummaryTimestamp = "datom.timestamp"
	SummaryDataFile  = "datom.data-file"
)

// versionFile is what the metadata needs of one datom version.
type versionFile struct {
	Version versions.Version
	URL     string      // absolute location of the version's parquet object
	Size    int64       // its length in bytes
	Records int64       // its row count
	Schema  *ice.Schema // from its parquet footer; field ids are ignored
}

// tableSpec is one table to describe.
type tableSpec struct {
	Project  string
	Table    string
	Location string        // absolute URL of the table folder (…/iceberg/<table>)
	Files    []versionFile // oldest first
	Current  string        // the version main points to (the manifest's current_version)
}

// plannedSnapshot is one snapshot and the Avro files that describe it.
type plannedSnapshot struct {
	id, seq  int64
	parent   *int64
	schema   *ice.Schema
	file     versionFile
	prev     *versionFile // the file this one replaces, if another
	prevSeq  int64        // the sequence number prev was added with
	key      string       // hash of everything the Avro files hold
	manifest string       // file names in metadata/
	list     string
}

// plan is a table's metadata, ready to be written.
type plan struct {
	name      string // v<N>.metadata.json
	json      []byte
	snapshots []plannedSnapshot
	metadata  table.Metadata
}

// metadataDir is the URL of the table's metadata folder.
func (s tableSpec) metadataDir() string { return s.Location + "/metadata/" }

// SnapshotID is the snapshot id of a datom version: the first 63 bits of
// its id, so that a rebuild gives the same ids (never 0).
func SnapshotID(versionID string) (int64, error) {
	raw, err := hex.DecodeString(versionID)
	if err != nil || len(raw) < 8 {
		return 0, fmt.Errorf("version id %q is not hex of 8 bytes or more", versionID)
	}
	id := int64(binary.BigEndian.Uint64(raw[:8]) & (1<<63 - 1))
	if id == 0 {
		id = 1
	}
	return id, nil
}

// tableUUID is the table's uuid, derived from project and table name.
func tableUUID(project, tbl string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("datomfs-iceberg:"+project+"/"+tbl))
}

// buildPlan describes spec's versions as Iceberg table metadata (format
// v2): one schema per distinct column layout, one overwrite snapshot per
// version in history order, main at the current version and a tag per
// version named by its 8-hex prefix.
func buildPlan(spec tableSpec) (*plan, error) {
	if len(spec.Files) == 0 {
		return nil, fmt.Errorf("table %s has no versions", spec.Table)
	}
	ids := newFieldIDs()
	var schemas []*ice.Schema
	p := &plan{name: fmt.Sprintf("v%d.metadata.json", len(spec.Files))}
	seen := map[int64]string{}
	for i, f := range spec.Files {
		sc, err := ids.assign(f.Schema, len(schemas))
		if err != nil {
			return nil, fmt.Errorf("schema of version %s: %w", f.Version.ID.Short(), err)
		}
		reused := false
		for _, s := range schemas {
			if s.Equals(sc) {
				sc, reused = s, true
				break
			}
		}
		if !reused {
			schemas = append(schemas, sc)
		}
		id, err := SnapshotID(f.Version.ID.String())
		if err != nil {
			return nil, err
		}
		if other, ok := seen[id]; ok {
			return nil, fmt.Errorf("versions %s and %s give the same snapshot id", other, f.Version.ID)
		}
		seen[id] = f.Version.ID.String()
		s := plannedSnapshot{id: id, seq: int64(i + 1), schema: sc, file: f}
		if i > 0 {
			prev := p.snapshots[i-1]
			s.parent = &prev.id
			// A version with the same data as its predecessor (a
			// metadata-only change) has the same object: nothing is removed.
			if prev.file.URL != f.URL {
				pf := prev.file
				s.prev, s.prevSeq = &pf, prev.seq
			}
		}
		s.key = s.hash()
		s.manifest = s.key + "-m0.avro"
		s.list = fmt.Sprintf("snap-%d-1-%s.avro", s.id, s.key)
		p.snapshots = append(p.snapshots, s)
	}

	mapping, err := json.Marshal(ids.nameMapping())
	if err != nil {
		return nil, err
	}
	props := ice.Properties{
		table.DefaultNameMappingKey: string(mapping),
		"datomfs.project":           spec.Project,
		"datomfs.table":             spec.Table,
	}
	// One builder session per snapshot, as if each version had been
	// committed in turn, so that the snapshot log lists every version
	// (a single session keeps only its last).
	tags := tagNames(spec.Files)
	var md table.Metadata
	var currentID, ts int64
	currentSchema := -1
	for i := range p.snapshots {
		s := &p.snapshots[i]
		var b *table.MetadataBuilder
		if i == 0 {
			if b, err = newBuilder(spec, s.schema, props); err != nil {
				return nil, fmt.Errorf("table metadata of %s: %w", spec.Table, err)
			}
		} else if b, err = table.MetadataBuilderFromBase(md, ""); err != nil {
			return nil, err
		}
		if i > 0 && s.schema.ID == len(md.Schemas()) {
			if err := b.AddSchema(s.schema); err != nil {
				return nil, fmt.Errorf("schema of version %s: %w", s.file.Version.ID.Short(), err)
			}
		}
		if err := b.SetCurrentSchemaID(s.schema.ID); err != nil {
			return nil, err
		}
		// Iceberg wants snapshot times in order; datom's come from the
		// writers' clocks, so a late one is raised to its predecessor's
		// (the summary keeps the recorded time).
		ts = max(ts, s.file.Version.Timestamp.UnixMilli())
		sid := s.schema.ID
		snap := table.Snapshot{
			SnapshotID:       s.id,
			ParentSnapshotID: s.parent,
			SequenceNumber:   s.seq,
			TimestampMs:      ts,
			ManifestList:     spec.metadataDir() + s.list,
			Summary:          &table.Summary{Operation: table.OpOverwrite, Properties: s.summary(spec)},
			SchemaID:         &sid,
		}
		if err := b.AddSnapshot(&snap); err != nil {
			return nil, fmt.Errorf("snapshot of version %s: %w", s.file.Version.ID.Short(), err)
		}
		if err := b.SetSnapshotRef(table.MainBranch, s.id, table.BranchRef); err != nil {
			return nil, fmt.Errorf("main at version %s: %w", s.file.Version.ID.Short(), err)
		}
		if err := b.SetSnapshotRef(tags[i], s.id, table.TagRef); err != nil {
			return nil, fmt.Errorf("tag %s: %w", tags[i], err)
		}
		if md, err = b.Build(); err != nil {
			return nil, fmt.Errorf("table metadata of %s at version %s: %w", spec.Table, s.file.Version.ID.Short(), err)
		}
		if s.file.Version.ID.String() == spec.Current {
			currentID, currentSchema = s.id, sid
		}
	}
	p.json, err = json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encode table metadata of %s: %w", spec.Table, err)
	}
	if last := p.snapshots[len(p.snapshots)-1]; currentID != 0 && currentID != last.id {
		// An older version was made current again (contract 2.5): main
		// goes back to it.
		b, err := table.MetadataBuilderFromBase(md, "")
		if err == nil {
			err = b.SetSnapshotRef(table.MainBranch, currentID, table.BranchRef)
		}
		if err == nil {
			err = b.SetCurrentSchemaID(currentSchema)
		}
		if err == nil {
			md, err = b.Build()
		}
		if err == nil {
			p.json, err = pinUpdateTime(md, ts)
		}
		if err == nil {
			md, err = table.ParseMetadataBytes(p.json)
		}
		if err != nil {
			return nil, fmt.Errorf("main at the current version of %s: %w", spec.Table, err)
		}
	}
	p.metadata = md
	return p, nil
}

// newBuilder starts a table's metadata: its identity, first schema,
// no partitioning, no sort order and its properties.
func newBuilder(spec tableSpec, first *ice.Schema, props ice.Properties) (*table.MetadataBuilder, error) {
	b, err := table.NewMetadataBuilder(2)
	if err != nil {
		return nil, err
	}
	so := table.UnsortedSortOrder
	for _, step := range []func() error{
		func() error { return b.SetUUID(tableUUID(spec.Project, spec.Table)) },
		func() error { return b.SetLoc(spec.Location) },
		func() error { return b.AddSchema(first) },
		func() error { return b.SetCurrentSchemaID(first.ID) },
		func() error { return b.AddPartitionSpec(ice.UnpartitionedSpec, true) },
		func() error { return b.SetDefaultSpecID(0) },
		func() error { return b.AddSortOrder(&so) },
		func() error { return b.SetDefaultSortOrderID(0) },
		func() error { return b.SetProperties(props) },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// pinUpdateTime encodes md with its last update (and the snapshot log's
// last entry) at ms: moving main back to an older snapshot stamps them
// with the clock, which would make rebuilds differ.
func pinUpdateTime(md table.Metadata, ms int64) ([]byte, error) {
	raw, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var log []table.SnapshotLogEntry
	if err := json.Unmarshal(doc["snapshot-log"], &log); err != nil {
		return nil, err
	}
	if n := len(log); n > 0 {
		log[n-1].TimestampMs = ms
	}
	if doc["snapshot-log"], err = json.Marshal(log); err != nil {
		return nil, err
	}
	doc["last-updated-ms"] = json.RawMessage(strconv.FormatInt(ms, 10))
	return json.Marshal(doc)
}

// tagNames names each version's tag by its 8-hex prefix, or by its whole
// id where two versions of the table share the prefix.
func tagNames(files []versionFile) []string {
	count := map[string]int{}
	for _, f := range files {
		count[f.Version.ID.Short()]++
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Version.ID.Short()
		if count[out[i]] > 1 {
			out[i] = f.Version.ID.String()
		}
	}
	return out
}

// summary is the snapshot's summary: Iceberg's counts and datom's facts.
func (s plannedSnapshot) summary(spec tableSpec) ice.Properties {
	v := s.file.Version
	p := ice.Properties{
		"added-data-files":        "1",
		"added-records":           strconv.FormatInt(s.file.Records, 10),
		"added-files-size":        strconv.FormatInt(s.file.Size, 10),
		"total-data-files":        "1",
		"total-records":           strconv.FormatInt(s.file.Records, 10),
		"total-files-size":        strconv.FormatInt(s.file.Size, 10),
		"total-delete-files":      "0",
		"total-position-deletes":  "0",
		"total-equality-deletes":  "0",
		"changed-partition-count": "1",
		SummaryVersionID:          v.ID.String(),
		SummaryVersion:            v.ID.Short(),
		SummaryDataSHA:            v.DataSHA.String(),
		SummaryAuthor:             v.Author,
		SummaryMessage:            v.Message,
		SummaryTimestamp:          v.Timestamp.UTC().Format(time.RFC3339),
		SummaryDataFile:           s.file.URL,
	}
	if s.prev != nil {
		p["deleted-data-files"] = "1"
		p["deleted-records"] = strconv.FormatInt(s.prev.Records, 10)
		p["removed-files-size"] = strconv.FormatInt(s.prev.Size, 10)
	}
	return p
}

// hash names the snapshot's Avro files by everything they hold, so that a
// file already in the store is reused only when it says the same.
func (s plannedSnapshot) hash() string {
	h := sha256.New()
	sc, _ := json.Marshal(s.schema)
	parent := int64(-1)
	if s.parent != nil {
		parent = *s.parent
	}
	fmt.Fprintf(h, "%s\n%d\n%d\n%d\n%s\n%s\n%d\n%d\n", formatTag, s.id, s.seq, parent, sc, s.file.URL, s.file.Size, s.file.Records)
	if s.prev != nil {
		fmt.Fprintf(h, "%s\n%d\n%d\n%d\n", s.prev.URL, s.prev.Size, s.prev.Records, s.prevSeq)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// dataFile is the manifest entry content of a version's object.
func dataFile(f versionFile) (ice.DataFile, error) {
	b, err := ice.NewDataFileBuilder(*ice.UnpartitionedSpec, ice.EntryContentData, f.URL, ice.ParquetFile, nil, nil, nil, f.Records, f.Size)
	if err != nil {
		return nil, err
	}
	return b.Build(), nil
}

// writeAvro writes the snapshot's manifest (the version's object added and
// the previous one's deleted) and its manifest list, through put.
func (s plannedSnapshot) writeAvro(dir string, put func(name string, body []byte) error) error {
	added, err := dataFile(s.file)
	if err != nil {
		return fmt.Errorf("data file: %w", err)
	}
	entries := []ice.ManifestEntry{ice.NewManifestEntryBuilder(ice.EntryStatusADDED, &s.id, added).Build()}
	if s.prev != nil {
		removed, err := dataFile(*s.prev)
		if err != nil {
			return fmt.Errorf("data file: %w", err)
		}
		entries = append(entries, ice.NewManifestEntryBuilder(ice.EntryStatusDELETED, &s.id, removed).
			SequenceNum(s.prevSeq).FileSequenceNum(s.prevSeq).Build())
	}
	var buf bytes.Buffer
	mf, err := ice.WriteManifest(dir+s.manifest, &buf, 2, *ice.UnpartitionedSpec, s.schema, s.id, entries)
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := put(s.manifest, buf.Bytes()); err != nil {
		return err
	}
	buf.Reset()
	seq := s.seq
	if err := ice.WriteManifestList(2, &buf, s.id, s.parent, &seq, 0, []ice.ManifestFile{mf}); err != nil {
		return fmt.Errorf("write manifest list: %w", err)
	}
	return put(s.list, buf.Bytes())
}
