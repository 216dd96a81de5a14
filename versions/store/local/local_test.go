package local_test

import (
	"testing"

	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/local"
	"github.com/datomfs/datomfs/versions/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := local.New(t.TempDir(), local.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
