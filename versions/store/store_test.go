package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datomfs/datomfs/versions/meta"
)

func TestLayoutKey(t *testing.T) {
	cases := []struct {
		prefix string
		rel    []string
		want   string
	}{
		// Contract 3.1 examples.
		{"proj/", []string{"dm/.metadata/metadata.json"}, "proj/datom/dm/.metadata/metadata.json"},
		{"", []string{"dm/.metadata/metadata.json"}, "datom/dm/.metadata/metadata.json"},
		{"a//b", []string{"dm"}, "a//b/datom/dm"}, // inner // kept
		{"/proj/", []string{"/dm/", "/x.parquet"}, "proj/datom/dm/x.parquet"},
		{"//", []string{"dm"}, "datom/dm"},
		{"p", []string{"", "/", "dm"}, "p/datom/dm"},
		{"p", nil, "p/datom"},
		{"p/q/", []string{"dm//x"}, "p/q/datom/dm//x"},
	}
	for _, c := range cases {
		if got := (Layout{Prefix: c.prefix}).Key(c.rel...); got != c.want {
			t.Errorf("Layout{%q}.Key(%q) = %q, want %q", c.prefix, c.rel, got, c.want)
		}
	}
}

func TestLayoutHelpers(t *testing.T) {
	const sha = "19f44e3a9f5b2c1d0e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d"
	dm, lb := meta.MustTableName("dm"), meta.MustTableName("lb")
	l := Layout{Prefix: "proj/"}
	cases := map[string]string{
		l.Root():                     "proj/datom/",
		l.TablePrefix(dm):            "proj/datom/dm/",
		l.ParquetKey(lb, sha):        "proj/datom/lb/" + sha + ".parquet",
		l.TableMetaKey(lb, "x.json"): "proj/datom/lb/.metadata/x.json",
		l.MetadataKey(lb):            "proj/datom/lb/.metadata/metadata.json",
		l.VersionHistoryKey(lb):      "proj/datom/lb/.metadata/version_history.json",
		l.SnapshotKey(lb, sha):       "proj/datom/lb/.metadata/" + sha + ".json",
		l.ManifestKey():              "proj/datom/.metadata/manifest.json",
		l.GovernanceKey():            "proj/datom/.metadata/governance.json",
		l.MetadataKey(meta.MustTableName("My Table (v2)")): "proj/datom/My Table (v2)/.metadata/metadata.json",
		Layout{}.ManifestKey():                             "datom/.metadata/manifest.json",
		Layout{}.ParquetKey(dm, "abc"):                     "datom/dm/abc.parquet",
		l.GovProjectsPrefix():                              "proj/datom/projects/",
		l.GovRefKey("study1"):                              "proj/datom/projects/study1/ref.json",
		l.GovDispatchKey("study1"):                         "proj/datom/projects/study1/dispatch.json",
		l.GovMigrationHistoryKey("s"):                      "proj/datom/projects/s/migration_history.json",
		Layout{Prefix: "gov"}.GovRefKey("p"):               "gov/datom/projects/p/ref.json",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got key %q, want %q", got, want)
		}
		if err := ValidateKey(got); err != nil && !strings.HasSuffix(got, "/") {
			t.Errorf("layout built an invalid key %q: %v", got, err)
		}
	}
}

func TestParseLocation(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   string
		want Location
		str  string
	}{
		{"/data/store", Location{Type: TypeLocal, Root: "/data/store"}, "/data/store"},
		{"/data/store/", Location{Type: TypeLocal, Root: "/data/store"}, "/data/store"},
		{"/data//x/../store", Location{Type: TypeLocal, Root: "/data/store"}, "/data/store"},
		{"./rel/dir", Location{Type: TypeLocal, Root: filepath.Join(wd, "rel/dir")}, filepath.Join(wd, "rel/dir")},
		{"rel", Location{Type: TypeLocal, Root: filepath.Join(wd, "rel")}, filepath.Join(wd, "rel")},
		{"file:///srv/datom", Location{Type: TypeLocal, Root: "/srv/datom"}, "/srv/datom"},
		{"file://localhost/srv/datom/", Location{Type: TypeLocal, Root: "/srv/datom"}, "/srv/datom"},
		{"file:///srv/my%20store", Location{Type: TypeLocal, Root: "/srv/my store"}, "/srv/my store"},
		{"s3://bucket", Location{Type: TypeS3, Root: "bucket"}, "s3://bucket"},
		{"s3://bucket/", Location{Type: TypeS3, Root: "bucket"}, "s3://bucket"},
		{"s3://bucket/prefix/", Location{Type: TypeS3, Root: "bucket", Prefix: "prefix/"}, "s3://bucket/prefix"},
		{"s3://bucket/a/b", Location{Type: TypeS3, Root: "bucket", Prefix: "a/b"}, "s3://bucket/a/b"},
		{"s3://bucket/a//b/", Location{Type: TypeS3, Root: "bucket", Prefix: "a//b/"}, "s3://bucket/a//b"},
		{"S3://bucket/p?region=eu-west-1", Location{Type: TypeS3, Root: "bucket", Prefix: "p", Region: "eu-west-1"}, "s3://bucket/p"},
	}
	for _, c := range cases {
		got, err := ParseLocation(c.in)
		if err != nil {
			t.Errorf("ParseLocation(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseLocation(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if s := got.String(); s != c.str {
			t.Errorf("ParseLocation(%q).String() = %q, want %q", c.in, s, c.str)
		}
	}
}

func TestParseLocationErrors(t *testing.T) {
	for _, in := range []string{
		"", "s3://", "s3:///prefix", "gs://bucket/x", "http://host/x",
		"file://otherhost/x", "file:relative", "s3://bucket/p?foo=1", "s3://bucket/p?region=a&region=b",
		"s3://bucket name/x",
	} {
		if _, err := ParseLocation(in); !errors.Is(err, ErrBadLocation) {
			t.Errorf("ParseLocation(%q) error = %v, want ErrBadLocation", in, err)
		}
	}
	// Credentials in a location are refused and never echoed.
	for _, in := range []string{"s3://AKIAXXX:supersecret@bucket/p", "https://user:supersecret@host/x", "file://user:supersecret@localhost/x"} {
		_, err := ParseLocation(in)
		if !errors.Is(err, ErrBadLocation) {
			t.Errorf("ParseLocation with credentials: %v, want ErrBadLocation", err)
		}
		if err != nil && strings.Contains(err.Error(), "supersecret") {
			t.Errorf("error echoes the secret: %v", err)
		}
	}
}

func TestLocationString(t *testing.T) {
	cases := map[Location]string{
		{Type: TypeLocal, Root: "/srv/x", Prefix: "proj/"}: "/srv/x/proj",
		{Type: TypeS3, Root: "b", Prefix: "/proj/"}:        "s3://b/proj",
		{Type: TypeS3, Root: "b", Region: "eu-west-1"}:     "s3://b",
	}
	for loc, want := range cases {
		if got := loc.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", loc, got, want)
		}
	}
	loc := Location{Type: TypeS3, Root: "b", Prefix: "proj/"}
	if got := loc.Layout().ParquetKey(meta.MustTableName("dm"), "abc"); got != "proj/datom/dm/abc.parquet" {
		t.Errorf("Location.Layout() key = %q", got)
	}
}

func TestFrameJSON(t *testing.T) {
	local := Location{Type: TypeLocal, Root: "/x"}
	s3 := Location{Type: TypeS3, Root: "b"}
	for _, in := range []string{"{\n  \"a\": 1\n}", "{\n  \"a\": 1\n}\n", "{\n  \"a\": 1\n}\n\n"} {
		if got := string(local.FrameJSON([]byte(in))); got != "{\n  \"a\": 1\n}\n" {
			t.Errorf("local FrameJSON(%q) = %q, want exactly one trailing newline", in, got)
		}
		if got := string(s3.FrameJSON([]byte(in))); got != "{\n  \"a\": 1\n}" {
			t.Errorf("s3 FrameJSON(%q) = %q, want no trailing newline", in, got)
		}
	}
}

func TestValidateKey(t *testing.T) {
	for _, ok := range []string{"datom/x", "a//b/datom/x", "p/datom/My Table (v2)/.metadata/m.json", "x", ".metadata/x", "a/..b/c"} {
		if err := ValidateKey(ok); err != nil {
			t.Errorf("ValidateKey(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/x", "x/", "a/../b", "..", ".", "a/./b", "a\x00b"} {
		if err := ValidateKey(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrBadKey", bad, err)
		}
	}
}

func TestIsPermanent(t *testing.T) {
	for _, err := range []error{ErrPermission, ErrNoSpace, ErrBadKey, ErrSizeMismatch} {
		if !IsPermanent(errors.Join(errors.New("ctx"), err)) {
			t.Errorf("IsPermanent(%v) = false", err)
		}
	}
	for _, err := range []error{ErrNotFound, ErrUnreachable, errors.New("other")} {
		if IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = true", err)
		}
	}
}

func TestProgressReader(t *testing.T) {
	var calls [][2]int64
	r := ProgressReader(strings.NewReader("abcdefgh"), 8, func(d, tot int64) { calls = append(calls, [2]int64{d, tot}) })
	buf := make([]byte, 3)
	for {
		if _, err := r.Read(buf); err != nil {
			break
		}
	}
	want := [][2]int64{{3, 8}, {6, 8}, {8, 8}}
	if len(calls) != len(want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("calls %v, want %v", calls, want)
		}
	}
	plain := strings.NewReader("x")
	if ProgressReader(plain, 1, nil) != plain {
		t.Errorf("ProgressReader with a nil callback should return the reader itself")
	}
}
