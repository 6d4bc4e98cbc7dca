package web

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// Browser tests: the UI driven by Debian's chromium through chromedp. All
// of them share one browser (a tab each) and the package's one server.
// They skip, saying so, when chromium is not installed; CI installs it.
// Set ATRIUM_SCREENSHOTS to a folder to save a screenshot of every page
// they visit (make the folder first).

var (
	browserOnce sync.Once
	browserCtx  context.Context
	browserErr  error
)

// chromiumPath finds the browser: chromium on the PATH, else Debian's path.
func chromiumPath() string {
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// tab opens a new browser tab for a test, with a time limit; opts may
// give it a browser context of its own (cookies apart).
func tab(t *testing.T, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("chromium is not installed (apt-get install chromium): skipping the browser test")
	}
	env(t) // the server, before the browser's time starts
	browserOnce.Do(func() {
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.WindowSize(1366, 900),
		)
		ctx, cancel := chromedp.NewContext(alloc)
		cleanups = append(cleanups, cancelAlloc, cancel)
		browserErr = chromedp.Do(ctx) // starts the browser
		browserCtx = ctx
	})
	if browserErr != nil {
		t.Fatalf("start chromium: %v", browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// do runs actions and fails the test on error.
func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is truthy. A navigation
// while it waits (the expression often waits for one) is retried.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil || !navigating(err) {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// navigating reports whether err comes from a page that went away while
// an expression ran in it.
func navigating(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "navigated or closed") || strings.Contains(msg, "Cannot find context") ||
		strings.Contains(msg, "Execution context was destroyed")
}

// open loads a page of the test server and waits for it.
func open(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(env(t).srv.URL+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// text returns the text content of the first element matching a CSS
// selector, with runs of white space made one space.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	// A navigation that has just begun can swap the document between
	// finding the node and reading it ("No node with given id"): try
	// again, briefly.
	var err error
	for range 20 {
		var s string
		if s, err = chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel))); err == nil {
			return strings.Join(strings.Fields(s), " ")
		}
		if !strings.Contains(err.Error(), "No node with given id") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("text of %s: %v", sel, err)
	return ""
}

// location returns the current URL's path and query.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s)
	return u.RequestURI()
}

// shot saves a full-page screenshot when ATRIUM_SCREENSHOTS names a folder.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("ATRIUM_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rowNames lists the names in the entity table.
func rowNames(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `Array.from(document.querySelectorAll("table.entities .row-link")).map(a => a.textContent.trim())`)
}

func TestBrowserCatalogFilterAndPage(t *testing.T) {
	ctx := tab(t)
	open(t, ctx, "/catalog")
	shot(t, ctx, "catalog")
	if got := text(t, ctx, ".pager-range"); got != "1–14 of 14" {
		t.Errorf("components: pager says %q", got)
	}
	if names := rowNames(t, ctx); len(names) != 14 || names[0] != "Acme UI Kit" {
		t.Errorf("components by name: %v", names)
	}

	// A type checkbox filters in place and writes the filter into the URL.
	do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="filters[type]"][value="library"]`)))
	waitFor(t, ctx, `document.querySelector(".pager-range").textContent.trim() === "1–3 of 3"`)
	if names := rowNames(t, ctx); strings.Join(names, ",") != "Acme UI Kit,Geo Toolkit,Go Service Kit" {
		t.Errorf("libraries: %v", names)
	}
	if loc := location(t, ctx); !strings.Contains(loc, "filters%5Btype%5D=library") {
		t.Errorf("URL after filtering = %s", loc)
	}
	shot(t, ctx, "catalog-filtered")

	// The text filter narrows as one types.
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-text"), "geo"))
	waitFor(t, ctx, `document.querySelector(".pager-range").textContent.trim() === "1–1 of 1"`)
	if names := rowNames(t, ctx); len(names) != 1 || names[0] != "Geo Toolkit" {
		t.Errorf("libraries named geo: %v", names)
	}
	// Removing a filter chip keeps the other.
	do(t, ctx, chromedp.Click(chromedp.CSS(`.active-filters a[aria-label="Remove filter Type: library"]`)))
	waitFor(t, ctx, `document.querySelector(".pager-range") && document.querySelector(".pager-range").textContent.includes("of 1")`)
	if got := text(t, ctx, "#f-text"); got != "" {
		_ = got // the input keeps its value through the navigation
	}

	// The kind picker reloads the page with that kind's facets.
	open(t, ctx, "/catalog?filters[kind]=component")
	eval[bool](t, ctx, `(() => { const s = document.querySelector("#f-kind"); s.value = "all"; return s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	waitFor(t, ctx, `document.querySelector("h1").textContent === "All entities"`)

	// Paging: 67 entities, 20 a page.
	if got := text(t, ctx, ".pager-range"); got != "1–20 of 67" {
		t.Fatalf("all entities: pager says %q", got)
	}
	first := rowNames(t, ctx)
	do(t, ctx, chromedp.Click(chromedp.CSS(`.pager a[rel="next"]`)))
	waitFor(t, ctx, `document.querySelector(".pager-range").textContent.trim() === "21–40 of 67"`)
	second := rowNames(t, ctx)
	// Rows are ordered by name, and show titles: page 2 must hold 20
	// others.
	if len(second) != 20 || slices.ContainsFunc(second, func(n string) bool { return slices.Contains(first, n) }) {
		t.Errorf("page 2 does not follow page 1: %v then %v", first, second)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`.pager a[rel="last"]`)))
	waitFor(t, ctx, `document.querySelector(".pager-range").textContent.trim() === "48–67 of 67"`)
	if eval[bool](t, ctx, `!!document.querySelector('.pager a[rel="next"]')`) {
		t.Error("the last page links to a next page")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`.pager a[rel="prev"]`)))
	waitFor(t, ctx, `document.querySelector(".pager-range").textContent.trim() === "28–47 of 67"`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`.pager a[rel="first"]`)))
	waitFor(t, ctx, `document.querySelector(".pager-range").textContent.trim() === "1–20 of 67"`)
	if again := rowNames(t, ctx); strings.Join(again, ",") != strings.Join(first, ",") {
		t.Errorf("first page differs on return: %v vs %v", again, first)
	}

	// Sorting by a column header.
	do(t, ctx, chromedp.Click(chromedp.CSS(`th.col-name a.sort`)))
	waitFor(t, ctx, `document.querySelector("th.col-name").getAttribute("aria-sort") === "descending"`)
	// Rows sort by metadata.name (shown under the title when they differ).
	desc := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("table.entities .row-link")).map(a => a.pathname.split("/").pop())`)
	if len(desc) != 20 || !slices.IsSortedFunc(desc, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("descending sort: %v", desc)
	}
	shot(t, ctx, "catalog-all-desc")
}

func TestBrowserCatalogWithoutJavaScript(t *testing.T) {
	ctx := tab(t)
	do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	open(t, ctx, "/catalog")
	do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="filters[lifecycles]"][value="deprecated"]`)))
	do(t, ctx, chromedp.Click(chromedp.CSS(`.filters button[type="submit"]`)))
	waitFor(t, ctx, `location.search.includes("deprecated")`)
	do(t, ctx, chromedp.WaitReady(chromedp.CSS(".pager-range")))
	if names := rowNames(t, ctx); strings.Join(names, ",") != "Legacy Tracking Page" {
		t.Errorf("deprecated components without JavaScript: %v", names)
	}
}

func TestBrowserKeyboardNavigation(t *testing.T) {
	ctx := tab(t)
	open(t, ctx, "/catalog")
	// The first Tab reaches the skip link.
	do(t, ctx, chromedp.KeyEvent(kb.Tab))
	if got := eval[string](t, ctx, `document.activeElement.textContent.trim()`); got != "Skip to content" {
		t.Errorf("first Tab focuses %q", got)
	}
	names := rowNames(t, ctx)
	do(t, ctx, chromedp.Focus(chromedp.CSS("table.entities .row-link")))
	active := func() string { return eval[string](t, ctx, `document.activeElement.textContent.trim()`) }
	if got := active(); got != names[0] {
		t.Fatalf("focus on %q, want %q", got, names[0])
	}
	do(t, ctx, chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown))
	if got := active(); got != names[2] {
		t.Errorf("after two ArrowDown: focus on %q, want %q", got, names[2])
	}
	do(t, ctx, chromedp.KeyEvent(kb.ArrowUp))
	if got := active(); got != names[1] {
		t.Errorf("after ArrowUp: focus on %q, want %q", got, names[1])
	}
	do(t, ctx, chromedp.KeyEvent(kb.End))
	if got := active(); got != names[len(names)-1] {
		t.Errorf("after End: focus on %q, want %q", got, names[len(names)-1])
	}
	// The focused row is visibly marked (focus ring on the link).
	if outline := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Error("the focused link has no visible outline")
	}
	shot(t, ctx, "catalog-keyboard")
	do(t, ctx, chromedp.KeyEvent(kb.Home), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, `location.pathname === "/catalog/default/component/acme-ui-kit" && document.readyState === "complete"`)
	if got := text(t, ctx, "h1"); got != names[0] {
		t.Errorf("Enter opened %q, want %q", got, names[0])
	}
}

func TestBrowserEntityPages(t *testing.T) {
	ctx := tab(t)
	tests := []struct {
		kind, path, heading string
		cards               []string
	}{
		{"component", "/catalog/default/component/shipment-service", "Shipment Service", []string{"About", "Links", "Provided APIs", "Consumed APIs", "Has subcomponents", "Depends on components", "Depends on resources", "Dependents"}},
		{"api", "/catalog/default/api/shipments-api", "Shipments API", []string{"About", "Providers", "Consumers"}},
		{"system", "/catalog/default/system/shipment-tracking", "Shipment Tracking", []string{"About", "Components", "APIs", "Resources"}},
		{"domain", "/catalog/default/domain/logistics", "Logistics", []string{"About", "Systems", "Subdomains"}},
		{"group", "/catalog/default/group/routing-team", "Routing", []string{"About", "Profile", "Ownership", "Parent group", "Child groups", "Members"}},
		{"user", "/catalog/default/user/fatima-haddad", "Fatima Haddad", []string{"About", "Profile", "Ownership (directly and through groups)", "Groups"}},
		{"resource", "/catalog/default/resource/shipments-db", "Shipments database", []string{"About", "Depends on", "Dependents"}},
		{"location", "/catalog/default/location/acme-logistics", "acme-logistics", []string{"About", "Targets", "Entities read from its targets"}},
		{"template", "/catalog/default/template/go-service", "", []string{"About", "Steps"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			open(t, ctx, tt.path)
			shot(t, ctx, "entity-"+tt.kind)
			if h := text(t, ctx, "h1"); tt.heading != "" && !strings.HasPrefix(h, tt.heading) {
				t.Errorf("heading %q, want %q", h, tt.heading)
			}
			got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".page-body .card > h2")).map(h => h.firstChild.textContent.trim())`)
			for _, c := range tt.cards {
				found := false
				for _, g := range got {
					found = found || g == c
				}
				if !found {
					t.Errorf("no %q card; cards: %v", c, got)
				}
			}
			if kicker := text(t, ctx, ".entity-kicker"); !strings.HasPrefix(strings.ToLower(kicker), tt.kind) {
				t.Errorf("kicker %q does not name the kind", kicker)
			}
		})
	}
	t.Run("related entity link", func(t *testing.T) {
		open(t, ctx, "/catalog/default/component/shipment-service")
		do(t, ctx, chromedp.Click(chromedp.CSS(`section[aria-label="Has subcomponents"] a.ref`)))
		waitFor(t, ctx, `location.pathname === "/catalog/default/component/label-renderer"`)
	})
	t.Run("inspect and copy", func(t *testing.T) {
		open(t, ctx, "/catalog/default/component/shipment-service/inspect")
		shot(t, ctx, "entity-inspect")
		raw := eval[string](t, ctx, `document.getElementById("raw-entity").textContent`)
		if !strings.HasPrefix(raw, "apiVersion: backstage.io/v1alpha1\nkind: Component\n") {
			t.Errorf("raw YAML starts %q", raw[:min(len(raw), 80)])
		}
		if eval[bool](t, ctx, `document.querySelector('button[data-copy="raw-entity"]').hidden`) {
			t.Error("the copy button is hidden with JavaScript on")
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`.seg a[href$="format=json"]`)))
		waitFor(t, ctx, `location.search === "?format=json"`)
		if raw := eval[string](t, ctx, `document.getElementById("raw-entity").textContent`); !strings.HasPrefix(raw, "{\n  \"apiVersion\"") {
			t.Errorf("raw JSON starts %q", raw[:min(len(raw), 80)])
		}
	})
	t.Run("dark mode", func(t *testing.T) {
		do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		}))
		open(t, ctx, "/catalog/default/component/shipment-service")
		shot(t, ctx, "entity-component-dark")
		if bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 19, 25)" {
			t.Errorf("dark mode background = %s", bg)
		}
	})
	t.Run("phone", func(t *testing.T) {
		do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		open(t, ctx, "/catalog")
		shot(t, ctx, "catalog-phone")
		// Nothing is wider than the screen but the table's own scroller.
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the page is %dpx wide on a 390px screen", w)
		}
		open(t, ctx, "/catalog/default/component/shipment-service")
		shot(t, ctx, "entity-component-phone")
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the entity page is %dpx wide on a 390px screen", w)
		}
	})
}

func TestBrowserAPIDefinition(t *testing.T) {
	ctx := tab(t)
	t.Run("openapi", func(t *testing.T) {
		open(t, ctx, "/catalog/default/api/shipments-api/definition")
		ops := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("details.op[id^=op-] summary")).map(s => Array.from(s.children).map(c => c.textContent.trim()).join(" "))`)
		want := []string{"GET /shipments List shipments", "POST /shipments Create a shipment",
			"GET /shipments/{trackingNumber} Get a shipment", "GET /shipments/{trackingNumber}/events List a shipment's tracking events"}
		if strings.Join(ops, "|") != strings.Join(want, "|") {
			t.Errorf("operations:\n%v\nwant\n%v", ops, want)
		}
		// The outline opens the operation it links to.
		do(t, ctx, chromedp.Click(chromedp.CSS(`.outline a[href="#op-createShipment"]`)))
		waitFor(t, ctx, `document.getElementById("op-createShipment").open`)
		body := text(t, ctx, "#op-createShipment .op-body")
		for _, w := range []string{"Request body", "weightGrams", "Acme Widgets", "201", "422"} {
			if !strings.Contains(body, w) {
				t.Errorf("createShipment lacks %q", w)
			}
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`#op-listShipments summary`)))
		waitFor(t, ctx, `document.getElementById("op-listShipments").open`)
		params := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#op-listShipments .params tbody tr td:first-child")).map(td => td.textContent.trim())`)
		if strings.Join(params, ",") != "status,limit,cursor" {
			t.Errorf("listShipments parameters: %v", params)
		}
		shot(t, ctx, "api-openapi")
	})
	t.Run("grpc", func(t *testing.T) {
		open(t, ctx, "/catalog/default/api/route-planner-api/definition")
		outline := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".outline a")).map(a => a.textContent.trim())`)
		if len(outline) < 4 || !strings.Contains(strings.Join(outline, "|"), "serviceRoutePlanner") {
			t.Errorf("gRPC outline: %v", outline)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`.outline li li a`)))
		waitFor(t, ctx, `location.hash.startsWith("#definition-L")`)
		line := eval[string](t, ctx, `document.querySelector(location.hash).textContent`)
		if !strings.Contains(line, "rpc GetRoutes") {
			t.Errorf("the outline's first method links to %q", line)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#definition .tok-kw").length`); n < 10 {
			t.Errorf("only %d keywords highlighted", n)
		}
		shot(t, ctx, "api-grpc")
	})
	t.Run("asyncapi", func(t *testing.T) {
		open(t, ctx, "/catalog/default/api/shipment-events-api/definition")
		outline := text(t, ctx, ".outline")
		for _, w := range []string{"Servers", "Channels", "shipmentEvents", "Operations", "send publishShipmentEvent", "Messages"} {
			if !strings.Contains(outline, w) {
				t.Errorf("AsyncAPI outline lacks %q:\n%s", w, outline)
			}
		}
		shot(t, ctx, "api-asyncapi")
	})
	t.Run("graphql", func(t *testing.T) {
		open(t, ctx, "/catalog/default/api/customer-graphql-api/definition")
		outline := text(t, ctx, ".outline")
		for _, w := range []string{"Shipment", "ShipmentStatus", "Query"} {
			if !strings.Contains(outline, w) {
				t.Errorf("GraphQL outline lacks %q:\n%s", w, outline)
			}
		}
		shot(t, ctx, "api-graphql")
	})
	t.Run("api docs", func(t *testing.T) {
		open(t, ctx, "/api-docs")
		shot(t, ctx, "api-docs")
		if names := rowNames(t, ctx); len(names) != 4 {
			t.Errorf("APIs: %v", names)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="filters[type]"][value="grpc"]`)))
		waitFor(t, ctx, `document.querySelector(".pager-range").textContent.trim() === "1–1 of 1"`)
		if names := rowNames(t, ctx); len(names) != 1 || names[0] != "Route Planner API" {
			t.Errorf("gRPC APIs: %v", names)
		}
	})
}

func TestBrowserGraph(t *testing.T) {
	ctx := tab(t)
	open(t, ctx, "/catalog/default/component/shipment-service/dependencies")
	shot(t, ctx, "graph")
	nodes := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("svg.graph .node")).map(n => n.dataset.ref)`)
	for _, want := range []string{"component:default/shipment-service", "api:default/shipments-api", "resource:default/shipments-db",
		"group:default/shipping-team", "system:default/shipment-tracking"} {
		if !strings.Contains(strings.Join(nodes, " "), want) {
			t.Errorf("graph lacks %s: %v", want, nodes)
		}
	}
	// No two nodes overlap.
	overlaps := eval[int](t, ctx, `(() => {
		const r = Array.from(document.querySelectorAll("svg.graph .node > rect:first-of-type")).map(e => e.getBBox());
		let n = 0;
		for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {
			const a = r[i], b = r[j];
			if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) n++;
		}
		return n;
	})()`)
	if overlaps != 0 {
		t.Errorf("%d pairs of nodes overlap", overlaps)
	}
	edges := eval[int](t, ctx, `document.querySelectorAll("svg.graph path.edge").length`)

	// Filtering by relation applies on change.
	do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="rel"][value="ownership"]`)))
	waitFor(t, ctx, `location.search.includes("f=1")`)
	do(t, ctx, chromedp.WaitReady(chromedp.CSS("svg.graph")))
	if n := eval[int](t, ctx, `document.querySelectorAll("svg.graph path.edge").length`); n >= edges {
		t.Errorf("without ownership: %d edges, before %d", n, edges)
	}
	if eval[bool](t, ctx, `!!document.querySelector('svg.graph [data-ref="group:default/shipping-team"]')`) {
		t.Error("the owner is drawn with ownership filtered out")
	}
	// Depth 2 reaches further; kinds filter.
	open(t, ctx, "/catalog/default/component/shipment-service/dependencies?f=1&depth=2&rel=dependency&rel=provides&rel=consumes&kind=component&kind=api&kind=resource")
	if !eval[bool](t, ctx, `!!document.querySelector('svg.graph [data-ref="resource:default/event-bus"]')`) {
		t.Error("depth 2 does not reach the event bus (shipments topic depends on it)")
	}
	shot(t, ctx, "graph-depth2")
	// Nodes are links.
	do(t, ctx, chromedp.Click(chromedp.CSS(`svg.graph a.node[data-ref="resource:default/shipments-db"]`)))
	waitFor(t, ctx, `location.pathname === "/catalog/default/resource/shipments-db"`)

	// The system diagram.
	open(t, ctx, "/catalog/default/system/shipment-tracking/diagram")
	shot(t, ctx, "graph-system")
	nodes = eval[[]string](t, ctx, `Array.from(document.querySelectorAll("svg.graph .node")).map(n => n.dataset.ref)`)
	for _, want := range []string{"system:default/shipment-tracking", "domain:default/logistics", "component:default/shipment-service", "api:default/shipments-api", "resource:default/shipments-db"} {
		if !strings.Contains(strings.Join(nodes, " "), want) {
			t.Errorf("system diagram lacks %s: %v", want, nodes)
		}
	}
}

func TestBrowserRegisterAndUnregister(t *testing.T) {
	ctx := tab(t)
	e := env(t)
	bg := context.Background()

	// A file with a syntax error is reported with its line.
	broken := e.writeCatalogFile(t, "broken.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken\n  tags: [a\n")
	open(t, ctx, "/catalog-import")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#target"), broken), chromedp.Submit(chromedp.CSS("#target")))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".problems")))
	if p := text(t, ctx, ".problems pre"); !strings.Contains(p, "broken.yaml:") || !strings.Contains(p, ":5") && !strings.Contains(p, ":6") {
		t.Errorf("the problem does not name file and line: %q", p)
	}
	if eval[bool](t, ctx, `!!document.querySelector('form[action="/catalog-import"] button')`) {
		t.Error("a broken location can be imported")
	}
	shot(t, ctx, "register-error")

	// A good file: review, then import.
	good := e.writeCatalogFile(t, "catalog-info.yaml", componentYAML("parcel-weigher", "Reads the depot scales.")+
		"---\n"+strings.Replace(componentYAML("scale-gateway", "Forwards scale readings."), "  owner: group:default/devex-team\n", "", 1))
	open(t, ctx, "/catalog-import")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#target"), good), chromedp.Click(chromedp.CSS(`.import-form button[type="submit"]`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`form[action="/catalog-import"] button`)))
	review := text(t, ctx, ".page-body")
	// The rule problem comes from the dry run itself, with file, line and column.
	for _, w := range []string{"component:default/parcel-weigher", "component:default/scale-gateway", "new", "spec.owner", "catalog-info.yaml:"} {
		if !strings.Contains(review, w) {
			t.Errorf("review lacks %q:\n%s", w, review)
		}
	}
	shot(t, ctx, "register-review")
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/catalog-import"] button`)))
	waitFor(t, ctx, `location.pathname.startsWith("/catalog-import/locations/")`)
	if n := text(t, ctx, ".notice"); !strings.Contains(n, "Location registered") {
		t.Errorf("notice after registering: %q", n)
	}
	// Process the location as the ingestion loop would, then look again.
	if err := e.svc.Sync(bg); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("main")))
	if got := text(t, ctx, `section[aria-label="Entities from this location"]`); !strings.Contains(got, "parcel-weigher") {
		t.Errorf("the location's entities: %q", got)
	}
	shot(t, ctx, "register-location")
	ref := entity.Ref{Kind: "component", Namespace: "default", Name: "parcel-weigher"}
	if _, err := e.svc.EntityByRef(bg, ref); err != nil {
		t.Fatalf("registered entity not in the catalog: %v", err)
	}

	// Unregister from the entity page: the confirmation lists what goes.
	open(t, ctx, "/catalog/default/component/parcel-weigher")
	do(t, ctx, chromedp.Click(chromedp.CSS(`.about-links a[href$="/unregister"]`)))
	waitFor(t, ctx, `location.pathname.endsWith("/unregister")`)
	confirm := text(t, ctx, ".page-body")
	for _, w := range []string{"Unregister this location?", good, "parcel-weigher", "Entities that will be removed"} {
		if !strings.Contains(confirm, w) {
			t.Errorf("confirmation lacks %q:\n%s", w, confirm)
		}
	}
	shot(t, ctx, "unregister-confirm")
	do(t, ctx, chromedp.Click(chromedp.CSS(`.button-danger`)))
	waitFor(t, ctx, `location.pathname === "/catalog-import" && location.search === "?done=unregistered"`)
	if n := text(t, ctx, ".notice"); !strings.Contains(n, "unregistered") {
		t.Errorf("notice after unregistering: %q", n)
	}
	if err := e.svc.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.EntityByRef(bg, ref); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("after unregistering, the entity lookup gives %v, want not found", err)
	}
}

func TestBrowserScriptInDescription(t *testing.T) {
	ctx := tab(t)
	for _, path := range []string{"/catalog/default/component/script-in-description", "/catalog?filters[text]=script"} {
		open(t, ctx, path)
		shot(t, ctx, "xss-"+strconv.Itoa(len(path)))
		sel := ".about .description"
		if strings.HasPrefix(path, "/catalog?") {
			sel = "td.col-description"
		}
		if got := text(t, ctx, sel); got != xssDescription {
			t.Errorf("%s: description shown as %q, want the text %q", path, got, xssDescription)
		}
		if ran := eval[bool](t, ctx, `window.__xss !== undefined`); ran {
			t.Errorf("%s: the script in the description ran", path)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("main script, main img").length`); n != 0 {
			t.Errorf("%s: %d script or img elements in the page body", path, n)
		}
	}
}

// TestBrowserAudit changes an entity, finds the change in the audit log
// by filtering, opens it to see it side by side, and opens the entity's
// history; then looks at the pages in dark mode and on a phone.
func TestBrowserAudit(t *testing.T) {
	ctx := tab(t)
	e := env(t)
	bg := context.Background()

	// An entity registered from a file in the work folder, then changed.
	file := e.writeCatalogFile(t, "audit-demo.yaml", componentYAML("audit-demo", "Counts parcels."))
	res, err := e.svc.AddLocation(bg, "file", file, catalog.AddLocationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Leave the catalog as the other tests expect it.
		if err := e.svc.DeleteLocation(bg, res.Location.ID); err != nil {
			t.Error(err)
		}
		if err := e.svc.Sync(bg); err != nil {
			t.Error(err)
		}
	})
	if err := e.svc.Sync(bg); err != nil {
		t.Fatal(err)
	}
	e.writeCatalogFile(t, "audit-demo.yaml", strings.Replace(componentYAML("audit-demo", "Counts parcels and letters."),
		"spec:\n", "  tags: [depot]\nspec:\n", 1))
	ref := entity.Ref{Kind: "component", Namespace: "default", Name: "audit-demo"}
	if err := e.svc.Refresh(bg, ref); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Sync(bg); err != nil {
		t.Fatal(err)
	}

	// A request that fails is in the log too.
	missing := entity.Ref{Kind: "component", Namespace: "default", Name: "no-such-component"}
	if err := e.svc.Refresh(audit.WithActor(bg, audit.Actor{Kind: "user", ID: "default/jane"}), missing); !errors.Is(err, derrors.ErrNotFound) {
		t.Fatalf("refreshing a missing entity: %v", err)
	}

	// The audit log, from the sidebar.
	open(t, ctx, "/")
	do(t, ctx, chromedp.Click(chromedp.CSS(`.sidebar a[href="/audit"]`)))
	waitFor(t, ctx, `location.pathname === "/audit" && !!document.querySelector(".audit-table")`)
	if got := text(t, ctx, `.sidebar a[aria-current="page"]`); got != "Audit" {
		t.Errorf("the sidebar marks %q", got)
	}
	shot(t, ctx, "audit")
	// The failure is the newest event, and stands out.
	if got := text(t, ctx, ".audit-table tbody tr:first-child td.col-outcome"); !strings.Contains(got, "failed") || !strings.Contains(got, "not found") {
		t.Errorf("the newest event's outcome: %q", got)
	}
	colors := eval[[]string](t, ctx, `["failed", "succeeded"].map(o => getComputedStyle(document.querySelector(".badge-" + o)).backgroundColor)`)
	if len(colors) != 2 || colors[0] == colors[1] {
		t.Errorf("failed and succeeded badges look alike: %v", colors)
	}

	// Filter by action: the select, then the submit button.
	eval[bool](t, ctx, `(() => { const s = document.getElementById("a-action"); s.value = "catalog.entity.updated"; return true; })()`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`.audit-filters button[type="submit"]`)))
	waitFor(t, ctx, `location.search === "?action=catalog.entity.updated" && !!document.querySelector(".audit-table")`)
	actions := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".audit-table td.col-action")).map(td => td.textContent.trim())`)
	if len(actions) == 0 || slices.ContainsFunc(actions, func(a string) bool { return a != "catalog.entity.updated" }) {
		t.Errorf("actions after filtering: %v", actions)
	}
	if got := text(t, ctx, ".audit-table tbody tr:first-child td.col-target"); got != "component:default/audit-demo" {
		t.Fatalf("the newest update is to %q", got)
	}
	shot(t, ctx, "audit-filtered")

	// The event: the entity before and after, side by side.
	do(t, ctx, chromedp.Click(chromedp.CSS(".audit-table tbody tr:first-child a.row-link")))
	waitFor(t, ctx, `location.pathname.startsWith("/audit/events/") && !!document.querySelector(".diff")`)
	row := eval[[]string](t, ctx, `(() => {
		const del = Array.from(document.querySelectorAll("#diff td.diff-line.diff-del")).find(td => td.textContent.includes("Counts parcels."));
		if (!del) return [];
		const add = del.parentElement.querySelector("td.diff-line.diff-add");
		return [String(del.cellIndex), add ? String(add.cellIndex) : "", add ? add.textContent : "",
			String(Math.round(del.getBoundingClientRect().top)), add ? String(Math.round(add.getBoundingClientRect().top)) : ""];
	})()`)
	if len(row) != 5 || row[0] != "1" || row[1] != "3" || !strings.Contains(row[2], `"Counts parcels and letters."`) || row[3] != row[4] {
		t.Errorf("the old description (left) does not face the new one (right): %q", row)
	}
	added := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#diff td.diff-line.diff-add")).map(td => td.textContent.trim())`)
	if !slices.ContainsFunc(added, func(s string) bool { return strings.Contains(s, `"depot"`) }) {
		t.Errorf("the added tag is not an added line: %q", added)
	}
	shot(t, ctx, "audit-event")
	// A folded run of unchanged lines opens, and the patch's operations.
	do(t, ctx, chromedp.Click(chromedp.CSS("#diff details.diff-fold summary")))
	waitFor(t, ctx, `document.querySelector("#diff details.diff-fold").open`)
	do(t, ctx, chromedp.Click(chromedp.CSS("details.patch-ops summary")))
	waitFor(t, ctx, `document.querySelector("details.patch-ops").open`)
	paths := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".ops-table td:nth-child(2)")).map(td => td.textContent.trim())`)
	if !slices.Contains(paths, "/metadata/description") {
		t.Errorf("patch paths: %v", paths)
	}
	shot(t, ctx, "audit-event-open")

	// The entity's History tab, from the entity page.
	open(t, ctx, "/catalog/default/component/audit-demo")
	do(t, ctx, chromedp.Click(chromedp.CSS(`.tabs a[href$="/history"]`)))
	waitFor(t, ctx, `location.pathname === "/catalog/default/component/audit-demo/history"`)
	verbs := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".history-table td.col-verb")).map(td => td.textContent.trim())`)
	if strings.Join(verbs, ",") != "Updated,Created" {
		t.Errorf("versions: %v, want Updated then Created", verbs)
	}
	if got := text(t, ctx, ".history-table tbody tr:first-child td.col-paths"); !strings.Contains(got, "/metadata/description") || !strings.Contains(got, "/metadata/tags") {
		t.Errorf("the update's summary: %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#latest td.diff-line.diff-add").length`); n == 0 {
		t.Error("the history tab shows no side-by-side diff of the latest change")
	}
	shot(t, ctx, "entity-history")
	pages := []struct{ name, path string }{
		{"audit", "/audit"},
		{"audit-event", eval[string](t, ctx, `document.querySelector(".history-table tbody tr:first-child a.row-link").pathname`)},
		{"entity-history", "/catalog/default/component/audit-demo/history"},
	}

	// The creation: nothing on the left, the whole entity added on the right.
	do(t, ctx, chromedp.Click(chromedp.CSS(".history-table tbody tr:last-child a.row-link")))
	waitFor(t, ctx, `location.pathname.startsWith("/audit/events/") && !!document.querySelector("#diff")`)
	if n := eval[int](t, ctx, `document.querySelectorAll("#diff td.diff-line.diff-del").length`); n != 0 {
		t.Errorf("the creation removes %d lines", n)
	}
	if got := text(t, ctx, "#diff .diff-head th:first-child"); !strings.Contains(got, "this event created it") {
		t.Errorf("the creation's left side says %q", got)
	}
	shot(t, ctx, "audit-event-created")

	t.Run("dark mode", func(t *testing.T) {
		do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		}))
		for _, p := range pages {
			open(t, ctx, p.path)
			shot(t, ctx, p.name+"-dark")
		}
	})
	t.Run("phone", func(t *testing.T) {
		do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		for _, p := range pages {
			open(t, ctx, p.path)
			shot(t, ctx, p.name+"-phone-dark")
			// Nothing is wider than the screen but the scrollers of tables and diffs.
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
				t.Errorf("%s is %dpx wide on a 390px screen", p.path, w)
			}
		}
		do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}})
			return err
		}))
		for _, p := range pages {
			open(t, ctx, p.path)
			shot(t, ctx, p.name+"-phone")
		}
	})
}
