package iceberg

import (
	"fmt"
	"slices"

	ice "github.com/apache/iceberg-go"
)

// fieldIDs hands out Iceberg field ids by column path ("a", "s.x",
// "l.element"), the same id for the same path in every version of a table,
// so that one name mapping (schema.name-mapping.default) serves every data
// file: datom's parquet files carry no field ids. A path seen for the first
// time gets the next id, in the order the versions are built.
type fieldIDs struct {
	byPath  map[string]int
	last    int
	mapping []ice.MappedField // every path seen, merged
}

func newFieldIDs() *fieldIDs { return &fieldIDs{byPath: map[string]int{}} }

// assign returns sc (whose ids are ignored) with the table's stable ids and
// the schema id given, and adds its paths to the name mapping.
func (f *fieldIDs) assign(sc *ice.Schema, schemaID int) (*ice.Schema, error) {
	// Number the fields 1..k in the library's visiting order, name each
	// number by its path, then renumber in the same order with the ids of
	// those paths.
	fresh, err := ice.AssignFreshSchemaIDs(sc, nil)
	if err != nil {
		return nil, fmt.Errorf("number fields: %w", err)
	}
	names, err := ice.IndexNameByID(fresh)
	if err != nil {
		return nil, fmt.Errorf("index field names: %w", err)
	}
	k := fresh.HighestFieldID()
	stable := make([]int, k+1)
	for id := 1; id <= k; id++ {
		name, ok := names[id]
		if !ok {
			return nil, fmt.Errorf("field %d has no name", id)
		}
		sid, ok := f.byPath[name]
		if !ok {
			f.last++
			sid = f.last
			f.byPath[name] = sid
		}
		stable[id] = sid
	}
	n := 0
	var bad error
	out, err := ice.AssignFreshSchemaIDs(fresh, func() int {
		n++
		if n > k {
			bad = fmt.Errorf("more fields than numbered (%d)", k)
			return 0
		}
		return stable[n]
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, fmt.Errorf("assign field ids: %w", err)
	}
	out = ice.NewSchema(schemaID, out.Fields()...)
	f.mapping = mergeMapping(f.mapping, out.NameMapping())
	return out, nil
}

// nameMapping is the merged mapping of every path seen so far.
func (f *fieldIDs) nameMapping() ice.NameMapping { return ice.NameMapping(f.mapping) }

// mergeMapping adds src's fields to dst by name (the ids agree, being by
// path), keeping dst's order and appending new names.
func mergeMapping(dst, src []ice.MappedField) []ice.MappedField {
	for _, s := range src {
		i := slices.IndexFunc(dst, func(d ice.MappedField) bool { return slices.Equal(d.Names, s.Names) })
		if i < 0 {
			dst = append(dst, ice.MappedField{Names: slices.Clone(s.Names), FieldID: s.FieldID, Fields: mergeMapping(nil, s.Fields)})
			continue
		}
		dst[i].Fields = mergeMapping(dst[i].Fields, s.Fields)
	}
	return dst
}
