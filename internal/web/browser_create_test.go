package web

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserCreate fills a template's form with pickers, submits it with
// a required field missing, fixes it, reviews and creates; then checks a
// conditional field and looks at the pages in dark mode and on a phone.
func TestBrowserCreate(t *testing.T) {
	ctx := tab(t)
	fake := &fakeScaffolder{}
	skeletonZip := filepath.Join(t.TempDir(), "tiny.zip")
	if err := os.WriteFile(skeletonZip, zipOf(t, "skeleton/README.md", "# ${{ values.name }}\n<script>window.__xss = 9</script>\n",
		"skeleton/docs/index.md", "Docs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(env(t).svc, slog.New(slog.DiscardHandler), Options{Title: "Atrium", Scaffolder: fake}))
	t.Cleanup(srv.Close)
	visit := func(path string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(srv.URL+path), chromedp.WaitReady(chromedp.CSS("main")))
	}

	visit("/create")
	shot(t, ctx, "create")
	if n := eval[int](t, ctx, `document.querySelectorAll(".template-card").length`); n != 5 {
		t.Errorf("%d template cards, want 5", n)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/create/templates/default/go-service"]`)))
	waitFor(t, ctx, `location.pathname === "/create/templates/default/go-service" && document.querySelector("#f-name")`)
	if focused := eval[string](t, ctx, `document.activeElement.id`); focused != "f-name" {
		t.Errorf("focus is on %q, want the autofocus field", focused)
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#f-name"), "parcel-api"),
		chromedp.SendKeys(chromedp.CSS("#f-description"), "Parcels, over HTTP."),
		chromedp.SetValue(chromedp.CSS("#f-system"), "system:default/shipment-tracking"),
		chromedp.SetValue(chromedp.CSS("#f-repoUrl-host"), "github.com"),
		chromedp.SetValue(chromedp.CSS("#f-repoUrl-owner"), "acme-logistics"),
		chromedp.SendKeys(chromedp.CSS("#f-repoUrl-repo"), "parcel-api"),
	)
	shot(t, ctx, "create-form")
	// The owner is left out.
	do(t, ctx, chromedp.Click(chromedp.CSS(`.create-form button[type="submit"]`)))
	waitFor(t, ctx, `location.pathname.endsWith("/review") && document.querySelector(".error-summary")`)
	shot(t, ctx, "create-form-errors")
	if got := text(t, ctx, ".error-summary"); !strings.Contains(got, "Owner: Owner is required.") {
		t.Errorf("error summary = %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector("#f-owner").getAttribute("aria-invalid")`); got != "true" {
		t.Errorf("owner aria-invalid = %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector("#f-name").value + "|" + document.querySelector("#f-system").value`); got != "parcel-api|system:default/shipment-tracking" {
		t.Errorf("the values typed are not kept: %q", got)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`.error-summary a`)))
	if got := eval[string](t, ctx, `location.hash`); got != "#f-owner" {
		t.Errorf("the summary link goes to %q", got)
	}

	// Fix it and review.
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-owner"), "group:default/routing-team"),
		chromedp.Click(chromedp.CSS(`.create-form button[type="submit"]`)))
	waitFor(t, ctx, `document.querySelector(".review-table")`)
	shot(t, ctx, "create-review")
	review := eval[string](t, ctx, `Array.from(document.querySelectorAll(".review-table tr")).map(tr => tr.innerText.replace(/\s+/g, " ")).join("; ")`)
	for _, w := range []string{"Name parcel-api", "Owner Routing (group:routing-team)", "Lifecycle experimental"} {
		if !strings.Contains(review, w) {
			t.Errorf("the review lacks %q: %s", w, review)
		}
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`.form-actions button:not([formaction])`)))
	waitFor(t, ctx, `location.pathname === "/create/tasks/task-1"`)
	shot(t, ctx, "create-task")
	got, ok := fake.last()
	if !ok || got.Values["owner"] != "group:default/routing-team" || got.Values["repoUrl"] != "github.com?owner=acme-logistics&repo=parcel-api" ||
		got.Values["system"] != "system:default/shipment-tracking" || got.Template.Name != "go-service" {
		t.Errorf("CreateTask got %+v", got)
	}

	// A field shown by a checkbox.
	visit("/create/templates/default/conditional")
	hidden := `document.querySelector("[data-depends-on='v.withDatabase']").hidden`
	if !eval[bool](t, ctx, hidden) {
		t.Error("the database name is shown before the checkbox is ticked")
	}
	if eval[bool](t, ctx, `document.querySelector("#f-runtime").closest(".form-field").hidden === false`) {
		t.Error("the runtime is shown for a static site")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#f-withDatabase")))
	waitFor(t, ctx, "!"+hidden)
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-kind"), "dynamic"), chromedp.Evaluate[chromedp.Void](
		`document.querySelector("#f-kind").dispatchEvent(new Event("change", {bubbles: true}))`))
	waitFor(t, ctx, `!document.querySelector("#f-runtime").closest(".form-field").hidden && document.querySelector("#f-cdn").closest(".form-field").hidden`)
	shot(t, ctx, "create-conditional")

	// The template editor: paste a template, upload its skeleton, pick
	// values (several entities at once) and dry-run it.
	editorRun := func(name string) {
		t.Helper()
		visit("/create")
		do(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/create/edit"]`)))
		waitFor(t, ctx, `location.pathname === "/create/edit" && document.querySelector("#e-yaml")`)
		do(t, ctx, chromedp.SetValue(chromedp.CSS("#e-yaml"), browserEditorTemplate),
			chromedp.SetUploadFiles(chromedp.CSS("#e-archive"), []string{skeletonZip}),
			chromedp.Click(chromedp.CSS(`button[value="form"]`)))
		waitFor(t, ctx, `document.querySelector("#f-consumers") && document.querySelector("#f-name")`)
		do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-name"), "parcel-api"),
			chromedp.Evaluate[chromedp.Void](`for (const o of document.querySelector("#f-consumers").options) o.selected = ["route-planner", "eta-predictor"].includes(o.value)`),
			chromedp.SendKeys(chromedp.CSS("#f-consumers-other"), "not-yet-built"))
		shot(t, ctx, name+"-form")
		do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="run"]`)))
		waitFor(t, ctx, `document.querySelector(".editor-result")`)
		do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".file-leaf details").forEach(d => d.open = true)`))
		shot(t, ctx, name)
	}
	editorRun("create-editor")
	if got := text(t, ctx, ".editor-result h2"); got != "Dry run completed" {
		t.Errorf("the result's heading is %q", got)
	}
	if got := text(t, ctx, ".dry-run-log"); !strings.Contains(got, "fetch completed Finished step Render") || !strings.Contains(got, "consumers: eta-predictor, route-planner, not-yet-built") {
		t.Errorf("the log is %q", got)
	}
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".file-tree .file-name")).map(e => e.textContent)`); !slices.Equal(got, []string{"docs/", "index.md", "README.md"}) {
		t.Errorf("the file tree is %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector(".file-content[aria-label='README.md']").textContent`); !strings.Contains(got, "# parcel-api\n<script>window.__xss = 9</script>") {
		t.Errorf("README.md shows %q", got)
	}
	if eval[bool](t, ctx, `window.__xss !== undefined`) {
		t.Error("a produced file's content ran as script")
	}
	if got, ok := fake.lastDryRun(); !ok || !slices.Equal(got.Values["consumers"].([]any), []any{"eta-predictor", "route-planner", "not-yet-built"}) {
		t.Errorf("DryRun got %+v", got.Values)
	}
	// The YAML, the values and the files are kept for the next run.
	if got := eval[string](t, ctx, `document.querySelector("#e-yaml").value.split("\n")[3] + "|" + document.querySelector("#f-name").value + "|" + document.querySelector("#f-consumers-other").value + "|" + document.querySelector(".editor-kept summary").textContent`); got != "  name: tiny|parcel-api|not-yet-built|2 files kept (60 bytes)" {
		t.Errorf("kept: %q", got)
	}
	// A typo in the YAML is shown with its line (the values are checked
	// once the template reads).
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-name").value = "";
		document.querySelector("#e-yaml").value = document.querySelector("#e-yaml").value.replace("debug:log", "debug:logg")`),
		chromedp.Click(chromedp.CSS(`button[value="run"]`)))
	waitFor(t, ctx, `document.querySelector(".error-summary") && document.activeElement.id === "error-summary"`)
	shot(t, ctx, "create-editor-errors")
	if got := text(t, ctx, ".error-summary"); !strings.Contains(got, `Template: Line 33: spec.steps[1].action: unknown action "debug:logg"`) {
		t.Errorf("error summary = %q", got)
	}

	pages := []struct{ name, path string }{{"create", "/create"}, {"create-form", "/create/templates/default/every-field"}}
	errorsPage := func(name string) {
		visit("/create/templates/default/every-field")
		do(t, ctx, chromedp.Click(chromedp.CSS(`.create-form button[type="submit"]`)))
		waitFor(t, ctx, `document.querySelector(".error-summary")`)
		shot(t, ctx, name)
	}
	dark := func(on bool) {
		v := "light"
		if on {
			v = "dark"
		}
		do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}}})
			return err
		}))
	}
	t.Run("dark mode", func(t *testing.T) {
		dark(true)
		for _, p := range pages {
			visit(p.path)
			shot(t, ctx, p.name+"-dark")
		}
		errorsPage("create-form-errors-dark")
		editorRun("create-editor-dark")
	})
	t.Run("phone", func(t *testing.T) {
		do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		dark(false)
		for _, p := range pages {
			visit(p.path)
			shot(t, ctx, p.name+"-phone")
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
				t.Errorf("%s is %dpx wide on a 390px screen", p.path, w)
			}
		}
		errorsPage("create-form-errors-phone")
		editorRun("create-editor-phone")
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the editor is %dpx wide on a 390px screen", w)
		}
	})
}

// browserEditorTemplate is the template the browser test dry-runs: it
// renders ./skeleton and logs the consumers picked.
const browserEditorTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: tiny
  title: Tiny
spec:
  owner: group:default/devex-team
  type: service
  parameters:
    - title: About
      required: [name]
      ui:order: [name, consumers]
      properties:
        name:
          title: Name
          type: string
        consumers:
          title: Consumers
          type: array
          ui:field: MultiEntityPicker
          ui:options:
            catalogFilter: {kind: Component, spec.type: service}
            defaultKind: Component
  steps:
    - id: fetch
      name: Render
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: log
      action: debug:log
      input:
        message: "consumers: ${{ parameters.consumers | join(', ') }}"
  output:
    links:
      - title: Docs
        url: https://example.com/${{ parameters.name }}
`
