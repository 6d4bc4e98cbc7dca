package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/techdocs"
	"github.com/atrium-dev/atrium/internal/techdocs/build"
	"github.com/atrium-dev/atrium/internal/techdocs/markdown"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
)

// fakeDocs is a Docs serving sites held in memory, keyed by entity ref
// key. It records the paths and queries it was asked for.
type fakeDocs struct {
	mu     sync.Mutex
	sites  map[string]*fakeSite
	states map[string]techdocs.State
	// broken are the refs whose state States cannot tell.
	broken map[string]bool
	// asked lists every page and asset path asked for; queries every search.
	asked, queries []string
}

// fakeSite is one built site.
type fakeSite struct {
	site   techdocs.Site
	pages  map[string]*techdocs.Page
	assets map[string]fakeAsset
	hits   []techdocs.Hit
}

type fakeAsset struct {
	contentType string
	body        string
}

// seekCloser is an asset's reader: a ReadSeeker, as the publisher's are.
type seekCloser struct{ *bytes.Reader }

func (seekCloser) Close() error { return nil }

func (f *fakeDocs) site(ref entity.Ref) (*fakeSite, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sites[ref.Key()]
	return s, ok
}

// States answers from State, leaving out the refs listed in f.broken.
func (f *fakeDocs) States(ctx context.Context, refs []entity.Ref) (map[string]techdocs.State, error) {
	out := map[string]techdocs.State{}
	for _, r := range refs {
		f.mu.Lock()
		broken := f.broken[r.Key()]
		f.mu.Unlock()
		if broken {
			continue
		}
		st, _ := f.State(ctx, r)
		out[r.Key()] = st
	}
	return out, nil
}

func (f *fakeDocs) State(ctx context.Context, ref entity.Ref) (techdocs.State, error) {
	f.mu.Lock()
	st, ok := f.states[ref.Key()]
	f.mu.Unlock()
	if ok {
		return st, nil
	}
	if s, ok := f.site(ref); ok {
		return s.site.State, nil
	}
	return techdocs.State{Builder: techdocs.BuilderLocal}, nil
}

func (f *fakeDocs) Site(ctx context.Context, ref entity.Ref) (*techdocs.Site, error) {
	s, ok := f.site(ref)
	if !ok {
		return nil, derrors.NotFound("no docs site for %s", ref)
	}
	site := s.site
	return &site, nil
}

func (f *fakeDocs) Page(ctx context.Context, ref entity.Ref, path string) (*techdocs.Page, error) {
	f.mu.Lock()
	f.asked = append(f.asked, path)
	f.mu.Unlock()
	s, ok := f.site(ref)
	if !ok {
		return nil, derrors.NotFound("no docs site for %s", ref)
	}
	p, ok := s.pages[path]
	if !ok {
		return nil, derrors.NotFound("no page %q", path)
	}
	return p, nil
}

func (f *fakeDocs) Asset(ctx context.Context, ref entity.Ref, path string) (io.ReadCloser, publish.FileInfo, error) {
	f.mu.Lock()
	f.asked = append(f.asked, path)
	f.mu.Unlock()
	s, ok := f.site(ref)
	if !ok {
		return nil, publish.FileInfo{}, derrors.NotFound("no docs site for %s", ref)
	}
	a, ok := s.assets[path]
	if !ok {
		return nil, publish.FileInfo{}, derrors.NotFound("no file %q", path)
	}
	info := publish.FileInfo{Size: int64(len(a.body)), ModTime: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		ContentType: a.contentType, ETag: fmt.Sprintf(`"%x"`, len(a.body))}
	return seekCloser{bytes.NewReader([]byte(a.body))}, info, nil
}

func (f *fakeDocs) Search(ctx context.Context, ref entity.Ref, query string, limit int) ([]techdocs.Hit, error) {
	f.mu.Lock()
	f.queries = append(f.queries, query)
	f.mu.Unlock()
	s, ok := f.site(ref)
	if !ok {
		return nil, derrors.NotFound("no docs site for %s", ref)
	}
	var out []techdocs.Hit
	for _, h := range s.hits {
		if strings.Contains(strings.ToLower(h.Title+" "+h.Snippet), strings.ToLower(query)) && len(out) < limit {
			out = append(out, h)
		}
	}
	return out, nil
}

// askedPaths returns the paths asked for so far.
func (f *fakeDocs) askedPaths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// Refs of the example catalog's entities with docs.
var (
	shipmentRef = entity.Ref{Kind: "Component", Namespace: "default", Name: "shipment-service"}
	plannerRef  = entity.Ref{Kind: "Component", Namespace: "default", Name: "route-planner"}
)

// docsBuilt is when the fixture site was built.
var docsBuilt = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// fixturePage is a page of the fixture site, as Markdown.
type fixturePage struct{ path, title, source, markdown string }

// fixturePages are the shipment service's docs: relative links between
// pages, an image, a long page for the TOC, and one with everything the
// Markdown renderer styles.
var fixturePages = []fixturePage{
	{"", "Home", "index.md", `# Shipment Service

The system of record for shipments. Start with [getting started](getting-started/),
then read [how to write docs](guides/writing/).

![Architecture](img/arch.svg)

## About

Owned by the shipping team.
`},
	{"getting-started/", "Getting started", "getting-started.md", "# Getting started\n\n## Install\n\n" +
		strings.Repeat("Install the toolchain, then clone the repository and run the tests. It takes a few minutes the first time.\n\n", 14) +
		"## Configure\n\nSet `SHIPMENTS_DB_URL`. Then read the [guides](../guides/).\n\n### Environment\n\n" +
		strings.Repeat("Every setting has a default that suits a laptop.\n\n", 14)},
	{"guides/", "Guides", "guides/index.md", "# Guides\n\n- [Writing](writing/)\n"},
	{"guides/writing/", "Writing", "guides/writing.md", `# Writing

Back to [the start](../../getting-started/#configure).

## Rollback

Roll back with the deploy pipeline.
`},
	{"features/", "Features", "features.md", `# Features

!!! warning "Production access"
    Changes to production need an approved change request.

??? note "Why an outbox?"
    Publishing inside the transaction is impossible.

=== "Go"

    ` + "```go" + `
    package main

    func main() { println("hi") }
    ` + "```" + `

=== "Python"

    ` + "```python" + `
    print("hi")
    ` + "```" + `

- [x] Create the database
- [ ] Configure the webhook secret

| Variable | Default | Meaning |
|:---------|:-------:|--------:|
| ` + "`SHIPMENTS_DB_URL`" + ` | *none* | PostgreSQL connection string, which is usually long enough to need a wide column |
| ` + "`SHIPMENTS_PORT`" + ` | 8080 | HTTP port |

` + "```mermaid" + `
sequenceDiagram
  Client->>API: POST /shipments
  API->>DB: insert
` + "```" + `

` + "```yaml title=\"config.yaml\"" + `
shipments:
  port: 8080
  database: postgres://shipments@db.internal.acme-logistics.example:5432/shipments?sslmode=require
` + "```" + `

> **Note:** the legacy endpoint is deprecated.

Term
:   Its definition.
`},
}

// newDocsFixture returns a fakeDocs with the shipment service's docs built
// (route-planner's are not).
func newDocsFixture(t testing.TB) *fakeDocs {
	t.Helper()
	s := &fakeSite{
		pages: map[string]*techdocs.Page{},
		assets: map[string]fakeAsset{
			"img/arch.svg":     {"image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60"><script>alert(1)</script><rect width="240" height="60" fill="#3b82f6"/></svg>`},
			"files/manual.pdf": {"application/pdf", "%PDF-1.4\n"},
			"js/extra.js":      {"text/javascript; charset=utf-8", "alert(1)"},
			"raw.html":         {"text/html; charset=utf-8", "<script>alert(1)</script>"},
		},
	}
	s.site = techdocs.Site{
		Ref: shipmentRef,
		Info: build.SiteInfo{
			SiteName: "Shipment Service docs", SiteDescription: "How shipments work",
			Nav: []build.NavEntry{
				{Title: "Home", URL: "", Source: "index.md"},
				{Title: "Getting started", URL: "getting-started/", Source: "getting-started.md"},
				{Title: "Guides", Children: []build.NavEntry{
					{Title: "Guides", URL: "guides/", Source: "guides/index.md"},
					{Title: "Writing", URL: "guides/writing/", Source: "guides/writing.md"},
				}},
				{Title: "Features", URL: "features/", Source: "features.md"},
				{Title: "Backstage", URL: "https://backstage.io", External: true},
			},
		},
		State: techdocs.State{Built: docsBuilt, Etag: "abc", Builder: techdocs.BuilderLocal},
	}
	for i, fp := range fixturePages {
		md, err := markdown.Render([]byte(fp.markdown), markdown.Options{})
		if err != nil {
			t.Fatal(err)
		}
		info := build.PageInfo{Path: fp.path, Source: fp.source, Title: fp.title,
			EditURL: "https://github.com/acme-logistics/shipment-service/edit/main/docs/" + fp.source}
		for _, h := range md.TOC {
			info.TOC = append(info.TOC, build.Heading{Level: h.Level, ID: h.ID, Text: h.Text})
		}
		if i > 0 {
			info.Prev = &build.PageLink{Path: fixturePages[i-1].path, Title: fixturePages[i-1].title}
		}
		if i < len(fixturePages)-1 {
			info.Next = &build.PageLink{Path: fixturePages[i+1].path, Title: fixturePages[i+1].title}
		}
		s.site.Info.Pages = append(s.site.Info.Pages, info)
		s.pages[fp.path] = &techdocs.Page{Info: info, HTML: md.HTML}
		for _, sec := range md.Sections {
			loc := fp.path
			if sec.ID != "" {
				loc += "#" + sec.ID
			}
			s.hits = append(s.hits, techdocs.Hit{Title: sec.Title, Location: loc, Snippet: sec.Text, Score: 1})
		}
	}
	return &fakeDocs{sites: map[string]*fakeSite{shipmentRef.Key(): s}, states: map[string]techdocs.State{}}
}

// docsServer serves the UI over the example catalog with docs, plus
// extra routes (the API's, which the UI does not serve) on the same mux.
func docsServer(t testing.TB, docs Docs, extra map[string]http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", NewHandler(env(t).svc, slog.New(slog.DiscardHandler), Options{Title: "Atrium", Docs: docs}))
	for pattern, fn := range extra {
		mux.HandleFunc(pattern, fn)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// fetch GETs url without following redirects.
func fetch(t testing.TB, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// pageCase is a GET of a page and what its body must and must not hold
// (in the markup or in its text).
type pageCase struct {
	name, path string
	status     int
	want       []string
	notWant    []string
}

func runPageCases(t *testing.T, srv *httptest.Server, tests []pageCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(t, srv.URL+tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s = %d, want %d\n%s", tt.path, resp.StatusCode, tt.status, excerpt(body))
			}
			text := unescapeHTML(body)
			for _, w := range tt.want {
				if !strings.Contains(body, w) && !strings.Contains(text, w) {
					t.Errorf("GET %s lacks %q\n%s", tt.path, w, excerpt(body))
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) || strings.Contains(text, w) {
					t.Errorf("GET %s has %q", tt.path, w)
				}
			}
		})
	}
}

func TestDocsList(t *testing.T) {
	docs := newDocsFixture(t)
	docs.states[plannerRef.Key()] = techdocs.State{Builder: techdocs.BuilderLocal}
	srv := docsServer(t, docs, nil)
	runPageCases(t, srv, []pageCase{
		{"all", "/docs", 200, []string{
			"<h1>Documentation</h1>", `<a href="/docs" aria-current="page">`,
			`<a class="row-link" href="/docs/default/component/shipment-service/">Shipment Service</a>`,
			`<a class="row-link" href="/docs/default/component/route-planner/">Route Planner</a>`,
			`docs-state-built">Built</span> <span class="docs-built"><time datetime="2026-03-01T09:30:00Z">2026-03-01 09:30:00</time> UTC`,
			`docs-state-none">Not built yet`,
		}, []string{"Geo Toolkit", "Shipments API"}},
		{"slash", "/docs/", 200, []string{"Shipment Service", "Route Planner"}, nil},
		{"owner", "/docs?filters[owners]=routing-team", 200, []string{"Route Planner", "1–1 of 1", "Owner: routing-team"}, []string{"Shipment Service"}},
		{"text", "/docs?filters[text]=shipment", 200, []string{"Shipment Service", "1–1 of 1"}, []string{"Route Planner"}},
		{"kind", "/docs?filters[kind]=api", 200, []string{"No documentation matches these filters."}, []string{"Shipment Service"}},
		{"kind options", "/docs", 200, []string{`<option value="all" selected>All kinds</option>`, `<option value="component">Component (`}, nil},
	})
}

func TestDocsListStates(t *testing.T) {
	docs := newDocsFixture(t)
	for _, tt := range []struct {
		name  string
		state techdocs.State
		want  string
	}{
		{"stale", techdocs.State{Built: docsBuilt, Stale: true, Builder: techdocs.BuilderLocal}, `docs-state-stale">Stale`},
		{"building", techdocs.State{Building: true, Builder: techdocs.BuilderLocal}, `docs-state-building">Building`},
		{"failed", techdocs.State{Error: "mkdocs.yml: no such file", Builder: techdocs.BuilderLocal}, `docs-state-failed">Build failed`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			docs.mu.Lock()
			docs.states[plannerRef.Key()] = tt.state
			docs.mu.Unlock()
			srv := docsServer(t, docs, nil)
			_, body := fetch(t, srv.URL+"/docs?filters[owners]=routing-team")
			if !strings.Contains(body, tt.want) {
				t.Errorf("the list lacks %q\n%s", tt.want, excerpt(body))
			}
		})
	}
	// A site whose state cannot be read does not hide the others.
	docs.broken = map[string]bool{plannerRef.Key(): true}
	srv := docsServer(t, docs, nil)
	_, body := fetch(t, srv.URL+"/docs")
	if !strings.Contains(body, "Unavailable") || !strings.Contains(body, "Shipment Service") {
		t.Errorf("the list with an unreadable state:\n%s", excerpt(body))
	}
}

func TestDocsReader(t *testing.T) {
	docs := newDocsFixture(t)
	docs.states[plannerRef.Key()] = techdocs.State{Builder: techdocs.BuilderLocal}
	srv := docsServer(t, docs, nil)
	const base = "/docs/default/component/shipment-service/"
	runPageCases(t, srv, []pageCase{
		{"home", base, 200, []string{
			"<title>Shipment Service docs | Atrium</title>",
			`<a href="/docs" aria-current="page">`, // the sidebar
			`<p class="docs-site-name"><a href="` + base + `">Shipment Service docs</a></p>`,
			`<a href="` + base + `" aria-current="page">Home</a>`,
			`<details class="docs-nav-section">`, // Guides, closed: the page is not in it
			`<a class="docs-nav-external" href="https://backstage.io" rel="noopener noreferrer">Backstage`,
			`<link rel="stylesheet" href="/static/` + docsStylesheet().version + `/docs.css">`,
			`<h1 id="shipment-service">Shipment Service`, // the article, as the renderer wrote it
			`<a href="getting-started/">getting started</a>`, `<img src="img/arch.svg" alt="Architecture">`,
			`<li><a href="#about">About</a></li>`,
			`Built <time datetime="2026-03-01T09:30:00Z">2026-03-01 09:30:00</time> UTC`,
			`<a href="https://github.com/acme-logistics/shipment-service/edit/main/docs/index.md" rel="noopener noreferrer">`, "Edit this page",
			`<a class="docs-next" href="` + base + `getting-started/" rel="next">`,
			`data-docs-rebuild="docs-build" hidden`, `data-docs-sync="/api/techdocs/sync/default/component/shipment-service"`,
			`<form class="docs-search" role="search" method="get" action="` + base + `">`,
		}, []string{`class="docs-prev"`, "docs-stale", "data-docs-autostart", `class="docs-title"`}},
		{"nested page", base + "guides/writing/", 200, []string{
			"<title>Writing · Shipment Service docs | Atrium</title>",
			`<details class="docs-nav-section" open>`,
			`<a href="` + base + `guides/writing/" aria-current="page">Writing</a>`,
			`<a href="../../getting-started/#configure">the start</a>`,
			`<a class="docs-prev" href="` + base + `guides/" rel="prev">`, `<a class="docs-next" href="` + base + `features/" rel="next">`,
			`<li><a href="#rollback">Rollback</a></li>`,
			`<li><a href="/docs">Docs</a></li>`, `<li><a href="` + base + `">Shipment Service docs</a></li>`, `<span aria-current="page">Writing</span>`,
		}, nil},
		{"toc levels", base + "getting-started/", 200, []string{
			`<li><a href="#install">Install</a></li>`, `<li class="docs-toc-sub"><a href="#environment">Environment</a></li>`,
		}, nil},
		{"no such page", base + "nope/", 404, []string{"There is no page at this address in these docs."}, nil},
		{"no docs annotation", "/docs/default/component/geo-toolkit/", 404, []string{"has no documentation"}, nil},
		{"no such entity", "/docs/default/component/nope/", 404, nil, nil},
		{"mermaid stays source", base + "features/", 200, []string{`<pre class="mermaid">sequenceDiagram`}, nil},
	})
}

func TestDocsReaderStale(t *testing.T) {
	docs := newDocsFixture(t)
	docs.sites[shipmentRef.Key()].site.State.Stale = true
	srv := docsServer(t, docs, nil)
	_, body := fetch(t, srv.URL+"/docs/default/component/shipment-service/")
	if !strings.Contains(body, "The source changed since this build; a new one is being built.") {
		t.Errorf("no stale notice\n%s", excerpt(body))
	}
}

func TestDocsReaderFailedRebuild(t *testing.T) {
	docs := newDocsFixture(t)
	docs.sites[shipmentRef.Key()].site.State.Error = "mkdocs.yml:3: <b>site_name</b> is required"
	srv := docsServer(t, docs, nil)
	_, body := fetch(t, srv.URL+"/docs/default/component/shipment-service/")
	for _, want := range []string{"The last build failed; these are the docs of the build before it.",
		"mkdocs.yml:3: &lt;b&gt;site_name&lt;/b&gt; is required", `<h1 id="shipment-service">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the reader lacks %q\n%s", want, excerpt(body))
		}
	}
}

func TestDocsReaderExternalBuilder(t *testing.T) {
	docs := newDocsFixture(t)
	docs.sites[shipmentRef.Key()].site.State.Builder = techdocs.BuilderExternal
	docs.states[plannerRef.Key()] = techdocs.State{Builder: techdocs.BuilderExternal}
	srv := docsServer(t, docs, nil)
	runPageCases(t, srv, []pageCase{
		{"built: no rebuild", "/docs/default/component/shipment-service/", 200, []string{"Shipment Service docs"}, []string{"data-docs-rebuild", "data-docs-sync"}},
		{"not built", "/docs/default/component/route-planner/", 200, []string{"These docs are not built yet", "built outside Atrium, by CI"}, []string{"data-docs-sync"}},
	})
}

func TestDocsNotBuilt(t *testing.T) {
	docs := newDocsFixture(t)
	srv := docsServer(t, docs, nil)
	const home = "/docs/default/component/route-planner/"
	tests := []struct {
		name    string
		state   techdocs.State
		want    []string
		notWant []string
	}{
		{"never built", techdocs.State{Builder: techdocs.BuilderLocal},
			[]string{"These docs are not built yet", `data-docs-sync="/api/techdocs/sync/default/component/route-planner" data-docs-autostart hidden`,
				`<noscript><p class="docs-reload">The docs are being built. <a href="` + home + `">Reload this page</a>`, "<title>Route Planner | Atrium</title>"},
			[]string{"The last build failed", "docs-search"}},
		{"building", techdocs.State{Building: true, Builder: techdocs.BuilderLocal}, []string{"These docs are being built"}, nil},
		{"failed", techdocs.State{Error: "mkdocs.yml: <no such file>", Builder: techdocs.BuilderLocal},
			[]string{"The last build failed", "mkdocs.yml: &lt;no such file&gt;"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs.mu.Lock()
			docs.states[plannerRef.Key()] = tt.state
			docs.mu.Unlock()
			for _, p := range []string{home, home + "some/page/"} {
				resp, body := fetch(t, srv.URL+p)
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s = %d", p, resp.StatusCode)
				}
				for _, w := range tt.want {
					if !strings.Contains(body, w) {
						t.Errorf("GET %s lacks %q\n%s", p, w, excerpt(body))
					}
				}
				for _, w := range tt.notWant {
					if strings.Contains(body, w) {
						t.Errorf("GET %s has %q", p, w)
					}
				}
			}
		})
	}
	// A file of a site that is not built is not found.
	if resp, _ := fetch(t, srv.URL+home+"img/x.png"); resp.StatusCode != 404 {
		t.Errorf("a file of an unbuilt site: %d, want 404", resp.StatusCode)
	}
}

func TestDocsRedirects(t *testing.T) {
	srv := docsServer(t, newDocsFixture(t), nil)
	const base = "/docs/default/component/shipment-service"
	for _, tt := range []struct{ path, want string }{
		{base, base + "/"},
		{base + "?q=x", base + "/?q=x"},
		{base + "/getting-started", base + "/getting-started/"},
		{base + "/guides/writing?x=1", base + "/guides/writing/?x=1"},
		{base + "/guides/writing/index.html", base + "/guides/writing/"},
		{base + "/index.html", base + "/"},
	} {
		resp, _ := fetch(t, srv.URL+tt.path)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != tt.want {
			t.Errorf("GET %s = %d to %q, want 301 to %q", tt.path, resp.StatusCode, resp.Header.Get("Location"), tt.want)
		}
	}
}

func TestDocsAssets(t *testing.T) {
	srv := docsServer(t, newDocsFixture(t), nil)
	const base = "/docs/default/component/shipment-service/"
	tests := []struct {
		path, contentType, csp string
	}{
		{"img/arch.svg", "image/svg+xml", docsAssetCSP},
		{"raw.html", "text/html; charset=utf-8", docsAssetCSP},
		{"js/extra.js", "text/plain; charset=utf-8", docsAssetCSP},
		{"files/manual.pdf", "application/pdf", contentSecurityPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := fetch(t, srv.URL+base+tt.path)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s = %d\n%s", tt.path, resp.StatusCode, excerpt(body))
			}
			got := map[string]string{
				"Content-Type":            resp.Header.Get("Content-Type"),
				"X-Content-Type-Options":  resp.Header.Get("X-Content-Type-Options"),
				"Content-Security-Policy": resp.Header.Get("Content-Security-Policy"),
			}
			want := map[string]string{"Content-Type": tt.contentType, "X-Content-Type-Options": "nosniff", "Content-Security-Policy": tt.csp}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			// The validator works: the same file again is not sent again.
			resp, _ = fetch(t, srv.URL+base+tt.path, "If-None-Match", resp.Header.Get("ETag"))
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("GET with If-None-Match = %d, want 304", resp.StatusCode)
			}
		})
	}
	if resp, _ := fetch(t, srv.URL+base+"img/missing.png"); resp.StatusCode != 404 {
		t.Errorf("missing file: %d, want 404", resp.StatusCode)
	}
}

func TestDocsPathTraversal(t *testing.T) {
	docs := newDocsFixture(t)
	srv := docsServer(t, docs, nil)
	const base = "/docs/default/component/shipment-service/"
	for _, p := range []string{
		"..%2F..%2Fetc%2Fpasswd",
		"..%2F..%2Fetc/",
		"img/..%2F..%2F..%2Fx.svg",
		"img%2F..%2F..%2Fx.svg",
		"..%5C..%5Cx.svg",
		"a/.%2Fb/",
		"%2Fetc%2Fpasswd",
		"img/x%00.svg",
	} {
		resp, _ := fetch(t, srv.URL+base+p)
		if resp.StatusCode != 404 && resp.StatusCode != 301 {
			t.Errorf("GET %s = %d, want 404 (or a redirect to a clean path)", p, resp.StatusCode)
		}
		if resp.StatusCode == 301 {
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, base) {
				t.Errorf("GET %s redirects out of the site, to %q", p, loc)
			}
		}
	}
	for _, p := range docs.askedPaths() {
		if strings.Contains(p, "..") || strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") {
			t.Errorf("the docs were asked for %q", p)
		}
	}
}

func TestDocsSearch(t *testing.T) {
	docs := newDocsFixture(t)
	s := docs.sites[shipmentRef.Key()]
	s.hits = append(s.hits,
		techdocs.Hit{Title: "Escape rollback", Location: "../../../etc/passwd", Snippet: "rollback out of the site"},
		techdocs.Hit{Title: "Elsewhere rollback", Location: "https://evil.example/", Snippet: "rollback elsewhere"},
	)
	srv := docsServer(t, docs, nil)
	const base = "/docs/default/component/shipment-service/"
	runPageCases(t, srv, []pageCase{
		{"hits", base + "?q=rollback", 200, []string{
			"Search results for “rollback”",
			`<a class="docs-hit-title" href="` + base + `guides/writing/#rollback">Rollback</a>`,
			"Roll back with the deploy pipeline.",
			`<span class="docs-hit-title">Escape rollback</span>`, `<span class="docs-hit-title">Elsewhere rollback</span>`,
			`value="rollback"`, "<title>Search: rollback · Shipment Service docs | Atrium</title>",
		}, []string{`href="https://evil.example/"`, "etc/passwd\"", `aria-current="page">Home`}},
		{"none", base + "?q=zebra", 200, []string{"Nothing in these docs matches “zebra”."}, nil},
		{"too long", base + "?q=" + strings.Repeat("a", 201), 400, nil, nil},
	})
	if !slices.Contains(docs.queries, "rollback") {
		t.Errorf("queries = %q", docs.queries)
	}
}

// TestDocsEscaping serves a site whose every name is markup: only the
// article is HTML, the rest is text.
func TestDocsEscaping(t *testing.T) {
	const evil = `<script>window.__xss=1</script>`
	docs := newDocsFixture(t)
	s := docs.sites[shipmentRef.Key()]
	s.site.Info.SiteName = evil + "site"
	s.site.Info.Nav = []build.NavEntry{
		{Title: evil + "nav", URL: ""},
		{Title: evil + "section", Children: []build.NavEntry{{Title: evil + "child", URL: "guides/"}}},
		{Title: evil + "external", URL: "javascript:alert(1)", External: true},
	}
	s.pages[""] = &techdocs.Page{
		Info: build.PageInfo{Title: evil + "title", EditURL: "javascript:alert(1)",
			TOC:  []build.Heading{{Level: 2, ID: `x"><script>`, Text: evil + "toc"}},
			Next: &build.PageLink{Path: "guides/", Title: evil + "next"}},
		HTML: []byte(`<p><em>kept</em></p>`),
	}
	s.hits = []techdocs.Hit{{Title: evil + "hit", Location: `guides/#"><script>`, Snippet: evil + "snippet"}}
	srv := docsServer(t, docs, nil)
	const base = "/docs/default/component/shipment-service/"
	for _, p := range []string{base, base + "?q=script"} {
		resp, body := fetch(t, srv.URL+p)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d\n%s", p, resp.StatusCode, excerpt(body))
		}
		if strings.Contains(body, "<script>") {
			i := strings.Index(body, "<script>")
			t.Errorf("GET %s has markup from data: …%s…", p, body[max(i-200, 0):min(i+100, len(body))])
		}
		if strings.Contains(body, "javascript:") {
			t.Errorf("GET %s links to javascript:", p)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("GET %s does not show the names as text", p)
		}
	}
	_, body := fetch(t, srv.URL+base)
	for _, w := range []string{`<p><em>kept</em></p>`, `<h1 class="docs-title">&lt;script&gt;`, "&lt;script&gt;window.__xss=1&lt;/script&gt;toc"} {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q\n%s", w, excerpt(body))
		}
	}
}

func TestDocsEntityTab(t *testing.T) {
	srv := docsServer(t, newDocsFixture(t), nil)
	tab := `<li><a href="/docs/default/component/shipment-service/">Docs</a></li>`
	_, body := fetch(t, srv.URL+"/catalog/default/component/shipment-service")
	if !strings.Contains(body, tab) {
		t.Errorf("the entity page has no Docs tab\n%s", excerpt(body))
	}
	// Before Inspect and History.
	if i, j := strings.Index(body, tab), strings.Index(body, ">Inspect</a>"); i < 0 || j < i {
		t.Errorf("the Docs tab is not before Inspect")
	}
	_, body = fetch(t, srv.URL+"/catalog/default/component/geo-toolkit")
	if strings.Contains(body, ">Docs</a></li>") && strings.Contains(body, `href="/docs/default/component/geo-toolkit/"`) {
		t.Error("an entity without docs has a Docs tab")
	}
	// Without Docs, neither the tab nor the pages.
	e := env(t)
	if got := e.mustGet(t, "/catalog/default/component/shipment-service"); strings.Contains(got, "/docs/default/component/shipment-service/") {
		t.Error("the Docs tab shows without Docs")
	}
	if got := e.mustGet(t, "/"); strings.Contains(got, `href="/docs"`) {
		t.Error("the sidebar has Docs without Docs")
	}
	if code, _ := e.get(t, e.client(), "/docs"); code != 404 {
		t.Errorf("/docs without Docs = %d, want 404", code)
	}
}

// cssRule matches a rule's selectors in a flat stylesheet.
var cssRule = regexp.MustCompile(`(?m)^([^{}@/][^{}]*)\{`)

func TestDocsStylesheet(t *testing.T) {
	srv := docsServer(t, newDocsFixture(t), nil)
	resp, css := fetch(t, srv.URL+docsCSSHref())
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("GET %s = %d %q %q", docsCSSHref(), resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if !strings.Contains(css, ".docs-article .admonition") || !strings.Contains(css, ".docs-article .tabbed-set") {
		t.Errorf("the stylesheet lacks the article's rules:\n%s", css[:min(len(css), 600)])
	}
	// Every rule is the article's, or only sets the theme's properties.
	for _, m := range cssRule.FindAllStringSubmatch(css, -1) {
		for sel := range strings.SplitSeq(m[1], ",") {
			sel = strings.TrimSpace(sel)
			if !strings.HasPrefix(sel, ".docs-article ") && !strings.HasPrefix(sel, ":root") && !strings.HasPrefix(sel, "[data-theme") {
				t.Errorf("selector %q is not scoped to the article", sel)
			}
		}
	}
}

func TestScopeCSS(t *testing.T) {
	tests := []struct{ name, css, want string }{
		{"rule", "a, b > c { color: red }", ".s a, .s b > c { color: red }"},
		{"theme stays global", ":root { --x: 1 }\n[data-theme=dark] { --x: 2 }", ":root { --x: 1 }\n[data-theme=dark] { --x: 2 }"},
		{"media", "@media (prefers-color-scheme: dark) {\n:root:not([data-theme=light]) { --x: 2 }\npre { x: y }\n}",
			"@media (prefers-color-scheme: dark) {\n:root:not([data-theme=light]) { --x: 2 }\n.s pre { x: y }\n}"},
		{"comment", "/* a comment */\ndetails { x: y }", "/* a comment */\n.s details { x: y }"},
		{"content string", `.x::after { content: "\203A" }`, `.s .x::after { content: "\203A" }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scopeCSS(tt.css, ".s"); got != tt.want {
				t.Errorf("scopeCSS(%q)\n got %q\nwant %q", tt.css, got, tt.want)
			}
		})
	}
}

func TestValidDocsPath(t *testing.T) {
	for p, want := range map[string]bool{
		"": true, "a/": true, "a/b/": true, "img/x.svg": true, "a/b": true,
		"/": false, "../x": false, "a/../b/": false, "./a": false, "a//b": false, "/etc": false, `a\b`: false, "a\x00": false, "a/./": false,
	} {
		if got := validDocsPath(p); got != want {
			t.Errorf("validDocsPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// docsListSample and the others are the docs pages' views for
// TestTemplatesRender.
func docsListSample(link entityLink, p pager) *docsListView {
	return &docsListView{
		Action: "/docs", State: listState{Text: "x", Limit: 20},
		Kinds:  []option{{Value: "all", Label: "All kinds"}, {Value: "component", Label: "Component", Count: 2, Selected: true}},
		Facets: []facetView{{Param: "owners", Label: "Owner", Options: []option{{Value: "team", Label: "team", Count: 1, Selected: true}}, Hidden: 2, FreeText: true}},
		Active: []activeFilter{{Label: "Owner: team", RemoveHref: "/docs"}}, ClearHref: "/docs",
		Table: docsTable{Pager: p, Empty: "none", Rows: []docsRow{
			{Href: "/docs/default/component/a/", Entity: link, Kind: "Component", Owners: []entityLink{link},
				State: docsState{Label: "Built", Class: "built", Built: stamp{ISO: "2026-03-01T10:00:00Z", Text: "2026-03-01 10:00:00"}}},
			{Href: "/docs/default/component/b/", Entity: entityLink{Label: "<b>not bold</b>", Name: "b"}, State: docsState{Label: "Not built yet", Class: "none"}},
		}},
	}
}

func docsReaderSample(link entityLink) *docsReaderView {
	return &docsReaderView{
		CSSHref: "/static/x/docs.css", SyncHref: "/api/techdocs/sync/default/component/a", Local: true,
		Site: docsSite{Name: "<b>not bold</b>", HomeHref: "/docs/default/component/a/", Entity: link},
		SiteNav: []docsNavNode{
			{Title: "Home", Href: "/docs/default/component/a/", Current: true},
			{Title: "<b>not bold</b>", Section: true, Open: true, Children: []docsNavNode{{Title: "Child", Href: "/docs/default/component/a/c/"}}},
			{Title: "Out", Href: "https://example.com", External: true},
			{Title: "Out, not http", External: true},
		},
		State: docsState{Label: "Stale", Class: "stale", Stale: true, Built: stamp{ISO: "2026-03-01T10:00:00Z", Text: "2026-03-01 10:00:00"}},
		Article: &docsArticle{Title: "<b>not bold</b>", HTML: template.HTML("<p>Hello</p>"), EditURL: "https://example.com/e",
			TOC:  []docsTOCEntry{{Text: "<b>not bold</b>", Href: "#a"}, {Text: "B", Href: "#b", Sub: true}},
			Prev: &docsPageLink{Title: "P", Href: "/p/"}, Next: &docsPageLink{Title: "N", Href: "/n/"}},
	}
}

func docsReaderNotBuiltSample() *docsReaderView {
	return &docsReaderView{
		CSSHref: "/static/x/docs.css", SyncHref: "/api/techdocs/sync/default/component/a", Local: true, NotBuilt: true, Building: true,
		Site:  docsSite{Name: "A", HomeHref: "/docs/default/component/a/"},
		State: docsState{Label: "Build failed", Class: "failed", Error: "<b>not bold</b>"},
	}
}

func docsReaderSearchSample() *docsReaderView {
	return &docsReaderView{
		CSSHref: "/static/x/docs.css",
		Site:    docsSite{Name: "A", HomeHref: "/docs/default/component/a/", Query: "q"},
		Results: &docsResults{Query: "<b>not bold</b>", Hits: []docsHit{
			{Title: "<b>not bold</b>", Href: "/docs/default/component/a/b/#c", Location: "b/#c", Snippet: "<b>not bold</b>"},
			{Title: "T", Location: "../x"},
		}},
	}
}

// TestDocsReaderEmptySearch covers the results page without hits, and the
// not-built page for the external builder, in the renderer alone.
func TestDocsReaderEmptySearch(t *testing.T) {
	r := mustRenderer()
	for _, v := range []*docsReaderView{
		{Site: docsSite{Name: "A"}, Results: &docsResults{Query: "q"}},
		{Site: docsSite{Name: "A"}, NotBuilt: true},
	} {
		var buf bytes.Buffer
		if err := r.execute(&buf, "docs_reader", v); err != nil {
			t.Error(err)
		}
	}
}
