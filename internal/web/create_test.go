package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder"
)

// fakeScaffolder records the tasks it is asked to start; its dry runs
// are the real scaffolder's (which needs no database for them).
type fakeScaffolder struct {
	mu    sync.Mutex
	calls []fakeTask
	// err, if set, is returned instead of starting a task.
	err error
	// dryErr, if set, is returned instead of a dry run.
	dryErr  error
	dryRuns []fakeDryRun
}

type fakeDryRun struct {
	Template json.RawMessage
	Values   map[string]any
	Files    map[string][]byte
}

func (f *fakeScaffolder) DryRun(ctx context.Context, tmpl json.RawMessage, values map[string]any, files map[string][]byte) (*scaffolder.DryRunResult, error) {
	f.mu.Lock()
	f.dryRuns = append(f.dryRuns, fakeDryRun{tmpl, values, files})
	err := f.dryErr
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return scaffolder.NewService(nil, nil).DryRun(ctx, tmpl, values, files)
}

func (f *fakeScaffolder) lastDryRun() (fakeDryRun, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.dryRuns) == 0 {
		return fakeDryRun{}, false
	}
	return f.dryRuns[len(f.dryRuns)-1], true
}

type fakeTask struct {
	Template entity.Ref
	Values   map[string]any
	Secrets  map[string]string
}

func (f *fakeScaffolder) CreateTask(_ context.Context, tmpl entity.Ref, values map[string]any, secrets map[string]string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.calls = append(f.calls, fakeTask{tmpl, values, secrets})
	return "task-" + string(rune('0'+len(f.calls))), nil
}

func (f *fakeScaffolder) last() (fakeTask, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return fakeTask{}, false
	}
	return f.calls[len(f.calls)-1], true
}

// createSite is the UI over the shared test catalog with a scaffolder,
// and a client that has visited it (so it holds the CSRF cookie).
type createSite struct {
	url   string
	c     *http.Client
	token string
}

func newCreateSite(t *testing.T, s Scaffolder) *createSite {
	t.Helper()
	return newCreateSiteAs(t, s, nil)
}

// newCreateSiteAs is newCreateSite with requests made as id (nil: no one
// signed in, with sign-in off).
func newCreateSiteAs(t *testing.T, s Scaffolder, id *auth.Identity) *createSite {
	t.Helper()
	e := env(t)
	opts := Options{Title: "Atrium"}
	if s != nil {
		opts.Scaffolder = s
	}
	h := NewHandler(e.svc, slog.New(slog.DiscardHandler), opts)
	if id != nil {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), *id)))
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	site := &createSite{url: srv.URL, c: e.client()}
	_, body := site.get(t, "/create/templates/default/every-field")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the form has no CSRF field")
	}
	site.token = m[1]
	return site
}

func (s *createSite) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := s.c.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post posts form (with the CSRF token) and returns the response's
// status, Location and body.
func (s *createSite) post(t *testing.T, path string, form url.Values) (int, string, string) {
	t.Helper()
	form = cloneValues(form)
	form.Set("csrf", s.token)
	resp, err := s.c.PostForm(s.url+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// validEveryField is a valid form for the every-field template.
func validEveryField() url.Values {
	return url.Values{
		"v.name": {"my-lib"}, "v.summary": {"A library"}, "v.token": {"s3cret-token"}, "v.email": {"a@example.com"},
		"v.flavour": {"chocolate"}, "v.size": {"l"}, "v.count": {"2"}, "v.ratio": {"0.5"}, "v.public": {"true"},
		"v.regions": {"eu", "ap"}, "v.features": {"tracing"}, "v.hosts": {"a.example.com\n\n b.example.com \n"},
		"v.system": {"shipment-tracking"}, "v.owner": {"group:default/routing-team"}, "v.component": {"my-lib"},
		"v.labels": {"go, library"}, "v.repoUrl.host": {"github.com"}, "v.repoUrl.owner": {"acme-logistics"},
		"v.repoUrl.repo": {"my-lib"}, "v.apiKey": {"key-123"}, "v.internalNote": {"note-not-reviewed"},
		"v.database.engine": {"postgres"}, "v.database.sizeGb": {"10"},
	}
}

func TestCreateList(t *testing.T) {
	e := env(t)
	tests := []struct {
		name, path    string
		want, notWant []string
	}{
		{"all", "/create", []string{"<h1>Create a new component</h1>", "Go service", "Every field <b>bold</b>", "Conditional fields",
			`id="type-library"`, `id="type-service"`, `id="type-website"`, "5 templates", noScaffolderMessage,
			`href="/create/templates/default/go-service"`, `<a href="/create" aria-current="page">`, "routing-team"}, nil},
		{"text", "/create?text=CONDITIONAL", []string{"Conditional fields", "1 template match these filters", "Clear filters"}, []string{"Go service"}},
		{"text in description", "/create?text=production-ready", []string{"Go service"}, []string{"Conditional fields"}},
		{"tag", "/create?tag=go", []string{"Go service", "Every field", `value="go" checked`}, []string{"Conditional fields"}},
		{"two tags", "/create?tag=go&tag=web", []string{"Go service", "Conditional fields"}, nil},
		{"owner name", "/create?owner=storefront-team", []string{"Conditional fields"}, []string{"Go service", "Every field"}},
		{"owner ref", "/create?owner=group:default/devex-team", []string{"Go service"}, []string{"Conditional fields"}},
		{"no match", "/create?text=nothing-like-this", []string{"No templates match these filters."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.mustGet(t, tt.path)
			text := unescapeHTML(body)
			for _, w := range tt.want {
				if !strings.Contains(body, w) && !strings.Contains(text, w) {
					t.Errorf("GET %s lacks %q\n%s", tt.path, w, excerpt(body))
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(text, w) {
					t.Errorf("GET %s has %q", tt.path, w)
				}
			}
			if strings.Contains(body, "<script>window.__xss") || strings.Contains(body, "<b>bold</b>") {
				t.Errorf("GET %s renders template text as markup", tt.path)
			}
		})
	}
}

func TestCreateFormFields(t *testing.T) {
	e := env(t)
	body := e.mustGet(t, "/create/templates/default/every-field")
	for _, w := range []string{
		`<h1>Every field &lt;b&gt;bold&lt;/b&gt;</h1>`, "&lt;script&gt;window.__xss = 3",
		`<form class="create-form" method="post" action="/create/templates/default/every-field/review" novalidate>`,
		// string with pattern, lengths, help, placeholder, autofocus, required
		`<input id="f-name" type="text" name="v.name" value="" autocomplete="off" pattern="^[a-z]&#43;(-[a-z]&#43;)*$" minlength="3" maxlength="20" placeholder="my-library" required aria-required="true" autofocus`,
		`Help &lt;i&gt;text&lt;/i&gt;`, `<span class="required-mark" aria-hidden="true">*</span>`,
		`<textarea id="f-summary" name="v.summary" rows="5"`,
		`<input id="f-token" type="password" name="v.token"`,
		`<input id="f-email" type="email" name="v.email"`,
		// enum with enumNames, markup escaped
		`<option value="vanilla">Vanilla &lt;img src=x onerror=alert(1)&gt;</option>`,
		`<input id="f-size-2" name="v.size" value="l" type="radio">`, `<input id="f-size-1" name="v.size" value="m" type="radio" checked>`,
		`<input id="f-count" type="number" name="v.count" value="2" step="1" min="1" max="5"`,
		`<input id="f-ratio" type="number" name="v.ratio" value="" step="any"`,
		`<input type="checkbox" id="f-public" name="v.public" value="true" checked`,
		`<input id="f-regions-0" name="v.regions" value="eu" type="checkbox"><span class="check-label">Europe</span>`,
		`<select id="f-features" name="v.features" multiple size="2"`,
		`<textarea id="f-hosts" name="v.hosts" rows="3"`,
		// pickers from the catalog
		`<option value="shipment-tracking">Shipment Tracking (system:shipment-tracking)</option>`,
		`<option value="group:default/routing-team">`,
		`<input id="f-component" type="text" name="v.component" value="" autocomplete="off" pattern="^([A-Za-z0-9][\-_.A-Za-z0-9]*)?[A-Za-z0-9]$" maxlength="63"`,
		`<input id="f-labels" type="text" name="v.labels"`,
		`<select id="f-repoUrl-host" name="v.repoUrl.host"><option value="github.com">github.com</option><option value="gitlab.com">gitlab.com</option>`,
		`<select id="f-repoUrl-owner" name="v.repoUrl.owner">`, `<option value="acme-labs">acme-labs</option>`,
		`<input id="f-apiKey" type="password" name="v.apiKey"`,
		`<fieldset class="form-object">`, `<select id="f-database-engine" name="v.database.engine" required`,
		noScaffolderMessage,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("the form lacks %s", w)
		}
	}
	for _, bad := range []string{`value="group:default/acme-logistics"`, `value="system:shipment-tracking"`, "<script>window", "<i>text</i>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the form has %s", bad)
		}
	}
	cond := e.mustGet(t, "/create/templates/default/conditional")
	for _, w := range []string{
		`data-depends-on="v.withDatabase" data-depends-values="[&#34;true&#34;]"`,
		`data-depends-on="v.kind" data-depends-values="[&#34;dynamic&#34;]"`,
		`data-depends-on="v.kind" data-depends-values="[&#34;dynamic&#34;]" data-depends-not`,
		`name="v.dbName"`, `name="v.runtime"`, `name="v.cdn"`,
	} {
		if !strings.Contains(cond, w) {
			t.Errorf("the conditional form lacks %s", w)
		}
	}
	if code, _ := e.get(t, e.client(), "/create/templates/default/nope"); code != http.StatusNotFound {
		t.Errorf("missing template = %d, want 404", code)
	}
}

func TestCreateValidation(t *testing.T) {
	site := newCreateSite(t, &fakeScaffolder{})
	tests := []struct {
		name   string
		edit   func(url.Values)
		anchor string
		msg    string
		// kept is what the form shows again.
		kept string
	}{
		{"required", func(v url.Values) { v.Del("v.name") }, "f-name", "Name is required.", ""},
		{"required blank", func(v url.Values) { v.Set("v.name", "   ") }, "f-name", "Name is required.", ""},
		{"pattern", func(v url.Values) { v.Set("v.name", "Bad_Name") }, "f-name", "does not have the expected format", `value="Bad_Name"`},
		{"min length", func(v url.Values) { v.Set("v.name", "ab") }, "f-name", "Enter at least 3 characters.", `value="ab"`},
		{"max length", func(v url.Values) { v.Set("v.name", strings.Repeat("a", 21)) }, "f-name", "Enter at most 20 characters.", ""},
		{"enum", func(v url.Values) { v.Set("v.flavour", "strawberry") }, "f-flavour", "Choose one of the options.", ""},
		{"radio enum", func(v url.Values) { v.Set("v.size", "xl") }, "f-size-0", "Choose one of the options.", ""},
		{"integer", func(v url.Values) { v.Set("v.count", "1.5") }, "f-count", "Enter a whole number.", `value="1.5"`},
		{"minimum", func(v url.Values) { v.Set("v.count", "0") }, "f-count", "Enter 1 or more.", `value="0"`},
		{"maximum", func(v url.Values) { v.Set("v.count", "6") }, "f-count", "Enter 5 or less.", ""},
		{"number", func(v url.Values) { v.Set("v.ratio", "abc") }, "f-ratio", "Enter a number.", `value="abc"`},
		{"checkboxes", func(v url.Values) { v.Add("v.regions", "mars") }, "f-regions-0", `"mars" is not one of the choices.`, ""},
		{"picker not a ref", func(v url.Values) { v.Set("v.system", "not a ref!") }, "f-system", `"not a ref!" is not an entity ref: write it as [kind:][namespace/]name, for example system:default/name.`, `value="not a ref!"`},
		{"picker wrong kind", func(v url.Values) { v.Set("v.system", "component:default/parcel-api") }, "f-system", `"component:default/parcel-api" is of kind Component: choose one of kind System.`, ""},
		{"owner outside filter", func(v url.Values) { v.Set("v.owner", "group:default/acme-logistics") }, "f-owner", "is not one of the entities offered.", ""},
		{"multi picker not a ref", func(v url.Values) { v.Set("v.consumers.other", "route-planner\nno good") }, "f-consumers", `"no good" is not an entity ref`, ""},
		{"multi picker wrong kind", func(v url.Values) { v.Set("v.consumers.other", "api:route-planner-api") }, "f-consumers", `"api:route-planner-api" is of kind API: choose one of kind Component.`, ""},
		{"multi picker forged choice", func(v url.Values) { v.Set("v.consumers", "api:route-planner-api") }, "f-consumers", `is of kind API`, ""},
		{"owned picker anonymous", func(v url.Values) { v.Set("v.mine", "component:default/route-planner") }, "f-mine", `is not one of the entities offered.`, ""},
		{"groups picker anonymous", func(v url.Values) { v.Set("v.team", "group:default/routing-team") }, "f-team", `is not one of the entities offered.`, ""},
		{"picker required", func(v url.Values) { v.Del("v.system") }, "f-system", "System is required.", ""},
		{"entity name", func(v url.Values) { v.Set("v.component", "-bad") }, "f-component", "starting and ending with a letter or digit", `value="-bad"`},
		{"tags", func(v url.Values) { v.Set("v.labels", "go, Not Valid") }, "f-labels", `"Not Valid" is not a valid tag`, `value="go, Not Valid"`},
		{"repo owner", func(v url.Values) { v.Set("v.repoUrl.owner", "evil") }, "f-repoUrl-host", "Choose one of the allowed owners.", ""},
		{"repo host", func(v url.Values) { v.Set("v.repoUrl.host", "example.com") }, "f-repoUrl-host", "Choose one of the allowed hosts.", ""},
		{"repo name", func(v url.Values) { v.Set("v.repoUrl.repo", "") }, "f-repoUrl-host", "Enter the repository's name.", ""},
		{"repo required", func(v url.Values) { v.Del("v.repoUrl.host"); v.Del("v.repoUrl.owner"); v.Del("v.repoUrl.repo") }, "f-repoUrl-host", "Enter the repository's owner and name.", ""},
		{"object required", func(v url.Values) { v.Del("v.database.engine") }, "f-database-engine", "Engine is required.", ""},
		{"object maximum", func(v url.Values) { v.Set("v.database.sizeGb", "101") }, "f-database-sizeGb", "Enter 100 or less.", `value="101"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := validEveryField()
			tt.edit(form)
			code, _, body := site.post(t, "/create/templates/default/every-field/review", form)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("review = %d, want 422\n%s", code, excerpt(body))
			}
			text := unescapeHTML(body)
			if !strings.Contains(text, tt.msg) {
				t.Errorf("no message %q\n%s", tt.msg, excerpt(body))
			}
			if !strings.Contains(body, `<a href="#`+tt.anchor+`">`) {
				t.Errorf("the summary does not link to #%s", tt.anchor)
			}
			if !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, `class="field-error"`) {
				t.Error("no field is marked invalid")
			}
			if got := strings.Count(body, `class="field-error"`); got != 1 {
				t.Errorf("%d field errors, want 1", got)
			}
			if tt.kept != "" && !strings.Contains(body, tt.kept) {
				t.Errorf("the form does not keep %s", tt.kept)
			}
			// What the user typed elsewhere is kept too.
			if !strings.Contains(body, `value="a@example.com"`) || !strings.Contains(body, `<option value="chocolate" selected>`) &&
				tt.name != "enum" {
				t.Error("the form lost the other values")
			}
		})
	}
}

func TestCreateReviewAndRun(t *testing.T) {
	fake := &fakeScaffolder{}
	site := newCreateSite(t, fake)
	code, _, body := site.post(t, "/create/templates/default/every-field/review", validEveryField())
	if code != http.StatusOK {
		t.Fatalf("review = %d\n%s", code, excerpt(body))
	}
	text := unescapeHTML(body)
	for _, w := range []string{"<h1>Review: Every field <b>bold</b></h1>", "<th scope=\"row\">Name</th><td>my-lib</td>",
		"<th scope=\"row\">Flavour</th><td>Chocolate (chocolate)</td>", "<th scope=\"row\">Public</th><td>Yes</td>",
		"<th scope=\"row\">Regions</th><td>Europe (eu), Asia (ap)</td>", "<th scope=\"row\">Database › Engine</th><td>postgres</td>",
		"<th scope=\"row\">Token</th><td><span class=\"masked\">••••••••</span>", "<th scope=\"row\">API key</th><td><span class=\"masked\">",
		`formaction="/create/templates/default/every-field/edit"`, `<button class="button" type="submit">Create</button>`} {
		if !strings.Contains(text, w) {
			t.Errorf("the review lacks %s", w)
		}
	}
	if strings.Contains(text, "<td>s3cret-token") || strings.Contains(text, "<td>key-123") {
		t.Error("the review shows a secret")
	}
	if strings.Contains(text, "Internal note") {
		t.Error("the review shows a field with ui:backstage.review.show false")
	}
	// The review carries the values on in hidden fields.
	hidden := url.Values{}
	for _, m := range hiddenInputRe.FindAllStringSubmatch(body, -1) {
		hidden.Add(unescapeHTML(m[1]), unescapeHTML(m[2]))
	}
	if got := hidden.Get("v.internalNote"); got != "note-not-reviewed" {
		t.Errorf("hidden internalNote = %q", got)
	}

	// Back to the form keeps the values.
	code, _, body = site.post(t, "/create/templates/default/every-field/edit", hidden)
	if code != http.StatusOK || !strings.Contains(body, `value="my-lib"`) || !strings.Contains(body, `<option value="acme-logistics" selected>`) {
		t.Errorf("edit = %d, values not kept\n%s", code, excerpt(body))
	}

	code, loc, body := site.post(t, "/create/templates/default/every-field/create", hidden)
	if code != http.StatusSeeOther || loc != "/create/tasks/task-1" {
		t.Fatalf("create = %d to %q\n%s", code, loc, excerpt(body))
	}
	got, _ := fake.last()
	want := fakeTask{
		Template: entity.Ref{Kind: "Template", Namespace: "default", Name: "every-field"},
		Values: map[string]any{
			"name": "my-lib", "summary": "A library", "email": "a@example.com", "flavour": "chocolate", "size": "l",
			"count": int64(2), "ratio": 0.5, "public": true, "regions": []any{"eu", "ap"}, "features": []any{"tracing"},
			"hosts": []any{"a.example.com", "b.example.com"}, "system": "shipment-tracking", "owner": "group:default/routing-team",
			"component": "my-lib", "labels": []any{"go", "library"}, "repoUrl": "github.com?owner=acme-logistics&repo=my-lib",
			"internalNote": "note-not-reviewed", "database": map[string]any{"engine": "postgres", "sizeGb": int64(10)},
		},
		Secrets: map[string]string{"token": "s3cret-token", "apiKey": "key-123"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateTask (-want +got):\n%s", diff)
	}

	code, body = site.get(t, loc)
	if code != http.StatusOK || !strings.Contains(body, "Task task-1 started") ||
		!strings.Contains(body, `href="/api/scaffolder/v2/tasks/task-1/events"`) || !strings.Contains(body, `href="/create">Back to Create`) {
		t.Errorf("task page = %d\n%s", code, excerpt(body))
	}

	// A create that no longer validates shows the form again.
	bad := cloneValues(hidden)
	bad.Set("v.count", "9")
	if code, _, body := site.post(t, "/create/templates/default/every-field/create", bad); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Enter 5 or less.") {
		t.Errorf("create with a bad value = %d", code)
	}
}

// hiddenInputRe finds the review page's hidden value fields.
var hiddenInputRe = regexp.MustCompile(`<input type="hidden" name="(v\.[^"]+)" value="([^"]*)">`)

func TestCreateTaskInvalid(t *testing.T) {
	site := newCreateSite(t, &fakeScaffolder{err: derrors.Invalid("name: a repository <b>my-lib</b> exists already")})
	code, _, body := site.post(t, "/create/templates/default/every-field/create", validEveryField())
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("create = %d, want 422", code)
	}
	if !strings.Contains(body, "The task could not be started") || !strings.Contains(body, "name: a repository &lt;b&gt;my-lib&lt;/b&gt; exists already") {
		t.Errorf("the scaffolder's message is not shown\n%s", excerpt(body))
	}
	if !strings.Contains(body, `value="my-lib"`) {
		t.Error("the values are not kept")
	}
}

func TestCreateWithoutScaffolder(t *testing.T) {
	site := newCreateSite(t, nil)
	code, _, body := site.post(t, "/create/templates/default/every-field/review", validEveryField())
	if code != http.StatusOK || !strings.Contains(body, noScaffolderMessage) || strings.Contains(body, ">Create</button>") {
		t.Errorf("review without a scaffolder = %d, or it offers Create", code)
	}
	code, _, body = site.post(t, "/create/templates/default/every-field/create", validEveryField())
	if code != http.StatusNotImplemented || !strings.Contains(body, noScaffolderMessage) {
		t.Errorf("create without a scaffolder = %d\n%s", code, excerpt(body))
	}
}

func TestCreateConditional(t *testing.T) {
	fake := &fakeScaffolder{}
	site := newCreateSite(t, fake)
	tests := []struct {
		name string
		form url.Values
		// want are the values sent, or err the field error.
		want map[string]any
		err  string
	}{
		{"boolean on needs its field", url.Values{"v.withDatabase": {"true"}, "v.kind": {"static"}, "v.cdn": {"fastly"}}, nil, "Database name is required."},
		{"boolean on", url.Values{"v.withDatabase": {"true"}, "v.dbName": {"db"}, "v.kind": {"static"}, "v.cdn": {"fastly"}},
			map[string]any{"withDatabase": true, "dbName": "db", "kind": "static", "cdn": "fastly"}, ""},
		{"boolean off drops its field", url.Values{"v.dbName": {"db"}, "v.kind": {"static"}, "v.cdn": {"fastly"}},
			map[string]any{"withDatabase": false, "kind": "static", "cdn": "fastly"}, ""},
		{"then needs its field", url.Values{"v.kind": {"dynamic"}}, nil, "Runtime is required."},
		{"then", url.Values{"v.kind": {"dynamic"}, "v.runtime": {"go"}, "v.cdn": {"ignored"}},
			map[string]any{"withDatabase": false, "kind": "dynamic", "runtime": "go"}, ""},
		{"else needs its field", url.Values{"v.kind": {"static"}, "v.runtime": {"go"}}, nil, "CDN is required."},
		{"then checks its enum", url.Values{"v.kind": {"dynamic"}, "v.runtime": {"cobol"}}, nil, "Choose one of the options."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := site.post(t, "/create/templates/default/conditional/create", tt.form)
			if tt.err != "" {
				if code != http.StatusUnprocessableEntity || !strings.Contains(body, tt.err) {
					t.Errorf("create = %d, want 422 with %q\n%s", code, tt.err, excerpt(body))
				}
				return
			}
			if code != http.StatusSeeOther {
				t.Fatalf("create = %d\n%s", code, excerpt(body))
			}
			got, _ := fake.last()
			if diff := cmp.Diff(tt.want, got.Values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCreatePagesSafe checks the Create pages for inline script and the
// CSRF field of their forms.
func TestCreatePagesSafe(t *testing.T) {
	site := newCreateSite(t, &fakeScaffolder{})
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<style|\sstyle="|\son[a-z]+="`)
	form := regexp.MustCompile(`(?s)<form[^>]*method="post"[^>]*>.*?</form>`)
	pages := map[string]string{}
	for _, p := range []string{"/create", "/create/templates/default/every-field", "/create/templates/default/conditional", "/create/tasks/x"} {
		_, pages[p] = site.get(t, p)
	}
	_, _, pages["review"] = site.post(t, "/create/templates/default/every-field/review", validEveryField())
	_, _, pages["invalid"] = site.post(t, "/create/templates/default/every-field/review", url.Values{})
	_, pages["editor"] = site.get(t, "/create/edit?template=default/every-field")
	_, pages["editor result"] = site.postFiles(t, "/create/edit", url.Values{"yaml": {editorTemplate}, "op": {"run"}, "v.name": {"x"}},
		upload{"archive", "t.zip", skeleton(t)})
	_, pages["editor errors"] = site.postFiles(t, "/create/edit", url.Values{"yaml": {"kind: ["}, "op": {"run"}})
	for name, body := range pages {
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s has inline script or style: %q", name, m)
		}
		for _, f := range form.FindAllString(body, -1) {
			if !csrfInput.MatchString(f) {
				t.Errorf("%s: a form lacks the CSRF field", name)
			}
		}
	}
}

// optionValues lists the values of the options of the select or datalist
// with the given id.
func optionValues(t *testing.T, body, id string) []string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<(?:select|datalist) id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</(?:select|datalist)>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no select or datalist #%s\n%s", id, excerpt(body))
	}
	var out []string
	for _, o := range regexp.MustCompile(`<option value="([^"]*)"`).FindAllStringSubmatch(m[1], -1) {
		if o[1] != "" {
			out = append(out, unescapeHTML(o[1]))
		}
	}
	return out
}

func TestCreatePickers(t *testing.T) {
	mateo := auth.User("user:default/mateo-alvarez", []string{"group:default/routing-team"})
	tests := []struct {
		name string
		id   *auth.Identity
		// want are the values offered, by the id of the select or datalist.
		want map[string][]string
		// notes are the fields' notes shown.
		notes []string
	}{
		{"anonymous", nil, map[string][]string{
			"f-consumers": {"analytics-ingest", "customer-gateway", "eta-predictor", "label-renderer", "route-planner", "shipment-service", "tracking-notifier"},
			"f-mine":      nil, "f-team": nil,
		}, []string{"Sign in to choose from the entities you own", "Sign in to choose one of your groups"}},
		{"signed in", &mateo, map[string][]string{
			// Owned through the routing team, of the kinds the filter allows
			// (not the system it also owns).
			"f-mine": {"api:default/route-planner-api", "component:default/eta-predictor", "component:default/geo-toolkit", "component:default/route-planner"},
			// A member of the routing team only: not of its parent group,
			// which the user's ownership refs could hold.
			"f-team": {"group:default/routing-team"},
		}, nil},
		{"signed in, owning nothing", &auth.Identity{Kind: auth.KindUser, UserRef: "user:default/newcomer", OwnershipRefs: []string{"user:default/newcomer"}},
			map[string][]string{"f-mine": nil, "f-team": nil},
			[]string{"You own no entities that this field offers.", "You are not a member of any group in the catalog."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newCreateSiteAs(t, &fakeScaffolder{}, tt.id)
			_, body := site.get(t, "/create/templates/default/every-field")
			for id, want := range tt.want {
				got := optionValues(t, body, id)
				if id == "f-consumers" {
					got = slices.DeleteFunc(got, func(s string) bool { return strings.HasPrefix(s, "script-") })
				}
				slices.Sort(got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s offers (-want +got):\n%s", id, diff)
				}
			}
			for _, n := range tt.notes {
				if !strings.Contains(unescapeHTML(body), n) {
					t.Errorf("the form does not say %q", n)
				}
			}
		})
	}

	// The controls: a closed select where arbitrary values are not
	// allowed, else a text input with suggestions.
	_, body := newCreateSite(t, nil).get(t, "/create/templates/default/every-field")
	for _, w := range []string{
		`<input id="f-system" type="text" name="v.system" value="" list="f-system-list"`,
		`<datalist id="f-system-list"><option value="analytics-platform">Analytics Platform (system:analytics-platform)</option>`,
		`<select id="f-owner" name="v.owner"`,
		`<select id="f-consumers" name="v.consumers" multiple`,
		`<label class="sub-label" for="f-consumers-other">Other entity refs, one a line</label>`,
		`<textarea id="f-consumers-other" name="v.consumers.other"`,
		`<select id="f-mine" name="v.mine"`,
		`aria-describedby="f-mine-desc f-mine-help f-mine-note f-mine-error"`,
		`<p class="hint field-note" id="f-mine-note">`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("the form lacks %s", w)
		}
	}
}

func TestCreatePickerValues(t *testing.T) {
	mateo := auth.User("user:default/mateo-alvarez", []string{"group:default/routing-team"})
	fake := &fakeScaffolder{}
	site := newCreateSiteAs(t, fake, &mateo)
	form := validEveryField()
	// A system not in the catalog yet: arbitrary values are allowed.
	form.Set("v.system", "system:default/new-system")
	form["v.consumers"] = []string{"route-planner", "eta-predictor"}
	form.Set("v.consumers.other", "not-yet-built\nComponent:default/Route-Planner, ops/billing")
	form.Set("v.mine", "api:default/route-planner-api")
	form.Set("v.team", "group:default/routing-team")
	code, _, body := site.post(t, "/create/templates/default/every-field/review", form)
	if code != http.StatusOK {
		t.Fatalf("review = %d\n%s", code, excerpt(body))
	}
	text := unescapeHTML(body)
	for _, w := range []string{
		`<th scope="row">System</th><td>new-system</td>`,
		`<th scope="row">Consumers</th><td>Route Planner (component:route-planner), ETA Predictor (component:eta-predictor), not-yet-built, ops/billing</td>`,
		`<th scope="row">One of mine</th><td>Route Planner API (api:route-planner-api)</td>`,
		`<th scope="row">My team</th><td>Routing (group:routing-team)</td>`,
	} {
		if !strings.Contains(text, w) {
			t.Errorf("the review lacks %s", w)
		}
	}
	hidden := url.Values{}
	for _, m := range hiddenInputRe.FindAllStringSubmatch(body, -1) {
		hidden.Add(unescapeHTML(m[1]), unescapeHTML(m[2]))
	}
	code, _, body = site.post(t, "/create/templates/default/every-field/create", hidden)
	if code != http.StatusSeeOther {
		t.Fatalf("create = %d\n%s", code, excerpt(body))
	}
	got, _ := fake.last()
	want := map[string]any{
		"system":    "new-system",
		"consumers": []any{"route-planner", "eta-predictor", "not-yet-built", "ops/billing"},
		"mine":      "api:default/route-planner-api",
		"team":      "group:default/routing-team",
	}
	for k, w := range want {
		if diff := cmp.Diff(w, got.Values[k]); diff != "" {
			t.Errorf("value %s (-want +got):\n%s", k, diff)
		}
	}
}
