package identity

// The rows of the format contract's table 5.1 (Arrow type → R → cv1) that
// decide a column's kind, as `hash --explain` shows them: the section, the
// Arrow type as read, what R makes of it, and the kind (or the refusal).
const (
	ruleBool      = "§5.1 bool → logical → num"
	ruleSmallInt  = "§5.1 int8, int16, uint8, uint16 → integer → num"
	ruleInt32     = "§5.1 int32 → integer (−2147483648 is NA) → num"
	ruleUint32    = "§5.1 uint32 → integer or double → num"
	ruleInt64     = "§5.1 int64 → integer or integer64, by the range of the whole column"
	ruleInt64Num  = "§5.1 int64, every value within ±2147483647 → integer (int64 downcast) → num"
	ruleInt64I64  = "§5.1 int64, a value beyond ±2147483647 → integer64 → i64"
	ruleUint64    = "§5.1 uint64 → double → num"
	ruleFloat32   = "§5.1 float32 → double → num"
	ruleFloat64   = "§5.1 float64 → double → num"
	ruleDecimal   = "§5.1 decimal → double nearest the exact decimal → num"
	ruleUtf8      = "§5.1 utf8, large_utf8 → character → chr"
	ruleJSON      = "§5.2 BYTE_ARRAY annotated JSON → utf8; §5.1 utf8 → character → chr"
	ruleDictText  = "§5.1 dictionary with string values → factor → chr"
	ruleDate32    = "§5.1 date32 → Date → date"
	ruleDate64    = "§5.1 date64 → POSIXct of whole seconds → time"
	ruleTimestamp = "§5.1 timestamp → POSIXct → time"
	ruleTime      = "§5.1 time32, time64 → hms (secs) → drtn"
	ruleDuration  = "§5.1 duration → difftime (secs) → drtn"

	ruleFloat16     = "§5.1 float16 → not supported → refused"
	ruleDictOther   = "§5.1 dictionary with non-string values → factor of R's text rendering → refused"
	ruleBinary      = "§5.1 binary, large_binary, fixed_size_binary → arrow_binary → refused"
	ruleList        = "§5.1 list, large_list, fixed_size_list, map → arrow_list → refused"
	ruleStruct      = "§5.1 struct → data-frame column → refused"
	ruleNull        = "§5.1 null → vctrs_unspecified → refused"
	ruleViews       = "§5.1 string/binary views (and list views) → read fails or unsupported → refused"
	ruleUnsupported = "§5.1 union, interval, views, extension types → read fails or unsupported → refused"
)
