package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/audit"
)

// TestPages fetches every page of the UI over HTTP from the example
// catalog and checks its status and some of its content.
func TestPages(t *testing.T) {
	e := env(t)
	tests := []struct {
		name, path string
		status     int
		want       []string
		notWant    []string
	}{
		{"home", "/", 200, []string{"<h1>Atrium</h1>", "Components"}, nil},
		{"catalog default kind", "/catalog", 200, []string{"<h1>Components</h1>", "Shipment Service", "1–14 of 14"}, []string{"Shipments API"}},
		{"catalog all kinds", "/catalog?filters%5Bkind%5D=all", 200, []string{"All entities", "1–20 of 67"}, nil},
		{"catalog kind", "/catalog?filters[kind]=api", 200, []string{"<h1>APIs</h1>", "Shipments API", "1–4 of 4"}, nil},
		{"catalog owner name", "/catalog?filters[kind]=component&filters[owners]=routing-team", 200,
			[]string{"ETA Predictor", "Geo Toolkit", "Route Planner", "1–3 of 3", "Owner: routing-team"}, []string{"Shipment Service"}},
		{"catalog owner full ref", "/catalog?filters[owners]=group:default/routing-team", 200, []string{"1–3 of 3"}, nil},
		{"catalog owners indexed", "/catalog?filters[owners][0]=routing-team&filters[owners][1]=devex-team", 200, []string{"1–5 of 5"}, nil},
		{"catalog type and lifecycle", "/catalog?filters[type]=service&filters[lifecycles]=experimental", 200,
			[]string{"ETA Predictor", "Label Renderer"}, []string{"Geo Toolkit"}},
		{"catalog tag", "/catalog?filters[kind]=resource&filters[tags]=s3", 200, []string{"1–3 of 3"}, nil},
		{"catalog text", "/catalog?filters[kind]=all&filters[text]=SHIPMENT", 200, []string{"Shipment Service", "Shipments API"}, []string{"Geo Toolkit"}},
		{"catalog sort desc", "/catalog?sort=name&dir=desc", 200, []string{`aria-sort="descending"`}, nil},
		{"catalog bad cursor", "/catalog?cursor=!!!", 400, []string{"page link is not valid"}, nil},
		{"catalog no match", "/catalog?filters[tags]=nope", 200, []string{"No entities match these filters."}, nil},
		{"component", "/catalog/default/component/shipment-service", 200,
			[]string{"Shipment Service", "Provided APIs", "Shipments API", "Consumed APIs", "Has subcomponents", "Label Renderer", "Depends on resources", "Dashboard"}, nil},
		{"component case-insensitive", "/catalog/Default/Component/Shipment-Service", 200, []string{"Shipment Service"}, nil},
		{"api", "/catalog/default/api/shipments-api", 200, []string{"Providers", "Consumers", "Definition"}, nil},
		{"system", "/catalog/default/system/shipment-tracking", 200, []string{"Components", "APIs", "Resources", "Diagram"}, nil},
		{"domain", "/catalog/default/domain/logistics", 200, []string{"Systems", "Route Planning"}, nil},
		{"group", "/catalog/default/group/routing-team", 200, []string{"Profile", "Members", "Ownership", "Parent group"}, nil},
		{"user", "/catalog/default/user/fatima-haddad", 200, []string{"Profile", "Groups", "Ownership (directly and through groups)"}, nil},
		{"resource", "/catalog/default/resource/shipments-db", 200, []string{"Depends on", "Dependents"}, nil},
		{"location", "/catalog/default/location/acme-logistics", 200, []string{"Targets", "./org.yaml", "Entities read from its targets", "Shipment Service"}, nil},
		{"template", "/catalog/default/template/go-service", 200, []string{"Steps"}, nil},
		{"missing entity", "/catalog/default/component/nope", 404, []string{"No entity named"}, nil},
		{"tab of another kind", "/catalog/default/component/shipment-service/definition", 404, nil, nil},
		{"openapi", "/catalog/default/api/shipments-api/definition", 200,
			[]string{"List shipments", "/shipments/{trackingNumber}", "trackingNumber", "weightGrams", "AL0012345678", "Schemas"}, nil},
		{"grpc", "/catalog/default/api/route-planner-api/definition", 200, []string{"RoutePlanner", "GetRoutes(GetRoutesRequest) → GetRoutesResponse", `class="tok-kw"`}, nil},
		{"asyncapi", "/catalog/default/api/shipment-events-api/definition", 200, []string{"Channels", "shipmentEvents", "Messages"}, nil},
		{"graphql", "/catalog/default/api/customer-graphql-api/definition", 200, []string{"Shipment", "ShipmentStatus", "Query"}, nil},
		{"dependencies", "/catalog/default/component/shipment-service/dependencies", 200, []string{"<svg", "Shipments database", "providesApi"}, nil},
		{"dependencies filtered", "/catalog/default/component/shipment-service/dependencies?f=1&depth=1&rel=provides&kind=api", 200,
			[]string{"Shipments API"}, []string{"Shipments database"}},
		{"diagram", "/catalog/default/system/shipment-tracking/diagram", 200, []string{"System diagram", "Logistics", "Shipment Service"}, nil},
		{"inspect yaml", "/catalog/default/component/shipment-service/inspect", 200, []string{"Ancestry", "acme-logistics", "backstage.io/managed-by-location", "Raw entity"}, nil},
		{"inspect json", "/catalog/default/component/shipment-service/inspect?format=json", 200, []string{`&#34;apiVersion&#34;`}, nil},
		{"inspect bad format", "/catalog/default/component/shipment-service/inspect?format=xml", 400, nil, nil},
		{"api docs", "/api-docs", 200, []string{"<h1>APIs</h1>", "Shipments API", "Providers", "Consumers", "shipment-service"}, nil},
		{"import", "/catalog-import", 200, []string{"Register an existing component", `name="csrf"`}, nil},
		{"unregister config entity", "/catalog/default/component/shipment-service/unregister", 200, []string{"comes from the configuration"}, nil},
		{"history", "/catalog/default/component/shipment-service/history", 200,
			[]string{"Versions", "Created", "system:catalog-processing", "Latest change", `aria-current="page">History</a>`}, nil},
		{"history of a location", "/catalog/default/location/acme-logistics/history", 200, []string{"Created"}, nil},
		{"audit", "/audit", 200, []string{"<h1>Audit log</h1>", `<a class="row-link" href="/audit/events/`}, nil},
		{"audit by target", "/audit?target=component:default/shipment-service&action=catalog.entity.created", 200,
			[]string{`<a href="/catalog/default/component/shipment-service">`, "system:<wbr>catalog-processing"}, nil},
		{"audit bad outcome", "/audit?outcome=maybe", 400, []string{"Outcome must be"}, nil},
		{"audit event", "/audit/events/1", 200, []string{"Audit event 1", "Hash chain", "none: the first event of the log"}, nil},
		{"unknown page", "/nope", 404, []string{"There is no page at this address."}, nil},
		{"unknown api path", "/api/nope", 404, []string{"404 page not found"}, []string{"<html"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := e.get(t, e.client(), tt.path)
			if code != tt.status {
				t.Fatalf("GET %s = %d, want %d\n%s", tt.path, code, tt.status, excerpt(body))
			}
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
		})
	}
}

// unescapeHTML undoes the escapes html/template writes in text.
func unescapeHTML(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

func TestSecurityHeaders(t *testing.T) {
	e := env(t)
	resp, err := e.client().Get(e.srv.URL + "/catalog")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
		"Content-Type":            "text/html; charset=utf-8",
	} {
		if got := resp.Header.Get(h); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want prefix %q", h, got, want)
		}
	}
	var csrf *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie {
			csrf = c
		}
	}
	if csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteLaxMode {
		t.Errorf("CSRF cookie = %+v, want HttpOnly and SameSite=Lax", csrf)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := env(t)
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/catalog", nil)
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("DELETE /catalog = %d (Allow %q), want 405 with Allow", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestCSRF posts the refresh form with and without a valid token.
func TestCSRF(t *testing.T) {
	e := env(t)
	action := e.srv.URL + "/catalog/default/component/geo-toolkit/refresh"

	// A page visit issues the cookie and puts its token in the forms.
	c := e.client()
	_, body := e.get(t, c, "/catalog/default/component/geo-toolkit")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the entity page has no CSRF field")
	}
	token := m[1]

	post := func(c *http.Client, form url.Values, hdr map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name   string
		client *http.Client
		form   url.Values
		hdr    map[string]string
		want   int
	}{
		{"valid", c, url.Values{"csrf": {token}}, nil, http.StatusSeeOther},
		{"same-origin fetch metadata", c, url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"missing token", c, url.Values{}, nil, http.StatusForbidden},
		{"wrong token", c, url.Values{"csrf": {strings.Repeat("A", len(token))}}, nil, http.StatusForbidden},
		{"no cookie", e.client(), url.Values{"csrf": {token}}, nil, http.StatusForbidden},
		{"cross-site", c, url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin", c, url.Values{"csrf": {token}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.client, tt.form, tt.hdr); got != tt.want {
				t.Errorf("POST = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("json body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(`{"csrf":"`+token+`"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST JSON = %d, want 400", resp.StatusCode)
		}
	})
}

// TestFormPostAudited checks that a change made through a form is in the
// audit log with the request that made it.
func TestFormPostAudited(t *testing.T) {
	e := env(t)
	c := e.client()
	_, body := e.get(t, c, "/catalog/default/component/geo-toolkit")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the entity page has no CSRF field")
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/catalog/default/component/geo-toolkit/refresh",
		strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "form-test")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST refresh = %d", resp.StatusCode)
	}
	events, err := e.svc.AuditEvents(context.Background(), audit.Query{Actions: []string{audit.EntityRefreshRequested},
		Targets: []string{"component:default/geo-toolkit"}, Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("refresh events: %v, %v", events, err)
	}
	got := events[0].Request
	if got == nil || got.Method != "POST" || got.Route != "POST /catalog/{namespace}/{kind}/{name}/refresh" ||
		got.UserAgent != "form-test" || got.ID != resp.Header.Get("X-Request-Id") {
		t.Errorf("the event's request = %+v (X-Request-Id %q)", got, resp.Header.Get("X-Request-Id"))
	}
}

// TestFormsCarryCSRF checks that every form that posts has the token.
func TestFormsCarryCSRF(t *testing.T) {
	e := env(t)
	form := regexp.MustCompile(`(?s)<form[^>]*method="post"[^>]*>.*?</form>`)
	for _, path := range []string{"/catalog/default/component/shipment-service", "/catalog-import"} {
		body := e.mustGet(t, path)
		forms := form.FindAllString(body, -1)
		if len(forms) == 0 {
			t.Errorf("%s has no post form", path)
		}
		for _, f := range forms {
			if !csrfInput.MatchString(f) {
				t.Errorf("%s: a form lacks the CSRF field:\n%s", path, f)
			}
		}
	}
}

func TestStaticFiles(t *testing.T) {
	e := env(t)
	body := e.mustGet(t, "/")
	m := regexp.MustCompile(`href="(/static/[^"]+/app\.css)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	resp, err := e.client().Get(e.srv.URL + m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("GET %s = %d, Cache-Control %q, Content-Type %q", m[1], resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}
	if code, _ := e.get(t, e.client(), "/static/x/nope.css"); code != http.StatusNotFound {
		t.Errorf("missing static file = %d, want 404", code)
	}
}

// TestNoInlineScript checks that pages carry no inline script or style,
// which the CSP would block.
func TestNoInlineScript(t *testing.T) {
	e := env(t)
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<style|\sstyle="|\son[a-z]+="`)
	for _, path := range []string{"/", "/catalog", "/catalog/default/component/shipment-service",
		"/catalog/default/component/shipment-service/dependencies", "/catalog/default/api/shipments-api/definition",
		"/catalog/default/component/shipment-service/inspect", "/catalog-import", "/catalog/default/component/script-in-description",
		"/audit", "/audit?from=nope", "/audit/events/1", "/catalog/default/component/shipment-service/history"} {
		_, body := e.get(t, e.client(), path) // error pages too
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s has inline script or style: %q", path, m)
		}
	}
}

// TestScriptInDescription checks, without a browser, that markup in
// catalog data is escaped and javascript: links are dropped.
func TestScriptInDescription(t *testing.T) {
	e := env(t)
	for _, path := range []string{"/catalog/default/component/script-in-description", "/catalog?filters[text]=script"} {
		body := e.mustGet(t, path)
		if strings.Contains(body, "<script>window.__xss") || strings.Contains(body, `<img src=x`) {
			t.Errorf("%s renders the description as markup", path)
		}
		if !strings.Contains(body, "&lt;script&gt;window.__xss") {
			t.Errorf("%s does not show the description as text", path)
		}
		if strings.Contains(body, "javascript:") {
			t.Errorf("%s links to a javascript: URL", path)
		}
	}
}
