package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/auth/oidc/oidctest"
)

func TestSignIn(t *testing.T) {
	tests := []struct {
		name      string
		resolvers []ResolverConfig
		// claimsInIDToken makes the provider put email and username in
		// the ID token instead of only at the userinfo endpoint.
		claimsInIDToken bool
		user            oidctest.User
		want            auth.Identity
	}{
		{
			name:      "email matching profile email, claims from userinfo",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}},
			user:      jane,
			want:      auth.User("user:default/jane", []string{"group:default/team-a", "group:default/everyone"}),
		},
		{
			name:            "email matching profile email, claims in the ID token",
			resolvers:       []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}},
			claimsInIDToken: true,
			user:            jane,
			want:            auth.User("user:default/jane", []string{"group:default/team-a", "group:default/everyone"}),
		},
		{
			name:      "email with plus addressing matches the address without it",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}},
			user:      janeP,
			want:      auth.User("user:default/jane", []string{"group:default/team-a", "group:default/everyone"}),
		},
		{
			name:      "email local part matching entity name",
			resolvers: []ResolverConfig{{Resolver: EmailLocalPartMatchingUserEntityName}},
			user:      joe,
			want:      auth.User("user:default/joe", nil),
		},
		{
			name:      "username matching entity name",
			resolvers: []ResolverConfig{{Resolver: UsernameMatchingUserEntityName}},
			user:      ann,
			want:      auth.User("user:default/ann", nil),
		},
		{
			name:            "preferred username alias, claims in the ID token",
			resolvers:       []ResolverConfig{{Resolver: PreferredUsernameMatchingUserEntityName}},
			claimsInIDToken: true,
			user:            ann,
			want:            auth.User("user:default/ann", nil),
		},
		{
			name: "resolvers tried in order: the first that finds a user wins",
			resolvers: []ResolverConfig{
				{Resolver: UsernameMatchingUserEntityName},       // joe.x is no catalog name
				{Resolver: EmailMatchingUserEntityProfileEmail},  // joe@example.com is no catalog email
				{Resolver: EmailLocalPartMatchingUserEntityName}, // joe is
			},
			user: joe,
			want: auth.User("user:default/joe", nil),
		},
		{
			name: "a resolver without its claim passes to the next",
			resolvers: []ResolverConfig{
				{Resolver: EmailMatchingUserEntityProfileEmail},
				{Resolver: UsernameMatchingUserEntityName},
			},
			user: noMail,
			want: auth.User("user:default/nomail", nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Resolvers = tt.resolvers })
			e.users.byName["nomail"] = "user:default/nomail"
			if tt.claimsInIDToken {
				e.op.AddClient(oidctest.Client{ID: oidctest.DefaultClientID, Secret: e.op.ClientSecret(), ClaimsInIDToken: true})
			}
			if got := e.signIn(t, "/catalog/default/component/petstore?tab=api", tt.user.Username); got != "/catalog/default/component/petstore?tab=api" {
				t.Fatalf("ended at %s, want the redirect path; log:\n%s", got, e.logs)
			}
			if diff := cmp.Diff([]auth.Identity{tt.want}, e.sessions.started()); diff != "" {
				t.Errorf("sessions started (-want +got):\n%s", diff)
			}
			// The state cookie is spent.
			u, _ := url.Parse(e.atrium.URL + MountPath + "/handler/frame")
			for _, c := range e.browser.Jar.Cookies(u) {
				if c.Name == stateCookie {
					t.Errorf("state cookie still set after sign-in")
				}
			}
		})
	}
}

func TestSignInRefused(t *testing.T) {
	tests := []struct {
		name      string
		resolvers []ResolverConfig
		user      oidctest.User
		want      ErrorCode
		// wantID, if set, is the identity signed in instead of a refusal.
		wantID *auth.Identity
	}{
		{
			name:      "unknown email",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}},
			user:      zed,
			want:      ErrorUnknownUser,
		},
		{
			name:      "unknown email, catalog bypass allowed",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail, DangerouslyAllowSignInWithoutUserInCatalog: true}},
			user:      zed,
			wantID:    new(auth.User("user:default/zed@example.com", nil)),
		},
		{
			name:      "unknown local part",
			resolvers: []ResolverConfig{{Resolver: EmailLocalPartMatchingUserEntityName}},
			user:      zed,
			want:      ErrorUnknownUser,
		},
		{
			name:      "unknown local part, catalog bypass allowed",
			resolvers: []ResolverConfig{{Resolver: EmailLocalPartMatchingUserEntityName, DangerouslyAllowSignInWithoutUserInCatalog: true}},
			user:      zed,
			wantID:    new(auth.User("user:default/zed", nil)),
		},
		{
			name:      "unknown username",
			resolvers: []ResolverConfig{{Resolver: UsernameMatchingUserEntityName}},
			user:      zed,
			want:      ErrorUnknownUser,
		},
		{
			name:      "unknown username, catalog bypass allowed",
			resolvers: []ResolverConfig{{Resolver: UsernameMatchingUserEntityName, DangerouslyAllowSignInWithoutUserInCatalog: true}},
			user:      zed,
			wantID:    new(auth.User("user:default/zed", nil)),
		},
		{
			name:      "username that cannot be an entity name is not bypassed",
			resolvers: []ResolverConfig{{Resolver: UsernameMatchingUserEntityName, DangerouslyAllowSignInWithoutUserInCatalog: true}},
			user:      upn,
			want:      ErrorUnknownUser,
		},
		{
			name:      "allowed domain",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail, AllowedDomains: []string{"elsewhere.org", "EXAMPLE.com"}}},
			user:      jane,
			wantID:    new(auth.User("user:default/jane", []string{"group:default/team-a", "group:default/everyone"})),
		},
		{
			name:      "domain not allowed",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail, AllowedDomains: []string{"example.com"}}},
			user:      ann,
			want:      ErrorDomainNotAllowed,
		},
		{
			name:      "domain not allowed, local part resolver",
			resolvers: []ResolverConfig{{Resolver: EmailLocalPartMatchingUserEntityName, AllowedDomains: []string{"example.com"}}},
			user:      ann,
			want:      ErrorDomainNotAllowed,
		},
		{
			name:      "domain not allowed ends the sign-in even with a later resolver and the catalog bypass",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail, AllowedDomains: []string{"example.com"}, DangerouslyAllowSignInWithoutUserInCatalog: true}, {Resolver: UsernameMatchingUserEntityName}},
			user:      ann,
			want:      ErrorDomainNotAllowed,
		},
		{
			name:      "unverified email",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}},
			user:      eve,
			want:      ErrorEmailNotVerified,
		},
		{
			name:      "several catalog users with the email",
			resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}},
			user:      twin,
			want:      ErrorAmbiguousUser,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Resolvers = tt.resolvers })
			got := e.signIn(t, "/catalog", tt.user.Username)
			if tt.wantID != nil {
				if got != "/catalog" {
					t.Fatalf("ended at %s, want /catalog; log:\n%s", got, e.logs)
				}
				if diff := cmp.Diff([]auth.Identity{*tt.wantID}, e.sessions.started()); diff != "" {
					t.Errorf("sessions started (-want +got):\n%s", diff)
				}
				return
			}
			if want := SignInPath + "?error=" + string(tt.want); got != want {
				t.Errorf("ended at %s, want %s; log:\n%s", got, want, e.logs)
			}
			if s := e.sessions.started(); len(s) != 0 {
				t.Errorf("sessions started: %v, want none", s)
			}
			if !strings.Contains(e.logs.String(), "code="+string(tt.want)) {
				t.Errorf("refusal not logged with its code; log:\n%s", e.logs)
			}
		})
	}
}

func TestDeniedAtProvider(t *testing.T) {
	e := newEnv(t, nil)
	cb := e.authorize(t, "/catalog", jane.Username, "deny")
	if got, want := cb.Query().Get("error"), "access_denied"; got != want {
		t.Fatalf("provider answered error=%q, want %q", got, want)
	}
	if got, want := e.visit(t, e.browser, cb), "/signin?error=access_denied"; got != want {
		t.Errorf("ended at %s, want %s", got, want)
	}
	if len(e.sessions.started()) != 0 {
		t.Error("a session was started")
	}
}

func TestBadState(t *testing.T) {
	tests := []struct {
		name string
		// tamper changes the callback URL or the browser's cookie.
		tamper func(t *testing.T, e *env, cb *url.URL) *http.Client
		want   ErrorCode
	}{
		{
			name: "state parameter changed",
			tamper: func(t *testing.T, e *env, cb *url.URL) *http.Client {
				q := cb.Query()
				q.Set("state", q.Get("state")+"x")
				cb.RawQuery = q.Encode()
				return e.browser
			},
			want: ErrorBadState,
		},
		{
			name: "state parameter missing",
			tamper: func(t *testing.T, e *env, cb *url.URL) *http.Client {
				q := cb.Query()
				q.Del("state")
				cb.RawQuery = q.Encode()
				return e.browser
			},
			want: ErrorBadState,
		},
		{
			name: "another browser (no state cookie): login CSRF",
			tamper: func(t *testing.T, e *env, cb *url.URL) *http.Client {
				return e.newBrowser(t)
			},
			want: ErrorBadState,
		},
		{
			name: "cookie tampered",
			tamper: func(t *testing.T, e *env, cb *url.URL) *http.Client {
				v := []byte(e.stateCookie(t).Value)
				i := len(v) / 2
				if v[i] == 'A' {
					v[i] = 'B'
				} else {
					v[i] = 'A'
				}
				e.setStateCookie(string(v))
				return e.browser
			},
			want: ErrorBadState,
		},
		{
			name: "cookie sealed with another key",
			tamper: func(t *testing.T, e *env, cb *url.URL) *http.Client {
				other, err := newSealer([]byte("another key, just as long as ours"), e.cfg.ClientID, e.provider.cfg.CallbackURL)
				if err != nil {
					t.Fatal(err)
				}
				v, err := other.seal(flow{State: cb.Query().Get("state"), Nonce: "n", Verifier: "v", Redirect: "/", Expires: time.Now().Add(time.Hour).Unix()})
				if err != nil {
					t.Fatal(err)
				}
				e.setStateCookie(v)
				return e.browser
			},
			want: ErrorBadState,
		},
		{
			name: "cookie of another sign-in",
			tamper: func(t *testing.T, e *env, cb *url.URL) *http.Client {
				// A second sign-in in the same browser replaces the
				// cookie; the first one's callback no longer matches it.
				e.authorize(t, "/", jane.Username, "sign-in")
				return e.browser
			},
			want: ErrorBadState,
		},
		{
			name: "state expired",
			tamper: func(t *testing.T, e *env, cb *url.URL) *http.Client {
				e.provider.now = func() time.Time { return time.Now().Add(DefaultStateTTL + time.Second) }
				return e.browser
			},
			want: ErrorExpiredState,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			cb := e.authorize(t, "/catalog", jane.Username, "sign-in")
			c := tt.tamper(t, e, cb)
			if got, want := e.visit(t, c, cb), SignInPath+"?error="+string(tt.want); got != want {
				t.Errorf("ended at %s, want %s; log:\n%s", got, want, e.logs)
			}
			if s := e.sessions.started(); len(s) != 0 {
				t.Errorf("sessions started: %v, want none", s)
			}
		})
	}
}

// TestResealedFlow changes one secret of the sign-in in its cookie (as
// only someone with the state key could) to check that the callback
// really uses it: the nonce against the ID token, the PKCE verifier at
// the provider.
func TestResealedFlow(t *testing.T) {
	tests := []struct {
		name   string
		change func(*flow)
		want   ErrorCode
	}{
		{"nonce differs from the ID token's", func(f *flow) { f.Nonce = "another-nonce" }, ErrorInvalidToken},
		{"PKCE verifier differs from the challenge", func(f *flow) { f.Verifier = "another-verifier-another-verifier-another-verifier" }, ErrorExchange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			cb := e.authorize(t, "/catalog", jane.Username, "sign-in")
			f, err := e.provider.sealer.open(e.stateCookie(t).Value, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			tt.change(&f)
			v, err := e.provider.sealer.seal(f)
			if err != nil {
				t.Fatal(err)
			}
			e.setStateCookie(v)
			if got, want := e.visit(t, e.browser, cb), SignInPath+"?error="+string(tt.want); got != want {
				t.Errorf("ended at %s, want %s; log:\n%s", got, want, e.logs)
			}
			if len(e.sessions.started()) != 0 {
				t.Error("a session was started")
			}
		})
	}
}

func TestReplayedCallback(t *testing.T) {
	e := newEnv(t, nil)
	cb := e.authorize(t, "/catalog", jane.Username, "sign-in")
	cookie := e.stateCookie(t).Value
	if got := e.visit(t, e.browser, cb); got != "/catalog" {
		t.Fatalf("first visit ended at %s; log:\n%s", got, e.logs)
	}

	// The same callback again: the state cookie was spent.
	if got, want := e.visit(t, e.browser, cb), "/signin?error=bad_state"; got != want {
		t.Errorf("replay ended at %s, want %s", got, want)
	}
	// Even with the old cookie put back, the provider takes a code once.
	e.setStateCookie(cookie)
	if got, want := e.visit(t, e.browser, cb), "/signin?error=exchange_failed"; got != want {
		t.Errorf("replay with the old cookie ended at %s, want %s", got, want)
	}
	if n := len(e.sessions.started()); n != 1 {
		t.Errorf("%d sessions started, want 1", n)
	}
}

func TestExpiredCode(t *testing.T) {
	e := newEnv(t, nil)
	cb := e.authorize(t, "/catalog", jane.Username, "sign-in")
	e.op.Advance(oidctest.CodeLifetime + time.Second)
	if got, want := e.visit(t, e.browser, cb), "/signin?error=exchange_failed"; got != want {
		t.Errorf("ended at %s, want %s; log:\n%s", got, want, e.logs)
	}
	if len(e.sessions.started()) != 0 {
		t.Error("a session was started")
	}
}

func TestWrongAudience(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ClientID, c.ClientSecret = "confused", "confused-secret" })
	// "confused" authenticates as itself, but the provider issues its
	// tokens to "other": a valid signature, the wrong audience.
	e.op.AddClient(oidctest.Client{ID: "other", Secret: "other-secret"})
	e.op.AddClient(oidctest.Client{ID: "confused", Secret: "confused-secret", Audience: "other"})
	if got, want := e.signIn(t, "/catalog", jane.Username), "/signin?error=invalid_token"; got != want {
		t.Errorf("ended at %s, want %s; log:\n%s", got, want, e.logs)
	}
	if !strings.Contains(e.logs.String(), "audience") {
		t.Errorf("log does not say the audience was wrong:\n%s", e.logs)
	}
	if len(e.sessions.started()) != 0 {
		t.Error("a session was started")
	}
}

func TestRedirectAfterSignIn(t *testing.T) {
	tests := []struct {
		redirect string
		want     string
	}{
		{"/catalog?filter=kind:component#top", "/catalog?filter=kind:component"},
		{"", "/"},
		{"//evil.com", "/"},
		{"/\\evil.com", "/"},
		{"https://evil.com/", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.com", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.redirect, func(t *testing.T) {
			e := newEnv(t, nil)
			if got := e.signIn(t, tt.redirect, jane.Username); got != tt.want {
				t.Errorf("redirect %q: ended at %s, want %s", tt.redirect, got, tt.want)
			}
		})
	}
}

func TestStartRequest(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Prompt = "login"; c.AdditionalScopes = []string{"groups"} })
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(e.startURL("/docs"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("start: %s, %v", resp.Status, err)
	}
	q := loc.Query()
	got := map[string]string{}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "prompt", "code_challenge_method"} {
		got[k] = q.Get(k)
	}
	want := map[string]string{
		"response_type":         "code",
		"client_id":             oidctest.DefaultClientID,
		"redirect_uri":          e.atrium.URL + "/api/auth/oidc/handler/frame",
		"scope":                 "openid profile email groups",
		"prompt":                "login",
		"code_challenge_method": "S256",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("authorization request (-want +got):\n%s", diff)
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("%s = %q, want 256 random bits", k, q.Get(k))
		}
	}

	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == stateCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no state cookie set")
	}
	gotAttrs := []any{cookie.Path, cookie.HttpOnly, cookie.SameSite, cookie.MaxAge, cookie.Secure}
	wantAttrs := []any{"/api/auth/oidc/handler/frame", true, http.SameSiteLaxMode, 600, false}
	if diff := cmp.Diff(wantAttrs, gotAttrs); diff != "" {
		t.Errorf("cookie path, HttpOnly, SameSite, MaxAge, Secure (-want +got):\n%s", diff)
	}
	for _, secret := range []string{q.Get("state"), q.Get("nonce"), "/docs"} {
		if strings.Contains(cookie.Value, secret) {
			t.Errorf("cookie shows %q in the clear", secret)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
}

// TestCallbackOnAnotherReplica starts a sign-in on one replica and
// finishes it on another that shares only the configuration.
func TestCallbackOnAnotherReplica(t *testing.T) {
	e := newEnv(t, nil)
	cb := e.authorize(t, "/catalog", jane.Username, "sign-in")
	replica, err := New(t.Context(), e.cfg, e.users, e.sessions, e.provider.logger)
	if err != nil {
		t.Fatal(err)
	}
	e.serve(replica)
	if got := e.visit(t, e.browser, cb); got != "/catalog" {
		t.Errorf("callback on the other replica ended at %s, want /catalog; log:\n%s", got, e.logs)
	}
	if n := len(e.sessions.started()); n != 1 {
		t.Errorf("%d sessions started, want 1", n)
	}
}

func TestSessionFailure(t *testing.T) {
	e := newEnv(t, nil)
	e.sessions.err = errors.New("database is down")
	if got, want := e.signIn(t, "/catalog", jane.Username), "/signin?error=server_error"; got != want {
		t.Errorf("ended at %s, want %s", got, want)
	}
	if !strings.Contains(e.logs.String(), "database is down") || !strings.Contains(e.logs.String(), "level=ERROR") {
		t.Errorf("the cause is not logged as an error:\n%s", e.logs)
	}
}

func TestMetadataURLForms(t *testing.T) {
	op := oidctest.NewServer(t, jane)
	for _, u := range []string{op.MetadataURL(), op.Issuer(), op.Issuer() + "/"} {
		t.Run(u, func(t *testing.T) {
			_, err := New(t.Context(), Config{
				BaseURL: "http://atrium.test", MetadataURL: u, ClientID: oidctest.DefaultClientID, ClientSecret: op.ClientSecret(),
				Resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}}, StateKey: stateKey,
			}, newFakeUsers(), &fakeSessions{}, discardLogger)
			if err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}
