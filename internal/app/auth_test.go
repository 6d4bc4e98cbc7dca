package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/api"
	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/config"
)

const (
	pipelineToken = "ci-token-0123456789"
	readOnlyToken = "ci-read-only-0123456789"
)

// signInApp is the example app with sign-in on: the guest provider
// signing in as sofia-rossi, a static token for a pipeline, and a policy
// that lets users change what they own and the pipeline register
// locations.
func signInApp(t *testing.T) (*app.App, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(`rules:
  - name: owners change their entities
    principals: ["user:*"]
    permissions: [catalog.entity.delete, catalog.entity.refresh]
    decision: conditional
    conditions: {isEntityOwner: {}}
  - name: the pipeline registers locations
    principals: [service:ci-pipeline]
    permissions: [catalog.location.*]
    decision: allow
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Backend.Database = config.Database{Client: config.ClientSQLite, Connection: config.DatabaseConnection{Directory: dir}}
	cfg.Catalog.Locations[0].Target = filepath.Join(examplesDir(t), "all.yaml")
	cfg.Auth.Providers.Guest = &config.GuestProvider{UserEntityRef: "user:default/sofia-rossi"}
	cfg.Backend.Auth.ExternalAccess = []config.ExternalAccess{
		{Type: "static", Options: config.ExternalAccessOptions{Token: pipelineToken, Subject: "ci-pipeline"}},
		// The same subject, restricted to reading locations.
		{Type: "static", Options: config.ExternalAccessOptions{Token: readOnlyToken, Subject: "ci-pipeline"},
			AccessRestrictions: []config.AccessRestriction{{Plugin: "catalog", Permission: config.StringList{"catalog.location.read"}}}},
	}
	cfg.Backend.Reading.AllowPrivateNetworks = true
	cfg.Permission.Policy = policy
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Catalog.SyncConfigLocations(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Catalog.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, srv
}

// TestEveryAPIRouteNeedsCredentials enumerates the API's route table, so
// that a route added later cannot be forgotten: with sign-in on, each
// refuses a request without credentials with 401.
func TestEveryAPIRouteNeedsCredentials(t *testing.T) {
	_, srv := signInApp(t)
	param := regexp.MustCompile(`\{[^}]+\}`)
	routes := api.Routes()
	if len(routes) < 20 {
		t.Fatalf("api.Routes() lists %d routes; the catalog alone has 20", len(routes))
	}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		path = param.ReplaceAllString(path, "x")
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", r, resp.StatusCode)
		}
	}
	// git clones of the local git host need credentials too.
	for _, r := range []struct{ method, path string }{
		{"GET", "/git/acme/app.git/info/refs?service=git-upload-pack"},
		{"POST", "/git/acme/app.git/git-upload-pack"},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d, want 401", r.method, r.path, resp.StatusCode)
		}
	}
	// A page redirects to the sign-in page, keeping where it was going.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/docs", "/docs/default/component/shipment-service/", "/git", "/create/edit"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?redirect=") {
			t.Errorf("%s without a session: %d to %q, want a redirect to /signin", p, resp.StatusCode, loc)
		}
	}
	resp, err := client.Get(srv.URL + "/catalog?filters[kind]=api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?redirect=") {
		t.Errorf("a page without a session: %d to %q, want a redirect to /signin", resp.StatusCode, loc)
	}
}

// TestSignedInUserAndPipeline is the sign-in acceptance path: a pipeline
// token registers a location; a signed-in user deletes an entity she owns
// but not one she does not; both attempts are in the audit log.
func TestSignedInUserAndPipeline(t *testing.T) {
	a, srv := signInApp(t)
	ctx := context.Background()
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: pipeline-made}\n" +
			"spec: {type: service, lifecycle: production, owner: user:default/sofia-rossi}\n"))
	}))
	defer files.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/catalog/locations",
		strings.NewReader(`{"type":"url","target":"`+files.URL+`/catalog-info.yaml"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+pipelineToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("the pipeline registering a location: %d, want 201", resp.StatusCode)
	}
	if err := a.Catalog.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err = browser.Get(srv.URL + "/api/auth/guest/start?redirect=/catalog")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	uid := func(ref string) string {
		t.Helper()
		resp, err := browser.Get(srv.URL + "/api/catalog/entities/by-name/" + ref)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct{ Metadata struct{ UID string } }
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&e) != nil {
			t.Fatalf("GET %s as the signed-in user: %d", ref, resp.StatusCode)
		}
		return e.Metadata.UID
	}
	del := func(ref string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/api/catalog/entities/by-uid/"+uid(ref), nil)
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// The permission API answers as Backstage's, for the signed-in user.
	resp, err = browser.Post(srv.URL+"/api/permission/authorize", "application/json", strings.NewReader(
		`{"items":[{"id":"a","permission":{"type":"resource","name":"catalog.entity.delete","attributes":{"action":"delete"},"resourceType":"catalog-entity"},"resourceRef":"component:default/label-renderer"},`+
			`{"id":"b","permission":{"type":"resource","name":"catalog.entity.delete","attributes":{"action":"delete"},"resourceType":"catalog-entity"},"resourceRef":"component:default/pipeline-made"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var decisions struct{ Items []struct{ ID, Result string } }
	if err := json.NewDecoder(resp.Body).Decode(&decisions); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(decisions.Items) != 2 || decisions.Items[0].Result != "DENY" || decisions.Items[1].Result != "ALLOW" {
		t.Errorf("authorize = %+v, want a DENY then an ALLOW", decisions.Items)
	}
	if code := del("component/default/label-renderer"); code != http.StatusForbidden {
		t.Errorf("deleting an entity she does not own: %d, want 403", code)
	}
	if code := del("component/default/pipeline-made"); code != http.StatusNoContent {
		t.Errorf("deleting an entity she owns: %d, want 204", code)
	}

	resp, err = browser.Get(srv.URL + "/api/audit/events?action=catalog.entity.deleted&action=catalog.location.created")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ Items []audit.Event }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Items {
		got = append(got, e.Action+" "+e.Target+" "+e.Actor.String()+" "+string(e.Outcome))
	}
	for _, w := range []string{
		"catalog.entity.deleted component:default/label-renderer user:default/sofia-rossi denied",
		"catalog.entity.deleted component:default/pipeline-made user:default/sofia-rossi succeeded",
	} {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("no audit event %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	found := false
	for _, e := range page.Items {
		found = found || (e.Action == audit.LocationCreated && e.Actor.String() == "service:ci-pipeline" && e.Outcome == audit.Succeeded)
	}
	if !found {
		t.Errorf("the pipeline's location is not in the audit log as service:ci-pipeline: %s", strings.Join(got, "\n"))
	}
}

// TestSignOutFromTheUI: the UI's sign-out form ends the session and lands
// on the sign-in page; the session no longer works.
func TestSignOutFromTheUI(t *testing.T) {
	_, srv := signInApp(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(srv.URL + "/api/auth/guest/start?redirect=/catalog")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/catalog" {
		t.Fatalf("guest start: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = browser.Post(srv.URL+"/api/auth/logout", "application/x-www-form-urlencoded", strings.NewReader("csrf=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?signedOut=1" {
		t.Errorf("sign-out form: %d to %q, want 303 to /signin?signedOut=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = browser.Get(srv.URL + "/api/catalog/entities")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API after signing out: %d, want 401", resp.StatusCode)
	}
}

// TestTokenAccessRestrictions: a token restricted to reading locations
// may not register one, though its subject's policy allows it, and the
// permission API says so too.
func TestTokenAccessRestrictions(t *testing.T) {
	_, srv := signInApp(t)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+readOnlyToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := call("GET", "/api/catalog/locations", ""); code != http.StatusOK {
		t.Errorf("reading locations with the read-only token: %d, want 200", code)
	}
	if code, body := call("POST", "/api/catalog/locations", `{"type":"url","target":"https://example.com/x.yaml"}`); code != http.StatusForbidden {
		t.Errorf("registering with the read-only token: %d %s, want 403", code, body)
	}
	_, body := call("POST", "/api/permission/authorize",
		`{"items":[{"id":"1","permission":{"type":"basic","name":"catalog.location.create","attributes":{"action":"create"}}}]}`)
	if !strings.Contains(body, `"result":"DENY"`) {
		t.Errorf("authorize for the read-only token = %s, want DENY", body)
	}
}
