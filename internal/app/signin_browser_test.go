package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/auth/oidc/oidctest"
	"github.com/atrium-dev/atrium/internal/config"
)

// TestBrowserSignInWithOIDC is sign-in's acceptance test, end to end in a
// real browser: the example app configured with a real OpenID provider
// (zitadel's op package, in process) and a policy letting owners delete
// what they own. A user opens the catalog, is sent to sign in, signs in at
// the provider, comes back signed in, deletes an entity her team owns but
// not one it does not, and finds both attempts in the audit log.
func TestBrowserSignInWithOIDC(t *testing.T) {
	idp := oidctest.NewServer(t, oidctest.User{Username: "sofia-rossi", Email: "sofia.rossi@acme-logistics.example",
		EmailVerified: true, Name: "Sofia Rossi"})
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(`rules:
  - name: owners delete what they own
    principals: ["user:*"]
    permissions: [catalog.entity.delete]
    decision: conditional
    conditions: {isEntityOwner: {}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	b := startBrowserApp(t, func(cfg *config.Config) {
		cfg.Auth.Session.Secret = strings.Repeat("s3cret-", 6)
		cfg.Auth.Providers.OIDC = map[string]config.OIDCProvider{"development": {
			MetadataURL: idp.MetadataURL(), ClientID: oidctest.DefaultClientID, ClientSecret: idp.ClientSecret(),
			SignIn: config.SignIn{Resolvers: []config.SignInResolver{{Resolver: "emailMatchingUserEntityProfileEmail"}}},
		}}
		cfg.Permission.Policy = policy
	})
	base, bctx, run := b.base, b.ctx, b.run
	// The provider's discovery runs in the background.
	waitUntil(t, 30*time.Second, func() bool {
		resp, err := http.Get(base + "/api/auth/.well-known/jwks.json")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	// location is where the browser is once the page has loaded; "" while
	// a navigation is under way (evaluating then may fail).
	location := func() string {
		return b.eval(`document.readyState === "complete" ? location.pathname + location.search : ""`)
	}

	run("open the catalog", chromedp.Navigate(base+"/catalog?filters[kind]=component"))
	waitUntil(t, 15*time.Second, func() bool { return location() != "" })
	if got := location(); !strings.HasPrefix(got, "/signin?redirect=") {
		t.Fatalf("without a session the catalog is at %q, want the sign-in page", got)
	}
	run("sign in with OpenID Connect",
		chromedp.Click(chromedp.CSS(`a[href^="/api/auth/oidc/start"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#username`)))
	run("log in at the provider",
		chromedp.SendKeys(chromedp.CSS(`#username`), "sofia-rossi"),
		chromedp.SendKeys(chromedp.CSS(`#password`), oidctest.DefaultPassword),
		chromedp.Click(chromedp.CSS(`#sign-in`)))
	waitUntil(t, 15*time.Second, func() bool { return strings.HasPrefix(location(), "/catalog") })
	if got := location(); got != "/catalog?filters[kind]=component" && got != "/catalog?filters%5Bkind%5D=component" {
		t.Errorf("after signing in the browser is at %q, want back at the catalog", got)
	}
	who, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(who, "sofia-rossi") {
		t.Error("the page does not show who is signed in")
	}

	// Deleting through the API with the browser's session: customer-web
	// belongs to storefront-team, hers; shipment-service to shipping-team.
	del := func(name string) int {
		t.Helper()
		status, err := chromedp.Run(bctx, chromedp.Evaluate[int](`(async () => {
			const e = await (await fetch('/api/catalog/entities/by-name/component/default/`+name+`')).json();
			const r = await fetch('/api/catalog/entities/by-uid/' + e.metadata.uid, {method: 'DELETE'});
			return r.status;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	if got := del("shipment-service"); got != http.StatusForbidden {
		t.Errorf("deleting another team's entity: %d, want 403", got)
	}
	if got := del("customer-web"); got != http.StatusNoContent {
		t.Errorf("deleting her team's entity: %d, want 204", got)
	}

	raw, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(async () =>
		await (await fetch('/api/audit/events?action=catalog.entity.deleted&actor=user:default/sofia-rossi')).text())()`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Items []audit.Event }
	if err := json.Unmarshal([]byte(raw), &page); err != nil {
		t.Fatalf("audit events: %v: %s", err, raw)
	}
	outcomes := map[string]audit.Outcome{}
	for _, e := range page.Items {
		outcomes[e.Target] = e.Outcome
	}
	if outcomes["component:default/shipment-service"] != audit.Denied || outcomes["component:default/customer-web"] != audit.Succeeded {
		t.Errorf("audit outcomes = %v, want shipment-service denied and customer-web deleted", outcomes)
	}
	if os.Getenv("ATRIUM_SCREENSHOTS") != "" {
		run("open the settings", chromedp.Navigate(base+"/settings"))
		shot(t, bctx, "app-oidc-settings")
	}
}

// waitUntil polls ok until it holds or the time is up.
func waitUntil(t *testing.T, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
