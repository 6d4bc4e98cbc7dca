package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// entityFrame is what every tab of an entity page shows: the header with
// the entity's kind, name, owner, lifecycle and tags, its source links,
// the tabs, and its processing errors.
type entityFrame struct {
	Ref, Kind, KindKey string
	Name, DisplayName  string
	Description        string
	Owners             []entityLink
	Type, Lifecycle    string
	Tags               []string
	// ViewURL, EditURL and SourceURL come from the well-known
	// annotations, and only when they are http(s) URLs.
	ViewURL, EditURL, SourceURL string
	Href                        string
	Tabs                        []tabLink
	// Errors are the entity's processing errors and warnings.
	Errors []entity.StatusItem
	Orphan bool
}

// tabLink is one tab of an entity page.
type tabLink struct {
	Label, Href string
	Active      bool
}

// Tabs of an entity page, by their path below the entity's address.
const (
	tabOverview     = ""
	tabDefinition   = "definition"
	tabDependencies = "dependencies"
	tabDiagram      = "diagram"
	tabInspect      = "inspect"
	tabHistory      = "history"
)

// tabDef is a tab: its path below the entity's address, and its label.
type tabDef struct{ path, label string }

// entityTabs returns the tabs an entity of a kind has, in order.
func entityTabs(kind string) []tabDef {
	tabs := []tabDef{{tabOverview, "Overview"}}
	switch strings.ToLower(kind) {
	case "api":
		tabs = append(tabs, tabDef{tabDefinition, "Definition"})
	case "system":
		tabs = append(tabs, tabDef{tabDiagram, "Diagram"})
	}
	if !strings.EqualFold(kind, "location") {
		tabs = append(tabs, tabDef{tabDependencies, "Dependencies"})
	}
	return append(tabs, tabDef{tabInspect, "Inspect"}, tabDef{tabHistory, "History"})
}

// hasTab reports whether an entity of kind has the tab.
func hasTab(kind, tab string) bool {
	for _, t := range entityTabs(kind) {
		if t.path == tab {
			return true
		}
	}
	return false
}

// pathRef is the entity named by a request's {namespace}/{kind}/{name}.
func pathRef(r *http.Request) entity.Ref {
	return entity.Ref{Kind: r.PathValue("kind"), Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
}

// loadEntity reads the entity of an entity page and builds its frame with
// tab active. A tab the entity's kind does not have is not found.
func (h *handler) loadEntity(r *http.Request, tab string) (*entityDoc, entityFrame, error) {
	ref := pathRef(r)
	raw, err := h.c.EntityByRef(r.Context(), ref)
	if err != nil {
		return nil, entityFrame{}, err
	}
	e, err := decodeEntity(raw)
	if err != nil {
		return nil, entityFrame{}, err
	}
	if !hasTab(e.Kind, tab) {
		return nil, entityFrame{}, derrors.NotFound("%s entities have no %s tab.", kindName(e.Kind), tab)
	}
	return e, h.withDocsTab(e, newFrame(e, tab)), nil
}

// newFrame builds the header and tabs of an entity page.
func newFrame(e *entityDoc, active string) entityFrame {
	f := entityFrame{
		Ref: e.Ref().String(), Kind: kindName(e.Kind), KindKey: strings.ToLower(e.Kind),
		Name: e.Metadata.Name, DisplayName: e.DisplayName(), Description: e.Metadata.Description,
		Type: e.SpecString("type"), Lifecycle: e.SpecString("lifecycle"), Tags: e.Metadata.Tags,
		Href: entityHref(e.Ref()), Errors: e.Errors(),
		Orphan: e.Metadata.Annotations[entity.AnnotationOrphan] == "true",
	}
	for _, o := range e.Targets(entity.RelationOwnedBy) {
		f.Owners = append(f.Owners, refLink(o, "group"))
	}
	ann := e.Metadata.Annotations
	f.ViewURL = httpURL(ann[entity.AnnotationViewURL])
	f.EditURL = httpURL(ann[entity.AnnotationEditURL])
	if src, ok := strings.CutPrefix(ann[entity.AnnotationSourceLocation], "url:"); ok {
		f.SourceURL = httpURL(src)
	}
	for _, t := range entityTabs(e.Kind) {
		href := f.Href
		if t.path != "" {
			href += "/" + t.path
		}
		f.Tabs = append(f.Tabs, tabLink{Label: t.label, Href: href, Active: t.path == active})
	}
	return f
}

// httpURL returns s if it is an absolute http(s) URL, else "". Links the
// catalog's authors wrote go to pages only through it.
func httpURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// entityCrumbs are the breadcrumbs of an entity page.
func entityCrumbs(f entityFrame, tab string) []crumb {
	crumbs := []crumb{
		{"Catalog", "/catalog"},
		{pluralKind(f.Kind), (listState{Kind: f.KindKey, Limit: pageSizes[0]}).href("/catalog", "component")},
	}
	if tab == "" {
		return append(crumbs, crumb{f.DisplayName, ""})
	}
	crumbs = append(crumbs, crumb{f.DisplayName, f.Href})
	for _, t := range f.Tabs {
		if t.Active {
			return append(crumbs, crumb{t.Label, ""})
		}
	}
	return crumbs
}

// doneNotices are the confirmations a redirect may ask a page to show, by
// the code in its ?done= parameter. Only these fixed texts are shown, so a
// link cannot make a page say anything else.
var doneNotices = map[string]string{
	"refreshed":    "Refresh scheduled: the catalog will read this entity's source again within seconds.",
	"registered":   "Location registered. Its entities appear in the catalog as soon as they are processed, within seconds.",
	"unregistered": "Location unregistered and its entities removed from the catalog.",
}

// notice returns the confirmation asked for by the request's ?done=.
func notice(r *http.Request) string {
	return doneNotices[r.URL.Query().Get("done")]
}

// entityRefresh serves POST .../refresh: schedule a refresh of the entity.
func (h *handler) entityRefresh(w http.ResponseWriter, r *http.Request) error {
	ref := pathRef(r)
	if err := h.c.Refresh(r.Context(), ref); err != nil {
		return err
	}
	http.Redirect(w, r, entityHref(ref)+"?done=refreshed", http.StatusSeeOther)
	return nil
}
