package datomjson

import (
	"errors"
	"fmt"
	"sort"
)

// ErrNotObject reports a document that must be a JSON object but is not.
var ErrNotObject = errors.New("not a JSON object")

// IsVolatileKey reports whether a top-level metadata key is excluded from
// metadata_sha (contract 4.3 step 1).
func IsVolatileKey(key string) bool {
	switch key {
	case "created_at", "datom_version", "parquet_sha", "column_hashes", "size_bytes":
		return true
	}
	return false
}

// CanonicalMetadata returns the bytes hashed for metadata_sha (contract
// 4.3): the five volatile top-level keys are dropped, the remaining
// top-level keys are sorted by byte order and the object is serialized
// compactly. Nested members keep their order. As upstream selects
// metadata[setdiff(names, volatile)], a duplicated top-level key keeps only
// its first occurrence.
func CanonicalMetadata(v Value) ([]byte, error) {
	if v.kind != KindObject {
		return nil, fmt.Errorf("canonical metadata: %w (got %s)", ErrNotObject, v.kind)
	}
	seen := make(map[string]bool, len(v.members))
	kept := make([]Member, 0, len(v.members))
	for _, m := range v.members {
		if IsVolatileKey(m.Key) || seen[m.Key] {
			continue
		}
		seen[m.Key] = true
		kept = append(kept, m)
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Key < kept[j].Key })
	return Compact(Value{kind: KindObject, members: kept}), nil
}
