package repo

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

// applyDelta is git's patch-delta, written from git's pack format
// documentation, to check deltaPrefixSuffix independently.
func applyDelta(t *testing.T, base, d []byte) []byte {
	t.Helper()
	size := func() int {
		n, shift := 0, 0
		for {
			b := d[0]
			d = d[1:]
			n |= int(b&0x7f) << shift
			shift += 7
			if b&0x80 == 0 {
				return n
			}
		}
	}
	if got := size(); got != len(base) {
		t.Fatalf("delta says base size %d, base is %d", got, len(base))
	}
	want := size()
	var out []byte
	for len(d) > 0 {
		op := d[0]
		d = d[1:]
		if op&0x80 == 0 {
			if op == 0 {
				t.Fatal("delta op 0 is reserved")
			}
			out = append(out, d[:op]...)
			d = d[op:]
			continue
		}
		off, n := 0, 0
		for i := 0; i < 4; i++ {
			if op&(1<<i) != 0 {
				off |= int(d[0]) << (8 * i)
				d = d[1:]
			}
		}
		for i := 0; i < 3; i++ {
			if op&(1<<(4+i)) != 0 {
				n |= int(d[0]) << (8 * i)
				d = d[1:]
			}
		}
		if n == 0 {
			n = 0x10000
		}
		out = append(out, base[off:off+n]...)
	}
	if len(out) != want {
		t.Fatalf("delta made %d bytes, says %d", len(out), want)
	}
	return out
}

func TestDeltaPrefixSuffix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	big := random(0x10000*3 + 17)
	cases := []struct {
		name         string
		base, target []byte
	}{
		{"empty to empty", nil, nil},
		{"empty base", nil, []byte("hello")},
		{"empty target", []byte("hello"), nil},
		{"same", []byte("same bytes"), []byte("same bytes")},
		{"new first entry", []byte("[\n  {\"a\": 1}\n]\n"), []byte("[\n  {\"b\": 2},\n  {\"a\": 1}\n]\n")},
		{"middle changed", []byte("aaaa-1-bbbb"), []byte("aaaa-22222-bbbb")},
		{"prefix of other", []byte("abc"), []byte("abcabc")},
		{"big with insert at start", big, append(random(300), big...)},
		{"big with change in the middle", big, append(append(append([]byte{}, big[:100000]...), random(500)...), big[100001:]...)},
		{"exactly 0x10000 common", big[:0x10000], append(append([]byte{}, big[:0x10000]...), 'x')},
		{"all different", random(2000), random(2000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := applyDelta(t, c.base, deltaPrefixSuffix(c.base, c.target))
			if !bytes.Equal(got, c.target) {
				t.Fatalf("delta rebuilt %d bytes that differ from the %d-byte target", len(got), len(c.target))
			}
		})
	}
	if d := deltaPrefixSuffix(big, append(random(300), big...)); len(d) > 400 {
		t.Errorf("a 300-byte insert into %d bytes gave a %d-byte delta", len(big), len(d))
	}
}

// TestPushSendsDeltas: a commit that adds one entry to the start of a large
// file pushes a pack of about the change's size, not the file's; the
// remote (real git) accepts it, checks clean, and a fresh clone has the
// file's new bytes.
func TestPushSendsDeltas(t *testing.T) {
	ctx := context.Background()
	remote := testenv.BareRemote(t)
	r, err := Init(ctx, t.TempDir(), remote, InitOptions{Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	var hist []string
	for i := 0; i < 5000; i++ {
		hist = append(hist, fmt.Sprintf(`  {"version": "%064x", "message": "write %d"}`, i, i))
	}
	file := func() string { return "[\n" + strings.Join(hist, ",\n") + "\n]\n" }
	mustCommit(t, r, "seed", map[string]string{"lb/version_history.json": file(), ".datom/manifest.json": `{"lb": 5000}`})
	if err := r.Push(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 5000; i < 5003; i++ {
		hist = append([]string{fmt.Sprintf(`  {"version": "%064x", "message": "write %d"}`, i, i)}, hist...)
		mustCommit(t, r, fmt.Sprintf("write %d", i), map[string]string{"lb/version_history.json": file(), ".datom/manifest.json": fmt.Sprintf(`{"lb": %d}`, i+1)})
		if err := r.Push(ctx); err != nil {
			t.Fatal(err)
		}
		n := r.lastPushPack.Load()
		t.Logf("push of write %d: %d-byte pack for a %d-byte history", i, n, len(file()))
		if n == 0 || n > 4096 {
			t.Fatalf("push sent a %d-byte pack; want a small thin pack", n)
		}
	}
	// Two commits in one push: the second's base is in the same pack.
	for i := 5003; i < 5005; i++ {
		hist = append([]string{fmt.Sprintf(`  {"version": "%064x", "message": "write %d"}`, i, i)}, hist...)
		mustCommit(t, r, fmt.Sprintf("write %d", i), map[string]string{"lb/version_history.json": file()})
	}
	if err := r.Push(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.lastPushPack.Load(); n == 0 || n > 4096 {
		t.Fatalf("push of two commits sent a %d-byte pack", n)
	}
	gitCLI(t, remote, "fsck", "--strict", "--no-progress")
	verifyRepo(t, r.Dir()) // the loose objects writeLoose made
	if got, want := gitCLI(t, r.Dir(), "rev-parse", "HEAD:lb/version_history.json"), gitCLI(t, r.Dir(), "hash-object", "lb/version_history.json"); got != want {
		t.Fatalf("committed blob %s, git hashes the file as %s", got, want)
	}
	if got, want := gitCLI(t, remote, "rev-parse", "main"), mustHead(t, r); got != want {
		t.Fatalf("remote main %s, want %s", got, want)
	}
	clone := filepath.Join(t.TempDir(), "c")
	gitCLI(t, filepath.Dir(clone), "clone", "-q", remote, clone)
	if got := readFile(t, clone, "lb/version_history.json"); got != file() {
		t.Fatal("a fresh clone's history differs from what was committed")
	}
}
