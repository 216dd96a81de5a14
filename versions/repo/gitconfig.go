package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	formatcfg "github.com/go-git/go-git/v5/plumbing/format/config"
)

// Fallback identity written into a new clone's config when the global git
// config has none (contract 2.5).
const (
	fallbackName  = "datom"
	fallbackEmail = "datom@noreply"
)

// globalConfig is the subset of the user's global git config we use.
type globalConfig struct {
	name, email   string
	defaultBranch string
}

// globalConfigPaths lists the global config files in the order git reads
// them (later files win): $GIT_CONFIG_GLOBAL alone when set, else
// $XDG_CONFIG_HOME/git/config (or ~/.config/git/config), then ~/.gitconfig.
func globalConfigPaths() []string {
	if p, ok := os.LookupEnv("GIT_CONFIG_GLOBAL"); ok {
		if p == "" {
			return nil
		}
		return []string{p}
	}
	var paths []string
	home, _ := os.UserHomeDir()
	if xdg := os.Getenv("XDG_CONFIG_HOME"); xdg != "" {
		paths = append(paths, filepath.Join(xdg, "git", "config"))
	} else if home != "" {
		paths = append(paths, filepath.Join(home, ".config", "git", "config"))
	}
	if home != "" {
		paths = append(paths, filepath.Join(home, ".gitconfig"))
	}
	return paths
}

// loadGlobalConfig reads the global git config files. Missing files are
// fine; unreadable or malformed ones are errors. Include directives are not
// followed.
func loadGlobalConfig() (globalConfig, error) {
	var g globalConfig
	for _, p := range globalConfigPaths() {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return g, fmt.Errorf("read git config %s: %w", p, err)
		}
		cfg := formatcfg.New()
		err = formatcfg.NewDecoder(f).Decode(cfg)
		_ = f.Close()
		if err != nil {
			return g, fmt.Errorf("parse git config %s: %w", p, err)
		}
		if v := lastOption(cfg, "user", "name"); v != "" {
			g.name = v
		}
		if v := lastOption(cfg, "user", "email"); v != "" {
			g.email = v
		}
		if v := lastOption(cfg, "init", "defaultBranch"); v != "" {
			g.defaultBranch = v
		}
	}
	return g, nil
}

// lastOption returns the last value of section.key across all sections of
// that name (git lets a section appear several times; the last value wins).
func lastOption(cfg *formatcfg.Config, section, key string) string {
	v := ""
	for _, s := range cfg.Sections {
		if !s.IsName(section) {
			continue
		}
		for _, o := range s.Options {
			if o.IsKey(key) {
				v = o.Value
			}
		}
	}
	return v
}
