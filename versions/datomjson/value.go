// Package datomjson models JSON documents exactly as datom's R side sees
// them: jsonlite's list-mode read (contract 1.2) and its toJSON writer with
// auto_unbox = TRUE and digits = 4 (contract 1.1). Values are immutable and
// keep object member order, the integer/double distinction of R and the
// list/atomic-vector distinction that decides the pretty layout.
//
// Do not use encoding/json for anything that is hashed or written into a
// datom repository: it escapes differently and loses member order.
package datomjson

import (
	"math"
	"strconv"
)

// Kind is the R-level shape of a Value.
type Kind uint8

const (
	// KindNull is R NULL. It serializes as {} (jsonlite null = "list"), and
	// a JSON null read from a file becomes NULL. The zero Value is Null.
	KindNull Kind = iota
	// KindNA is a logical or character NA; it serializes as null.
	KindNA
	// KindBool is a logical of length 1.
	KindBool
	// KindInt is an R integer (int32). math.MinInt32 is R's NA_integer_
	// and serializes as the string "NA".
	KindInt
	// KindDouble is an R double. Non-finite values serialize as the
	// strings "NA" (R's NA_real_), "NaN", "Inf" and "-Inf".
	KindDouble
	// KindString is a character of length 1.
	KindString
	// KindList is an unnamed R list: an array that pretty-prints one
	// element per line. Parsed arrays are always lists.
	KindList
	// KindVector is an atomic vector of length 0 or >= 2: an array that
	// pretty-prints inline as ["a", "b"].
	KindVector
	// KindObject is a named R list: members in order, duplicates allowed.
	KindObject
)

var kindNames = [...]string{"null", "NA", "bool", "int", "double", "string", "list", "vector", "object"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is an immutable JSON value. The zero Value is R NULL.
type Value struct {
	kind    Kind
	b       bool
	i       int32
	f       float64
	s       string
	items   []Value
	members []Member
	// inline marks a parsed List that was written on one line (all
	// scalar elements); Pretty keeps that layout. It is not part of the
	// value: R reads both layouts as the same list.
	inline bool
}

// Member is one key/value pair of an object.
type Member struct {
	Key   string
	Value Value
}

// M builds a Member.
func M(key string, v Value) Member { return Member{Key: key, Value: v} }

// rNABits is the bit pattern of R's NA_real_ (a NaN whose low word is 1954).
const rNABits = 0x7FF00000000007A2

// Null returns R NULL (serialized as {}).
func Null() Value { return Value{} }

// NA returns a logical/character NA (serialized as null).
func NA() Value { return Value{kind: KindNA} }

// Bool returns a logical scalar.
func Bool(b bool) Value { return Value{kind: KindBool, b: b} }

// Int returns an R integer scalar.
func Int(i int32) Value { return Value{kind: KindInt, i: i} }

// IntNA returns R's NA_integer_ (serialized as the string "NA").
func IntNA() Value { return Int(math.MinInt32) }

// Dbl returns an R double scalar.
func Dbl(f float64) Value { return Value{kind: KindDouble, f: f} }

// DblNA returns R's NA_real_ (serialized as the string "NA").
func DblNA() Value { return Dbl(math.Float64frombits(rNABits)) }

// Str returns a character scalar.
func Str(s string) Value { return Value{kind: KindString, s: s} }

// List returns an unnamed R list (array, multi-line when pretty).
func List(items ...Value) Value {
	return Value{kind: KindList, items: append([]Value(nil), items...)}
}

// Vector returns an R atomic vector under auto_unbox: one element is
// returned as that scalar itself (so Vector(Str("x")) is the bare string
// "x", datom's one-column colnames quirk); zero or several elements form an
// inline array. If any element is not a scalar the result is a List,
// because an atomic vector cannot hold containers.
func Vector(items ...Value) Value {
	for _, it := range items {
		if !it.IsScalar() {
			return List(items...)
		}
	}
	if len(items) == 1 {
		return items[0]
	}
	return Value{kind: KindVector, items: append([]Value(nil), items...)}
}

// Strings is Vector of Str values.
func Strings(ss ...string) Value {
	items := make([]Value, len(ss))
	for i, s := range ss {
		items[i] = Str(s)
	}
	return Vector(items...)
}

// Obj returns a named R list (object) with the members in the given order.
func Obj(members ...Member) Value {
	return Value{kind: KindObject, members: append([]Member(nil), members...)}
}

// Kind reports the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsScalar reports whether v is NULL, NA, a logical, a number or a string.
func (v Value) IsScalar() bool {
	switch v.kind {
	case KindList, KindVector, KindObject:
		return false
	}
	return true
}

// IsArray reports whether v is a List or a Vector.
func (v Value) IsArray() bool { return v.kind == KindList || v.kind == KindVector }

// Get returns the first member named key of an object.
func (v Value) Get(key string) (Value, bool) {
	if v.kind != KindObject {
		return Value{}, false
	}
	for _, m := range v.members {
		if m.Key == key {
			return m.Value, true
		}
	}
	return Value{}, false
}

// Has reports whether an object has a member named key.
func (v Value) Has(key string) bool {
	_, ok := v.Get(key)
	return ok
}

// AsString returns the text of a string value.
func (v Value) AsString() (string, bool) {
	if v.kind != KindString {
		return "", false
	}
	return v.s, true
}

// AsBool returns a logical value.
func (v Value) AsBool() (bool, bool) {
	if v.kind != KindBool {
		return false, false
	}
	return v.b, true
}

// AsInt returns an integer, or a finite integral double within int64
// range (datom stores size_bytes as a double; a hand-edited nrow may read
// 3.0). R's NA_integer_ is not an integer.
func (v Value) AsInt() (int64, bool) {
	switch v.kind {
	case KindInt:
		if v.i == math.MinInt32 {
			return 0, false
		}
		return int64(v.i), true
	case KindDouble:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) || v.f != math.Trunc(v.f) ||
			v.f < -9.223372036854775e18 || v.f > 9.223372036854775e18 {
			return 0, false
		}
		return int64(v.f), true
	}
	return 0, false
}

// AsFloat returns the number of an integer or double value (NA_integer_
// gives NaN).
func (v Value) AsFloat() (float64, bool) {
	switch v.kind {
	case KindInt:
		if v.i == math.MinInt32 {
			return math.NaN(), true
		}
		return float64(v.i), true
	case KindDouble:
		return v.f, true
	}
	return 0, false
}

// Len is the number of items of an array or members of an object.
func (v Value) Len() int {
	switch v.kind {
	case KindList, KindVector:
		return len(v.items)
	case KindObject:
		return len(v.members)
	}
	return 0
}

// Items returns a copy of the elements of a List or Vector (nil otherwise).
func (v Value) Items() []Value {
	if !v.IsArray() {
		return nil
	}
	return append([]Value(nil), v.items...)
}

// Members returns a copy of the members of an object (nil otherwise).
func (v Value) Members() []Member {
	if v.kind != KindObject {
		return nil
	}
	return append([]Member(nil), v.members...)
}

// Keys returns the member keys of an object in order.
func (v Value) Keys() []string {
	if v.kind != KindObject {
		return nil
	}
	keys := make([]string, len(v.members))
	for i, m := range v.members {
		keys[i] = m.Key
	}
	return keys
}

// With returns a copy of the object v in which the first member named key
// has value val (kept in place), or, if there is none, val is appended.
// On a non-object it returns v unchanged.
func (v Value) With(key string, val Value) Value {
	if v.kind != KindObject {
		return v
	}
	ms := v.Members()
	for i := range ms {
		if ms[i].Key == key {
			ms[i].Value = val
			return Value{kind: KindObject, members: ms}
		}
	}
	return Value{kind: KindObject, members: append(ms, Member{key, val})}
}

// Without returns a copy of the object v without any member named key.
func (v Value) Without(key string) Value {
	if v.kind != KindObject {
		return v
	}
	ms := make([]Member, 0, len(v.members))
	for _, m := range v.members {
		if m.Key != key {
			ms = append(ms, m)
		}
	}
	return Value{kind: KindObject, members: ms}
}

// String returns the compact serialization, for messages and debugging.
func (v Value) String() string { return string(Compact(v)) }

// Equal reports whether a and b are structurally identical, including
// kinds (Int 3 differs from Dbl 3, List differs from Vector) and member
// order. Doubles compare by bit pattern. The source layout of a parsed
// list is not compared.
func Equal(a, b Value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case KindBool:
		return a.b == b.b
	case KindInt:
		return a.i == b.i
	case KindDouble:
		return math.Float64bits(a.f) == math.Float64bits(b.f)
	case KindString:
		return a.s == b.s
	case KindList, KindVector:
		if len(a.items) != len(b.items) {
			return false
		}
		for i := range a.items {
			if !Equal(a.items[i], b.items[i]) {
				return false
			}
		}
	case KindObject:
		if len(a.members) != len(b.members) {
			return false
		}
		for i := range a.members {
			if a.members[i].Key != b.members[i].Key || !Equal(a.members[i].Value, b.members[i].Value) {
				return false
			}
		}
	}
	return true
}
