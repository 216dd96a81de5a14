package iceberg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/datomfs/datomfs/versions"
	"github.com/datomfs/datomfs/versions/meta"
	"github.com/datomfs/datomfs/versions/store"
)

// RESTHandler serves a read-only Iceberg REST catalog (the read side of
// the Apache Iceberg REST catalog spec, v1) over a project's Iceberg
// metadata: one namespace, Namespace, whose tables are the project's
// tables that have metadata. It answers config, namespace listing and
// lookup, table listing, existence and loading; everything that would
// change the catalog answers 405 with the spec's error model. Each load
// reads the table's current metadata from the store, so new versions show
// at once. Engines read the data files with their own credentials: the
// catalog hands out none.
func RESTHandler(p *versions.Project, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = Options{}.logger()
	}
	return &restCatalog{p: p, log: logger}
}

type restCatalog struct {
	p   *versions.Project
	log *slog.Logger
}

type restError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

func (c *restCatalog) fail(w http.ResponseWriter, code int, typ, format string, a ...any) {
	var e restError
	e.Error.Message, e.Error.Type, e.Error.Code = fmt.Sprintf(format, a...), typ, code
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(e)
}

func (c *restCatalog) reply(w http.ResponseWriter, r *http.Request, v any) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	json.NewEncoder(w).Encode(v)
}

// namespaceOf decodes a namespace path segment (levels joined by 0x1F).
func namespaceOf(seg string) []string {
	s, err := url.PathUnescape(seg)
	if err != nil {
		s = seg
	}
	return strings.Split(s, "\x1f")
}

func (c *restCatalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.EscapedPath(), "/")
	parts := strings.Split(path, "/")
	if len(parts) < 2 || parts[0] != "v1" {
		c.fail(w, http.StatusNotFound, "NotFoundException", "no such route: %s", r.URL.Path)
		return
	}
	parts = parts[1:]
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case len(parts) == 1 && parts[0] == "config" && r.Method == http.MethodGet:
		c.reply(w, r, map[string]any{"defaults": map[string]string{}, "overrides": map[string]string{}})
	case len(parts) == 1 && parts[0] == "namespaces" && r.Method == http.MethodGet:
		if parent := r.URL.Query().Get("parent"); parent != "" {
			c.reply(w, r, map[string]any{"namespaces": [][]string{}})
			return
		}
		c.reply(w, r, map[string]any{"namespaces": [][]string{{Namespace}}})
	case len(parts) == 2 && parts[0] == "namespaces" && read:
		if !c.namespace(w, parts[1]) {
			return
		}
		c.reply(w, r, map[string]any{"namespace": []string{Namespace}, "properties": map[string]string{}})
	case len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "tables" && r.Method == http.MethodGet:
		if !c.namespace(w, parts[1]) {
			return
		}
		infos, err := Locate(r.Context(), c.p)
		if err != nil {
			c.internal(w, "list tables", err)
			return
		}
		ids := []map[string]any{}
		for _, in := range infos {
			if in.MetadataLocation != "" {
				ids = append(ids, map[string]any{"namespace": []string{Namespace}, "name": in.Table})
			}
		}
		c.reply(w, r, map[string]any{"identifiers": ids})
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "tables" && read:
		name, _ := url.PathUnescape(parts[3])
		if ns := namespaceOf(parts[1]); len(ns) != 1 || ns[0] != Namespace {
			// No such table (not "no such namespace"): Iceberg's clients
			// then try "ns.table" as a metadata table (lb.snapshots).
			c.fail(w, http.StatusNotFound, "NoSuchTableException", "Table does not exist: %s.%s", strings.Join(ns, "."), name)
			return
		}
		loc, raw, err := c.load(r.Context(), name)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, versions.ErrNotFound) || errors.Is(err, versions.ErrInvalidName) {
			c.fail(w, http.StatusNotFound, "NoSuchTableException", "Table does not exist: %s.%s", Namespace, name)
			return
		}
		if err != nil {
			c.internal(w, "load table "+name, err)
			return
		}
		c.reply(w, r, map[string]any{"metadata-location": loc, "metadata": json.RawMessage(raw), "config": map[string]string{}})
	case len(parts) == 5 && parts[0] == "namespaces" && parts[2] == "tables" && parts[4] == "metrics" && r.Method == http.MethodPost:
		// Engines report scan metrics after reading; accepted, not kept.
		w.WriteHeader(http.StatusNoContent)
	case !read && len(parts) >= 1 && parts[0] == "namespaces":
		c.fail(w, http.StatusMethodNotAllowed, "BadRequestException", "this catalog is read-only: datomfs writes versions, and their Iceberg metadata follows")
	default:
		c.fail(w, http.StatusNotFound, "NotFoundException", "no such route: %s %s", r.Method, r.URL.Path)
	}
}

func (c *restCatalog) namespace(w http.ResponseWriter, seg string) bool {
	ns := namespaceOf(seg)
	if len(ns) != 1 || ns[0] != Namespace {
		c.fail(w, http.StatusNotFound, "NoSuchNamespaceException", "Namespace does not exist: %s", strings.Join(ns, "."))
		return false
	}
	return true
}

func (c *restCatalog) internal(w http.ResponseWriter, what string, err error) {
	c.log.Error("iceberg REST catalog", "op", what, "err", err)
	c.fail(w, http.StatusInternalServerError, "ServiceFailureException", "%s: %v", what, err)
}

// load reads a table's current metadata file: its URL and its bytes.
func (c *restCatalog) load(ctx context.Context, tbl string) (string, []byte, error) {
	name, err := meta.ParseTableName(tbl)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", versions.ErrInvalidName, err)
	}
	pl := place{loc: c.p.StoreLoc()}
	st := c.p.Store()
	dirKey := pl.key(name.String(), "metadata") + "/"
	n, err := readHint(ctx, st, dirKey)
	if err != nil {
		return "", nil, err
	}
	raw, err := readAll(ctx, st, dirKey+metadataName(n))
	if err != nil {
		return "", nil, err
	}
	return pl.url(dirKey + metadataName(n)), raw, nil
}
