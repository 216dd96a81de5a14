package repo

import (
	"context"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

func TestCountExclusive(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// graph describes commits as name → parents and a date offset in
	// minutes (negative offsets model a skewed clock).
	type node struct {
		parents []string
		minutes int
	}
	tests := []struct {
		name       string
		graph      map[string]node
		a, b       string
		wantA, wno int
	}{
		{
			name: "fork, all in the same second",
			graph: map[string]node{
				"root": {nil, 0}, "c1": {[]string{"root"}, 0}, "c2": {[]string{"c1"}, 0},
				"d1": {[]string{"c1"}, 0}, "d2": {[]string{"d1"}, 0},
			},
			a: "c2", b: "d2", wantA: 1, wno: 2,
		},
		{
			name: "fast-forward",
			graph: map[string]node{
				"root": {nil, 0}, "c1": {[]string{"root"}, 1}, "c2": {[]string{"c1"}, 2}, "c3": {[]string{"c2"}, 3},
			},
			a: "c1", b: "c3", wantA: 0, wno: 2,
		},
		{
			name: "skewed clock on one side",
			graph: map[string]node{
				"root": {nil, 0}, "c1": {[]string{"root"}, 10},
				"c2": {[]string{"c1"}, -30}, // committed on a clock 40 minutes slow
				"d1": {[]string{"c1"}, 11}, "d2": {[]string{"d1"}, 12},
			},
			a: "c2", b: "d2", wantA: 1, wno: 2,
		},
		{
			name: "merge",
			graph: map[string]node{
				"root": {nil, 0}, "c1": {[]string{"root"}, 1}, "c2": {[]string{"c1"}, 2},
				"d1": {[]string{"c1"}, 2}, "d2": {[]string{"d1"}, 3}, "m": {[]string{"c2", "d2"}, 4},
			},
			a: "c2", b: "m", wantA: 0, wno: 3,
		},
		{
			name:  "empty side",
			graph: map[string]node{"root": {nil, 0}, "c1": {[]string{"root"}, 1}},
			a:     "", b: "c1", wantA: 0, wno: 2,
		},
		{
			name:  "same commit",
			graph: map[string]node{"root": {nil, 0}},
			a:     "root", b: "root", wantA: 0, wno: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memory.NewStorage()
			hashes := map[string]plumbing.Hash{}
			var build func(name string) plumbing.Hash
			build = func(name string) plumbing.Hash {
				if h, ok := hashes[name]; ok {
					return h
				}
				n := tt.graph[name]
				c := &object.Commit{
					Author:    object.Signature{Name: "x", Email: "x@x", When: base},
					Committer: object.Signature{Name: "x", Email: "x@x", When: base.Add(time.Duration(n.minutes) * time.Minute)},
					Message:   name,
					TreeHash:  plumbing.ZeroHash,
				}
				for _, p := range n.parents {
					c.ParentHashes = append(c.ParentHashes, build(p))
				}
				obj := s.NewEncodedObject()
				if err := c.Encode(obj); err != nil {
					t.Fatal(err)
				}
				h, err := s.SetEncodedObject(obj)
				if err != nil {
					t.Fatal(err)
				}
				hashes[name] = h
				return h
			}
			var a, b plumbing.Hash
			if tt.a != "" {
				a = build(tt.a)
			}
			if tt.b != "" {
				b = build(tt.b)
			}
			gotA, gotB, err := countExclusive(context.Background(), s, a, b)
			if err != nil || gotA != tt.wantA || gotB != tt.wno {
				t.Fatalf("countExclusive = %d, %d, %v; want %d, %d", gotA, gotB, err, tt.wantA, tt.wno)
			}
			// Symmetric.
			gotB2, gotA2, err := countExclusive(context.Background(), s, b, a)
			if err != nil || gotA2 != tt.wantA || gotB2 != tt.wno {
				t.Fatalf("swapped countExclusive = %d, %d, %v", gotB2, gotA2, err)
			}
		})
	}
}
