package auth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewGuest(t *testing.T) {
	tests := []struct {
		name        string
		cfg         GuestConfig
		environment string
		wantRef     string // "" when refused
	}{
		{"development default", GuestConfig{}, "development", "user:development/guest"},
		{"no environment", GuestConfig{}, "", "user:development/guest"},
		{"configured ref", GuestConfig{UserEntityRef: "user:default/Guest"}, "development", "user:default/guest"},
		{"ref without kind", GuestConfig{UserEntityRef: "default/guest"}, "development", "user:default/guest"},
		{"ref without namespace", GuestConfig{UserEntityRef: "visitor"}, "development", "user:development/visitor"},
		{"not a user", GuestConfig{UserEntityRef: "group:default/guests"}, "development", ""},
		{"bad ref", GuestConfig{UserEntityRef: "user:/guest"}, "development", ""},
		{"production", GuestConfig{}, "production", ""},
		{"production, dangerously allowed", GuestConfig{DangerouslyAllowOutsideDevelopment: true}, "production", "user:development/guest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGuest(tt.cfg, tt.environment)
			if tt.wantRef == "" {
				if err == nil {
					t.Fatalf("NewGuest succeeded with %+v", g.Identity())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Identity{Kind: KindUser, UserRef: tt.wantRef, OwnershipRefs: []string{tt.wantRef}}
			if diff := cmp.Diff(want, g.Identity()); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
		})
	}
}

// authServer is the auth routes of one replica, with the guest provider
// and a stand-in for another provider that echoes the path it sees.
type authServer struct {
	*fixture
	h http.Handler
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	f := newFixture(t, openStore(t), newClock())
	g, err := NewGuest(GuestConfig{}, "development")
	if err != nil {
		t.Fatal(err)
	}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Method+" "+r.URL.Path) })
	h := NewHandler(HandlerOptions{Keys: f.keys, Tokens: f.tokens, Sessions: f.sessions,
		Providers: map[string]http.Handler{"guest": g.Handler(f.sessions), "oidc": echo}})
	return &authServer{fixture: f, h: h}
}

// do serves a request with the cookies given and returns the response.
func (s *authServer) do(method, target string, cookies ...*http.Cookie) *http.Response {
	r := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, r)
	return rec.Result()
}

func sessionCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

func TestGuestStartRedirects(t *testing.T) {
	s := newAuthServer(t)
	for _, tt := range redirectTests {
		t.Run(tt.target, func(t *testing.T) {
			resp := s.do("GET", "/api/auth/guest/start?redirect="+url.QueryEscape(tt.target))
			c := sessionCookieOf(resp)
			if tt.want == "" {
				if resp.StatusCode != http.StatusBadRequest || c != nil {
					t.Errorf("status %d, cookie %v; want 400 and no session", resp.StatusCode, c)
				}
				return
			}
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302", resp.StatusCode)
			}
			if loc := resp.Header.Get("Location"); loc != tt.want {
				t.Errorf("Location = %q, want %q", loc, tt.want)
			}
			if c == nil {
				t.Fatal("no session cookie")
			}
			id, ok, err := s.sessions.FromRequest(withCookie(c))
			if err != nil || !ok || id.UserRef != DefaultGuestRef {
				t.Errorf("session: %v, %v, %v; want the guest", id, ok, err)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	s := newAuthServer(t)
	start := s.do("GET", "/api/auth/guest/start")
	cookie := sessionCookieOf(start)
	if cookie == nil {
		t.Fatalf("start: status %d, no cookie", start.StatusCode)
	}

	// Any configured provider's refresh answers from the session.
	for _, provider := range []string{"guest", "oidc"} {
		resp := s.do("GET", "/api/auth/"+provider+"/refresh", cookie)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", provider, resp.StatusCode)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", provider, cc)
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		bi, _ := body["backstageIdentity"].(map[string]any)
		token, _ := bi["token"].(string)
		want := map[string]any{
			"backstageIdentity": map[string]any{
				"token":            token,
				"expiresInSeconds": float64(3600),
				"identity": map[string]any{
					"type":                "user",
					"userEntityRef":       "user:development/guest",
					"ownershipEntityRefs": []any{"user:development/guest"},
				},
			},
			"profile":      map[string]any{},
			"providerInfo": map[string]any{},
		}
		if diff := cmp.Diff(want, body); diff != "" {
			t.Errorf("%s: body (-want +got):\n%s", provider, diff)
		}
		id, err := s.tokens.Verify(context.Background(), token)
		if err != nil || id.UserRef != DefaultGuestRef {
			t.Errorf("%s: token verifies as %v, %v; want the guest", provider, id, err)
		}
	}

	// Without a session, or for an unknown provider: Backstage's errors.
	for _, tt := range []struct {
		target  string
		cookies []*http.Cookie
		status  int
		name    string
	}{
		{"/api/auth/guest/refresh", nil, http.StatusUnauthorized, "AuthenticationError"},
		{"/api/auth/github/refresh", []*http.Cookie{cookie}, http.StatusNotFound, "NotFoundError"},
	} {
		resp := s.do("GET", tt.target, tt.cookies...)
		var body errorBody
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tt.status || body.Error.Name != tt.name || body.Response.StatusCode != tt.status ||
			body.Request.Method != "GET" || body.Request.URL != tt.target {
			t.Errorf("%s: status %d, body %+v; want %d %s", tt.target, resp.StatusCode, body, tt.status, tt.name)
		}
	}
}

func TestRefreshAfterTokenExpiry(t *testing.T) {
	s := newAuthServer(t)
	cookie := sessionCookieOf(s.do("GET", "/api/auth/guest/start"))
	s.clock.Advance(2 * time.Hour) // past the token's life, within the session's
	resp := s.do("GET", "/api/auth/guest/refresh", cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestLogout(t *testing.T) {
	for _, target := range []string{"/api/auth/logout", "/api/auth/guest/logout"} {
		t.Run(target, func(t *testing.T) {
			s := newAuthServer(t)
			cookie := sessionCookieOf(s.do("GET", "/api/auth/guest/start"))
			resp := s.do("POST", target, cookie)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if c := sessionCookieOf(resp); c == nil || c.MaxAge >= 0 {
				t.Errorf("cookie %v, want it deleted", c)
			}
			if resp := s.do("GET", "/api/auth/guest/refresh", cookie); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("refresh after logout: status %d, want 401", resp.StatusCode)
			}
		})
	}
}

func TestHandlerRoutes(t *testing.T) {
	s := newAuthServer(t)
	tests := []struct {
		method, target string
		wantStatus     int
		wantBody       string // a substring
	}{
		{"GET", "/api/auth/.well-known/jwks.json", http.StatusOK, `"kty":"EC"`},
		// A provider sees its own paths, with the mount point stripped.
		{"GET", "/api/auth/oidc/start?redirect=/x", http.StatusOK, "GET /start"},
		{"GET", "/api/auth/oidc/handler/frame", http.StatusOK, "GET /handler/frame"},
		{"POST", "/api/auth/oidc/handler/frame", http.StatusOK, "POST /handler/frame"},
		{"GET", "/api/auth/github/start", http.StatusNotFound, "NotFoundError"},
		{"GET", "/api/auth/nope", http.StatusNotFound, "NotFoundError"},
		{"POST", "/api/auth/github/logout", http.StatusNotFound, "NotFoundError"},
		{"GET", "/api/auth/guest/nope", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			resp := s.do(tt.method, tt.target)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("status %d, body %s; want %d with %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}
