package meta

import (
	"errors"
	"fmt"
	"path"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrInvalidConfig reports a project.yaml (or governance/ref document) that
// breaks the contract.
var ErrInvalidConfig = errors.New("invalid project configuration")

// Storage types.
const (
	StorageLocal = "local"
	StorageS3    = "s3"
)

// StorageConfig is a data or governance store location.
type StorageConfig struct {
	Type   string // StorageLocal or StorageS3
	Root   string // bucket, or absolute local directory
	Prefix string // "" = no prefix
	Region string // s3 only
}

// Validate checks a store location.
func (s StorageConfig) Validate() error {
	switch s.Type {
	case StorageLocal:
		if !path.IsAbs(s.Root) {
			return fmt.Errorf("%w: local store root %q is not an absolute path", ErrInvalidConfig, s.Root)
		}
	case StorageS3:
		if s.Root == "" {
			return fmt.Errorf("%w: s3 store needs a bucket", ErrInvalidConfig)
		}
		if s.Region == "" {
			return fmt.Errorf("%w: s3 store needs a region", ErrInvalidConfig)
		}
	default:
		return fmt.Errorf("%w: store type %q (want %q or %q)", ErrInvalidConfig, s.Type, StorageLocal, StorageS3)
	}
	return nil
}

// ProjectConfig is .datom/project.yaml (contract 2.2).
type ProjectConfig struct {
	ProjectName     ProjectName
	Description     string
	CreatedAt       string // local calendar date at init, YYYY-MM-DD
	DatomVersion    string
	Storage         StorageConfig
	MaxFileSizeGB   float64
	RemoteURL       string // "" is written as ~
	ContinueOnError bool
	ParallelUploads int
	Renv            bool
}

// NewProjectConfig is the configuration datom writes at init, with its
// defaults (max_file_size_gb 1000, continue_on_error yes, parallel_uploads
// 4, renv no). created is the init time; its local calendar date is
// recorded. A local root is cleaned (no trailing slash).
func NewProjectConfig(name ProjectName, datomVersion string, storage StorageConfig, remoteURL string, created time.Time) (ProjectConfig, error) {
	if storage.Type == StorageLocal && storage.Root != "" {
		storage.Root = path.Clean(storage.Root)
	}
	c := ProjectConfig{
		ProjectName:     name,
		CreatedAt:       created.Format("2006-01-02"),
		DatomVersion:    datomVersion,
		Storage:         storage,
		MaxFileSizeGB:   1000,
		RemoteURL:       remoteURL,
		ContinueOnError: true,
		ParallelUploads: 4,
	}
	if err := c.Validate(); err != nil {
		return ProjectConfig{}, err
	}
	return c, nil
}

// Validate checks the configuration.
func (c ProjectConfig) Validate() error {
	if c.ProjectName.IsZero() {
		return fmt.Errorf("%w: project_name is missing", ErrInvalidConfig)
	}
	if c.DatomVersion == "" {
		return fmt.Errorf("%w: datom_version is missing", ErrInvalidConfig)
	}
	if err := c.Storage.Validate(); err != nil {
		return err
	}
	if !(c.MaxFileSizeGB > 0) {
		return fmt.Errorf("%w: max_file_size_gb %v must be positive", ErrInvalidConfig, c.MaxFileSizeGB)
	}
	return nil
}

// YAML is the file as R yaml writes it (contract 1.3/2.2): fixed key
// order, no document markers, ends with "\n". The region line is written
// for s3, or when a region is set (upstream keeps a stale one).
func (c ProjectConfig) YAML() []byte {
	w := &yamlWriter{}
	w.str(0, "project_name", c.ProjectName.String())
	w.str(0, "project_description", c.Description)
	w.str(0, "created_at", c.CreatedAt)
	w.str(0, "datom_version", c.DatomVersion)
	w.mapping(0, "storage")
	w.mapping(2, "data")
	w.str(4, "type", c.Storage.Type)
	w.str(4, "root", c.Storage.Root)
	if c.Storage.Prefix == "" {
		w.null(4, "prefix")
	} else {
		w.str(4, "prefix", c.Storage.Prefix)
	}
	if c.Storage.Type == StorageS3 || c.Storage.Region != "" {
		w.str(4, "region", c.Storage.Region)
	}
	w.double(2, "max_file_size_gb", c.MaxFileSizeGB)
	w.mapping(0, "repos")
	w.mapping(2, "data")
	if c.RemoteURL == "" {
		w.null(4, "remote_url")
	} else {
		w.str(4, "remote_url", c.RemoteURL)
	}
	w.mapping(0, "sync")
	w.boolean(2, "continue_on_error", c.ContinueOnError)
	w.integer(2, "parallel_uploads", c.ParallelUploads)
	w.boolean(0, "renv", c.Renv)
	return w.buf
}

type yamlStore struct {
	Type   string  `yaml:"type"`
	Root   string  `yaml:"root"`
	Prefix *string `yaml:"prefix"`
	Region string  `yaml:"region"`
}

func (s yamlStore) config() StorageConfig {
	c := StorageConfig{Type: s.Type, Root: s.Root, Region: s.Region}
	if s.Prefix != nil {
		c.Prefix = *s.Prefix
	}
	return c
}

type yamlProject struct {
	ProjectName        string `yaml:"project_name"`
	ProjectDescription string `yaml:"project_description"`
	CreatedAt          string `yaml:"created_at"`
	DatomVersion       string `yaml:"datom_version"`
	Storage            struct {
		Data          *yamlStore       `yaml:"data"`
		Governance    *yamlStore       `yaml:"governance"` // older versions; ignored
		yamlStore     `yaml:",inline"` // legacy flat block
		MaxFileSizeGB *float64         `yaml:"max_file_size_gb"`
	} `yaml:"storage"`
	Repos struct {
		Data struct {
			RemoteURL string `yaml:"remote_url"`
		} `yaml:"data"`
	} `yaml:"repos"`
	Sync struct {
		ContinueOnError *bool `yaml:"continue_on_error"`
		ParallelUploads *int  `yaml:"parallel_uploads"`
	} `yaml:"sync"`
	Renv bool `yaml:"renv"`
}

// ParseProjectConfig reads a project.yaml, accepting the legacy flat
// storage block, governance blocks of older versions, and a prefix that is
// missing, ~ or empty (all "no prefix").
func ParseProjectConfig(data []byte) (ProjectConfig, error) {
	var y yamlProject
	if err := yaml.Unmarshal(data, &y); err != nil {
		return ProjectConfig{}, fmt.Errorf("parse project.yaml: %w: %v", ErrInvalidConfig, err)
	}
	name, err := ParseProjectName(y.ProjectName)
	if err != nil {
		return ProjectConfig{}, fmt.Errorf("parse project.yaml: %w", err)
	}
	store := y.Storage.yamlStore
	if y.Storage.Data != nil {
		store = *y.Storage.Data
	}
	c := ProjectConfig{
		ProjectName:     name,
		Description:     y.ProjectDescription,
		CreatedAt:       y.CreatedAt,
		DatomVersion:    y.DatomVersion,
		Storage:         store.config(),
		MaxFileSizeGB:   1000,
		RemoteURL:       y.Repos.Data.RemoteURL,
		ContinueOnError: true,
		ParallelUploads: 4,
		Renv:            y.Renv,
	}
	if y.Storage.MaxFileSizeGB != nil {
		c.MaxFileSizeGB = *y.Storage.MaxFileSizeGB
	}
	if y.Sync.ContinueOnError != nil {
		c.ContinueOnError = *y.Sync.ContinueOnError
	}
	if y.Sync.ParallelUploads != nil {
		c.ParallelUploads = *y.Sync.ParallelUploads
	}
	if err := c.Storage.Validate(); err != nil {
		return ProjectConfig{}, fmt.Errorf("parse project.yaml: %w", err)
	}
	return c, nil
}
