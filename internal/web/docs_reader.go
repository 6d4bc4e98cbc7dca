package web

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/techdocs"
	"github.com/atrium-dev/atrium/internal/techdocs/build"
)

// docsReaderView is a page of an entity's docs: the site's nav on the
// left, the article (or search results) in the middle, the page's table
// of contents on the right. When the site is not built yet it shows the
// state instead, and with the local builder, the build as it runs.
type docsReaderView struct {
	Layout
	// CSSHref is the articles' stylesheet.
	CSSHref string
	Site    docsSite
	SiteNav []docsNavNode
	// Article is the page shown; nil for search results and before the
	// first build.
	Article *docsArticle
	// Results are the in-docs search's, when the URL asks for one.
	Results *docsResults
	// State is the docs' state; NotBuilt is set when there is no site yet.
	State    docsState
	NotBuilt bool
	// Building is set while a build runs; Local when the builder is the
	// local one, which the page can ask to build (SyncHref, Backstage's
	// event stream).
	Building, Local bool
	SyncHref        string
}

// docsSite is what the reader shows of the site around every page.
type docsSite struct {
	// Name is site_name (or the entity's name); HomeHref the reader's
	// address of the home page, where the search form submits.
	Name, Description, HomeHref string
	Entity                      entityLink
	// Query is the search box's text.
	Query string
}

// docsArticle is one page of the site.
type docsArticle struct {
	Title string
	// HTML is the article as the builder rendered and sanitized it.
	HTML template.HTML
	// HasH1 is set when the article brings its own title heading.
	HasH1 bool
	TOC   []docsTOCEntry
	// EditURL links to the page's source, when the site allows it.
	EditURL    string
	Prev, Next *docsPageLink
}

// docsTOCEntry is a heading of the page's table of contents; Sub marks
// the third level.
type docsTOCEntry struct {
	Text, Href string
	Sub        bool
}

// docsPageLink is a link to another page of the site.
type docsPageLink struct{ Title, Href string }

// docsNavNode is an entry of the site's nav tree: a page, a section or an
// external link.
type docsNavNode struct {
	Title string
	// Href is the page's reader address or the external URL; empty for
	// sections and for links that are not http(s).
	Href     string
	Section  bool
	External bool
	// Current marks the page shown; Open the sections that hold it.
	Current, Open bool
	Children      []docsNavNode
}

// docsResults are the hits of an in-docs search.
type docsResults struct {
	Query string
	Hits  []docsHit
}

// docsHit is one search hit: a page or a section of one.
type docsHit struct{ Title, Href, Location, Snippet string }

// noCurrentPage is a current path no page has (validDocsPath refuses
// NUL), for the nav of the search results.
const noCurrentPage = "\x00"

// docsSearchLimit bounds the hits an in-docs search lists.
const docsSearchLimit = 25

// docsRedirect sends /docs/{namespace}/{kind}/{name} to its home page,
// whose address ends in a slash, as every page's does.
func (h *handler) docsRedirect(w http.ResponseWriter, r *http.Request) error {
	toSlash(w, r)
	return nil
}

// toSlash redirects to the request's path with a slash added.
func toSlash(w http.ResponseWriter, r *http.Request) {
	target := r.URL.EscapedPath() + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}

// errNoDocsPage is a reader path that is no page and no file of the site.
var errNoDocsPage = derrors.NotFound("There is no page at this address in these docs.")

// docsReader serves /docs/{namespace}/{kind}/{name}/{path...}: a page
// when the path is "" or ends in a slash, else a file of the site.
func (h *handler) docsReader(w http.ResponseWriter, r *http.Request) error {
	p := r.PathValue("path")
	if !validDocsPath(p) {
		return errNoDocsPage
	}
	e, err := h.docsEntity(r)
	if err != nil {
		return err
	}
	if p != "" && !strings.HasSuffix(p, "/") {
		switch base := path.Base(p); {
		case base == "index.html":
			http.Redirect(w, r, strings.TrimSuffix(r.URL.EscapedPath(), "index.html"), http.StatusMovedPermanently)
			return nil
		case path.Ext(base) == "":
			// A page's address without its slash: relative links in the
			// article only work from the slash form.
			toSlash(w, r)
			return nil
		}
		return h.docsAsset(w, r, e.Ref(), p)
	}

	ctx := r.Context()
	ref := e.Ref()
	site, err := h.opts.Docs.Site(ctx, ref)
	if errors.Is(err, derrors.ErrNotFound) {
		return h.docsNotBuilt(w, r, e)
	}
	if err != nil {
		return err
	}
	v := &docsReaderView{
		CSSHref: docsCSSHref(), Site: newDocsSite(e, site), SyncHref: syncHref(ref),
		State: newDocsState(site.State), Building: site.State.Building,
		Local: site.State.Builder == techdocs.BuilderLocal,
	}
	if v.State.Built.Text == "" && site.Metadata.BuildTimestamp > 0 {
		v.State.Built = newStamp(time.UnixMilli(site.Metadata.BuildTimestamp))
	}
	home := crumb{v.Site.Name, v.Site.HomeHref}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		if len(q) > maxFilterText || !utf8.ValidString(q) {
			return derrors.Invalid("The search text is too long or not valid text.")
		}
		v.Site.Query = q
		v.SiteNav = docsNav(site.Info.Nav, v.Site.HomeHref, noCurrentPage)
		hits, err := h.opts.Docs.Search(ctx, ref, q, docsSearchLimit)
		if err != nil {
			return err
		}
		v.Results = &docsResults{Query: q}
		for _, hit := range hits {
			v.Results.Hits = append(v.Results.Hits, newDocsHit(hit, v.Site.HomeHref))
		}
		v.Layout = h.layout(r, "Search: "+q+" · "+v.Site.Name, sectionDocs, crumb{"Docs", sectionDocs}, home, crumb{"Search", ""})
		return h.views.render(w, http.StatusOK, "docs_reader", v)
	}

	page, err := h.opts.Docs.Page(ctx, ref, p)
	if errors.Is(err, derrors.ErrNotFound) {
		return errNoDocsPage
	}
	if err != nil {
		return err
	}
	v.SiteNav = docsNav(site.Info.Nav, v.Site.HomeHref, p)
	v.Article = newDocsArticle(page, v.Site.HomeHref)
	crumbs := []crumb{{"Docs", sectionDocs}, {v.Site.Name, ""}}
	title := v.Site.Name
	if p != "" {
		crumbs = []crumb{{"Docs", sectionDocs}, home, {v.Article.Title, ""}}
		title = v.Article.Title + " · " + v.Site.Name
	}
	v.Layout = h.layout(r, title, sectionDocs, crumbs...)
	return h.views.render(w, http.StatusOK, "docs_reader", v)
}

// validDocsPath reports whether a reader path stays inside the site: ""
// or clean, relative, slash-separated elements, with an optional
// trailing slash. "..%2F" arrives here decoded, and is refused.
func validDocsPath(p string) bool {
	if p == "" {
		return true
	}
	t := strings.TrimSuffix(p, "/")
	return t != "" && fs.ValidPath(t) && !strings.ContainsAny(t, "\\\x00")
}

// docsEntity loads the entity whose docs the request reads; one without
// the annotation has none.
func (h *handler) docsEntity(r *http.Request) (*entityDoc, error) {
	raw, err := h.c.EntityByRef(r.Context(), pathRef(r))
	if err != nil {
		return nil, err
	}
	e, err := decodeEntity(raw)
	if err != nil {
		return nil, err
	}
	if !hasDocs(e) {
		return nil, derrors.NotFound("%s has no documentation: it has no %s annotation.", e.DisplayName(), techdocs.RefAnnotation)
	}
	return e, nil
}

func newDocsSite(e *entityDoc, site *techdocs.Site) docsSite {
	s := docsSite{Name: site.Info.SiteName, Description: site.Info.SiteDescription, HomeHref: docsHref(e.Ref()), Entity: docLink(e)}
	if s.Name == "" {
		s.Name = e.DisplayName()
	}
	return s
}

// docsNav builds the nav tree with the page at current marked, and the
// sections that hold it open.
func docsNav(entries []build.NavEntry, home, current string) []docsNavNode {
	out := make([]docsNavNode, 0, len(entries))
	for _, e := range entries {
		n := docsNavNode{Title: e.Title}
		switch {
		case e.External:
			n.External, n.Href = true, httpURL(e.URL)
		case len(e.Children) > 0 || (e.URL == "" && e.Source == ""):
			n.Section = true
			n.Children = docsNav(e.Children, home, current)
			for _, c := range n.Children {
				n.Open = n.Open || c.Current || c.Open
			}
		default:
			n.Href = home + escapeSitePath(e.URL)
			n.Current = e.URL == current
		}
		out = append(out, n)
	}
	return out
}

// escapeSitePath percent-encodes each element of a site-relative path.
func escapeSitePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func newDocsArticle(page *techdocs.Page, home string) *docsArticle {
	info := page.Info
	a := &docsArticle{
		Title: info.Title,
		// The builder sanitized the article, and the service again when
		// it read it: it is the one piece of markup pages take from data.
		HTML:    template.HTML(page.HTML),
		HasH1:   bytes.Contains(page.HTML, []byte("<h1")),
		EditURL: httpURL(info.EditURL),
	}
	for _, hd := range info.TOC {
		if hd.Level == 2 || hd.Level == 3 {
			a.TOC = append(a.TOC, docsTOCEntry{Text: hd.Text, Href: "#" + hd.ID, Sub: hd.Level == 3})
		}
	}
	link := func(l *build.PageLink) *docsPageLink {
		if l == nil {
			return nil
		}
		return &docsPageLink{Title: l.Title, Href: home + escapeSitePath(l.Path)}
	}
	a.Prev, a.Next = link(info.Prev), link(info.Next)
	return a
}

// newDocsHit builds a hit's link from its site-relative location; a
// location that would leave the site gets no link.
func newDocsHit(hit techdocs.Hit, home string) docsHit {
	d := docsHit{Title: hit.Title, Location: hit.Location, Snippet: hit.Snippet}
	u, err := url.Parse(hit.Location)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || strings.HasPrefix(u.Path, "/") || !validDocsPath(u.Path) {
		return d
	}
	d.Href = home + u.EscapedPath()
	if u.Fragment != "" {
		d.Href += "#" + u.EscapedFragment()
	}
	return d
}

// docsNotBuilt shows an entity's docs before their first build: the
// state, and with the local builder, the build's log as it runs.
func (h *handler) docsNotBuilt(w http.ResponseWriter, r *http.Request, e *entityDoc) error {
	ref := e.Ref()
	s, err := h.opts.Docs.State(r.Context(), ref)
	if err != nil {
		return err
	}
	v := &docsReaderView{
		CSSHref: docsCSSHref(), Site: docsSite{Name: e.DisplayName(), HomeHref: docsHref(ref), Entity: docLink(e)},
		State: newDocsState(s), NotBuilt: true, Building: s.Building,
		Local: s.Builder == techdocs.BuilderLocal, SyncHref: syncHref(ref),
	}
	v.Layout = h.layout(r, v.Site.Name, sectionDocs, crumb{"Docs", sectionDocs}, crumb{v.Site.Name, ""})
	return h.views.render(w, http.StatusOK, "docs_reader", v)
}

// docsAssetCSP is the policy of a site's files: opened on their own (an
// SVG, an HTML file), they run nothing and load nothing.
const docsAssetCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'"

// docsAsset serves a file of the site with the type it was stored with.
// Scripts are served as text: the reader runs none of a site's code. PDFs
// are the one type left without the sandbox, which browsers' PDF viewers
// do not run in.
func (h *handler) docsAsset(w http.ResponseWriter, r *http.Request, ref entity.Ref, p string) error {
	rc, info, err := h.opts.Docs.Asset(r.Context(), ref, p)
	if errors.Is(err, derrors.ErrNotFound) || errors.Is(err, derrors.ErrInvalid) {
		return errNoDocsPage
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	ct := info.ContentType
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		ct, mt = "application/octet-stream", "application/octet-stream"
	}
	if strings.Contains(mt, "javascript") || strings.Contains(mt, "ecmascript") {
		ct = "text/plain; charset=utf-8"
	}
	hdr := w.Header()
	hdr.Set("Content-Type", ct)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if mt != "application/pdf" {
		hdr.Set("Content-Security-Policy", docsAssetCSP)
	}
	hdr.Set("Cache-Control", "no-cache")
	if info.ETag != "" {
		// Quoted, as HTTP wants and http.ServeContent compares them.
		hdr.Set("ETag", strconv.Quote(strings.Trim(info.ETag, `"`)))
	}
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", info.ModTime, rs)
		return nil
	}
	if !info.ModTime.IsZero() {
		hdr.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	}
	if r.Method == http.MethodHead {
		return nil
	}
	if _, err := io.Copy(w, rc); err != nil {
		// The headers are out: all there is to do is to log it.
		h.log.Debug("web: serve docs file", "entity", ref.String(), "path", p, "err", err)
	}
	return nil
}
