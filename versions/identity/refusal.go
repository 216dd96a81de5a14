package identity

import (
	"errors"
	"fmt"
	"strings"
)

// Errors HashParquet callers branch on (with errors.Is / errors.As).
var (
	// ErrNotParquet: the bytes do not start and end with the parquet magic.
	ErrNotParquet = errors.New("not a parquet file")
	// ErrCorrupt: the file looks like parquet but cannot be decoded.
	ErrCorrupt = errors.New("corrupt parquet file")
	// ErrEmptyTable: zero rows or zero columns (contract 4.1).
	ErrEmptyTable = errors.New("data must have at least one row and one column")
)

// RefusalCategory is the advice category of a column datom cannot hash
// (contract 4.2; the numbers follow its list, first match wins).
type RefusalCategory int

// Refusal categories. datomfs only meets some of them when reading parquet
// (POSIXlt, sf, units, zoo, complex and raw are R-only classes).
const (
	RefusePOSIXlt     RefusalCategory = 1
	RefuseSF          RefusalCategory = 2
	RefuseNestedTable RefusalCategory = 3 // list whose elements are tables (Arrow list<struct>, map)
	RefuseListBlob    RefusalCategory = 4 // other list/blob columns, including Arrow binary
	RefuseUnits       RefusalCategory = 5
	RefuseZoo         RefusalCategory = 6
	RefuseComplex     RefusalCategory = 7
	RefuseRaw         RefusalCategory = 8
	RefuseOther       RefusalCategory = 9 // anything else: convert to a supported type
	// RefuseText is not in datom's list: text holding a NUL byte, or a decimal
	// beyond double range, which makes arrow's read_parquet itself fail in R.
	RefuseText RefusalCategory = 10
)

// Advice for each category, in the spirit of datom's messages.
func (c RefusalCategory) Advice() string {
	switch c {
	case RefusePOSIXlt:
		return "convert to POSIXct"
	case RefuseSF:
		return "convert the geometry to WKT text"
	case RefuseNestedTable:
		return "model the inner table as its own datom table linked with parent lineage, or unnest it"
	case RefuseListBlob:
		return "flatten to one value per row, or serialize each element to text (e.g. JSON)"
	case RefuseUnits:
		return "drop the unit and record it in the column name or a companion column"
	case RefuseZoo:
		return "convert to Date/POSIXct or ISO-8601 text"
	case RefuseComplex:
		return "split into real and imaginary numeric columns, or text"
	case RefuseRaw:
		return "encode the bytes as text (e.g. base64)"
	case RefuseText:
		return "R cannot read this value: remove NUL bytes from text, keep decimals within double range"
	default:
		return "convert to a supported type (logical, integer, double, character, factor, Date, POSIXct, difftime/hms, integer64)"
	}
}

// Refusal names one column that cannot be hashed. Class is the column's type
// as Arrow reads it (R would print its own class for it).
type Refusal struct {
	Column   string
	Class    string
	Category RefusalCategory
	Advice   string
	// Rule is the row of the format contract (5.1/5.2) that refused it.
	Rule string
}

func newRefusal(column, class string, c RefusalCategory, detail string) Refusal {
	advice := c.Advice()
	if detail != "" {
		advice = detail + "; " + advice
	}
	return Refusal{Column: column, Class: class, Category: c, Advice: advice}
}

// RefusedError lists every column that cannot be hashed (contract 4.2: all
// offenders at once; nothing is hashed).
type RefusedError struct {
	Refusals []Refusal
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot compute data_sha: %d column(s) not hashable", len(e.Refusals))
	for _, r := range e.Refusals {
		fmt.Fprintf(&b, "\n  - column %q (%s): %s", r.Column, r.Class, r.Advice)
		if r.Rule != "" {
			fmt.Fprintf(&b, " [%s]", r.Rule)
		}
	}
	return b.String()
}
