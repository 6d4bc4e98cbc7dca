// Package web owns Atrium's browser UI: the server-rendered HTML pages at
// Backstage's URLs (/catalog, /catalog/{namespace}/{kind}/{name}, /api-docs,
// /catalog-import) and Atrium's own (/audit, an entity's history tab),
// their embedded templates, CSS and JavaScript, the
// security of the browser routes (CSRF, CSP and the other headers) and the
// HTML error page. Pages read the catalog and its audit log only through
// the catalog service's query methods: filtering, counting, sorting and
// paging happen in the store's SQL, never here.
package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// Catalog is the catalog service as the UI uses it.
type Catalog interface {
	QueryEntities(ctx context.Context, q catalog.Query) (catalog.Page, error)
	EntityByRef(ctx context.Context, ref entity.Ref) (json.RawMessage, error)
	EntitiesByRefs(ctx context.Context, refs []string, f filter.Expr) ([]json.RawMessage, error)
	Ancestry(ctx context.Context, ref entity.Ref) (catalog.Ancestry, error)
	Children(ctx context.Context, ref entity.Ref) ([]string, error)
	Facets(ctx context.Context, facets []string, f filter.Expr) (map[string][]catalog.FacetCount, error)
	Refresh(ctx context.Context, ref entity.Ref) error
	Locations(ctx context.Context) ([]catalog.Location, error)
	Location(ctx context.Context, id string) (catalog.Location, error)
	AddLocation(ctx context.Context, typ, target string, opts catalog.AddLocationOptions) (catalog.AddLocationResult, error)
	DeleteLocation(ctx context.Context, id string) error
	LocationByEntity(ctx context.Context, ref entity.Ref) (catalog.Location, error)
	// History returns an entity's versions from the audit log, newest first.
	History(ctx context.Context, ref entity.Ref) ([]audit.Version, error)
	// AuditEvents returns a page of the audit log, newest first.
	AuditEvents(ctx context.Context, q audit.Query) ([]audit.Event, error)
}

// NavItem is an entry of the sidebar.
type NavItem struct {
	// Label is the text shown; Href the page it opens.
	Label, Href string
	// Icon names one of the sidebar icons: home, catalog, api, docs,
	// create, search, settings, register, audit.
	Icon string
}

// Options configure the UI.
type Options struct {
	// Title is the portal's name (app.title), shown in the sidebar and in
	// every page's <title>. Empty means "Atrium".
	Title string
	// Sidebar adds entries below Home, Catalog and APIs (and above
	// Register and Audit): the slots that Docs, Create, Search and
	// Settings fill once they exist. Entries are shown in the order given.
	Sidebar []NavItem
}

// handler serves the browser routes.
type handler struct {
	c     Catalog
	log   *slog.Logger
	opts  Options
	views *renderer
}

// NewHandler returns the UI's handler, to be mounted at "/" beside the
// API routes (which it never serves). Errors are logged to logger
// (slog.Default if nil): 5xx with their detail, client errors at debug
// level; the browser sees only a safe message.
func NewHandler(c Catalog, logger *slog.Logger, opts Options) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	if opts.Title == "" {
		opts.Title = "Atrium"
	}
	h := &handler{c: c, log: logger, opts: opts, views: mustRenderer()}
	return h.routes()
}

// routes is the table of browser routes. Every route but the static files
// goes through the error adapter and the security middleware.
func (h *handler) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, fn handlerFunc) { mux.Handle(pattern, h.wrap(audited(pattern, fn))) }

	handle("GET /{$}", h.home)
	handle("GET /catalog", h.catalogList)
	handle("GET /catalog/{$}", h.catalogList)
	handle("GET /catalog/{namespace}/{kind}/{name}", h.entityOverview)
	handle("GET /catalog/{namespace}/{kind}/{name}/definition", h.entityDefinition)
	handle("GET /catalog/{namespace}/{kind}/{name}/dependencies", h.entityDependencies)
	handle("GET /catalog/{namespace}/{kind}/{name}/diagram", h.entityDiagram)
	handle("GET /catalog/{namespace}/{kind}/{name}/inspect", h.entityInspect)
	handle("GET /catalog/{namespace}/{kind}/{name}/history", h.entityHistory)
	handle("GET /catalog/{namespace}/{kind}/{name}/unregister", h.entityUnregister)
	handle("POST /catalog/{namespace}/{kind}/{name}/refresh", h.entityRefresh)
	handle("GET /api-docs", h.apiDocs)
	handle("GET /catalog-import", h.importForm)
	handle("POST /catalog-import", h.importRegister)
	handle("POST /catalog-import/analyze", h.importAnalyze)
	handle("GET /catalog-import/locations/{id}", h.locationPage)
	handle("GET /catalog-import/locations/{id}/unregister", h.unregisterConfirm)
	handle("POST /catalog-import/locations/{id}/unregister", h.unregisterLocation)
	handle("GET /audit", h.auditPage)
	handle("GET /audit/events/{seq}", h.auditEvent)
	handle("/", h.notFound)
	// API paths that no API handler serves are not pages: API clients get
	// a plain 404, not an HTML page.
	mux.Handle("/api/", http.NotFoundHandler())

	mux.Handle("GET /static/{version}/{file}", h.views.static)
	return secure(mux, h.errorPage)
}

// audited makes the changes a form post makes carry the request in the
// audit log (its id, method, route, client address and user agent), as
// the API's do. Pages that only read need no request id.
func audited(route string, fn handlerFunc) handlerFunc {
	if !strings.HasPrefix(route, http.MethodPost+" ") {
		return fn
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		req := audit.RequestOf(r, route)
		w.Header().Set("X-Request-Id", req.ID)
		return fn(w, r.WithContext(audit.WithRequest(r.Context(), req)))
	}
}

// notFound answers every path no route matches.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) error {
	return errNotFound
}
