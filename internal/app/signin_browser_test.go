package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atrium-dev/atrium/internal/app"
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
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): skipping the browser test")
	}
	idp := oidctest.NewServer(t, oidctest.User{Username: "sofia-rossi", Email: "sofia.rossi@acme-logistics.example",
		EmailVerified: true, Name: "Sofia Rossi"})

	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(`rules:
  - name: owners delete what they own
    principals: ["user:*"]
    permissions: [catalog.entity.delete]
    decision: conditional
    conditions: {isEntityOwner: {}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := config.Default()
	cfg.Backend.BaseURL, cfg.App.BaseURL = base, base
	cfg.Backend.Database = config.Database{Client: config.ClientSQLite, Connection: config.DatabaseConnection{Directory: dir}}
	cfg.Catalog.Locations[0].Target = filepath.Join(examplesDir(t), "all.yaml")
	cfg.Auth.Session.Secret = strings.Repeat("s3cret-", 6)
	cfg.Auth.Providers.OIDC = map[string]config.OIDCProvider{"development": {
		MetadataURL: idp.MetadataURL(), ClientID: oidctest.DefaultClientID, ClientSecret: idp.ClientSecret(),
		SignIn: config.SignIn{Resolvers: []config.SignInResolver{{Resolver: "emailMatchingUserEntityProfileEmail"}}},
	}}
	cfg.Permission.Policy = policy
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
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the app stopped: %v", err)
	}
	// Ingestion and the provider's discovery run in the background.
	waitUntil(t, 30*time.Second, func() bool {
		resp, err := http.Get(base + "/api/auth/.well-known/jwks.json")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK && a.Catalog != nil
	})
	waitUntil(t, 30*time.Second, func() bool {
		due, stitch, err := a.Store.Pending(context.Background())
		return err == nil && due == 0 && stitch == 0
	})

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	bctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	defer cancelTimeout()
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// location is where the browser is once the page has loaded; "" while
	// a navigation is under way (evaluating then may fail).
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.readyState === "complete" ? location.pathname + location.search : ""`))
		if err != nil {
			return ""
		}
		return u
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
	if dir := os.Getenv("ATRIUM_SCREENSHOTS"); dir != "" {
		run("open the settings", chromedp.Navigate(base+"/settings"))
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err == nil {
			_ = os.WriteFile(filepath.Join(dir, "app-oidc-settings.png"), png, 0o644)
		}
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
