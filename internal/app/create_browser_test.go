package app_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/config"
)

// TestBrowserCreateServiceFromExample is the software templates'
// acceptance test, in a real browser against the example app as the
// README's run command starts it: a user fills the Go service template's
// form, creates the service, watches the task's log arrive over the event
// stream, opens the new repository on the portal's own git host, clones
// it with git, and finds the new component in the catalog.
func TestBrowserCreateServiceFromExample(t *testing.T) {
	b := startBrowserApp(t, nil)
	base, bctx, run, eval, location := b.base, b.ctx, b.run, b.eval, b.location
	streamed := &b.streamed

	// The catalog may still be stitching the examples: wait for the
	// template itself.
	waitUntil(t, 30*time.Second, func() bool {
		resp, err := http.Get(base + "/api/catalog/entities/by-name/template/default/go-service")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	run("open the template's form", chromedp.Navigate(base+"/create/templates/default/go-service"))
	waitUntil(t, 30*time.Second, func() bool { return eval(`document.querySelector("#f-name") ? "y" : ""`) == "y" })
	if got := eval(`document.querySelector("#f-repoUrl-host").value`); got != "localhost:7007" {
		t.Errorf("the repository host defaults to %q, want the portal's own", got)
	}
	run("fill the form",
		chromedp.SendKeys(chromedp.CSS("#f-name"), "parcel-api"),
		chromedp.SendKeys(chromedp.CSS("#f-description"), "Parcels, over HTTP."),
		chromedp.SetValue(chromedp.CSS("#f-owner"), "group:default/routing-team"),
		chromedp.SetValue(chromedp.CSS("#f-system"), "system:default/shipment-tracking"),
		chromedp.SetValue(chromedp.CSS("#f-repoUrl-owner"), "acme-logistics"),
		chromedp.SendKeys(chromedp.CSS("#f-repoUrl-repo"), "parcel-api"),
		chromedp.Click(chromedp.CSS(`.create-form button[type="submit"]`)))
	waitUntil(t, 15*time.Second, func() bool { return eval(`document.querySelector(".review-table") ? "y" : ""`) == "y" })
	shot(t, bctx, "app-create-review")
	run("create", chromedp.Click(chromedp.CSS(`.form-actions button:not([formaction])`)))
	waitUntil(t, 15*time.Second, func() bool { return strings.HasPrefix(location(), "/create/tasks/") })
	taskPage := location()

	// The page follows the task over its event stream and reloads once it
	// has ended.
	waitUntil(t, 60*time.Second, func() bool {
		return eval(`(document.querySelector("[data-task-status]") || {}).textContent || ""`) == "completed"
	})
	shot(t, bctx, "app-create-task")
	if streamed.Load() == 0 {
		t.Error("the task page received no event-stream messages")
	}
	log := eval(`document.querySelector(".page-body").innerText`)
	for _, want := range []string{"Render the skeleton", "Publish the repository", "Register in the catalog",
		"Published " + base + "/git/acme-logistics/parcel-api"} {
		if !strings.Contains(log, want) {
			t.Errorf("the task page lacks %q:\n%s", want, log)
		}
	}
	links := eval(`Array.from(document.querySelectorAll(".task-links a")).map(a => a.textContent + "=" + a.getAttribute("href")).join(" ")`)
	if want := "Repository=" + base + "/git/acme-logistics/parcel-api.git"; !strings.Contains(links, want) {
		t.Errorf("output links %q lack %q", links, want)
	}

	run("open the repository", chromedp.Click(chromedp.CSS(`.task-links a[href$=".git"]`)))
	waitUntil(t, 15*time.Second, func() bool { return location() == "/git/acme-logistics/parcel-api" })
	shot(t, bctx, "app-create-repository")
	if files := eval(`document.querySelector(".git-tree").innerText`); !strings.Contains(files, "main.go") || !strings.Contains(files, "catalog-info.yaml") {
		t.Errorf("the repository page lists:\n%s", files)
	}

	if _, err := exec.LookPath("git"); err == nil {
		out := filepath.Join(t.TempDir(), "clone")
		cmd := exec.Command("git", "clone", base+"/git/acme-logistics/parcel-api.git", out)
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("git clone: %v\n%s", err, b)
		} else if b, err := os.ReadFile(filepath.Join(out, "catalog-info.yaml")); err != nil || !strings.Contains(string(b), "name: parcel-api") {
			t.Errorf("cloned catalog-info.yaml: %q, %v", b, err)
		}
	}

	run("back to the task", chromedp.Navigate(base+taskPage))
	waitUntil(t, 15*time.Second, func() bool { return location() == taskPage })
	run("open the new component", chromedp.Click(chromedp.CSS(`.task-links a[href^="/catalog/"]`)))
	waitUntil(t, 15*time.Second, func() bool { return location() == "/catalog/default/component/parcel-api" })
	shot(t, bctx, "app-create-component")
	if page := eval(`document.querySelector("main").innerText`); !strings.Contains(page, "Parcels, over HTTP.") || !strings.Contains(page, "routing-team") {
		t.Errorf("the component's page:\n%s", page)
	}
	resp, err := http.Get(base + "/api/catalog/entities/by-name/component/default/parcel-api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the API answers %d for the new component", resp.StatusCode)
	}
}

// shot saves a screenshot of the page to $ATRIUM_SCREENSHOTS/name.png, if
// that is set.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("ATRIUM_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// browserApp is the example app served on a real port, as the README's
// run command starts it, with a chromium tab on it.
type browserApp struct {
	app      *app.App
	base     string
	ctx      context.Context
	run      func(what string, actions ...chromedp.Action[chromedp.Void])
	eval     func(js string) string
	location func() string
	// streamed counts the event-stream messages the tab received.
	streamed atomic.Int32
}

// startBrowserApp starts it, with configure (if not nil) changing the
// example configuration first.
func startBrowserApp(t *testing.T, configure func(cfg *config.Config)) *browserApp {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): skipping the browser test")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := config.Default()
	cfg.Backend.BaseURL, cfg.App.BaseURL = base, base
	cfg.Backend.Database = config.Database{Client: config.ClientSQLite, Connection: config.DatabaseConnection{Directory: dir}}
	cfg.Catalog.Locations[0].Target = filepath.Join(examplesDir(t), "all.yaml")
	// The example template offers localhost:7007, the default base URL's
	// host; this server listens elsewhere.
	cfg.Scaffolder.LocalGit.Host = "localhost:7007"
	if configure != nil {
		configure(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Run listens on the configured address: the port is free again
	cfg.Backend.Listen = config.Listen{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() { done <- a.Run(ctx, func(addr string) { ready <- addr }) }()
	t.Cleanup(func() {
		stop()
		<-done
		a.Close()
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the app stopped: %v", err)
	}
	waitUntil(t, 30*time.Second, func() bool {
		due, stitch, err := a.Store.Pending(context.Background())
		return err == nil && due == 0 && stitch == 0
	})

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.WindowSize(1280, 900))
	t.Cleanup(cancelAlloc)
	b := &browserApp{}
	bctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		if _, ok := ev.(*network.EventEventSourceMessageReceived); ok {
			b.streamed.Add(1)
		}
	}))
	t.Cleanup(cancel)
	bctx, cancelTimeout := context.WithTimeout(bctx, 120*time.Second)
	t.Cleanup(cancelTimeout)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		if err != nil {
			return ""
		}
		return s
	}
	location := func() string {
		return eval(`document.readyState === "complete" ? location.pathname : ""`)
	}

	b.app, b.base, b.ctx, b.run, b.eval, b.location = a, base, bctx, run, eval, location
	return b
}

// TestBrowserDocsFromExample is TechDocs' acceptance test in a real
// browser against the example app: the docs built at start are listed, a
// page reads with its nav, a relative link and a TOC entry work, the
// in-docs search finds a section, and Rebuild streams a real build's log
// and reloads the page.
func TestBrowserDocsFromExample(t *testing.T) {
	b := startBrowserApp(t, nil)
	run, eval, location := b.run, b.eval, b.location
	const home = "/docs/default/component/shipment-service/"
	// The app builds the example docs in the background after start.
	waitUntil(t, 60*time.Second, func() bool {
		st, err := b.app.Docs.State(b.ctx, entity.Ref{Kind: "Component", Namespace: "default", Name: "shipment-service"})
		return err == nil && !st.Built.IsZero()
	})

	run("open the docs list", chromedp.Navigate(b.base+"/docs"), chromedp.WaitVisible(chromedp.CSS(".docs-table")))
	if got := eval(`Array.from(document.querySelectorAll(".docs-table a.row-link")).map(a => a.textContent.trim()).join("|")`); !strings.Contains(got, "Shipment Service") || !strings.Contains(got, "Route Planner") {
		t.Errorf("the docs list shows %q", got)
	}
	run("open the shipment service's docs", chromedp.Click(chromedp.CSS(`.docs-table a.row-link[href="`+home+`"]`)))
	waitUntil(t, 15*time.Second, func() bool { return location() == home })
	shot(t, b.ctx, "app-docs-home")

	// A relative link in the article, to a page in another section.
	run("follow a link", chromedp.Click(chromedp.CSS(`.docs-article a[href="concepts/architecture/#outbox"]`)))
	waitUntil(t, 15*time.Second, func() bool { return location() == home+"concepts/architecture/" })
	if got := eval(`document.querySelector(".docs-nav a[aria-current=page]").textContent.trim()`); got != "Architecture" {
		t.Errorf("the nav marks %q", got)
	}
	run("use the TOC", chromedp.Click(chromedp.CSS(`.docs-toc a[href="#outbox"]`)))
	waitUntil(t, 5*time.Second, func() bool { return eval(`location.hash`) == "#outbox" })
	if eval(`(() => { const r = document.getElementById("outbox").getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight ? "y" : ""; })()`) != "y" {
		t.Error("the TOC entry did not bring its heading into view")
	}

	run("search the docs", chromedp.SendKeys(chromedp.CSS("#docs-q"), "failover"),
		chromedp.Click(chromedp.CSS(`.docs-search button[type="submit"]`)))
	waitUntil(t, 15*time.Second, func() bool { return eval(`document.querySelector(".docs-hits") ? "y" : ""`) == "y" })
	shot(t, b.ctx, "app-docs-search")
	run("open the first hit", chromedp.Click(chromedp.CSS(`.docs-hits li:first-child a`)))
	waitUntil(t, 15*time.Second, func() bool { return strings.HasPrefix(location(), home+"operations/") })

	eval(`(window.__before = "y")`)
	before := b.streamed.Load()
	run("rebuild", chromedp.Click(chromedp.CSS(`button[data-docs-rebuild]`)))
	// The page shows the build's log, then reloads when it finishes.
	waitUntil(t, 60*time.Second, func() bool {
		return eval(`window.__before || ""`) == "" && eval(`document.querySelector(".docs-article") ? "y" : ""`) == "y"
	})
	if b.streamed.Load() == before {
		t.Error("Rebuild received no build log over the event stream")
	}
	shot(t, b.ctx, "app-docs-rebuilt")
}
