package meta

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Expected texts were produced by R yaml 2.3.7 (as.yaml) from the list
// datom_init_repo builds.
const yamlLocalNoPrefix = `project_name: 'yes'
project_description: ''
created_at: '2026-01-02'
datom_version: 0.1.1
storage:
  data:
    type: local
    root: /srv/data store
    prefix: ~
  max_file_size_gb: 1000.0
repos:
  data:
    remote_url: file:///srv/git/study.git
sync:
  continue_on_error: yes
  parallel_uploads: 4
renv: no
`

const yamlS3Prefix = `project_name: STUDY-001 (pilot)
project_description: 'Pilot study: dm, ae #1'
created_at: '2026-01-02'
datom_version: 0.1.1
storage:
  data:
    type: s3
    root: acme-bucket
    prefix: proj/
    region: eu-west-1
  max_file_size_gb: 1000.0
repos:
  data:
    remote_url: https://github.com/acme/study-001-data.git
sync:
  continue_on_error: yes
  parallel_uploads: 4
renv: no
`

func TestProjectConfigYAML(t *testing.T) {
	yes, _ := ParseProjectName("yes")
	local, err := NewProjectConfig(yes, "0.1.1", StorageConfig{Type: StorageLocal, Root: "/srv/data store/"},
		"file:///srv/git/study.git", time.Date(2026, 1, 2, 23, 0, 0, 0, time.Local))
	if err != nil {
		t.Fatal(err)
	}
	pilot, _ := ParseProjectName("STUDY-001 (pilot)")
	s3, err := NewProjectConfig(pilot, "0.1.1", StorageConfig{Type: StorageS3, Root: "acme-bucket", Prefix: "proj/", Region: "eu-west-1"},
		"https://github.com/acme/study-001-data.git", time.Date(2026, 1, 2, 0, 0, 0, 0, time.Local))
	if err != nil {
		t.Fatal(err)
	}
	s3 = withDescription(s3, "Pilot study: dm, ae #1")
	tests := []struct {
		name string
		cfg  ProjectConfig
		want string
	}{
		{"local without prefix", local, yamlLocalNoPrefix},
		{"s3 with prefix", s3, yamlS3Prefix},
	}
	for _, tt := range tests {
		if got := string(tt.cfg.YAML()); got != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, got, tt.want)
		}
		parsed, err := ParseProjectConfig([]byte(tt.want))
		if err != nil {
			t.Fatalf("%s: parse: %v", tt.name, err)
		}
		if parsed != tt.cfg {
			t.Errorf("%s: parsed %+v\nwant %+v", tt.name, parsed, tt.cfg)
		}
		if got := string(parsed.YAML()); got != tt.want {
			t.Errorf("%s: round trip:\n%s", tt.name, got)
		}
	}
}

func withDescription(c ProjectConfig, d string) ProjectConfig {
	c.Description = d
	return c
}

func TestParseProjectConfigVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want StorageConfig
	}{
		{"prefix missing", strings.Replace(yamlLocalNoPrefix, "    prefix: ~\n", "", 1),
			StorageConfig{Type: "local", Root: "/srv/data store"}},
		{"prefix empty", strings.Replace(yamlLocalNoPrefix, "prefix: ~", "prefix: ''", 1),
			StorageConfig{Type: "local", Root: "/srv/data store"}},
		{"stale region on local", strings.Replace(yamlLocalNoPrefix, "    prefix: ~\n", "    prefix: ~\n    region: us-east-1\n", 1),
			StorageConfig{Type: "local", Root: "/srv/data store", Region: "us-east-1"}},
		{"governance blocks", strings.Replace(strings.Replace(yamlS3Prefix,
			"  max_file_size_gb", "  governance:\n    type: s3\n    root: gov\n  max_file_size_gb", 1),
			"sync:", "  governance:\n    remote_url: https://x/gov.git\nsync:", 1),
			StorageConfig{Type: "s3", Root: "acme-bucket", Prefix: "proj/", Region: "eu-west-1"}},
		{"legacy flat storage", "project_name: p\ndatom_version: 0.0.9\nstorage:\n  type: s3\n  root: b\n  prefix: x\n  region: r\n",
			StorageConfig{Type: "s3", Root: "b", Prefix: "x", Region: "r"}},
	}
	for _, tt := range tests {
		c, err := ParseProjectConfig([]byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if c.Storage != tt.want {
			t.Errorf("%s: storage %+v, want %+v", tt.name, c.Storage, tt.want)
		}
	}
	c, err := ParseProjectConfig([]byte(strings.Replace(yamlLocalNoPrefix, "continue_on_error: yes", "continue_on_error: no", 1)))
	if err != nil || c.ContinueOnError || c.ProjectName.String() != "yes" || c.CreatedAt != "2026-01-02" || c.MaxFileSizeGB != 1000 || c.Renv {
		t.Errorf("fields: %+v %v", c, err)
	}
	if strings.Contains(string(c.YAML()), "region") {
		t.Errorf("local config without region wrote a region line")
	}
}

func TestProjectConfigErrors(t *testing.T) {
	bad := []string{
		"project_name: [\n",
		"project_name: a/b\nstorage:\n  data:\n    type: local\n    root: /x\n",
		"project_name: p\nstorage:\n  data:\n    type: ftp\n    root: /x\n",
		"project_name: p\nstorage:\n  data:\n    type: local\n    root: rel/path\n",
		"project_name: p\nstorage:\n  data:\n    type: s3\n    root: b\n",
	}
	for _, in := range bad {
		if _, err := ParseProjectConfig([]byte(in)); err == nil {
			t.Errorf("ParseProjectConfig(%q) succeeded", in)
		}
	}
	p, _ := ParseProjectName("p")
	if _, err := NewProjectConfig(p, "", StorageConfig{Type: StorageLocal, Root: "/x"}, "", time.Now()); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("missing datom version: %v", err)
	}
	if _, err := NewProjectConfig(ProjectName{}, "0.1.1", StorageConfig{Type: StorageLocal, Root: "/x"}, "", time.Now()); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("missing name: %v", err)
	}
	c, err := NewProjectConfig(p, "0.1.1", StorageConfig{Type: StorageLocal, Root: "/x"}, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c.YAML()), "    remote_url: ~\n") {
		t.Errorf("empty remote not written as ~:\n%s", c.YAML())
	}
}

func TestGitignoreAndReadme(t *testing.T) {
	want := ".Rprofile\n.Renviron\n.Rhistory\n.Rapp.history\n.Rproj.user/\n.DS_Store\n*.csv\n*.tsv\n*.rds\n*.txt\n" +
		"*.parquet\n*.sas7bdat\n.RData\n.RDataTmp\n*.html\n*.png\n*.pdf\n.vscode/\nrsconnect/\ninput_files/\n"
	if got := string(Gitignore()); got != want {
		t.Errorf("Gitignore() =\n%s", got)
	}
	if got := string(Gitignore("a", "input_files/")); got != "a\ninput_files/\n" {
		t.Errorf("custom = %q", got)
	}
	p, _ := ParseProjectName("STUDY1")
	c, _ := NewProjectConfig(p, "0.1.1", StorageConfig{Type: StorageLocal, Root: "/x"}, "", time.Now())
	r := string(README(c))
	if !strings.HasPrefix(r, "# STUDY1\n") || !strings.Contains(r, "*(none)*") || !strings.Contains(r, "*(n/a)*") || !strings.HasSuffix(r, "\n") {
		t.Errorf("README:\n%s", r)
	}
}
