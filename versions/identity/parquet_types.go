package identity

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// reading says how a column's Arrow arrays become cv1 values.
type reading int

const (
	readNum      reading = iota // numeric types, dates, times, durations: one pass
	readInt64                   // int64: num if every value fits R's integer, else i64
	readDurInt64                // int64 arrays that Arrow C++ reads as duration (ARROW:schema)
	readChr                     // utf8, large_utf8, JSON-annotated binary, dictionary of those
)

// int64 range hints from parquet statistics (a hint only: always verified).
const (
	hintUnknown = iota
	hintInRange
	hintOutOfRange
)

// colPlan is what planning decided for one column.
type colPlan struct {
	idx     int
	name    string
	class   string // Arrow type text, for refusals and explanations
	kind    Kind   // final kind; for readInt64 the kind is decided while reading
	reading reading
	div     float64 // timestamps/times/durations: 10^k of the unit
	units   string  // drtn
	// chr: statistics say no row is null (verified while reading).
	noNulls bool
	// chr: the parquet leaf column holds BYTE_ARRAY values, read directly
	// (no Arrow arrays) at leaf index leaf.
	rawLeaf bool
	leaf    int
	// int64: what statistics say about the range.
	hint int
}

// unitDiv is 10^k for an Arrow time unit (contract 5.1: double(v)/10^k).
func unitDiv(u arrow.TimeUnit) float64 {
	switch u {
	case arrow.Millisecond:
		return 1e3
	case arrow.Microsecond:
		return 1e6
	case arrow.Nanosecond:
		return 1e9
	default:
		return 1
	}
}

// planColumn classifies top-level field i the way arrow C++ (what R uses)
// would type it, then maps it to a cv1 kind (contract 5.1/5.2) or a refusal.
//
// pqarrow already applied most of the ARROW:schema restorations Arrow C++
// applies (time zones, dictionaries, large types, decimal256, extensions).
// Two differences are corrected here: Arrow C++ reads int64 as duration when
// the stored schema says duration, and reads JSON-annotated byte arrays as
// utf8 where pqarrow gives binary.
func planColumn(i int, sf *pqarrow.SchemaField, origin *arrow.Field, sc *schema.Schema) (colPlan, *Refusal) {
	t := sf.Field.Type
	p := colPlan{idx: i, name: sf.Field.Name, class: t.String()}
	refuse := func(c RefusalCategory, detail string) (colPlan, *Refusal) {
		r := newRefusal(p.name, p.class, c, detail)
		return p, &r
	}
	if origin != nil && origin.Type.ID() == arrow.EXTENSION {
		p.class = origin.Type.String()
		return refuse(RefuseOther, "Arrow extension types are not read as plain R vectors")
	}
	jsonText := false
	if sf.IsLeaf() && sf.ColIndex < sc.NumColumns() {
		_, jsonText = sc.Column(sf.ColIndex).LogicalType().(schema.JSONLogicalType)
	}
	switch t.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16,
		arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		p.kind, p.reading = KindNum, readNum
	case arrow.INT64:
		if origin != nil && origin.Type.ID() == arrow.DURATION {
			p.class = origin.Type.String()
			p.kind, p.reading, p.units = KindDrtn, readDurInt64, "secs"
			p.div = unitDiv(origin.Type.(*arrow.DurationType).Unit)
		} else {
			p.reading = readInt64
		}
	case arrow.STRING, arrow.LARGE_STRING:
		p.kind, p.reading = KindChr, readChr
	case arrow.BINARY, arrow.LARGE_BINARY:
		if !jsonText {
			return refuse(RefuseListBlob, "")
		}
		p.kind, p.reading = KindChr, readChr
	case arrow.DICTIONARY:
		vt := t.(*arrow.DictionaryType).ValueType
		switch {
		case vt.ID() == arrow.STRING || vt.ID() == arrow.LARGE_STRING:
		case (vt.ID() == arrow.BINARY || vt.ID() == arrow.LARGE_BINARY) && jsonText:
		default:
			return refuse(RefuseOther, "a dictionary of non-text values becomes a factor of R's text rendering")
		}
		p.kind, p.reading = KindChr, readChr
	case arrow.DATE32:
		p.kind, p.reading = KindDate, readNum
	case arrow.DATE64:
		p.kind, p.reading = KindTime, readNum
	case arrow.TIMESTAMP:
		p.kind, p.reading = KindTime, readNum
		p.div = unitDiv(t.(*arrow.TimestampType).Unit)
	case arrow.TIME32:
		p.kind, p.reading, p.units = KindDrtn, readNum, "secs"
		p.div = unitDiv(t.(*arrow.Time32Type).Unit)
	case arrow.TIME64:
		p.kind, p.reading, p.units = KindDrtn, readNum, "secs"
		p.div = unitDiv(t.(*arrow.Time64Type).Unit)
	case arrow.DURATION:
		p.kind, p.reading, p.units = KindDrtn, readNum, "secs"
		p.div = unitDiv(t.(*arrow.DurationType).Unit)
	case arrow.FIXED_SIZE_BINARY, arrow.BINARY_VIEW:
		return refuse(RefuseListBlob, "")
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
		if lt, ok := t.(arrow.ListLikeType); ok && lt.Elem().ID() == arrow.STRUCT {
			return refuse(RefuseNestedTable, "")
		}
		return refuse(RefuseListBlob, "")
	case arrow.MAP:
		return refuse(RefuseNestedTable, "")
	case arrow.EXTENSION:
		st := t.(arrow.ExtensionType).StorageType().ID()
		if st == arrow.FIXED_SIZE_BINARY || st == arrow.BINARY || st == arrow.LARGE_BINARY {
			return refuse(RefuseListBlob, "")
		}
		return refuse(RefuseOther, "Arrow extension types are not read as plain R vectors")
	case arrow.FLOAT16:
		return refuse(RefuseOther, "float16 is not supported by R's arrow")
	default:
		return refuse(RefuseOther, "")
	}
	if p.div == 0 {
		p.div = 1
	}
	if p.reading == readChr && sf.IsLeaf() && sf.ColIndex < sc.NumColumns() &&
		sc.Column(sf.ColIndex).PhysicalType() == parquet.Types.ByteArray &&
		sc.Column(sf.ColIndex).MaxRepetitionLevel() == 0 {
		p.rawLeaf, p.leaf = true, sf.ColIndex
	}
	return p, nil
}

// statsHints fills the chr no-null hint and the int64 range hint from the
// row groups' statistics. Statistics are never trusted: the readers verify
// them and start over when they lie.
func statsHints(p *colPlan, md *metadata.FileMetaData, sf *pqarrow.SchemaField) {
	if !sf.IsLeaf() || (p.reading != readChr && p.reading != readInt64) {
		return
	}
	leaf := sf.ColIndex
	if leaf >= md.Schema.NumColumns() {
		return
	}
	required := md.Schema.Column(leaf).MaxDefinitionLevel() == 0
	noNulls, inRange, outOfRange, known := true, true, false, true
	for rg := 0; rg < md.NumRowGroups(); rg++ {
		cc, err := md.RowGroup(rg).ColumnChunk(leaf)
		if err != nil {
			return
		}
		st, err := cc.Statistics()
		if err != nil || st == nil {
			noNulls, known = noNulls && required, false
			continue
		}
		if !required && (!st.HasNullCount() || st.NullCount() != 0) {
			noNulls = false
		}
		is, ok := st.(*metadata.Int64Statistics)
		if !ok || !st.HasMinMax() {
			known = false
			continue
		}
		if is.Min() < math.MinInt32 || is.Max() > math.MaxInt32 {
			outOfRange = true
			inRange = false
		}
	}
	p.noNulls = noNulls
	switch {
	case outOfRange:
		p.hint = hintOutOfRange
	case known && inRange:
		p.hint = hintInRange
	default:
		p.hint = hintUnknown
	}
}

func (p colPlan) String() string { return fmt.Sprintf("column %q (%s)", p.name, p.class) }
