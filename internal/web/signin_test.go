package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/derrors"
)

func TestRedirectPath(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "/"},
		{"root", "/", "/"},
		{"page", "/catalog", "/catalog"},
		{"page and query", "/catalog?filters[kind]=api&dir=desc", "/catalog?filters[kind]=api&dir=desc"},
		{"entity page", "/catalog/default/component/shipment-service", "/catalog/default/component/shipment-service"},
		{"colon in path", "/catalog/default/component/a:b", "/catalog/default/component/a:b"},
		{"escaped", "/catalog?filters%5Btext%5D=a%20b", "/catalog?filters%5Btext%5D=a%20b"},
		{"fragment", "/catalog/default/api/x/definition#op-list", "/catalog/default/api/x/definition#op-list"},
		{"relative", "catalog", "/"},
		{"dot relative", "./catalog", "/"},
		{"scheme-relative", "//evil.example", "/"},
		{"scheme-relative with path", "//evil.example/catalog", "/"},
		{"triple slash", "///evil.example", "/"},
		{"backslash host", "/\\evil.example", "/"},
		{"two backslashes", "\\\\evil.example", "/"},
		{"backslash later", "/catalog\\x", "/"},
		{"encoded slash host", "/%2F%2Fevil.example", "/"},
		{"encoded backslash host", "/%5Cevil.example", "/"},
		{"absolute URL", "https://evil.example/catalog", "/"},
		{"http URL", "http://evil.example", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"data", "data:text/html,x", "/"},
		{"scheme without slashes", "https:evil.example", "/"},
		{"newline", "/catalog\nLocation: https://evil.example", "/"},
		{"carriage return", "/catalog\r", "/"},
		{"tab", "/\t/evil.example", "/"},
		{"nul", "/catalog\x00", "/"},
		{"delete", "/catalog\x7f", "/"},
		{"sign-in page", "/signin", "/"},
		{"sign-in page with query", "/signin?redirect=/catalog", "/"},
		{"too long", "/" + strings.Repeat("a", maxRedirectLen), "/"},
		{"at sign", "/@evil.example", "/@evil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redirectPath(tt.in); got != tt.want {
				t.Errorf("redirectPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzRedirectPath checks that whatever comes in, what comes out is "/"
// or the input, and a browser resolving it stays on our site.
func FuzzRedirectPath(f *testing.F) {
	for _, s := range []string{"/", "/catalog?x=1", "//evil.example", "/\\evil", "https://evil.example", "/%2F/x", "/a\tb", "/signin"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://portal.example/catalog/x")
	f.Fuzz(func(t *testing.T, in string) {
		got := redirectPath(in)
		if got != "/" && got != in {
			t.Fatalf("redirectPath(%q) = %q: neither the input nor /", in, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("redirectPath(%q) = %q, which does not parse: %v", in, got, err)
		}
		if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
			t.Fatalf("redirectPath(%q) = %q leads to %s", in, got, r)
		}
		if strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("redirectPath(%q) = %q", in, got)
		}
	})
}

// TestSignInGate checks that with sign-in on, a visitor without an
// identity is sent to the sign-in page with the page they asked for, and
// that nothing else changes.
func TestSignInGate(t *testing.T) {
	s := signedEnv(t)
	signin := func(back string) string { return "/signin?redirect=" + url.QueryEscape(back) }
	tests := []struct {
		name, who, path string
		status          int
		location        string
	}{
		{"catalog", "", "/catalog", http.StatusSeeOther, signin("/catalog")},
		{"catalog with query", "", "/catalog?filters[kind]=api&sort=name", http.StatusSeeOther, signin("/catalog?filters[kind]=api&sort=name")},
		{"entity page", "", "/catalog/default/component/shipment-service/inspect?format=json", http.StatusSeeOther,
			signin("/catalog/default/component/shipment-service/inspect?format=json")},
		{"home", "", "/", http.StatusSeeOther, "/signin"},
		{"settings", "", "/settings", http.StatusSeeOther, signin("/settings")},
		{"unknown page", "", "/nope", http.StatusSeeOther, signin("/nope")},
		{"sign-in page", "", "/signin", http.StatusOK, ""},
		{"static file", "", "/static/x/app.css", http.StatusOK, ""},
		{"api path", "", "/api/nope", http.StatusNotFound, ""},
		{"signed in", jonas, "/catalog", http.StatusOK, ""},
		{"service", robot, "/catalog", http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, loc, body := s.getAs(t, tt.who, tt.path)
			if code != tt.status || loc != tt.location {
				t.Errorf("GET %s = %d to %q, want %d to %q\n%s", tt.path, code, loc, tt.status, tt.location, excerpt(body))
			}
		})
	}
	// A path that browsers would read as another host's address comes
	// back as the home page. (A server's mux cleans such paths before the
	// UI sees them; the UI does not count on it.)
	t.Run("scheme-relative path", func(t *testing.T) {
		h := NewHandler(s.svc, slog.New(slog.DiscardHandler), Options{SignIn: testProviders})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "//evil.example/x", nil))
		if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != "/signin" {
			t.Errorf("GET //evil.example/x = %d to %q, want 303 to /signin", w.Code, loc)
		}
	})
}

// TestSignInGatePost checks that a form posted without an identity
// changes nothing and leads to the sign-in page, coming back to the page
// the form was on.
func TestSignInGatePost(t *testing.T) {
	s := signedEnv(t)
	bg := context.Background()
	const page = "/catalog/default/component/geo-toolkit"
	refreshes := func() int {
		t.Helper()
		events, err := s.svc.AuditEvents(bg, audit.Query{Actions: []string{audit.EntityRefreshRequested},
			Targets: []string{"component:default/geo-toolkit"}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(events)
	}
	// The CSRF cookie, from the sign-in page (which has no form: the
	// token is the cookie's).
	c := s.clientAs("")
	s.fetch(t, c, http.MethodGet, "/signin", nil, nil)
	u, _ := url.Parse(s.srv.URL)
	var token string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == csrfCookie {
			token = ck.Value
		}
	}
	if token == "" {
		t.Fatal("the sign-in page set no CSRF cookie")
	}
	before := refreshes()
	tests := []struct {
		name, referer, location string
	}{
		{"from its page", s.srv.URL + page + "?done=x", "/signin?redirect=" + url.QueryEscape(page+"?done=x")},
		{"no referer", "", "/signin"},
		{"foreign referer", "https://evil.example" + page, "/signin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.referer != "" {
				hdr["Referer"] = tt.referer
			}
			code, loc, body := s.fetch(t, c, http.MethodPost, page+"/refresh", url.Values{"csrf": {token}}, hdr)
			if code != http.StatusSeeOther || loc != tt.location {
				t.Errorf("POST refresh = %d to %q, want 303 to %q\n%s", code, loc, tt.location, excerpt(body))
			}
		})
	}
	if after := refreshes(); after != before {
		t.Errorf("posts without an identity requested %d refreshes", after-before)
	}
	// A forged post is refused before the gate, as it is signed in.
	if code, _, _ := s.fetch(t, c, http.MethodPost, page+"/refresh", url.Values{"csrf": {"forged"}}, nil); code != http.StatusForbidden {
		t.Errorf("forged POST = %d, want 403", code)
	}
}

// TestSignInPage checks the sign-in page's buttons, where they come back
// to, and its messages.
func TestSignInPage(t *testing.T) {
	s := signedEnv(t)
	start := func(provider, back string) string {
		return `href="/api/auth/` + provider + `/start?redirect=` + url.QueryEscape(back) + `"`
	}
	tests := []struct {
		name, path string
		want       []string
		notWant    []string
	}{
		{"buttons", "/signin?redirect=/catalog/default/component/shipment-service",
			[]string{"<h1>Sign in</h1>", "Sign in with Guest", "Sign in with OpenID Connect",
				start("guest", "/catalog/default/component/shipment-service"), start("oidc", "/catalog/default/component/shipment-service")},
			[]string{`class="sidebar"`, `class="site-search"`, `class="user-menu"`, `role="alert"`, "You have signed out"}},
		{"redirect with query", "/signin?redirect=" + url.QueryEscape("/catalog?filters[kind]=api&dir=desc"),
			[]string{start("guest", "/catalog?filters[kind]=api&dir=desc")}, nil},
		{"no redirect", "/signin", []string{start("guest", "/")}, nil},
		{"foreign redirect", "/signin?redirect=//evil.example/x", []string{start("guest", "/"), start("oidc", "/")}, []string{"evil.example"}},
		{"backslash redirect", "/signin?redirect=/%5Cevil.example", []string{start("guest", "/")}, []string{"evil.example"}},
		{"absolute redirect", "/signin?redirect=" + url.QueryEscape("https://evil.example/"), []string{start("guest", "/")}, []string{"evil.example"}},
		{"denied", "/signin?error=access_denied", []string{`role="alert"`, "cancelled, or the provider refused it"}, nil},
		{"unknown user", "/signin?error=unknown_user", []string{"no user in the catalog matches your account"}, nil},
		{"domain", "/signin?error=domain_not_allowed", []string{"email domain may not sign in"}, nil},
		{"bad state", "/signin?error=bad_state", []string{"started in another window"}, nil},
		{"expired state", "/signin?error=expired_state", []string{"took too long"}, nil},
		{"failed", "/signin?error=failed", []string{"The sign-in failed."}, nil},
		{"unknown code", "/signin?error=%3Cb%3Ehi%3C%2Fb%3E", []string{"The sign-in failed."}, []string{"<b>hi", "&lt;b&gt;hi"}},
		{"signed out", "/signin?signedOut=1", []string{"You have signed out.", `role="status"`}, []string{`role="alert"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := s.getAs(t, "", tt.path)
			if code != http.StatusOK {
				t.Fatalf("GET %s = %d", tt.path, code)
			}
			text := unescapeHTML(body)
			for _, w := range tt.want {
				if !strings.Contains(body, w) && !strings.Contains(text, w) {
					t.Errorf("GET %s lacks %q\n%s", tt.path, w, excerpt(body))
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("GET %s has %q", tt.path, w)
				}
			}
		})
	}
	t.Run("signed in already", func(t *testing.T) {
		for path, want := range map[string]string{
			"/signin?redirect=/catalog%3Ffilters%5Bkind%5D%3Dapi": "/catalog?filters[kind]=api",
			"/signin?redirect=//evil.example":                     "/",
			"/signin":                                             "/",
		} {
			if code, loc, _ := s.getAs(t, jonas, path); code != http.StatusSeeOther || loc != want {
				t.Errorf("GET %s signed in = %d to %q, want 303 to %q", path, code, loc, want)
			}
		}
	})
	t.Run("sign-in off", func(t *testing.T) {
		resp, err := env(t).client().Get(env(t).srv.URL + "/signin?redirect=/catalog")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/catalog" {
			t.Errorf("GET /signin with sign-in off = %d to %q, want 303 to /catalog", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// userMenuRE finds the header's user menu.
var userMenuRE = regexp.MustCompile(`(?s)<details class="user-menu">.*?</details>`)

// TestUserMenu checks the header's menu of the signed-in identity on
// every kind of page, and its absence when no one is signed in.
func TestUserMenu(t *testing.T) {
	s := signedEnv(t)
	for _, tt := range []struct{ who, label string }{{jonas, jonas}, {robot, "service:ci"}} {
		for _, path := range []string{"/", "/catalog", "/catalog/default/component/shipment-service", "/settings", "/nope"} {
			_, _, body := s.getAs(t, tt.who, path)
			menu := userMenuRE.FindString(body)
			if menu == "" {
				t.Errorf("%s as %s: no user menu", path, tt.who)
				continue
			}
			for _, w := range []string{tt.label, `href="/settings"`, `<form method="post" action="/api/auth/logout">`, "Sign out", `<summary>`} {
				if !strings.Contains(unescapeHTML(menu), w) && !strings.Contains(menu, w) {
					t.Errorf("%s as %s: the menu lacks %q\n%s", path, tt.who, w, menu)
				}
			}
			if !csrfInput.MatchString(menu) {
				t.Errorf("%s as %s: the sign-out form lacks the CSRF field", path, tt.who)
			}
		}
	}
	// Signed out, and with sign-in off: no menu.
	_, _, body := s.getAs(t, "", "/signin")
	if userMenuRE.MatchString(body) {
		t.Error("the sign-in page has a user menu")
	}
	if body := env(t).mustGet(t, "/catalog"); userMenuRE.MatchString(body) {
		t.Error("with sign-in off, the header has a user menu")
	}
}

// TestSettings checks the Settings page: the identity, the policy for the
// administrator only, and the page with sign-in off.
func TestSettings(t *testing.T) {
	s := signedEnv(t)
	tests := []struct {
		name, who string
		want      []string
		notWant   []string
	}{
		{"user", jonas, []string{"<h1>Jonas Weber</h1>", `<a class="ref" href="/catalog/default/user/jonas-weber">user:default/jonas-weber</a>`,
			`<a class="ref" href="/catalog/default/group/shipping-team">group:default/shipping-team</a>`, `aria-current="page"><svg`},
			[]string{"Effective policy", "not configured"}},
		{"administrator", amelia, []string{"<h1>Amelia Okafor</h1>", "Effective policy", `<span class="tok-key">permission</span>`,
			`# everyone reads</span>`, `data-copy="policy"`, "group:default/engineering"}, nil},
		{"user not in the catalog", ghost, []string{"<h1>user:default/ghost</h1>", `<span class="ref missing" title="Not in the catalog">user:default/ghost</span>`,
			"The catalog has no entity for this user.", "You own through no group."}, []string{"Effective policy"}},
		{"service", robot, []string{"<h1>Service ci</h1>", "<code>ci</code>"}, []string{"Ownership", "Effective policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := s.getAs(t, tt.who, "/settings")
			if code != http.StatusOK {
				t.Fatalf("GET /settings as %s = %d\n%s", tt.who, code, excerpt(body))
			}
			main := body[strings.Index(body, "<main"):]
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("as %s, the page lacks %q\n%s", tt.who, w, excerpt(body))
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(main, w) {
					t.Errorf("as %s, the page has %q", tt.who, w)
				}
			}
		})
	}
	t.Run("sign-in off", func(t *testing.T) {
		body := env(t).mustGet(t, "/settings")
		for _, w := range []string{"Sign-in is not configured", "everyone uses it anonymously", `<a href="/settings" aria-current="page">`} {
			if !strings.Contains(body, w) {
				t.Errorf("the page lacks %q\n%s", w, excerpt(body))
			}
		}
		if strings.Contains(body, "Effective policy") || userMenuRE.MatchString(body) {
			t.Error("with sign-in off and no Policy, the page shows a policy or a user menu")
		}
	})
}

// TestHiddenControls checks that pages hide what the Authorizer says the
// user may not do, and refuse the pages that only do it.
func TestHiddenControls(t *testing.T) {
	s := signedEnv(t)
	bg := context.Background()
	// A registered location, to look at its pages.
	file := s.writeCatalogFile(t, "hidden-controls.yaml", componentYAML("hidden-controls", "Has controls to hide."))
	res, err := s.svc.AddLocation(bg, "file", file, catalog.AddLocationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The test unregisters it; if it failed to, clean up.
		if err := s.svc.DeleteLocation(bg, res.Location.ID); err != nil && !errors.Is(err, derrors.ErrNotFound) {
			t.Error(err)
		}
		if err := s.svc.Sync(bg); err != nil {
			t.Error(err)
		}
	})
	if err := s.svc.Sync(bg); err != nil {
		t.Fatal(err)
	}
	locPage := "/catalog-import/locations/" + url.PathEscape(res.Location.ID)

	const (
		refresh        = `<button class="linkish" type="submit">`
		unregister     = `/unregister">`
		registerNav    = `<li><a href="/catalog-import"`
		registerTile   = `<a class="tile tile-action" href="/catalog-import">`
		auditNav       = `<li><a href="/audit"`
		registerButton = `<a class="button button-light" href="/catalog-import">`
	)
	tests := []struct {
		name, who, path string
		status          int
		want, notWant   []string
	}{
		{"owner's entity", jonas, "/catalog/default/component/shipment-service", 200, []string{refresh, auditNav}, []string{unregister, registerNav}},
		{"another team's entity", mateo, "/catalog/default/component/shipment-service", 200, nil, []string{refresh, unregister}},
		{"own team's entity", mateo, "/catalog/default/component/route-planner", 200, []string{refresh}, []string{unregister}},
		{"administrator", amelia, "/catalog/default/component/shipment-service", 200, []string{refresh, unregister, registerNav, auditNav}, nil},
		{"service", robot, "/catalog/default/component/shipment-service", 200, []string{refresh, unregister, registerNav}, nil},
		{"home", jonas, "/", 200, nil, []string{registerNav, registerTile}},
		{"catalog", jonas, "/catalog", 200, nil, []string{registerNav, registerButton}},
		{"catalog of the administrator", amelia, "/catalog", 200, []string{registerNav, registerButton}, nil},
		{"api docs", jonas, "/api-docs", 200, nil, []string{registerButton}},
		{"api docs of the administrator", amelia, "/api-docs", 200, []string{registerButton}, nil},
		{"home of the administrator", amelia, "/", 200, []string{registerNav, registerTile}, nil},
		{"register page", jonas, "/catalog-import", 403, []string{"<h1>Not allowed</h1>", "You may not register locations"}, nil},
		{"register page of the administrator", amelia, "/catalog-import", 200, []string{"Register an existing component", unregister}, nil},
		{"location page", jonas, locPage, 200, []string{`<a href="/catalog">Catalog</a>`}, []string{unregister, `href="/catalog-import"`}},
		{"location page of the administrator", amelia, locPage, 200, []string{unregister, `<a href="/catalog-import">Register</a>`}, nil},
		{"unregister location", jonas, locPage + "/unregister", 403, []string{"You may not unregister locations"}, nil},
		{"unregister entity", jonas, "/catalog/default/component/hidden-controls/unregister", 403, []string{"You may not unregister locations"}, nil},
		{"unregister entity of the administrator", amelia, "/catalog/default/component/hidden-controls/unregister", 200, []string{"Unregister this location?"}, nil},
		{"location page of one who may unregister", priya, locPage, 200, []string{unregister}, []string{`href="/catalog-import"`}},
		{"unregister location of one who may", priya, locPage + "/unregister", 200,
			[]string{"Unregister this location?", `<a class="button button-secondary" href="` + locPage + `">Cancel</a>`}, []string{`href="/catalog-import"`}},
		{"unregister entity of one who may", priya, "/catalog/default/component/hidden-controls/unregister", 200,
			[]string{`<a class="button button-secondary" href="/catalog/default/component/hidden-controls">Cancel</a>`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := s.getAs(t, tt.who, tt.path)
			if code != tt.status {
				t.Fatalf("GET %s as %s = %d, want %d\n%s", tt.path, tt.who, code, tt.status, excerpt(body))
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s as %s lacks %q\n%s", tt.path, tt.who, w, excerpt(body))
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("GET %s as %s has %q", tt.path, tt.who, w)
				}
			}
		})
	}

	// The forms that only register or unregister refuse before acting.
	c := s.clientAs(jonas)
	_, _, body := s.fetch(t, c, http.MethodGet, "/catalog", nil, nil)
	token := csrfInput.FindStringSubmatch(body)
	if token == nil {
		t.Fatal("no CSRF token in the user menu")
	}
	for _, path := range []string{"/catalog-import/analyze", "/catalog-import", locPage + "/unregister"} {
		code, _, body := s.fetch(t, c, http.MethodPost, path, url.Values{"csrf": {token[1]}, "target": {file}}, nil)
		if code != http.StatusForbidden || !strings.Contains(body, "You may not") {
			t.Errorf("POST %s as %s = %d, want 403\n%s", path, jonas, code, excerpt(body))
		}
	}
	if _, err := s.svc.Location(bg, res.Location.ID); err != nil {
		t.Errorf("the location after a refused unregister: %v", err)
	}

	// One who may unregister but not register is sent back to the
	// catalog, not to the Register page they may not see.
	c = s.clientAs(priya)
	_, _, body = s.fetch(t, c, http.MethodGet, locPage+"/unregister", nil, nil)
	if token = csrfInput.FindStringSubmatch(body); token == nil {
		t.Fatal("no CSRF token on the confirmation")
	}
	code, loc, body := s.fetch(t, c, http.MethodPost, locPage+"/unregister", url.Values{"csrf": {token[1]}}, nil)
	if code != http.StatusSeeOther || loc != "/catalog?done=unregistered" {
		t.Errorf("POST unregister as %s = %d to %q, want 303 to /catalog?done=unregistered\n%s", priya, code, loc, excerpt(body))
	}
	if _, _, body := s.fetch(t, c, http.MethodGet, loc, nil, nil); !strings.Contains(body, "Location unregistered") {
		t.Errorf("the catalog after unregistering lacks the notice\n%s", excerpt(body))
	}
}

// TestSignInPagesNoInlineScript checks the pages sign-in adds, and the
// header's menu, for inline script or style, which the CSP would block.
func TestSignInPagesNoInlineScript(t *testing.T) {
	s := signedEnv(t)
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<style|\sstyle="|\son[a-z]+="`)
	for _, tt := range []struct{ who, path string }{
		{"", "/signin?error=denied&redirect=/catalog"}, {"", "/signin?signedOut=1"},
		{amelia, "/settings"}, {robot, "/settings"}, {jonas, "/catalog-import"}, {jonas, "/"},
	} {
		_, _, body := s.getAs(t, tt.who, tt.path)
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s as %q has inline script or style: %q", tt.path, tt.who, m)
		}
	}
	if body := env(t).mustGet(t, "/settings"); inline.MatchString(body) {
		t.Error("/settings with sign-in off has inline script or style")
	}
}
