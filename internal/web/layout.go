package web

import (
	"net/http"
)

// Layout is what every page shows around its content: the sidebar, the
// header with its search box and breadcrumbs, and the page title.
type Layout struct {
	// AppTitle is the portal's name; Title the page's, for <title>.
	AppTitle, Title string
	Nav             []navLink
	Breadcrumbs     []crumb
	// CSRF is the token every form repeats.
	CSRF string
	// Search prefills the header's search box.
	Search string
	// Notice, if set, is a one-line confirmation shown above the content.
	Notice string
	asset  func(string) string
}

func (l *Layout) layoutData() *Layout { return l }

// Asset returns the URL of a static file.
func (l *Layout) Asset(name string) string {
	if l.asset == nil {
		return "/static/dev/" + name
	}
	return l.asset(name)
}

// navLink is one sidebar entry as shown.
type navLink struct {
	NavItem
	Active bool
}

// crumb is one breadcrumb; the last has no Href.
type crumb struct{ Label, Href string }

// Sections of the sidebar, to mark the current one.
const (
	sectionHome    = "/"
	sectionCatalog = "/catalog"
	sectionAPIs    = "/api-docs"
	sectionImport  = "/catalog-import"
	sectionAudit   = "/audit"
)

// layout builds the Layout of a page in section (one of the section
// constants, or "" for none).
func (h *handler) layout(r *http.Request, title, section string, crumbs ...crumb) Layout {
	items := []NavItem{
		{Label: "Home", Href: sectionHome, Icon: "home"},
		{Label: "Catalog", Href: sectionCatalog, Icon: "catalog"},
		{Label: "APIs", Href: sectionAPIs, Icon: "api"},
	}
	items = append(items, h.opts.Sidebar...)
	items = append(items, NavItem{Label: "Register", Href: sectionImport, Icon: "register"},
		NavItem{Label: "Audit", Href: sectionAudit, Icon: "audit"})
	nav := make([]navLink, len(items))
	for i, it := range items {
		nav[i] = navLink{NavItem: it, Active: it.Href == section}
	}
	pageTitle := h.opts.Title
	if title != "" {
		pageTitle = title + " | " + h.opts.Title
	}
	return Layout{
		AppTitle: h.opts.Title, Title: pageTitle, Nav: nav, Breadcrumbs: crumbs,
		CSRF: csrfToken(r.Context()),
	}
}
