// Package web owns Atrium's browser UI: the server-rendered HTML pages at
// Backstage's URLs (/catalog, /catalog/{namespace}/{kind}/{name}, /api-docs,
// /catalog-import, /create, /settings, /signin) and Atrium's own (/audit, an
// entity's history tab), their embedded templates, CSS and JavaScript, the
// security of the browser routes (CSRF, CSP and the other headers), the
// sign-in gate in front of the pages and the HTML error page. Who the
// request comes from is the auth package's business: the UI reads the
// identity an authenticating middleware put in the request's context, and
// asks an Authorizer only to hide what the identity may not do (the
// catalog service enforces it). Pages read the catalog and its audit log only through
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

// SignInProvider is a way to sign in that the sign-in page offers.
type SignInProvider struct {
	// ID names the provider in its sign-in URL,
	// /api/auth/{ID}/start ("guest", "oidc").
	ID string
	// Title is the provider's name on its button: "Sign in with {Title}".
	Title string
}

// Authorizer answers whether the request's identity may do something, so
// that pages hide what it may not.
type Authorizer interface {
	// Allowed reports whether the identity in ctx holds permission (e.g.
	// "catalog.entity.refresh", "catalog.location.create",
	// "catalog.location.delete", "catalog.entity.delete") on the entity
	// (the final entity JSON), or without one when entity is nil.
	Allowed(ctx context.Context, permission string, entity json.RawMessage) bool
}

// Options configure the UI.
type Options struct {
	// Title is the portal's name (app.title), shown in the sidebar and in
	// every page's <title>. Empty means "Atrium".
	Title string
	// Sidebar adds entries below Home, Catalog and APIs (and above
	// Settings, Register and Audit): the slots that Docs, Create and
	// Search fill once they exist. Entries are shown in the order given.
	Sidebar []NavItem
	// SignIn lists the sign-in providers the sign-in page offers, in
	// order. Non-empty turns sign-in on: a request without an identity
	// (see auth.IdentityFrom) to any page but /signin and the static
	// files is then redirected to /signin, and the header shows the
	// signed-in user's menu. Empty (sign-in off) lets everyone in
	// anonymously.
	SignIn []SignInProvider
	// Authorizer decides which controls the pages show: the Refresh and
	// Unregister actions of entities, the Register pages, the Audit log.
	// It only hides; the catalog service refuses what is not allowed
	// whatever the pages show. nil allows everything.
	Authorizer Authorizer
	// Policy returns the effective permission policy as YAML, for the
	// Settings page to show to administrators; ok is false when the
	// caller may not see it. nil shows no policy.
	Policy func(ctx context.Context) (text string, ok bool)
	// Scaffolder runs the software templates the Create pages (/create)
	// offer. nil lists the templates and renders their forms, but says
	// that they cannot be run here.
	Scaffolder Scaffolder
	// Git is Atrium's own git host, whose repositories /git shows; nil
	// shows none.
	Git GitHost
	// Docs serves the entities' TechDocs to the Docs pages (/docs, the
	// reader at /docs/{namespace}/{kind}/{name}/ and the Docs tab of
	// entities with the backstage.io/techdocs-ref annotation). nil turns
	// them off: no sidebar entry, no tab, and /docs is not found.
	Docs Docs
}

// handler serves the browser routes.
type handler struct {
	c     Catalog
	log   *slog.Logger
	opts  Options
	views *renderer
	// stash keeps the template editor's uploaded files between its posts.
	stash *fileStash
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
	if opts.Docs != nil {
		opts.Sidebar = withDocsNav(opts.Sidebar)
	}
	h := &handler{c: c, log: logger, opts: opts, views: mustRenderer(), stash: newFileStash()}
	return h.routes()
}

// routes is the table of browser routes. Every route but the static files
// goes through the error adapter; every one through the security
// middleware and then the sign-in gate (which lets the static files and
// /signin through).
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
	handle("GET /create", h.createList)
	handle("GET /create/{$}", h.createList)
	handle("GET /create/templates/{namespace}/{name}", h.createForm)
	handle("POST /create/templates/{namespace}/{name}/review", h.createReview)
	handle("POST /create/templates/{namespace}/{name}/edit", h.createEdit)
	handle("POST /create/templates/{namespace}/{name}/create", h.createRun)
	handle("GET /create/tasks/{id}", h.createTask)
	handle("GET /create/edit", h.editorPage)
	handle("POST /create/edit", h.editorPost)
	handle("GET /git", h.gitList)
	handle("GET /git/{owner}/{repo}", h.gitRepo)
	handle("GET /git/{owner}/{repo}/{rest...}", h.gitRepo)
	if h.opts.Docs != nil {
		handle("GET /docs", h.docsList)
		handle("GET /docs/{$}", h.docsList)
		handle("GET /docs/{namespace}/{kind}/{name}", h.docsRedirect)
		handle("GET /docs/{namespace}/{kind}/{name}/{path...}", h.docsReader)
		mux.HandleFunc("GET /static/{version}/docs.css", serveDocsCSS)
	}
	handle("GET /audit", h.auditPage)
	handle("GET /audit/events/{seq}", h.auditEvent)
	handle("GET /settings", h.settings)
	handle("GET /signin", h.signIn)
	handle("/", h.notFound)
	// API paths that no API handler serves are not pages: API clients get
	// a plain 404, not an HTML page.
	mux.Handle("/api/", http.NotFoundHandler())

	mux.Handle("GET /static/{version}/{file}", h.views.static)
	return secure(h.gate(mux), h.errorPage, uploadRoutes)
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
