package meta

import (
	"encoding/json"
	"os"
	"testing"
)

// testdata/yaml_scalars_r-yaml-2.3.7.json was produced by R yaml 2.3.7
// (as.yaml) for each string v, once as a top-level value
// (project_description) and once nested two levels deep (storage.data.root).
func TestYAMLStringsMatchRYaml(t *testing.T) {
	data, err := os.ReadFile("testdata/yaml_scalars_r-yaml-2.3.7.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		V  string `json:"v"`
		Y  string `json:"y"`
		Y2 string `json:"y2"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		w := &yamlWriter{}
		w.str(0, "project_description", c.V)
		if got := string(w.buf); got != c.Y {
			t.Errorf("top level %q:\ngot  %q\nwant %q", c.V, got, c.Y)
		}
		w = &yamlWriter{}
		w.mapping(0, "storage")
		w.mapping(2, "data")
		w.str(4, "root", c.V)
		if got := string(w.buf); got != c.Y2 {
			t.Errorf("nested %q:\ngot  %q\nwant %q", c.V, got, c.Y2)
		}
	}
}

func TestYAMLQuotingContractExamples(t *testing.T) {
	tests := []struct{ in, want string }{
		{"yes", "'yes'"},
		{"n", "'n'"},
		{"2026-01-02", "'2026-01-02'"},
		{"0.1.1", "0.1.1"},
		{"1.0", "'1.0'"},
		{"1e5", "1e5"},
		{"2026-01-02 03:04:05", "2026-01-02 03:04:05"},
		{"2026-01-02T03:04:05Z", "'2026-01-02T03:04:05Z'"},
		{"", "''"},
		{"~", "'~'"},
		{"it's: x", "'it''s: x'"},
		{"tab\there", `"tab\there"`},
		{".na.real", "'.na.real'"},
		{"proj/", "proj/"},
	}
	for _, tt := range tests {
		w := &yamlWriter{}
		w.str(0, "k", tt.in)
		if got, want := string(w.buf), "k: "+tt.want+"\n"; got != want {
			t.Errorf("%q: got %q, want %q", tt.in, got, want)
		}
	}
}

func TestYAMLDouble(t *testing.T) {
	// Checked against R yaml 2.3.7.
	tests := []struct {
		in   float64
		want string
	}{
		{1000, "1000.0"}, {2.5, "2.5"}, {1e7, "1.0e+07"}, {0, "0.0"}, {1e-5, "1.0e-05"},
		{-1e-5, "-1.0e-05"}, {123456.789, "123456.789"}, {0.1, "0.1"}, {1.0 / 3, "0.3333333"},
		{-2.5, "-2.5"}, {1e-4, "0.0001"}, {9999999.5, "9999999.5"}, {12345678, "1.2345678e+07"},
		{-1e8, "-1.0e+08"},
	}
	for _, tt := range tests {
		if got := yamlDouble(tt.in); got != tt.want {
			t.Errorf("yamlDouble(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
