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
	readNum     reading = iota // numeric types, dates, times: Arrow arrays, one pass
	readInt64                  // int64: num if every value fits R's integer, else i64
	readDur                    // duration: the INT64 leaf read directly
	readDecimal                // decimal: the leaf read and converted directly
	readChr                    // utf8, large_utf8, JSON-annotated binary, dictionary of those
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
	// (no Arrow arrays).
	rawLeaf bool
	// leaf is the parquet leaf index of a flat column (durations, decimals
	// and raw chr columns are read from it directly).
	leaf int
	// int64: what statistics say about the range.
	hint int
	// decimal, duration: the precision and scale parquet stores, and the
	// physical type of the leaf.
	scale     int32
	precision int32
	phys      parquet.Type
	// rule is the row of the contract that decided the kind (for int64 the
	// reader picks ruleInt64Num or ruleInt64I64).
	rule string
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
// would type it, then maps it to a cv1 kind (contract 5.1/5.2) or a refusal,
// and records which row of the contract decided (p.rule).
//
// pqarrow already applies the ARROW:schema restorations Arrow C++ applies
// (time zones, dictionaries, large types, decimal256, durations,
// extensions). The differences are corrected here: Arrow C++ restores view
// types (which R then cannot read) where pqarrow keeps the plain type, and
// reads JSON-annotated byte arrays as utf8 where pqarrow gives binary.
func planColumn(i int, sf *pqarrow.SchemaField, origin *arrow.Field, sc *schema.Schema) (colPlan, *Refusal) {
	t := sf.Field.Type
	p := colPlan{idx: i, name: sf.Field.Name, class: t.String(), div: 1}
	refuse := func(rule string, c RefusalCategory, detail string) (colPlan, *Refusal) {
		p.rule = rule
		r := newRefusal(p.name, p.class, c, detail)
		r.Rule = rule
		return p, &r
	}
	var leaf *schema.Column
	if sf.IsLeaf() && sf.ColIndex >= 0 && sf.ColIndex < sc.NumColumns() &&
		sc.Column(sf.ColIndex).MaxRepetitionLevel() == 0 {
		leaf = sc.Column(sf.ColIndex)
		p.leaf, p.phys = sf.ColIndex, leaf.PhysicalType()
	}
	if origin != nil {
		if ref := refuseOrigin(origin.Type, &p); ref != nil {
			return refuse(ref.rule, ref.cat, ref.detail)
		}
	}
	jsonText := false
	if leaf != nil {
		_, jsonText = leaf.LogicalType().(schema.JSONLogicalType)
	}
	switch t.ID() {
	case arrow.BOOL:
		p.kind, p.reading, p.rule = KindNum, readNum, ruleBool
	case arrow.INT8, arrow.INT16, arrow.UINT8, arrow.UINT16:
		p.kind, p.reading, p.rule = KindNum, readNum, ruleSmallInt
	case arrow.INT32:
		p.kind, p.reading, p.rule = KindNum, readNum, ruleInt32
	case arrow.UINT32:
		p.kind, p.reading, p.rule = KindNum, readNum, ruleUint32
	case arrow.UINT64:
		p.kind, p.reading, p.rule = KindNum, readNum, ruleUint64
	case arrow.FLOAT32:
		p.kind, p.reading, p.rule = KindNum, readNum, ruleFloat32
	case arrow.FLOAT64:
		p.kind, p.reading, p.rule = KindNum, readNum, ruleFloat64
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return planDecimal(p, t.(arrow.DecimalType), leaf, refuse)
	case arrow.INT64:
		p.reading, p.rule = readInt64, ruleInt64
	case arrow.STRING, arrow.LARGE_STRING:
		p.kind, p.reading, p.rule = KindChr, readChr, ruleUtf8
	case arrow.BINARY, arrow.LARGE_BINARY:
		if !jsonText {
			return refuse(ruleBinary, RefuseListBlob, "")
		}
		p.kind, p.reading, p.rule = KindChr, readChr, ruleJSON
	case arrow.DICTIONARY:
		vt := t.(*arrow.DictionaryType).ValueType
		switch {
		case vt.ID() == arrow.STRING || vt.ID() == arrow.LARGE_STRING:
		case (vt.ID() == arrow.BINARY || vt.ID() == arrow.LARGE_BINARY) && jsonText:
		default:
			return refuse(ruleDictOther, RefuseOther, "a dictionary of non-text values becomes a factor of R's text rendering")
		}
		p.kind, p.reading, p.rule = KindChr, readChr, ruleDictText
	case arrow.DATE32:
		p.kind, p.reading, p.rule = KindDate, readNum, ruleDate32
	case arrow.DATE64:
		p.kind, p.reading, p.rule = KindTime, readNum, ruleDate64
	case arrow.TIMESTAMP:
		p.kind, p.reading, p.rule = KindTime, readNum, ruleTimestamp
		p.div = unitDiv(t.(*arrow.TimestampType).Unit)
	case arrow.TIME32:
		p.kind, p.reading, p.units, p.rule = KindDrtn, readNum, "secs", ruleTime
		p.div = unitDiv(t.(*arrow.Time32Type).Unit)
	case arrow.TIME64:
		p.kind, p.reading, p.units, p.rule = KindDrtn, readNum, "secs", ruleTime
		p.div = unitDiv(t.(*arrow.Time64Type).Unit)
	case arrow.DURATION:
		// Arrow C++ (and pqarrow) restore durations stored as INT64 from
		// ARROW:schema; the INT64 leaf is read directly.
		if leaf == nil || p.phys != parquet.Types.Int64 {
			return refuse(ruleDuration, RefuseOther, "a duration not stored as INT64 cannot be read")
		}
		p.kind, p.reading, p.units, p.rule = KindDrtn, readDur, "secs", ruleDuration
		p.div = unitDiv(t.(*arrow.DurationType).Unit)
	case arrow.FIXED_SIZE_BINARY:
		return refuse(ruleBinary, RefuseListBlob, "")
	case arrow.STRING_VIEW, arrow.BINARY_VIEW, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
		ref := refuseView(t)
		return refuse(ref.rule, ref.cat, ref.detail)
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST:
		if lt, ok := t.(arrow.ListLikeType); ok && lt.Elem().ID() == arrow.STRUCT {
			return refuse(ruleList, RefuseNestedTable, "")
		}
		return refuse(ruleList, RefuseListBlob, "")
	case arrow.MAP:
		return refuse(ruleList, RefuseNestedTable, "")
	case arrow.STRUCT:
		return refuse(ruleStruct, RefuseOther, "")
	case arrow.NULL:
		return refuse(ruleNull, RefuseOther, "")
	case arrow.EXTENSION:
		st := t.(arrow.ExtensionType).StorageType().ID()
		if st == arrow.FIXED_SIZE_BINARY || st == arrow.BINARY || st == arrow.LARGE_BINARY {
			return refuse(ruleBinary, RefuseListBlob, "")
		}
		return refuse(ruleUnsupported, RefuseOther, "Arrow extension types are not read as plain R vectors")
	case arrow.FLOAT16:
		return refuse(ruleFloat16, RefuseOther, "float16 is not supported by R's arrow")
	default:
		return refuse(ruleUnsupported, RefuseOther, "")
	}
	if p.reading == readChr && leaf != nil && p.phys == parquet.Types.ByteArray {
		p.rawLeaf = true
	}
	return p, nil
}

// typeRefusal is why a type is refused, before it becomes a Refusal.
type typeRefusal struct {
	rule   string
	cat    RefusalCategory
	detail string
}

// refuseOrigin refuses columns whose ARROW:schema type Arrow C++ restores
// to something R cannot read although pqarrow reads a plain type: the view
// types (pqarrow reads them as their plain counterparts) and extension
// types. p.class becomes the restored type.
func refuseOrigin(ot arrow.DataType, p *colPlan) *typeRefusal {
	switch ot.ID() {
	case arrow.EXTENSION:
		p.class = ot.String()
		return &typeRefusal{ruleUnsupported, RefuseOther, "Arrow extension types are not read as plain R vectors"}
	case arrow.STRING_VIEW, arrow.BINARY_VIEW, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
		p.class = ot.String()
		r := refuseView(ot)
		return &r
	case arrow.DICTIONARY:
		if vt := ot.(*arrow.DictionaryType).ValueType; vt.ID() == arrow.STRING_VIEW || vt.ID() == arrow.BINARY_VIEW {
			p.class = ot.String()
			r := refuseView(vt)
			return &r
		}
	}
	return nil
}

// refuseView is the refusal of a view type (contract 5.1, last row), with
// the advice of 4.2 for what the column holds: text gets the generic advice
// plus the cast that makes it readable, bytes and lists the list/blob
// advice, lists of structs the nested-table advice.
func refuseView(t arrow.DataType) typeRefusal {
	switch t.ID() {
	case arrow.STRING_VIEW:
		return typeRefusal{ruleViews, RefuseOther, "R's arrow does not read string_view; write the column as string (utf8)"}
	case arrow.BINARY_VIEW:
		return typeRefusal{ruleViews, RefuseListBlob, "R's arrow does not read binary_view"}
	}
	if lt, ok := t.(arrow.ListLikeType); ok && lt.Elem().ID() == arrow.STRUCT {
		return typeRefusal{ruleViews, RefuseNestedTable, "R's arrow does not read " + t.Name()}
	}
	return typeRefusal{ruleViews, RefuseListBlob, "R's arrow does not read " + t.Name()}
}

// maxDecimalBytes is the longest big-endian decimal Arrow C++ decodes for
// a decimal of this precision (Decimal128/256::FromBigEndian).
func maxDecimalBytes(precision int32) int {
	if precision <= 38 {
		return 16
	}
	return 32
}

// planDecimal plans a decimal column: the leaf is read directly in any of
// its four physical storages, with the scale parquet stores.
func planDecimal(p colPlan, dt arrow.DecimalType, leaf *schema.Column,
	refuse func(string, RefusalCategory, string) (colPlan, *Refusal)) (colPlan, *Refusal) {
	p.kind, p.reading, p.rule = KindNum, readDecimal, ruleDecimal
	p.precision, p.scale = dt.GetPrecision(), dt.GetScale()
	if leaf != nil {
		if lt, ok := leaf.LogicalType().(*schema.DecimalLogicalType); ok {
			p.precision, p.scale = lt.Precision(), lt.Scale()
		}
	}
	if p.precision < 1 || p.precision > 76 {
		return refuse(ruleDecimal, RefuseText, fmt.Sprintf("R's arrow cannot read a decimal of precision %d (1 to 76)", p.precision))
	}
	if leaf == nil {
		return refuse(ruleDecimal, RefuseOther, "a decimal that is not a flat parquet column cannot be read")
	}
	switch p.phys {
	case parquet.Types.Int32, parquet.Types.Int64, parquet.Types.ByteArray:
	case parquet.Types.FixedLenByteArray:
		if n := leaf.TypeLength(); n < 1 || n > maxDecimalBytes(p.precision) {
			return refuse(ruleDecimal, RefuseText, fmt.Sprintf("R's arrow cannot read a decimal(%d) stored in %d bytes", p.precision, n))
		}
	default:
		return refuse(ruleDecimal, RefuseOther, "a decimal stored as "+p.phys.String()+" cannot be read")
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
