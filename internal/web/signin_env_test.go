package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/atrium-dev/atrium/internal/auth"
)

// The UI with sign-in on, as the app serves it: behind a middleware that
// puts the identity in the context, beside the auth package's sign-in
// endpoints. Both are stand-ins here: the identity is named by a plain
// cookie, and "signing in" sets that cookie. The catalog is the shared
// test catalog (env).

// identityCookie names the test identity: a user ref, or "service:<subject>".
const identityCookie = "atrium_test_identity"

// Test users: their ownership refs, and who is the administrator.
const (
	jonas  = "user:default/jonas-weber"   // shipping-team: owns shipment-service
	mateo  = "user:default/mateo-alvarez" // routing-team: owns route-planner
	amelia = "user:default/amelia-okafor" // the administrator
	priya  = "user:default/priya-raman"   // may unregister, not register
	ghost  = "user:default/ghost"         // not in the catalog
	robot  = "service:ci"
)

var testOwnership = map[string][]string{
	jonas:  {"group:default/shipping-team"},
	mateo:  {"group:default/routing-team"},
	amelia: {"group:default/engineering"},
	priya:  {"group:default/shipping-team"},
}

// testProviders are the sign-in providers the test UI offers; signing in
// with one signs in as its user.
var testProviders = []SignInProvider{{ID: "guest", Title: "Guest"}, {ID: "oidc", Title: "OpenID Connect"}}

var providerUsers = map[string]string{"guest": jonas, "oidc": amelia}

// testPolicy is what the administrator sees on the Settings page.
const testPolicy = "permission:\n  rules:\n    # everyone reads\n    - allow: [catalog.entity.read]\n      to: everyone\n    - allow: [catalog.location.create]\n      to: [group:default/engineering]\n"

// fakeAuthorizer allows the administrator and services everything;
// other users may refresh the entities they own (which needs the entity)
// and read the audit log, and may not register or (but priya)
// unregister.
type fakeAuthorizer struct{}

func (fakeAuthorizer) Allowed(ctx context.Context, permission string, raw json.RawMessage) bool {
	id, ok := auth.IdentityFrom(ctx)
	switch {
	case !ok:
		return false
	case id.Kind == auth.KindService || id.UserRef == amelia:
		return true
	}
	switch permission {
	case permAuditRead:
		return true
	case permLocationDelete:
		return id.UserRef == priya
	case permEntityRefresh:
		if raw == nil {
			return false
		}
		var e struct {
			Relations []struct{ Type, TargetRef string } `json:"relations"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return false
		}
		return slices.ContainsFunc(e.Relations, func(r struct{ Type, TargetRef string }) bool {
			return r.Type == "ownedBy" && slices.Contains(id.OwnershipRefs, r.TargetRef)
		})
	}
	return false
}

// testIdentity is the stand-in for the authenticating middleware.
func testIdentity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(identityCookie); err == nil {
			var id auth.Identity
			if subject, ok := strings.CutPrefix(c.Value, "service:"); ok {
				id = auth.Service(subject)
			} else {
				id = auth.User(c.Value, testOwnership[c.Value])
			}
			r = r.WithContext(auth.WithIdentity(r.Context(), id))
		}
		next.ServeHTTP(w, r)
	})
}

// signInEnv is the UI with sign-in on.
type signInEnv struct {
	*testEnv
	srv *httptest.Server
}

var (
	signInOnce sync.Once
	signInVal  *signInEnv
)

// signedEnv returns the UI with sign-in on, starting it on first use.
func signedEnv(t testing.TB) *signInEnv {
	t.Helper()
	e := env(t)
	signInOnce.Do(func() {
		ui := NewHandler(e.svc, slog.New(slog.DiscardHandler), Options{
			Title: "Atrium", SignIn: testProviders, Authorizer: fakeAuthorizer{},
			Policy: func(ctx context.Context) (string, bool) {
				id, _ := auth.IdentityFrom(ctx)
				return testPolicy, id.UserRef == amelia
			},
		})
		mux := http.NewServeMux()
		// The auth package's endpoints, as the contract describes them.
		mux.HandleFunc("GET /api/auth/{provider}/start", func(w http.ResponseWriter, r *http.Request) {
			user, ok := providerUsers[r.PathValue("provider")]
			if !ok {
				http.Redirect(w, r, "/signin?error=failed", http.StatusFound)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: identityCookie, Value: user, Path: "/", HttpOnly: true})
			http.Redirect(w, r, redirectPath(r.URL.Query().Get("redirect")), http.StatusFound)
		})
		mux.HandleFunc("POST /api/auth/logout", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: identityCookie, Value: "", Path: "/", MaxAge: -1})
			http.Redirect(w, r, "/signin?signedOut=1", http.StatusSeeOther)
		})
		mux.Handle("/", ui)
		srv := httptest.NewServer(testIdentity(mux))
		cleanups = append(cleanups, srv.Close)
		signInVal = &signInEnv{testEnv: e, srv: srv}
	})
	return signInVal
}

// clientAs returns a client (cookie jar, no redirects followed) signed in
// as who, or signed out when who is "".
func (s *signInEnv) clientAs(who string) *http.Client {
	jar, _ := cookiejar.New(nil)
	if who != "" {
		u, _ := url.Parse(s.srv.URL)
		jar.SetCookies(u, []*http.Cookie{{Name: identityCookie, Value: who, Path: "/"}})
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fetch sends a request as who and returns the response's status, its
// Location header and its body.
func (s *signInEnv) fetch(t testing.TB, c *http.Client, method, path string, form url.Values, hdr map[string]string) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// getAs fetches path as who.
func (s *signInEnv) getAs(t testing.TB, who, path string) (int, string, string) {
	t.Helper()
	return s.fetch(t, s.clientAs(who), http.MethodGet, path, nil, nil)
}
