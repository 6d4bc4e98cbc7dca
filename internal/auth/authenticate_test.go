package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAuthenticatorMiddleware(t *testing.T) {
	f := newFixture(t, openStore(t), newClock())
	restricted := []AccessRestriction{{Plugin: "catalog", Actions: []string{"read"}}}
	static, err := NewStaticTokens([]StaticToken{
		{Token: "ci-token-0001", Subject: "ci"},
		{Token: "reader-token", Subject: "reader", Restrictions: restricted},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuthenticator(AuthenticatorOptions{Tokens: f.tokens, Static: static, Sessions: f.sessions})
	userToken := mustIssue(t, f)
	expiredToken := mustIssue(t, f)
	cookie, _ := startSession(t, f.sessions, nil, User("user:default/joe", nil))

	// The expired token is issued at the fixture's start; the others are
	// checked at that time too, so move only for it.
	tests := []struct {
		name             string
		path             string
		authorization    string
		cookie           bool
		advance          time.Duration
		wantID           *Identity // nil: unauthenticated
		wantRestrictions []AccessRestriction
		wantStatus       int    // 0: the request goes on
		wantError        string // Backstage error message, for /api paths
	}{
		{name: "no credentials", path: "/api/catalog/entities"},
		{name: "user token", path: "/api/catalog/entities", authorization: "Bearer " + userToken, wantID: &jane},
		{name: "lowercase scheme", path: "/api/catalog/entities", authorization: "bearer " + userToken, wantID: &jane},
		{name: "static token", path: "/api/catalog/entities", authorization: "Bearer ci-token-0001", wantID: ptr(Service("ci"))},
		{name: "restricted static token", path: "/api/catalog/entities", authorization: "Bearer reader-token",
			wantID: ptr(Service("reader")), wantRestrictions: restricted},
		{name: "session cookie", path: "/catalog", cookie: true, wantID: ptr(User("user:default/joe", nil))},
		{name: "token wins over cookie", path: "/api/catalog/entities", authorization: "Bearer ci-token-0001", cookie: true,
			wantID: ptr(Service("ci"))},
		{name: "other scheme ignored", path: "/api/catalog/entities", authorization: "Basic dXNlcjpwYXNz", cookie: true,
			wantID: ptr(User("user:default/joe", nil))},
		{name: "empty bearer ignored", path: "/api/catalog/entities", authorization: "Bearer ", wantID: nil},
		{name: "unknown token", path: "/api/catalog/entities", authorization: "Bearer not-a-known-token",
			wantStatus: http.StatusUnauthorized, wantError: "Invalid token"},
		{name: "tampered user token", path: "/api/catalog/entities", authorization: "Bearer " + userToken[:len(userToken)-4] + "AAAA",
			wantStatus: http.StatusUnauthorized, wantError: "Invalid token"},
		{name: "bad token does not fall back to the cookie", path: "/api/catalog/entities", authorization: "Bearer not-a-known-token",
			cookie: true, wantStatus: http.StatusUnauthorized, wantError: "Invalid token"},
		{name: "expired user token", path: "/api/catalog/entities", authorization: "Bearer " + expiredToken, advance: 2 * time.Hour,
			wantStatus: http.StatusUnauthorized, wantError: "Token expired"},
		{name: "bad token outside the API", path: "/catalog", authorization: "Bearer not-a-known-token",
			wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := f.clock.Now()
			f.clock.Advance(tt.advance)
			defer f.clock.Set(start)

			r := httptest.NewRequest("GET", tt.path, nil)
			if tt.authorization != "" {
				r.Header.Set("Authorization", tt.authorization)
			}
			if tt.cookie {
				r.AddCookie(cookie)
			}
			called := false
			var gotID *Identity
			var gotRestrictions []AccessRestriction
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				if id, ok := IdentityFrom(r.Context()); ok {
					gotID = &id
				}
				gotRestrictions = RestrictionsFrom(r.Context())
			})
			rec := httptest.NewRecorder()
			a.Middleware(next).ServeHTTP(rec, r)

			if tt.wantStatus != 0 {
				if called || rec.Code != tt.wantStatus {
					t.Fatalf("status %d, next called %v; want %d and not called", rec.Code, called, tt.wantStatus)
				}
				if !strings.HasPrefix(tt.path, "/api/") {
					if ct := rec.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
						t.Errorf("Content-Type %q outside the API", ct)
					}
					return
				}
				var body errorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("body %s: %v", rec.Body, err)
				}
				var want errorBody
				want.Error.Name, want.Error.Message = "AuthenticationError", tt.wantError
				want.Request.Method, want.Request.URL = "GET", tt.path
				want.Response.StatusCode = tt.wantStatus
				if diff := cmp.Diff(want, body); diff != "" {
					t.Errorf("error body (-want +got):\n%s", diff)
				}
				return
			}
			if !called {
				t.Fatalf("next not called; status %d, body %s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff(tt.wantID, gotID); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRestrictions, gotRestrictions); diff != "" {
				t.Errorf("restrictions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthenticatorWithoutParts checks that a credential kind left out is
// not accepted.
func TestAuthenticatorWithoutParts(t *testing.T) {
	f := newFixture(t, openStore(t), newClock())
	token := mustIssue(t, f)
	cookie, _ := startSession(t, f.sessions, nil, jane)
	a := NewAuthenticator(AuthenticatorOptions{})
	for name, r := range map[string]*http.Request{
		"user token": func() *http.Request {
			r := httptest.NewRequest("GET", "/api/catalog/entities", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			return r
		}(),
		"cookie": withCookie(cookie),
	} {
		rec := httptest.NewRecorder()
		var id Identity
		var ok bool
		a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok = IdentityFrom(r.Context())
		})).ServeHTTP(rec, r)
		if ok {
			t.Errorf("%s: authenticated as %v with no way to check it", name, id)
		}
	}
}

func ptr[T any](v T) *T { return &v }
