package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

// goldenPath is the format contract's vectors; CI keeps shared/ next to the
// repository checkout.
const goldenPath = "../../../shared/spec/golden.json"

type goldenFile struct {
	SHA256Sanity struct {
		InputASCII string `json:"input_ascii"`
		SHA256     string `json:"sha256"`
	} `json:"sha256_sanity"`
	DataSHA []goldenTable `json:"data_sha"`
}

type goldenTable struct {
	ID       string         `json:"id"`
	NRow     int64          `json:"nrow"`
	NCol     int64          `json:"ncol"`
	Columns  []goldenColumn `json:"columns"`
	Expected string         `json:"expected_data_sha"`
}

type goldenColumn struct {
	Name         string          `json:"name"`
	Kind         Kind            `json:"kind"`
	RawValues    json.RawMessage `json:"values"`
	PayloadHex   string          `json:"payload_hex"`
	ColumnDigest string          `json:"column_digest"`
}

type goldenNum struct {
	Value   string `json:"value"`
	InBits  string `json:"input_bits_le"`
	Encoded string `json:"encoded_le"`
}

func loadGolden(t *testing.T) goldenFile {
	t.Helper()
	b, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("read the format contract's golden vectors (shared/ must sit next to the repository checkout): %v", err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("parse %s: %v", goldenPath, err)
	}
	if len(g.DataSHA) == 0 {
		t.Fatalf("%s holds no data_sha vectors", goldenPath)
	}
	return g
}

func leBits(t *testing.T, h string) uint64 {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 8 {
		t.Fatalf("bad f64le %q", h)
	}
	return binary.LittleEndian.Uint64(b)
}

func (c goldenColumn) nums(t *testing.T) []goldenNum {
	t.Helper()
	var v []goldenNum
	if err := json.Unmarshal(c.RawValues, &v); err != nil {
		t.Fatalf("column %s: numeric values: %v", c.Name, err)
	}
	return v
}

func (c goldenColumn) strs(t *testing.T) []*string {
	t.Helper()
	var v []*string
	if err := json.Unmarshal(c.RawValues, &v); err != nil {
		t.Fatalf("column %s: text values: %v", c.Name, err)
	}
	return v
}

// columnSHA hashes one golden column with the in-memory encoders.
func (c goldenColumn) columnSHA(t *testing.T) string {
	t.Helper()
	switch c.Kind {
	case KindChr:
		sum, err := ChrColumnSHA(c.Name, c.strs(t))
		if err != nil {
			t.Fatal(err)
		}
		return sum
	case KindNum, KindDate, KindTime:
		var vals []float64
		for _, v := range c.nums(t) {
			vals = append(vals, math.Float64frombits(leBits(t, v.InBits)))
		}
		sum, err := NumColumnSHA(c.Kind, c.Name, "", vals)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	t.Fatalf("golden column %s has kind %q this test does not know", c.Name, c.Kind)
	return ""
}

func TestGoldenSHA256Sanity(t *testing.T) {
	g := loadGolden(t)
	sum, n, err := SHA256Reader(context.Background(), strings.NewReader(g.SHA256Sanity.InputASCII))
	if err != nil {
		t.Fatal(err)
	}
	if sum != g.SHA256Sanity.SHA256 || n != int64(len(g.SHA256Sanity.InputASCII)) {
		t.Fatalf("sha256(%q) = %s (%d bytes), want %s", g.SHA256Sanity.InputASCII, sum, n, g.SHA256Sanity.SHA256)
	}
}

func TestGoldenNumericEncoding(t *testing.T) {
	g := loadGolden(t)
	seen := 0
	for _, tab := range g.DataSHA {
		for _, c := range tab.Columns {
			if c.Kind == KindChr {
				continue
			}
			for _, v := range c.nums(t) {
				in, want := leBits(t, v.InBits), leBits(t, v.Encoded)
				if got := EncodeNumeric(math.Float64frombits(in)); got != want {
					t.Errorf("%s/%s value %s: encoded %016x, want %016x", tab.ID, c.Name, v.Value, got, want)
				}
				seen++
			}
		}
	}
	if seen == 0 {
		t.Fatal("no numeric golden values")
	}
}

func TestGoldenDataSHA(t *testing.T) {
	g := loadGolden(t)
	for _, tab := range g.DataSHA {
		t.Run(tab.ID, func(t *testing.T) {
			var shas []string
			for _, c := range tab.Columns {
				sum := c.columnSHA(t)
				if c.ColumnDigest != "" && sum != c.ColumnDigest {
					t.Errorf("column %s digest %s, want %s", c.Name, sum, c.ColumnDigest)
				}
				// The payload given in the vector, hashed by hand, must agree.
				if c.PayloadHex != "" {
					payload, err := hex.DecodeString(c.PayloadHex)
					if err != nil {
						t.Fatal(err)
					}
					manual := sha256.Sum256(append([]byte(string(c.Kind)+c.Name+"\x00"), payload...))
					if hex.EncodeToString(manual[:]) != sum {
						t.Errorf("column %s: digest of the vector's payload %x != %s", c.Name, manual, sum)
					}
				}
				shas = append(shas, sum)
			}
			if got := TableDigest(tab.NRow, tab.NCol, shas); string(got) != tab.Expected {
				t.Fatalf("data_sha %s, want %s", got, tab.Expected)
			}
		})
	}
}

// manualDigest builds a column digest byte by byte, independently of the
// hashers.
func manualDigest(tag, name string, payload ...[]byte) string {
	b := []byte(tag + name + "\x00")
	for _, p := range payload {
		b = append(b, p...)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func f64le(bits ...uint64) []byte {
	var out []byte
	for _, b := range bits {
		out = binary.LittleEndian.AppendUint64(out, b)
	}
	return out
}

func TestNumericEncodingRules(t *testing.T) {
	quietNA := uint64(0x7FF80000000007A2)
	cases := []struct {
		name string
		in   uint64
		want uint64
	}{
		{"R NA verbatim", NABits, NABits},
		{"quiet R NA stays verbatim", quietNA, quietNA},
		{"negative R NA stays verbatim", 0xFFF00000000007A2, 0xFFF00000000007A2},
		{"NaN with other payload", 0x7FF0000000000001, CanonicalNaNBits},
		{"negative quiet NaN", 0xFFF8000000000000, CanonicalNaNBits},
		{"NaN with 1954 in the high word only", 0x7FF007A200000000, CanonicalNaNBits},
		{"-0", 1 << 63, 0},
		{"+Inf", 0x7FF0000000000000, 0x7FF0000000000000},
		{"smallest subnormal", 1, 1},
		{"negative subnormal", 1<<63 | 1, 1<<63 | 1},
	}
	for _, c := range cases {
		if got := EncodeNumeric(math.Float64frombits(c.in)); got != c.want {
			t.Errorf("%s: EncodeNumeric(%016x) = %016x, want %016x", c.name, c.in, got, c.want)
		}
		h, _ := NewNumHasher(KindNum, "x")
		h.AddFloat64Bits(c.in)
		if got, want := h.Sum(), manualDigest("num", "x", f64le(c.want)); got != want {
			t.Errorf("%s: digest %s, want %s", c.name, got, want)
		}
	}
	if math.Float64bits(NA()) != NABits {
		t.Fatalf("NA() bits %016x", math.Float64bits(NA()))
	}
}

func TestKindPayloads(t *testing.T) {
	sp := func(s string) *string { return &s }
	// drtn: numeric payload, 0x00, units
	got, err := NumColumnSHA(KindDrtn, "d", "secs", []float64{1.5, NA(), math.Copysign(0, -1)})
	if err != nil {
		t.Fatal(err)
	}
	want := manualDigest("drtn", "d", f64le(math.Float64bits(1.5), NABits, 0), []byte{0}, []byte("secs"))
	if got != want {
		t.Errorf("drtn digest %s, want %s", got, want)
	}
	// units are identity: 60 secs != 1 mins
	a, _ := NumColumnSHA(KindDrtn, "d", "secs", []float64{60})
	b, _ := NumColumnSHA(KindDrtn, "d", "mins", []float64{1})
	if a == b {
		t.Error("60 secs and 1 mins hash the same")
	}
	// i64: raw int64 LE, NA = INT64_MIN
	got = I64ColumnSHA("k", []int64{1, I64NA, -2, 1 << 40})
	want = manualDigest("i64", "k", f64le(1, 1<<63, uint64(0xFFFFFFFFFFFFFFFE), 1<<40))
	if got != want {
		t.Errorf("i64 digest %s, want %s", got, want)
	}
	// chr: the contract's example "a", NA, "" -> 00 01 00 61 00 00 00
	got, err = ChrColumnSHA("s", []*string{sp("a"), nil, sp("")})
	if err != nil {
		t.Fatal(err)
	}
	if want := manualDigest("chr", "s", []byte{0, 1, 0, 0x61, 0, 0, 0}); got != want {
		t.Errorf("chr digest %s, want %s", got, want)
	}
	// chr: multi-byte UTF-8 kept as is, values longer than the buffer
	long := strings.Repeat("é", 10000)
	got, _ = ChrColumnSHA("s", []*string{sp(long)})
	if want := manualDigest("chr", "s", []byte{0}, []byte(long), []byte{0}); got != want {
		t.Errorf("long chr digest %s, want %s", got, want)
	}
	// date/time tags differ from num
	n1, _ := NumColumnSHA(KindNum, "x", "", []float64{1})
	d1, _ := NumColumnSHA(KindDate, "x", "", []float64{1})
	t1, _ := NumColumnSHA(KindTime, "x", "", []float64{1})
	if n1 == d1 || d1 == t1 || n1 == t1 {
		t.Error("kind tags do not separate num/date/time")
	}
	if want := manualDigest("date", "x", f64le(math.Float64bits(1))); d1 != want {
		t.Errorf("date digest %s, want %s", d1, want)
	}
	if _, err := NewNumHasher(KindChr, "x"); err == nil {
		t.Error("NewNumHasher accepted chr")
	}
}

func TestChrHasherErrors(t *testing.T) {
	sp := func(s string) *string { return &s }
	if _, err := ChrColumnSHA("s", []*string{sp("a\x00b")}); !errors.Is(err, ErrNULInString) {
		t.Errorf("NUL in text: err %v, want ErrNULInString", err)
	}
	h := NewChrHasher("s")
	h.AddMask(false)
	h.AddString("a")
	h.AddString("b")
	if _, err := h.Sum(); !errors.Is(err, ErrColumnLength) {
		t.Errorf("2 values for 1 mask byte: err %v, want ErrColumnLength", err)
	}
	h = NewChrHasher("s")
	h.AddMask(false)
	h.AddNA()
	if _, err := h.Sum(); !errors.Is(err, ErrColumnLength) {
		t.Errorf("NA value where mask says non-NA: err %v, want ErrColumnLength", err)
	}
	h = NewChrHasher("s")
	h.AddString("a")
	h.AddMask(false)
	if _, err := h.Sum(); !errors.Is(err, ErrColumnLength) {
		t.Errorf("mask after values: err %v, want ErrColumnLength", err)
	}
	h = NewChrHasher("s")
	h.AddMaskZeros(3000)
	for i := 0; i < 3000; i++ {
		h.AddString("z")
	}
	got, err := h.Sum()
	if err != nil {
		t.Fatal(err)
	}
	if want := manualDigest("chr", "s", make([]byte, 3000), bytes.Repeat([]byte("z\x00"), 3000)); got != want {
		t.Errorf("AddMaskZeros digest %s, want %s", got, want)
	}
}

func TestTableDigestLayout(t *testing.T) {
	cols := []string{strings.Repeat("a", 64), strings.Repeat("b", 64)}
	b := []byte("datom-cv1")
	b = append(b, f64le(math.Float64bits(7), math.Float64bits(2))...)
	b = append(b, cols[0]+cols[1]...)
	s := sha256.Sum256(b)
	if got := TableDigest(7, 2, cols); string(got) != hex.EncodeToString(s[:]) {
		t.Fatalf("TableDigest %s, want %x", got, s)
	}
}

func TestDecimalToFloat64(t *testing.T) {
	cases := []struct {
		digits string
		scale  int32
		want   float64
	}{
		{"12345", 2, 123.45},
		{"-1", 2, -0.01},
		{"0", 5, 0},
		{"1", 0, 1},
		{"5", -3, 5000},
		// 38 nines / 10^2: correctly rounded
		{"99999999999999999999999999999999999999", 2, 999999999999999999999999999999999999.99},
		{"12345678901234567890123456789", 28, 1.2345678901234567890123456789},
	}
	for _, c := range cases {
		got, err := DecimalToFloat64(c.digits, c.scale)
		if err != nil || got != c.want {
			t.Errorf("DecimalToFloat64(%s, %d) = %v, %v; want %v", c.digits, c.scale, got, err, c.want)
		}
	}
	if _, err := DecimalToFloat64("1", -400); err == nil {
		t.Error("1e400 accepted")
	}
}

func TestSHA256File(t *testing.T) {
	p := t.TempDir() + "/f"
	data := bytes.Repeat([]byte("datom"), 300000)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, n, err := SHA256File(context.Background(), p)
	want := sha256.Sum256(data)
	if err != nil || sum != hex.EncodeToString(want[:]) || n != int64(len(data)) {
		t.Fatalf("SHA256File = %s, %d, %v; want %x, %d", sum, n, err, want, len(data))
	}
	if _, _, err := SHA256File(context.Background(), p+".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err %v, want ErrNotExist", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := SHA256File(ctx, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err %v", err)
	}
}
