package iceberg

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/datomfs/datomfs/internal/testenv/projecttest"
	"github.com/datomfs/datomfs/versions"
)

func TestRESTCatalog(t *testing.T) {
	var opts versions.Options
	opts.AfterWrites = AfterWrites(Options{})
	fx := projecttest.New(t, projecttest.Options{Versions: opts})
	in := t.TempDir()
	a, b := filepath.Join(in, "a.parquet"), filepath.Join(in, "b.parquet")
	writeParquet(t, a, 4, 0)
	writeParquet(t, b, 6, 0, "extra")
	write(t, fx.Project, "lb", a)
	w := write(t, fx.Project, "lb", b)
	srv := httptest.NewServer(RESTHandler(fx.Project, nil))
	defer srv.Close()

	tests := []struct {
		method, path string
		code         int
		want         string // a substring of the body
	}{
		{"GET", "/v1/config", 200, `"defaults":{}`},
		{"GET", "/v1/namespaces", 200, `"namespaces":[["iceberg"]]`},
		{"GET", "/v1/namespaces?parent=iceberg", 200, `"namespaces":[]`},
		{"GET", "/v1/namespaces/iceberg", 200, `"namespace":["iceberg"]`},
		{"HEAD", "/v1/namespaces/iceberg", 204, ""},
		{"GET", "/v1/namespaces/other", 404, "NoSuchNamespaceException"},
		{"GET", "/v1/namespaces/iceberg/tables", 200, `{"identifiers":[{"name":"lb","namespace":["iceberg"]}]}`},
		{"GET", "/v1/namespaces/iceberg/tables/lb", 200, `"metadata-location":"file://` + fx.Store + `/iceberg/lb/metadata/v2.metadata.json"`},
		{"HEAD", "/v1/namespaces/iceberg/tables/lb", 204, ""},
		{"GET", "/v1/namespaces/iceberg/tables/ae", 404, "NoSuchTableException"},
		{"GET", "/v1/namespaces/iceberg/tables/..", 404, "NoSuchTableException"},
		{"GET", "/v1/namespaces/iceberg%1Flb/tables/snapshots", 404, "NoSuchTableException"},
		{"GET", "/v1/namespaces/other/tables", 404, "NoSuchNamespaceException"},
		{"POST", "/v1/namespaces/iceberg/tables/lb/metrics", 204, ""},
		{"POST", "/v1/namespaces/iceberg/tables", 405, "read-only"},
		{"DELETE", "/v1/namespaces/iceberg/tables/lb", 405, "read-only"},
		{"GET", "/v2/anything", 404, "NotFoundException"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s %s: %d %s; want %d with %q", tt.method, tt.path, resp.StatusCode, body, tt.code, tt.want)
		}
	}

	// The loaded metadata is the store's current file, with both versions.
	resp, err := http.Get(srv.URL + "/v1/namespaces/iceberg/tables/lb")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	md, err := table.ParseMetadataBytes(res.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := SnapshotID(w.Version.String())
	if len(md.Snapshots()) != 2 || md.CurrentSnapshot().SnapshotID != want {
		t.Fatalf("loaded metadata: %d snapshots, current %d; want 2, %d", len(md.Snapshots()), md.CurrentSnapshot().SnapshotID, want)
	}
}
