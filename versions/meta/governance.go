package meta

import (
	"fmt"
	"time"

	"github.com/datomfs/datomfs/versions/datomjson"
)

// DefaultRegion is assumed when a ref.json location has no region.
const DefaultRegion = "us-east-1"

// storageValue is a location object: type, root, then prefix and region
// only when set (NULL members are omitted, contract 2.7 and 8).
func storageValue(s StorageConfig) datomjson.Value {
	ms := []datomjson.Member{
		datomjson.M("type", datomjson.Str(s.Type)),
		datomjson.M("root", datomjson.Str(s.Root)),
	}
	if s.Prefix != "" {
		ms = append(ms, datomjson.M("prefix", datomjson.Str(s.Prefix)))
	}
	if s.Region != "" {
		ms = append(ms, datomjson.M("region", datomjson.Str(s.Region)))
	}
	return datomjson.Obj(ms...)
}

// storageFromValue reads a location; a prefix that is null, "", {} or
// absent means no prefix.
func storageFromValue(v datomjson.Value) (StorageConfig, error) {
	if v.Kind() != datomjson.KindObject {
		return StorageConfig{}, fmt.Errorf("%w: store location is not an object", ErrInvalidConfig)
	}
	s := StorageConfig{Type: str(v, "type"), Root: str(v, "root"), Prefix: str(v, "prefix"), Region: str(v, "region")}
	if s.Root == "" {
		return StorageConfig{}, fmt.Errorf("%w: store location has no root", ErrInvalidConfig)
	}
	return s, nil
}

// Governance is .datom/governance.json (contract 2.7); its presence marks
// a governed project.
type Governance struct{ doc datomjson.Value }

// NewGovernance is the document written when governance is attached.
func NewGovernance(repoURL string, store StorageConfig, attachedAt time.Time) (Governance, error) {
	if repoURL == "" {
		return Governance{}, fmt.Errorf("%w: governance repo URL is empty", ErrInvalidConfig)
	}
	if err := store.Validate(); err != nil {
		return Governance{}, fmt.Errorf("governance store: %w", err)
	}
	return Governance{doc: datomjson.Obj(
		datomjson.M("gov_repo_url", datomjson.Str(repoURL)),
		datomjson.M("gov_storage", storageValue(store)),
		datomjson.M("attached_at", datomjson.Str(FormatTimestamp(attachedAt))),
	)}, nil
}

// ParseGovernance reads a governance.json.
func ParseGovernance(data []byte) (Governance, error) {
	v, err := datomjson.Parse(data)
	if err != nil {
		return Governance{}, fmt.Errorf("parse governance.json: %w", err)
	}
	if v.Kind() != datomjson.KindObject {
		return Governance{}, fmt.Errorf("parse governance.json: %w: not an object", ErrInvalidConfig)
	}
	if str(v, "gov_repo_url") == "" {
		return Governance{}, fmt.Errorf("parse governance.json: %w: gov_repo_url missing", ErrInvalidConfig)
	}
	s, _ := v.Get("gov_storage")
	if _, err := storageFromValue(s); err != nil {
		return Governance{}, fmt.Errorf("parse governance.json: gov_storage: %w", err)
	}
	return Governance{doc: v}, nil
}

// RepoURL is the governance repository URL.
func (g Governance) RepoURL() string { return str(g.doc, "gov_repo_url") }

// Storage is the governance store location.
func (g Governance) Storage() StorageConfig {
	v, _ := g.doc.Get("gov_storage")
	s, _ := storageFromValue(v)
	return s
}

// AttachedAt is attached_at (zero if malformed).
func (g Governance) AttachedAt() time.Time {
	t, _ := ParseTimestamp(str(g.doc, "attached_at"))
	return t
}

// Value is the document as a JSON object.
func (g Governance) Value() datomjson.Value { return g.doc }

// JSON is the pretty document without a trailing newline (S3 form).
func (g Governance) JSON() []byte { return datomjson.Pretty(g.doc) }

// File is the pretty document plus "\n" (git and local-store form).
func (g Governance) File() []byte { return append(g.JSON(), '\n') }

// Ref is a governance repository's projects/<project>/ref.json (contract
// 8): where a project's data currently lives.
type Ref struct{ doc datomjson.Value }

// NewRef is the ref.json of a newly registered project (previous = []).
func NewRef(current StorageConfig) (Ref, error) {
	if err := current.Validate(); err != nil {
		return Ref{}, fmt.Errorf("ref current: %w", err)
	}
	return Ref{doc: datomjson.Obj(
		datomjson.M("current", storageValue(current)),
		datomjson.M("previous", datomjson.List()),
	)}, nil
}

// ParseRef reads a ref.json; current.root is required.
func ParseRef(data []byte) (Ref, error) {
	v, err := datomjson.Parse(data)
	if err != nil {
		return Ref{}, fmt.Errorf("parse ref.json: %w", err)
	}
	if v.Kind() != datomjson.KindObject {
		return Ref{}, fmt.Errorf("parse ref.json: %w: not an object", ErrInvalidConfig)
	}
	cur, ok := v.Get("current")
	if !ok {
		return Ref{}, fmt.Errorf("parse ref.json: %w: current missing", ErrInvalidConfig)
	}
	if _, err := storageFromValue(cur); err != nil {
		return Ref{}, fmt.Errorf("parse ref.json: current: %w", err)
	}
	return Ref{doc: v}, nil
}

// Current is the data location; an s3 location without region gets
// DefaultRegion.
func (r Ref) Current() StorageConfig {
	v, _ := r.doc.Get("current")
	s, _ := storageFromValue(v)
	if s.Type == StorageS3 && s.Region == "" {
		s.Region = DefaultRegion
	}
	return s
}

// Previous returns the earlier locations, most recent first, as stored
// (owned by the governance tooling). Non-empty only warns readers.
func (r Ref) Previous() []datomjson.Value {
	v, _ := r.doc.Get("previous")
	return v.Items()
}

// Value is the document as a JSON object.
func (r Ref) Value() datomjson.Value { return r.doc }

// JSON is the pretty document without a trailing newline (S3 form).
func (r Ref) JSON() []byte { return datomjson.Pretty(r.doc) }

// File is the pretty document plus "\n" (git and local-store form).
func (r Ref) File() []byte { return append(r.JSON(), '\n') }
