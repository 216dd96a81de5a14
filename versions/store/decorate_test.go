package store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
)

type get struct {
	key            string
	offset, length int64
}

func hooked(t *testing.T) (store.Store, func() []get) {
	t.Helper()
	ls, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var gets []get
	s := store.WithGetHook(ls, func(key string, offset, length int64) {
		mu.Lock()
		gets = append(gets, get{key, offset, length})
		mu.Unlock()
	})
	return s, func() []get {
		mu.Lock()
		defer mu.Unlock()
		return append([]get(nil), gets...)
	}
}

func TestGetHook(t *testing.T) {
	ctx := context.Background()
	s, gets := hooked(t)
	const key = "datom/lb/x.parquet"
	data := bytes.Repeat([]byte("0123456789"), 10)
	if err := s.Put(ctx, key, bytes.NewReader(data), 100, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, "datom/lb/missing", 0, -1); err == nil {
		t.Fatal("Open of a missing key succeeded")
	}
	for _, r := range [][2]int64{{0, 10}, {5, -1}, {90, 50}, {0, -1}, {200, 5}} {
		rc, err := s.Open(ctx, key, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		rc.Close() // a second Close reports nothing more
	}
	// Half a range read: the hook sees the bytes that were read.
	rc, err := s.Open(ctx, key, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 20)); err != nil {
		t.Fatal(err)
	}
	if got := gets(); len(got) != 5 {
		t.Errorf("the hook was told before Close: %v", got)
	}
	rc.Close()
	want := []get{{key, 0, 10}, {key, 5, 95}, {key, 90, 10}, {key, 0, 100}, {key, 200, 0}, {key, 0, 20}}
	if got := gets(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hook calls %v, want %v", got, want)
	}
	if s.Location() == "" {
		t.Error("the decorator hides the store's Location")
	}
}

// TestAsFindsOptionalInterfaces: the backend's optional interfaces stay
// reachable through a stack of decorators.
func TestAsFindsOptionalInterfaces(t *testing.T) {
	ls, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	noop := func(string, int64, int64) {}
	s := store.WithGetHook(store.WithGetHook(ls, noop), noop)
	if _, ok := s.(store.Checker); ok {
		t.Fatal("the decorator itself claims to be a Checker")
	}
	c, ok := store.As[store.Checker](s)
	if !ok || c != store.Checker(ls) {
		t.Errorf("As[Checker] = %v, %v; want the local store", c, ok)
	}
	if sw, ok := store.As[store.TempSweeper](s); !ok || sw != store.TempSweeper(ls) {
		t.Errorf("As[TempSweeper] = %v, %v; want the local store", sw, ok)
	}
	if _, ok := store.As[interface{ Nope() }](s); ok {
		t.Error("As found an interface nothing implements")
	}
	if _, ok := store.As[store.Checker](nil); ok {
		t.Error("As(nil) found something")
	}
}
