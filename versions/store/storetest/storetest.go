// Package storetest is the conformance suite every store.Store backend runs:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newEmptyStore(t) })
//	}
//
// newStore must return a new, empty store for each call; the suite calls it
// once per subtest.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/datomfs/datomfs/versions/identity"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/store"
)

// Run runs every conformance subtest against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyObject", testEmptyObject},
		{"Ranges", testRanges},
		{"MissingKey", testMissingKey},
		{"PrefixListing", testPrefixListing},
		{"RepeatedPut", testRepeatedPut},
		{"ConcurrentPut", testConcurrentPut},
		{"RemoveThenStat", testRemoveThenStat},
		{"SizeMismatch", testSizeMismatch},
		{"Progress", testProgress},
		{"BadKeys", testBadKeys},
		{"CancelledContext", testCancelledContext},
		{"CancelDuringPut", testCancelDuringPut},
		{"Location", testLocation},
		{"Batch", testBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Bytes returns n deterministic pseudo-random bytes for seed.
func Bytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, s store.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

func read(t *testing.T, s store.Store, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, offset, length)
	if err != nil {
		t.Fatalf("Open(%q, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q [%d,%d): %v", key, offset, length, err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("close %q: %v", key, err)
	}
	return b
}

func keys(infos []store.Info) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Key
	}
	return out
}

func testRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	l := store.Layout{Prefix: "proj/"}
	cases := map[string][]byte{
		l.ParquetKey(meta.MustTableName("lb"), identity.DataSHA(strings.Repeat("ab", 32))): Bytes(1, 300_000),
		l.MetadataKey(meta.MustTableName("My Table (v2)")):                                 []byte("{\n  \"a\": 1\n}\n"),
		"datom/x": {0},
	}
	for key, data := range cases {
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{ContentType: store.ContentTypeJSON}); err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		info, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if info.Key != key || info.Size != int64(len(data)) || info.ModTime.IsZero() {
			t.Errorf("Stat(%q) = %+v, want key %q, size %d and a ModTime", key, info, key, len(data))
		}
		if got := read(t, s, key, 0, -1); !bytes.Equal(got, data) {
			t.Errorf("Open(%q, 0, -1) returned %d bytes that differ from the %d put", key, len(got), len(data))
		}
	}
	all, err := s.List(ctx, "")
	if err != nil {
		t.Fatalf("List(\"\"): %v", err)
	}
	want := slices.Sorted(func(yield func(string) bool) {
		for k := range cases {
			if !yield(k) {
				return
			}
		}
	})
	if got := keys(all); !slices.Equal(got, want) {
		t.Errorf("List(\"\") = %q, want %q", got, want)
	}
	for _, in := range all {
		if in.Size != int64(len(cases[in.Key])) {
			t.Errorf("List: %s has size %d, want %d", in.Key, in.Size, len(cases[in.Key]))
		}
	}
}

func testEmptyObject(t *testing.T, s store.Store) {
	ctx := context.Background()
	const key = "datom/dm/empty.json"
	put(t, s, key, nil)
	info, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != 0 {
		t.Errorf("Stat size = %d, want 0", info.Size)
	}
	for _, r := range [][2]int64{{0, -1}, {0, 10}, {0, 0}, {5, -1}} {
		if got := read(t, s, key, r[0], r[1]); len(got) != 0 {
			t.Errorf("Open(%d, %d) of an empty object returned %d bytes", r[0], r[1], len(got))
		}
	}
	list, err := s.List(ctx, "datom/dm/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list) != 1 || list[0].Key != key || list[0].Size != 0 {
		t.Errorf("List = %+v, want only %s with size 0", list, key)
	}
}

func testRanges(t *testing.T, s store.Store) {
	const key = "datom/lb/ranges.parquet"
	data := Bytes(2, 1000)
	put(t, s, key, data)
	cases := []struct {
		offset, length int64
		want           []byte
	}{
		{0, -1, data},
		{0, 1000, data},
		{0, 10, data[:10]},
		{10, -1, data[10:]},
		{500, 100, data[500:600]},
		{990, 10, data[990:]},
		{999, 1, data[999:]},
		{995, 10, data[995:]}, // runs past EOF: cut at EOF
		{0, 5000, data},
		{999, -1, data[999:]},
		{1000, 10, nil}, // at EOF: empty
		{1000, -1, nil},
		{1001, -1, nil}, // past EOF: empty
		{5000, 1, nil},
		{0, 0, nil},
		{500, 0, nil},
	}
	for _, c := range cases {
		got := read(t, s, key, c.offset, c.length)
		if !bytes.Equal(got, c.want) {
			t.Errorf("Open(%d, %d) returned %d bytes, want %d (the right ones)", c.offset, c.length, len(got), len(c.want))
		}
	}
	if _, err := s.Open(context.Background(), key, -1, 10); err == nil {
		t.Errorf("Open with a negative offset succeeded")
	}
}

func testMissingKey(t *testing.T, s store.Store) {
	ctx := context.Background()
	put(t, s, "datom/dm/present", []byte("x"))
	for _, key := range []string{"datom/dm/absent", "datom/dm/present/below", "datom/dm", "nothing/here/at/all"} {
		if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Stat(%q) error = %v, want ErrNotFound", key, err)
		}
		rc, err := s.Open(ctx, key, 0, -1)
		if !errors.Is(err, store.ErrNotFound) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Open(%q) error = %v, want ErrNotFound", key, err)
		}
		rc, err = s.Open(ctx, key, 10, 0)
		if !errors.Is(err, store.ErrNotFound) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Open(%q, 10, 0) error = %v, want ErrNotFound", key, err)
		}
		if err := s.Remove(ctx, key); err != nil {
			t.Errorf("Remove(%q) of a missing key: %v, want nil", key, err)
		}
	}
	if got := read(t, s, "datom/dm/present", 0, -1); string(got) != "x" {
		t.Errorf("present key reads %q after removes of missing keys, want %q", got, "x")
	}
}

func testPrefixListing(t *testing.T, s store.Store) {
	ctx := context.Background()
	objects := []string{
		"datom/dm/a.parquet",
		"datom/dm/.metadata/metadata.json",
		"datom/dm/b/c",
		"datom/dm2/x.parquet",
		"datom/dmx",
		"datom/dm-old/y",
		"datom/d",
		"other/datom/dm/z",
	}
	for i, k := range objects {
		put(t, s, k, Bytes(uint64(i), i+1))
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"datom/dm/", []string{"datom/dm/.metadata/metadata.json", "datom/dm/a.parquet", "datom/dm/b/c"}},
		{"datom/dm", []string{"datom/dm-old/y", "datom/dm/.metadata/metadata.json", "datom/dm/a.parquet", "datom/dm/b/c", "datom/dm2/x.parquet", "datom/dmx"}},
		{"datom/dm2/", []string{"datom/dm2/x.parquet"}},
		{"datom/dm/b", []string{"datom/dm/b/c"}},
		{"datom/dm/.metadata/", []string{"datom/dm/.metadata/metadata.json"}},
		{"datom/dm/a.parquet", []string{"datom/dm/a.parquet"}},
		{"datom/nothing/", nil},
		{"nothing", nil},
		{"", append(slices.Clone(objects[:7]), "other/datom/dm/z")},
	}
	for _, c := range cases {
		got, err := s.List(ctx, c.prefix)
		if err != nil {
			t.Errorf("List(%q): %v", c.prefix, err)
			continue
		}
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(keys(got), want) {
			t.Errorf("List(%q) = %q, want %q", c.prefix, keys(got), want)
		}
		for _, in := range got {
			i := slices.Index(objects, in.Key)
			if in.Size != int64(i+1) || in.ModTime.IsZero() {
				t.Errorf("List(%q): %s has size %d, ModTime %v; want size %d and a ModTime", c.prefix, in.Key, in.Size, in.ModTime, i+1)
			}
		}
	}
}

func testRepeatedPut(t *testing.T, s store.Store) {
	const key = "datom/ae/.metadata/version_history.json"
	long, short := Bytes(3, 5000), Bytes(4, 100)
	put(t, s, key, long)
	put(t, s, key, short)
	if got := read(t, s, key, 0, -1); !bytes.Equal(got, short) {
		t.Fatalf("after overwriting %d bytes with %d, read %d bytes (stale tail or wrong bytes)", len(long), len(short), len(got))
	}
	put(t, s, key, short)
	if got := read(t, s, key, 0, -1); !bytes.Equal(got, short) {
		t.Fatalf("repeating the same Put changed the object")
	}
	info, err := s.Stat(context.Background(), key)
	if err != nil || info.Size != int64(len(short)) {
		t.Fatalf("Stat after overwrite = %+v, %v; want size %d", info, err, len(short))
	}
	list, err := s.List(context.Background(), "datom/ae/")
	if err != nil || len(list) != 1 {
		t.Fatalf("List after repeated puts = %+v, %v; want exactly one object (no temporary files)", list, err)
	}
}

func testConcurrentPut(t *testing.T, s store.Store) {
	ctx := context.Background()
	const key = "datom/lb/concurrent.parquet"
	const writers = 6
	values := make([][]byte, writers)
	for i := range values {
		values[i] = Bytes(uint64(100+i), 20_000+i*7_001)
	}
	isOneOf := func(b []byte) bool {
		return slices.ContainsFunc(values, func(v []byte) bool { return bytes.Equal(v, b) })
	}
	put(t, s, key, values[0])

	var wg sync.WaitGroup
	errs := make(chan error, writers*3+8)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				rc, err := s.Open(ctx, key, 0, -1)
				if err != nil {
					errs <- fmt.Errorf("concurrent Open: %w", err)
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					errs <- fmt.Errorf("concurrent read: %w", err)
					return
				}
				if !isOneOf(b) {
					errs <- fmt.Errorf("a reader saw %d bytes that are none of the values put", len(b))
					return
				}
			}
		})
	}
	for round := range 3 {
		for i := range writers {
			wg.Go(func() {
				v := values[(i+round)%writers]
				if err := s.Put(ctx, key, bytes.NewReader(v), int64(len(v)), store.PutOptions{}); err != nil {
					errs <- fmt.Errorf("concurrent Put: %w", err)
				}
			})
		}
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := read(t, s, key, 0, -1)
	if !isOneOf(got) {
		t.Fatalf("after concurrent puts the object has %d bytes that are none of the values put", len(got))
	}
	list, err := s.List(ctx, "datom/lb/")
	if err != nil || len(list) != 1 || list[0].Size != int64(len(got)) {
		t.Fatalf("List after concurrent puts = %+v, %v; want one object of %d bytes", list, err, len(got))
	}
}

func testRemoveThenStat(t *testing.T, s store.Store) {
	ctx := context.Background()
	const key, other = "datom/ex/a.parquet", "datom/ex/b.parquet"
	put(t, s, key, []byte("one"))
	put(t, s, other, []byte("two"))
	if err := s.Remove(ctx, key); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Stat after Remove: %v, want ErrNotFound", err)
	}
	if _, err := s.Open(ctx, key, 0, -1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Open after Remove: %v, want ErrNotFound", err)
	}
	list, err := s.List(ctx, "datom/ex/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := keys(list); !slices.Equal(got, []string{other}) {
		t.Errorf("List after Remove = %q, want [%q]", got, other)
	}
	if err := s.Remove(ctx, key); err != nil {
		t.Errorf("second Remove: %v, want nil", err)
	}
	if got := read(t, s, other, 0, -1); string(got) != "two" {
		t.Errorf("the other object reads %q, want %q", got, "two")
	}
	put(t, s, key, []byte("again"))
	if got := read(t, s, key, 0, -1); string(got) != "again" {
		t.Errorf("Put after Remove reads %q, want %q", got, "again")
	}
}

func testSizeMismatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	const key = "datom/dm/mismatch"
	data := Bytes(5, 1000)
	for _, size := range []int64{999, 1001, 2000} {
		err := s.Put(ctx, key, bytes.NewReader(data), size, store.PutOptions{})
		if !errors.Is(err, store.ErrSizeMismatch) {
			t.Errorf("Put of %d bytes announced as %d: error = %v, want ErrSizeMismatch", len(data), size, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after a mismatched Put (size %d), Stat = %v, want ErrNotFound", size, err)
		}
	}
	if err := s.Put(ctx, key, bytes.NewReader(data), -1, store.PutOptions{}); err == nil {
		t.Errorf("Put with a negative size succeeded")
	}
	list, err := s.List(ctx, "")
	if err != nil || len(list) != 0 {
		t.Errorf("after failed puts List = %+v, %v; want an empty store", list, err)
	}
}

func testProgress(t *testing.T, s store.Store) {
	data := Bytes(6, 200_000)
	var calls [][2]int64
	opts := store.PutOptions{Progress: func(done, total int64) { calls = append(calls, [2]int64{done, total}) }}
	if err := s.Put(context.Background(), "datom/lb/p.parquet", bytes.NewReader(data), int64(len(data)), opts); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if len(calls) == 0 {
		t.Fatalf("Progress was never called")
	}
	var last int64
	for _, c := range calls {
		if c[1] != int64(len(data)) || c[0] < last || c[0] > c[1] {
			t.Fatalf("Progress calls %v: want total %d and done non-decreasing up to it", calls, len(data))
		}
		last = c[0]
	}
	if last != int64(len(data)) {
		t.Errorf("last Progress done = %d, want %d", last, len(data))
	}
}

func testBadKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs/key", "datom/../escape", "..", "datom/./x", "datom/dir/", "a\x00b"} {
		err := s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{})
		if !errors.Is(err, store.ErrBadKey) {
			t.Errorf("Put(%q) error = %v, want ErrBadKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrBadKey) {
			t.Errorf("Stat(%q) error = %v, want ErrBadKey", key, err)
		}
		if _, err := s.Open(ctx, key, 0, -1); !errors.Is(err, store.ErrBadKey) {
			t.Errorf("Open(%q) error = %v, want ErrBadKey", key, err)
		}
		if err := s.Remove(ctx, key); !errors.Is(err, store.ErrBadKey) {
			t.Errorf("Remove(%q) error = %v, want ErrBadKey", key, err)
		}
	}
}

func testCancelledContext(t *testing.T, s store.Store) {
	const key = "datom/dm/a.parquet"
	put(t, s, key, []byte("data"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Stat(ctx, key); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with a cancelled context: %v, want context.Canceled", err)
	}
	if rc, err := s.Open(ctx, key, 0, -1); !errors.Is(err, context.Canceled) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Open with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx, "datom/"); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context: %v, want context.Canceled", err)
	}
	if err := s.Remove(ctx, key); !errors.Is(err, context.Canceled) {
		t.Errorf("Remove with a cancelled context: %v, want context.Canceled", err)
	}
	const newKey = "datom/dm/b.parquet"
	if err := s.Put(ctx, newKey, strings.NewReader("new"), 3, store.PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.Stat(context.Background(), newKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a Put with a cancelled context left an object (Stat: %v)", err)
	}
	if got := read(t, s, key, 0, -1); string(got) != "data" {
		t.Errorf("object changed by cancelled calls: %q", got)
	}

	// A reader opened with a context that is cancelled later stops reading.
	big := Bytes(7, 4<<20)
	put(t, s, key, big)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	rc, err := s.Open(ctx, key, 0, -1)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
		t.Fatalf("first read: %v", err)
	}
	cancel()
	if n, err := io.Copy(io.Discard, rc); err == nil {
		t.Errorf("reading on after cancel returned all %d remaining bytes and no error", n)
	}
}

// cancelReader cancels its context after the first read.
type cancelReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b[:min(len(b), 1024)])
	c.cancel()
	return n, err
}

func testCancelDuringPut(t *testing.T, s store.Store) {
	const key = "datom/lb/cancelled.parquet"
	data := Bytes(8, 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := s.Put(ctx, key, &cancelReader{r: bytes.NewReader(data), cancel: cancel}, int64(len(data)), store.PutOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put cancelled while reading its input: %v, want context.Canceled", err)
	}
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a cancelled Put left an object (Stat: %v)", err)
	}
	list, err := s.List(context.Background(), "")
	if err != nil || len(list) != 0 {
		t.Errorf("after a cancelled Put List = %+v, %v; want an empty store", list, err)
	}
}

func testLocation(t *testing.T, s store.Store) {
	loc := s.Location()
	if loc == "" {
		t.Fatalf("Location() is empty")
	}
	if strings.Contains(loc, "@") {
		t.Errorf("Location() = %q looks like it carries credentials", loc)
	}
}

// testBatch: objects put concurrently through a Batch are all there, with
// their bytes, once it is committed (a store may show them earlier).
func testBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	var b store.Batch
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			data := Bytes(uint64(100+i), 1000+i)
			errs[i] = s.Put(ctx, fmt.Sprintf("batch/t%d/x.json", i), bytes.NewReader(data), int64(len(data)), store.PutOptions{Batch: &b})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put %d into a batch: %v", i, err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	for i := range errs {
		if got := read(t, s, fmt.Sprintf("batch/t%d/x.json", i), 0, -1); !bytes.Equal(got, Bytes(uint64(100+i), 1000+i)) {
			t.Errorf("object %d of the batch: %d bytes, not the ones put", i, len(got))
		}
	}
	data := []byte("late")
	if err := s.Put(ctx, "batch/late", bytes.NewReader(data), int64(len(data)), store.PutOptions{Batch: &b}); err == nil {
		// A store that ignores batches has stored it: fine. One that
		// defers must refuse a committed batch, not lose the object.
		if got := read(t, s, "batch/late", 0, -1); !bytes.Equal(got, data) {
			t.Errorf("a Put into a committed batch returned nil but stored %q", got)
		}
	}
}
