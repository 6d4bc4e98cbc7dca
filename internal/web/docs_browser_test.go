package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserDocs reads the fixture docs: from the sidebar to the list,
// into a site, along a relative link in an article, to a heading through
// the table of contents, through the in-docs search to a hit; then
// rebuilds the site and watches the log of a first build, against a fake
// of Backstage's sync stream; then looks at the pages in dark mode and on
// a phone.
func TestBrowserDocs(t *testing.T) {
	ctx := tab(t)
	release := make(chan struct{})
	var forced atomic.Bool
	syncStream := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("force") == "true" {
			forced.Store(true)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		send := func(event, data string) {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
			w.(http.Flusher).Flush()
		}
		send("log", fmt.Sprintf("%q", "Building the docs of "+r.PathValue("name")))
		send("log", `"Published 5 files <b>as text</b>"`)
		if r.PathValue("name") != "shipment-service" {
			<-r.Context().Done() // a first build that never ends, to look at
			return
		}
		select {
		case <-release:
			send("finish", `{"updated":true}`)
		case <-r.Context().Done():
		}
	}
	docs := newDocsFixture(t)
	srv := docsServer(t, docs, map[string]http.HandlerFunc{"GET /api/techdocs/sync/{namespace}/{kind}/{name}": syncStream})
	visit := func(path string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(srv.URL+path), chromedp.WaitReady(chromedp.CSS("main")))
	}
	const base = "/docs/default/component/shipment-service/"

	// The list, from the sidebar.
	visit("/")
	do(t, ctx, chromedp.Click(chromedp.CSS(`.sidebar a[href="/docs"]`)))
	waitFor(t, ctx, `location.pathname === "/docs" && !!document.querySelector(".docs-table")`)
	shot(t, ctx, "docs-list")
	if got := text(t, ctx, `.docs-table a.row-link[href="`+base+`"]`); got != "Shipment Service" {
		t.Errorf("the list's shipment service row says %q", got)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`.docs-table a.row-link[href="`+base+`"]`)))
	waitFor(t, ctx, `location.pathname === "`+base+`" && !!document.querySelector(".docs-article")`)
	shot(t, ctx, "docs-reader")
	if got := text(t, ctx, `.docs-nav a[aria-current="page"]`); got != "Home" {
		t.Errorf("the nav marks %q", got)
	}
	if w := eval[int](t, ctx, `document.querySelector(".docs-article img").naturalWidth`); w != 240 {
		t.Errorf("the article's relative image is %dpx wide, want 240 (not loaded?)", w)
	}

	// A relative link in the article.
	do(t, ctx, chromedp.Click(chromedp.CSS(`.docs-article a[href="getting-started/"]`)))
	waitFor(t, ctx, `location.pathname === "`+base+`getting-started/" && !!document.querySelector(".docs-toc")`)
	if got := text(t, ctx, `.docs-nav a[aria-current="page"]`); got != "Getting started" {
		t.Errorf("after the link, the nav marks %q", got)
	}
	inView := `(() => { const r = document.getElementById("configure").getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`
	if eval[bool](t, ctx, inView) {
		t.Fatal("the Configure heading is in view before the TOC is used: the test proves nothing")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`.docs-toc a[href="#configure"]`)))
	waitFor(t, ctx, `location.hash === "#configure"`)
	waitFor(t, ctx, inView)
	shot(t, ctx, "docs-toc")

	// The in-docs search, and a hit.
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#docs-q"), "rollback"),
		chromedp.Click(chromedp.CSS(`.docs-search button[type="submit"]`)))
	waitFor(t, ctx, `location.search === "?q=rollback" && !!document.querySelector(".docs-hits")`)
	shot(t, ctx, "docs-search")
	do(t, ctx, chromedp.Click(chromedp.CSS(`.docs-hits li:first-child a`)))
	waitFor(t, ctx, `location.pathname === "`+base+`guides/writing/" && location.hash === "#rollback"`)
	if got := text(t, ctx, `.docs-nav a[aria-current="page"]`); got != "Writing" {
		t.Errorf("the hit's page: the nav marks %q", got)
	}
	if !eval[bool](t, ctx, `document.querySelector(".docs-nav-section").open`) {
		t.Error("the section of the current page is closed")
	}

	// The features the renderer styles.
	visit(base + "features/")
	shot(t, ctx, "docs-features")
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector(".docs-article pre.mermaid"), "::before").content`); !strings.Contains(got, "Diagram source (mermaid)") {
		t.Errorf("the mermaid block's caption is %s", got)
	}
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector(".docs-article .admonition.warning")).borderLeftColor`); got != "rgb(255, 145, 0)" {
		t.Errorf("the warning's border is %s: docs.css not applied?", got)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`.docs-article .tabbed-set > label:nth-of-type(2)`)))
	if vis := eval[[]bool](t, ctx, `Array.from(document.querySelectorAll(".docs-article .tabbed-content")).map(c => c.offsetParent !== null)`); fmt.Sprint(vis) != "[false true]" {
		t.Errorf("after choosing the second tab, the tabs' contents shown: %v", vis)
	}
	// The app's own <details> (none here but the panels) are not styled
	// as admonitions.
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector(".docs-nav .docs-panel")).borderLeftStyle`); got != "none" {
		t.Errorf("the nav panel has a %s left border: the article's styles leak", got)
	}

	// Rebuild: the log as it comes, then the page again.
	eval[bool](t, ctx, `(window.__before = true)`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[data-docs-rebuild]`)))
	waitFor(t, ctx, `document.querySelectorAll("#docs-build [data-docs-log] li").length === 2`)
	if got := eval[string](t, ctx, `Array.from(document.querySelectorAll("#docs-build [data-docs-log] li")).map(li => li.textContent).join("|")`); got != "Building the docs of shipment-service|Published 5 files <b>as text</b>" {
		t.Errorf("the log says %q", got)
	}
	if !forced.Load() {
		t.Error("Rebuild did not ask for a forced build")
	}
	shot(t, ctx, "docs-rebuild")
	close(release)
	waitFor(t, ctx, `!window.__before && !!document.querySelector(".docs-article")`)

	// A first build, live.
	visit("/docs/default/component/route-planner/")
	waitFor(t, ctx, `document.querySelectorAll("#docs-build [data-docs-log] li").length === 2`)
	shot(t, ctx, "docs-notbuilt")
	if got := text(t, ctx, "#docs-build [data-docs-status]"); got != "Building the docs…" {
		t.Errorf("the build's status says %q", got)
	}

	pages := []struct{ name, path string }{
		{"docs-list", "/docs"},
		{"docs-reader", base},
		{"docs-features", base + "features/"},
		{"docs-getting-started", base + "getting-started/"},
		{"docs-search", base + "?q=the"},
	}
	t.Run("dark mode", func(t *testing.T) {
		do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		}))
		for _, p := range pages {
			visit(p.path)
			shot(t, ctx, p.name+"-dark")
		}
		visit(base + "features/")
		if got := eval[string](t, ctx, `getComputedStyle(document.querySelector(".docs-article .admonition")).backgroundColor`); got != "rgb(21, 27, 35)" {
			t.Errorf("a dark admonition's background is %s", got)
		}
	})
	t.Run("phone", func(t *testing.T) {
		do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		for _, p := range pages {
			visit(p.path)
			shot(t, ctx, p.name+"-phone-dark")
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
				wide := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 391).slice(0, 8).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`)
				t.Errorf("%s is %dpx wide on a 390px screen: %q", p.path, w, wide)
			}
		}
		do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}})
			return err
		}))
		for _, p := range pages {
			visit(p.path)
			shot(t, ctx, p.name+"-phone")
		}
		// The nav starts folded on a phone, so the article comes first.
		if eval[bool](t, ctx, `document.querySelector(".docs-nav details").open`) {
			t.Error("the nav is open on a phone")
		}
	})
}
