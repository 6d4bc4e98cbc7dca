package web

import (
	"net/http"
	"slices"

	"github.com/atrium-dev/atrium/internal/auth"
)

// Layout is what every page shows around its content: the sidebar, the
// header with its breadcrumbs, search box and user menu, and the page
// title.
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
	// User is the header's menu of the signed-in identity; nil when no
	// one is signed in or sign-in is off.
	User *userMenu
	// Bare drops the sidebar and the search box, for pages shown to a
	// visitor who has not signed in yet (the sign-in page, its errors).
	Bare  bool
	asset func(string) string
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
	sectionHome     = "/"
	sectionCatalog  = "/catalog"
	sectionAPIs     = "/api-docs"
	sectionImport   = "/catalog-import"
	sectionCreate   = "/create"
	sectionAudit    = "/audit"
	sectionSettings = "/settings"
)

// layout builds the Layout of a page in section (one of the section
// constants, or "" for none). A visitor who still has to sign in gets the
// bare layout: no sidebar, no search, nothing that would only lead back
// to the sign-in page.
func (h *handler) layout(r *http.Request, title, section string, crumbs ...crumb) Layout {
	pageTitle := h.opts.Title
	if title != "" {
		pageTitle = title + " | " + h.opts.Title
	}
	l := Layout{
		AppTitle: h.opts.Title, Title: pageTitle, Breadcrumbs: crumbs,
		CSRF: csrfToken(r.Context()), User: h.menuOf(r),
	}
	if _, ok := auth.IdentityFrom(r.Context()); h.signInOn() && !ok {
		l.Bare, l.Breadcrumbs = true, nil
		return l
	}
	for _, it := range h.navItems(r) {
		l.Nav = append(l.Nav, navLink{NavItem: it, Active: it.Href == section})
	}
	return l
}

// navItems are the sidebar's entries: Home, Catalog and APIs, Create and
// the configured ones, then Settings, and Register and Audit for those who
// may use them.
func (h *handler) navItems(r *http.Request) []NavItem {
	items := []NavItem{
		{Label: "Home", Href: sectionHome, Icon: "home"},
		{Label: "Catalog", Href: sectionCatalog, Icon: "catalog"},
		{Label: "APIs", Href: sectionAPIs, Icon: "api"},
	}
	// Create takes its slot after Docs, as in Backstage, unless the
	// configured entries place it themselves.
	create := !slices.ContainsFunc(h.opts.Sidebar, func(it NavItem) bool { return it.Href == sectionCreate })
	createItem := NavItem{Label: "Create", Href: sectionCreate, Icon: "create"}
	docs := slices.ContainsFunc(h.opts.Sidebar, func(it NavItem) bool { return it.Href == "/docs" })
	if create && !docs {
		items = append(items, createItem)
	}
	settings := true
	for _, it := range h.opts.Sidebar {
		items = append(items, it)
		settings = settings && it.Href != sectionSettings
		if create && it.Href == "/docs" {
			items = append(items, createItem)
		}
	}
	if settings {
		items = append(items, NavItem{Label: "Settings", Href: sectionSettings, Icon: "settings"})
	}
	ctx := r.Context()
	if h.allowed(ctx, permLocationCreate, nil) {
		items = append(items, NavItem{Label: "Register", Href: sectionImport, Icon: "register"})
	}
	if h.allowed(ctx, permAuditRead, nil) {
		items = append(items, NavItem{Label: "Audit", Href: sectionAudit, Icon: "audit"})
	}
	return items
}
