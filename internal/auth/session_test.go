package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/store"
)

// startSession signs id in on s and returns the session cookie set.
func startSession(t *testing.T, s *Sessions, r *http.Request, id Identity) (*http.Cookie, *httptest.ResponseRecorder) {
	t.Helper()
	if r == nil {
		r = httptest.NewRequest("GET", "/api/auth/guest/start", nil)
	}
	rec := httptest.NewRecorder()
	if err := s.StartSession(rec, r, id); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			return c, rec
		}
	}
	t.Fatalf("no %s cookie set; headers %v", SessionCookie, rec.Header())
	return nil, nil
}

// withCookie returns a request carrying c.
func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/api/catalog/entities", nil)
	r.AddCookie(c)
	return r
}

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		baseURL    string
		wantSecure bool
	}{
		{"https://atrium.example.com", true},
		{"http://localhost:7007", false},
	}
	for _, tt := range tests {
		t.Run(tt.baseURL, func(t *testing.T) {
			s, err := NewSessions(openStore(t), SessionsOptions{BaseURL: tt.baseURL})
			if err != nil {
				t.Fatal(err)
			}
			c, rec := startSession(t, s, nil, jane)
			raw, err := b64.DecodeString(c.Value)
			if err != nil || len(raw) != 32 {
				t.Errorf("cookie value %q is not 32 bytes in base64url (%v)", c.Value, err)
			}
			got := struct {
				Path     string
				MaxAge   int
				HttpOnly bool
				Secure   bool
				SameSite http.SameSite
			}{c.Path, c.MaxAge, c.HttpOnly, c.Secure, c.SameSite}
			want := got
			want.Path, want.MaxAge, want.HttpOnly, want.Secure, want.SameSite = "/", int(DefaultSessionMaxLifetime/time.Second), true, tt.wantSecure, http.SameSiteLaxMode
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cookie (-want +got):\n%s", diff)
			}
			header := rec.Header().Get("Set-Cookie")
			for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
				if !strings.Contains(header, attr) {
					t.Errorf("Set-Cookie %q lacks %s", header, attr)
				}
			}
			if strings.Contains(header, "Secure") != tt.wantSecure {
				t.Errorf("Set-Cookie %q: Secure should be %v", header, tt.wantSecure)
			}
		})
	}
}

func TestSessionStoredHashed(t *testing.T) {
	st := openStore(t)
	f := newFixture(t, st, newClock())
	c, _ := startSession(t, f.sessions, nil, jane)
	raw, err := b64.DecodeString(c.Value)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	ctx := context.Background()
	sess, err := st.SessionByHash(ctx, hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatalf("no session stored under the id's hash: %v", err)
	}
	want := store.Session{IDHash: hex.EncodeToString(sum[:]), UserRef: jane.UserRef, OwnershipRefs: jane.OwnershipRefs,
		CreatedAt: f.clock.Now(), ExpiresAt: f.clock.Now().Add(DefaultSessionLifetime), LastSeenAt: f.clock.Now()}
	if diff := cmp.Diff(want, sess); diff != "" {
		t.Errorf("stored session (-want +got):\n%s", diff)
	}
	for _, key := range []string{c.Value, hex.EncodeToString(raw)} {
		if _, err := st.SessionByHash(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session found under the id itself (%q): %v", key, err)
		}
	}
}

func TestSessionLifetime(t *testing.T) {
	st := openStore(t)
	f := newFixture(t, st, newClock())
	ctx := context.Background()
	c, _ := startSession(t, f.sessions, nil, jane)
	raw, _ := b64.DecodeString(c.Value)
	idHash := hashSessionID(raw)
	lastSeen := func() time.Time {
		t.Helper()
		s, err := st.SessionByHash(ctx, idHash)
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSeenAt
	}
	use := func(step string, wantOK bool) {
		t.Helper()
		id, ok, err := f.sessions.FromRequest(withCookie(c))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if ok != wantOK {
			t.Fatalf("%s: session valid = %v, want %v", step, ok, wantOK)
		}
		if ok {
			if diff := cmp.Diff(jane, id); diff != "" {
				t.Errorf("%s: identity (-want +got):\n%s", step, diff)
			}
		}
	}
	start := f.clock.Now()
	use("at once", true)

	// Uses within a minute of the last write leave the row alone.
	f.clock.Advance(30 * time.Second)
	use("after 30s", true)
	if got := lastSeen(); !got.Equal(start) {
		t.Errorf("last seen moved to %v after 30s, want %v", got, start)
	}
	f.clock.Advance(30 * time.Second)
	use("after a minute", true)
	if got := lastSeen(); !got.Equal(f.clock.Now()) {
		t.Errorf("last seen %v after a minute, want %v", got, f.clock.Now())
	}

	// Each use extends the session: it ends after Lifetime unused.
	f.clock.Advance(DefaultSessionLifetime - time.Second)
	use("just before idling out", true)
	f.clock.Advance(DefaultSessionLifetime)
	use("idle for its lifetime", false)

	// However often it is used, it ends after MaxLifetime.
	f.clock.Set(start)
	c, _ = startSession(t, f.sessions, nil, jane)
	for f.clock.Now().Before(start.Add(DefaultSessionMaxLifetime - 11*time.Hour)) {
		f.clock.Advance(11 * time.Hour)
		use("used every 11h", true)
	}
	f.clock.Set(start.Add(DefaultSessionMaxLifetime))
	use("at its maximum lifetime", false)
}

func TestEndSession(t *testing.T) {
	f := newFixture(t, openStore(t), newClock())
	c, _ := startSession(t, f.sessions, nil, jane)
	rec := httptest.NewRecorder()
	if err := f.sessions.EndSession(rec, withCookie(c)); err != nil {
		t.Fatal(err)
	}
	cleared := rec.Result().Cookies()
	if len(cleared) != 1 || cleared[0].Name != SessionCookie || cleared[0].MaxAge >= 0 || cleared[0].Value != "" {
		t.Errorf("EndSession set cookies %v, want %s deleted", cleared, SessionCookie)
	}
	// The browser may ignore the deletion; the id no longer works anyway.
	if _, ok, err := f.sessions.FromRequest(withCookie(c)); ok || err != nil {
		t.Errorf("after EndSession: ok = %v, err = %v; want false, nil", ok, err)
	}
	// Ending no session, or one already ended, is not an error.
	for _, r := range []*http.Request{withCookie(c), httptest.NewRequest("POST", "/api/auth/logout", nil)} {
		if err := f.sessions.EndSession(httptest.NewRecorder(), r); err != nil {
			t.Errorf("EndSession again: %v", err)
		}
	}
}

// TestStartSessionReplacesOld checks that signing in again with a
// session cookie already set (perhaps one an attacker planted) revokes
// that session.
func TestStartSessionReplacesOld(t *testing.T) {
	f := newFixture(t, openStore(t), newClock())
	old, _ := startSession(t, f.sessions, nil, User("user:default/mallory", nil))
	fresh, _ := startSession(t, f.sessions, withCookie(old), jane)
	if fresh.Value == old.Value {
		t.Fatal("signing in again kept the session id")
	}
	if _, ok, _ := f.sessions.FromRequest(withCookie(old)); ok {
		t.Error("the replaced session still works")
	}
	if id, ok, _ := f.sessions.FromRequest(withCookie(fresh)); !ok || id.UserRef != jane.UserRef {
		t.Errorf("new session: %v, %v; want jane", id, ok)
	}
}

func TestFromRequestWithoutSession(t *testing.T) {
	f := newFixture(t, openStore(t), newClock())
	tests := []struct {
		name   string
		cookie string // "" for none
	}{
		{"no cookie", ""},
		{"not base64", "!!!"},
		{"too short", b64.EncodeToString([]byte("short"))},
		{"unknown id", b64.EncodeToString(make([]byte, 32))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: SessionCookie, Value: tt.cookie})
			}
			if id, ok, err := f.sessions.FromRequest(r); ok || err != nil {
				t.Errorf("FromRequest = %v, %v, %v; want no session, no error", id, ok, err)
			}
		})
	}
}

func TestSessionsRefuse(t *testing.T) {
	st := openStore(t)
	for _, base := range []string{"", "atrium.example.com", "ftp://atrium.example.com", "https://"} {
		if _, err := NewSessions(st, SessionsOptions{BaseURL: base}); err == nil {
			t.Errorf("NewSessions(%q) succeeded", base)
		}
	}
	f := newFixture(t, st, newClock())
	if err := f.sessions.StartSession(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), Service("ci")); err == nil {
		t.Error("a service was given a session")
	}
}

func TestPruneSessions(t *testing.T) {
	f := newFixture(t, openStore(t), newClock())
	startSession(t, f.sessions, nil, jane)
	f.clock.Advance(time.Hour)
	kept, _ := startSession(t, f.sessions, nil, jane)
	f.clock.Advance(DefaultSessionLifetime - time.Hour)
	n, err := f.sessions.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("Prune deleted %d sessions, want 1", n)
	}
	if _, ok, _ := f.sessions.FromRequest(withCookie(kept)); !ok {
		t.Error("Prune deleted a live session")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.sessions.Run(ctx, nil); close(done) }()
	cancel()
	<-done
}
