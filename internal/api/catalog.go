// Package api owns Atrium's JSON REST routes, one handler per plugin
// (/api/catalog, and later /api/scaffolder, ...), each wire-compatible with
// Backstage's, with one error adapter that maps error kinds to Backstage's
// error body and never shows clients the text of an unexpected error.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/metrics"
)

// CatalogPrefix is where the app mounts the catalog API. NewCatalogHandler
// strips it itself, so the app registers the handler unchanged:
//
//	mux.Handle(api.CatalogPrefix+"/", api.NewCatalogHandler(svc, logger, api.Options{}))
const CatalogPrefix = "/api/catalog"

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// Catalog is the catalog service as the REST API uses it.
type Catalog interface {
	QueryEntities(ctx context.Context, q catalog.Query) (catalog.Page, error)
	EntityByRef(ctx context.Context, ref entity.Ref) (json.RawMessage, error)            // derrors NotFound
	EntityAt(ctx context.Context, ref entity.Ref, at time.Time) (json.RawMessage, error) // derrors NotFound
	EntityByUID(ctx context.Context, uid string) (json.RawMessage, error)
	EntitiesByRefs(ctx context.Context, refs []string, f filter.Expr) ([]json.RawMessage, error) // same length as refs, nil where missing/filtered/unparseable
	DeleteEntityByUID(ctx context.Context, uid string) error
	Ancestry(ctx context.Context, ref entity.Ref) (catalog.Ancestry, error)
	Facets(ctx context.Context, facets []string, f filter.Expr) (map[string][]catalog.FacetCount, error)
	Refresh(ctx context.Context, ref entity.Ref) error
	ValidateEntity(ctx context.Context, raw map[string]any, location string) error // *catalog.ValidationError for problems
	Locations(ctx context.Context) ([]catalog.Location, error)                     // API-registered only
	Location(ctx context.Context, id string) (catalog.Location, error)
	AddLocation(ctx context.Context, typ, target string, opts catalog.AddLocationOptions) (catalog.AddLocationResult, error)
	UpdateLocation(ctx context.Context, id, typ, target string) (catalog.Location, error)
	DeleteLocation(ctx context.Context, id string) error
	LocationByEntity(ctx context.Context, ref entity.Ref) (catalog.Location, error)
	AnalyzeLocation(ctx context.Context, typ, target, catalogFilename string) (catalog.AnalyzeResult, error)
}

// Options tune a plugin's API handler.
type Options struct {
	// MaxBodyBytes caps JSON request bodies; larger ones get 413. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// catalogHandler serves /api/catalog.
type catalogHandler struct {
	c        Catalog
	maxBody  int64
	pageSize int // rows per QueryEntities call when streaming unpaged /entities
}

// NewCatalogHandler returns the handler for Backstage's catalog REST API.
// Errors are logged to logger (slog.Default if nil): 5xx with their detail,
// client errors at debug level.
// It expects full request paths (CatalogPrefix + "/entities", ...) and
// strips CatalogPrefix itself, because Backstage reports request URLs in
// error bodies and the link header relative to the plugin's base.
func NewCatalogHandler(c Catalog, logger *slog.Logger, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if logger == nil {
		logger = slog.Default()
	}
	h := &catalogHandler{c: c, maxBody: opts.MaxBodyBytes, pageSize: 10000}
	return h.routes(&errorAdapter{logger: logger})
}

func (h *catalogHandler) routes(a *errorAdapter) http.Handler {
	return newPrefixRouter(CatalogPrefix, a, h.routeTable())
}

// routeTable is the catalog API's route table, read top to bottom.
func (h *catalogHandler) routeTable() []route {
	return []route{
		{"GET /entities", h.getEntities},
		{"GET /entities/by-query", h.getEntitiesByQuery},
		{"POST /entities/by-query", h.postEntitiesByQuery},
		{"GET /entities/by-uid/{uid}", h.getEntityByUID},
		{"DELETE /entities/by-uid/{uid}", h.deleteEntityByUID},
		{"GET /entities/by-name/{kind}/{namespace}/{name}", h.getEntityByName},
		{"GET /entities/by-name/{kind}/{namespace}/{name}/ancestry", h.getEntityAncestry},
		{"POST /entities/by-refs", h.postEntitiesByRefs},
		{"GET /entity-facets", h.getEntityFacets},
		{"POST /entity-facets", h.postEntityFacets},
		{"POST /refresh", h.postRefresh},
		{"POST /validate-entity", h.postValidateEntity},
		{"GET /locations", h.getLocations},
		{"POST /locations", h.postLocation},
		{"POST /locations/by-query", h.postLocationsByQuery},
		{"GET /locations/{id}", h.getLocation},
		{"PUT /locations/{id}", h.putLocation},
		{"DELETE /locations/{id}", h.deleteLocation},
		{"GET /locations/by-entity/{kind}/{namespace}/{name}", h.getLocationByEntity},
		{"POST /analyze-location", h.postAnalyzeLocation},
	}
}

// route is one entry of a route table: a net/http pattern relative to the
// plugin's prefix, and its handler.
type route struct {
	pattern string
	fn      handlerFunc
}

// Routes lists every route of the API handlers, as full "METHOD /path"
// patterns, so that tests can check each (for example that every one
// refuses unauthenticated requests).
func Routes() []string {
	var out []string
	for _, t := range []struct {
		prefix string
		routes []route
	}{
		{CatalogPrefix, (&catalogHandler{}).routeTable()},
		{AuditPrefix, (&auditHandler{}).routeTable()},
		{PermissionPrefix, (&permissionHandler{}).routeTable()},
		{ScaffolderPrefix, (&scaffolderHandler{}).routeTable()},
		{TechDocsPrefix, (&techdocsHandler{}).routeTable()},
	} {
		for _, r := range t.routes {
			method, path, _ := strings.Cut(r.pattern, " ")
			out = append(out, method+" "+t.prefix+path)
		}
	}
	return out
}

// newPrefixRouter builds the mux for a route table under prefix.
func newPrefixRouter(prefix string, a *errorAdapter, routes []route) http.Handler {
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.pattern, a.wrap(r.fn))
	}
	return &prefixRouter{prefix: prefix, mux: mux, errors: a}
}

// prefixRouter strips its prefix and dispatches to mux, answering unknown
// routes and wrong methods with JSON errors instead of the mux's plain text.
type prefixRouter struct {
	prefix string
	mux    *http.ServeMux
	errors *errorAdapter
}

func (p *prefixRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r2, ok := stripPrefix(r, p.prefix)
	if !ok {
		writeError(w, r, http.StatusNotFound, "NotFoundError", "Not found: "+r.Method+" "+r.URL.Path)
		return
	}
	h, pattern := p.mux.Handler(r2)
	if pattern != "" {
		// Name the endpoint, not just the prefix, in request metrics.
		method, path, _ := strings.Cut(pattern, " ")
		route := method + " " + p.prefix + path
		metrics.SetRoute(r.Context(), route)
		// Changes made by this request are audited with it.
		req := audit.RequestOf(r, route)
		w.Header().Set("X-Request-Id", req.ID)
		r2 = r2.WithContext(audit.WithRequest(r2.Context(), req))
		p.mux.ServeHTTP(w, r2) // the mux, not h, sets the path values
		return
	}
	// No route matched: let the mux decide between 404 and 405 (and the
	// Allow header), then replace its plain-text body with ours.
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r2)
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	switch rec.status {
	case http.StatusMethodNotAllowed:
		writeError(w, r2, rec.status, "MethodNotAllowedError",
			"Method "+r2.Method+" not allowed for "+r2.URL.Path)
	default:
		writeError(w, r2, http.StatusNotFound, "NotFoundError", "Not found: "+r2.Method+" "+r2.URL.Path)
	}
}

// stripPrefix returns a shallow copy of r whose URL path lacks prefix, as
// http.StripPrefix does, and false if the path is not under prefix.
func stripPrefix(r *http.Request, prefix string) (*http.Request, bool) {
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok || (path != "" && path[0] != '/') {
		return nil, false
	}
	rawPath := ""
	if r.URL.RawPath != "" {
		if rawPath, ok = strings.CutPrefix(r.URL.RawPath, prefix); !ok {
			return nil, false
		}
	}
	if path == "" {
		path = "/"
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = new(url.URL)
	*r2.URL = *r.URL
	r2.URL.Path = path
	r2.URL.RawPath = rawPath
	return r2, true
}

// headerRecorder captures the status and headers a handler writes and
// discards its body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *headerRecorder) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return len(b), nil
}

// writeEmpty answers 200 with no body and no content type, as Backstage's
// res.status(200).end() does.
func writeEmpty(w http.ResponseWriter, status int) error {
	w.WriteHeader(status)
	return nil
}
