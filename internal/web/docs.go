package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/techdocs"
	"github.com/atrium-dev/atrium/internal/techdocs/markdown"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
)

// The Docs pages: /docs lists the entities with TechDocs, and
// /docs/{namespace}/{kind}/{name}/{path...} reads one site. The reader's
// URLs mirror the site's layout (the page built from guides/writing.md is
// at .../guides/writing/), so the relative links the builder leaves in an
// article work as they are, and its images are served from the same tree.

// Docs is TechDocs as the reader pages use it (a *techdocs.Service).
type Docs interface {
	// State says whether ref's docs are built, when, whether stale or building.
	State(ctx context.Context, ref entity.Ref) (techdocs.State, error)
	// States is State for a list's rows at once, keyed by Ref.Key; refs
	// whose state cannot be told are absent.
	States(ctx context.Context, refs []entity.Ref) (map[string]techdocs.State, error)
	// Site returns the built site's structure; derrors.ErrNotFound if there is no built site yet (State tells why).
	Site(ctx context.Context, ref entity.Ref) (*techdocs.Site, error)
	// Page returns the page at the site-relative URL path ("" for the home page, "guides/writing/"); derrors.ErrNotFound if none.
	Page(ctx context.Context, ref entity.Ref, path string) (*techdocs.Page, error)
	// Asset opens another file of the site (an image, a PDF) by site-relative path; derrors.ErrNotFound if none.
	Asset(ctx context.Context, ref entity.Ref, path string) (io.ReadCloser, publish.FileInfo, error)
	// Search searches the site.
	Search(ctx context.Context, ref entity.Ref, query string, limit int) ([]techdocs.Hit, error)
}

// sectionDocs is the Docs section of the sidebar.
const sectionDocs = "/docs"

// docsNavItem is the sidebar's Docs entry, added when Options.Docs is set.
var docsNavItem = NavItem{Label: "Docs", Href: sectionDocs, Icon: "docs"}

// withDocsNav returns the sidebar entries with Docs first among the
// configured ones (where Backstage has it, before Create), unless they
// place it themselves.
func withDocsNav(items []NavItem) []NavItem {
	if slices.ContainsFunc(items, func(it NavItem) bool { return it.Href == sectionDocs }) {
		return items
	}
	return append([]NavItem{docsNavItem}, items...)
}

// hasDocs reports whether an entity names a docs source.
func hasDocs(e *entityDoc) bool {
	return strings.TrimSpace(e.Metadata.Annotations[techdocs.RefAnnotation]) != ""
}

// docsHref is the reader's address of an entity's docs home page, in
// Backstage's form: /docs/{namespace}/{kind}/{name}/, kind and namespace
// lowercased.
func docsHref(ref entity.Ref) string {
	ns := ref.Namespace
	if ns == "" {
		ns = entity.DefaultNamespace
	}
	return "/docs/" + url.PathEscape(strings.ToLower(ns)) + "/" + url.PathEscape(strings.ToLower(ref.Kind)) +
		"/" + url.PathEscape(ref.Name) + "/"
}

// syncHref is Backstage's TechDocs sync endpoint for ref: a server-sent
// event stream that builds the docs if they need it and reports the build.
func syncHref(ref entity.Ref) string {
	return "/api/techdocs/sync" + strings.TrimSuffix(strings.TrimPrefix(docsHref(ref), "/docs"), "/")
}

// withDocsTab adds the Docs tab to an entity page's frame when the entity
// has docs and the portal serves them. The tab leads to the reader.
func (h *handler) withDocsTab(e *entityDoc, f entityFrame) entityFrame {
	if h.opts.Docs == nil || !hasDocs(e) {
		return f
	}
	// Before Inspect and History, which end every entity's tabs.
	at := max(len(f.Tabs)-2, 1)
	f.Tabs = slices.Insert(slices.Clone(f.Tabs), at, tabLink{Label: "Docs", Href: docsHref(e.Ref())})
	return f
}

// docsState is an entity's docs state as the pages show it.
type docsState struct {
	// Label is the short state: "Built", "Not built yet", "Building",
	// "Build failed", "Unavailable"; Class styles it.
	Label, Class string
	// Built is when the site was built; zero Text if never.
	Built stamp
	// Stale is set when the source changed since the build.
	Stale bool
	// Error is the last build's error.
	Error string
}

func newDocsState(s techdocs.State) docsState {
	d := docsState{Stale: s.Stale, Error: s.Error}
	if !s.Built.IsZero() {
		d.Built = newStamp(s.Built)
	}
	switch {
	case s.Building && s.Built.IsZero():
		d.Label, d.Class = "Building", "building"
	case s.Error != "" && s.Built.IsZero():
		d.Label, d.Class = "Build failed", "failed"
	case s.Built.IsZero():
		d.Label, d.Class = "Not built yet", "none"
	case s.Stale:
		d.Label, d.Class = "Stale", "stale"
	default:
		d.Label, d.Class = "Built", "built"
	}
	return d
}

// docsStyles is the stylesheet of the articles: the Markdown renderer's,
// scoped to the reader's article so that its element rules (details, dl,
// abbr) leave the rest of the page alone.
type docsStyles struct {
	css     []byte
	version string
}

var docsStylesheet = sync.OnceValue(func() docsStyles {
	css := []byte(scopeCSS(markdown.CSS(), ".docs-article"))
	sum := sha256.Sum256(css)
	return docsStyles{css: css, version: hex.EncodeToString(sum[:])[:12]}
})

// docsCSSHref is the versioned address of the articles' stylesheet.
func docsCSSHref() string { return "/static/" + docsStylesheet().version + "/docs.css" }

// serveDocsCSS serves /static/{version}/docs.css, cached for good under
// the current version, like the other static files.
func serveDocsCSS(w http.ResponseWriter, r *http.Request) {
	s := docsStylesheet()
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	if r.PathValue("version") == s.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "docs.css", time.Unix(0, 0), bytes.NewReader(s.css))
}

// scopeCSS prefixes every selector of css with scope, except the rules
// that only set custom properties on the document (":root", "[data-theme]"),
// which must stay global for the theme switch to reach them. At-rules
// (@media) are scoped inside. css is flat, as generated stylesheets are:
// rules and at-rule blocks, comments between them.
func scopeCSS(css, scope string) string {
	var b strings.Builder
	for len(css) > 0 {
		open := strings.IndexByte(css, '{')
		if open < 0 {
			b.WriteString(css)
			break
		}
		prelude := css[:open]
		// Comments before the selector are copied as they are.
		for {
			start := strings.Index(prelude, "/*")
			if start < 0 {
				break
			}
			end := strings.Index(prelude[start:], "*/")
			if end < 0 {
				break
			}
			b.WriteString(prelude[:start+end+2])
			prelude = prelude[start+end+2:]
		}
		body, rest := matchBrace(css[open+1:])
		sel := strings.TrimSpace(prelude)
		b.WriteString(prelude[:len(prelude)-len(strings.TrimLeft(prelude, " \t\r\n"))])
		if strings.HasPrefix(sel, "@") {
			b.WriteString(sel + " {" + scopeCSS(body, scope) + "}")
		} else {
			b.WriteString(scopeSelectors(sel, scope) + " {" + body + "}")
		}
		css = rest
	}
	return b.String()
}

// matchBrace splits s, which follows an opening brace, at its closing
// brace: the block's content and what follows it.
func matchBrace(s string) (body, rest string) {
	depth := 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// scopeSelectors scopes each selector of a comma-separated list.
func scopeSelectors(list, scope string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(p, ":root") || strings.HasPrefix(p, "[data-theme") {
			parts[i] = p
			continue
		}
		parts[i] = scope + " " + p
	}
	return strings.Join(parts, ", ")
}
