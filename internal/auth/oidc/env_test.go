package oidc

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/auth/oidc/oidctest"
	"github.com/atrium-dev/atrium/internal/derrors"
)

func TestMain(m *testing.M) {
	// The op package logs each request through slog's default logger.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// The people at the test provider.
var (
	jane   = oidctest.User{Username: "jane", Email: "jane@example.com", EmailVerified: true, Name: "Jane Doe"}
	janeP  = oidctest.User{Subject: "jane-plus", Username: "jane.plus", Email: "Jane+Work@Example.com", EmailVerified: true}
	joe    = oidctest.User{Username: "joe.x", Email: "joe@example.com", EmailVerified: true}
	ann    = oidctest.User{Username: "ann", Email: "ann@elsewhere.org", EmailVerified: true}
	zed    = oidctest.User{Username: "zed", Email: "zed@example.com", EmailVerified: true}
	eve    = oidctest.User{Username: "eve", Email: "eve@example.com", EmailVerified: false}
	noMail = oidctest.User{Username: "nomail"}
	twin   = oidctest.User{Username: "twin", Email: "twin@example.com", EmailVerified: true}
	// upn's username cannot be an entity name.
	upn = oidctest.User{Username: "upn@example.com"}
)

var testUsers = []oidctest.User{jane, janeP, joe, ann, zed, eve, noMail, twin, upn}

var discardLogger = slog.New(slog.DiscardHandler)

// fakeUsers is the catalog: users by email and name, and their groups.
type fakeUsers struct {
	byEmail map[string]string
	byName  map[string]string
	groups  map[string][]string
	// conflict is an email several users have.
	conflict string
}

func newFakeUsers() *fakeUsers {
	return &fakeUsers{
		byEmail: map[string]string{
			"jane@example.com":  "user:default/jane",
			"ann@elsewhere.org": "user:default/ann",
			"eve@example.com":   "user:default/eve",
		},
		byName: map[string]string{
			"jane": "user:default/jane",
			"joe":  "user:default/joe",
			"ann":  "user:default/ann",
			"eve":  "user:default/eve",
		},
		groups: map[string][]string{
			"user:default/jane": {"group:default/team-a", "group:default/everyone"},
		},
		conflict: "twin@example.com",
	}
}

func (u *fakeUsers) FindUser(_ context.Context, by, value string) (string, bool, error) {
	value = strings.ToLower(value)
	switch by {
	case "email":
		if value == u.conflict {
			return "", false, derrors.Conflict("several catalog users have the email %s", value)
		}
		ref, ok := u.byEmail[value]
		return ref, ok, nil
	case "name":
		ref, ok := u.byName[value]
		return ref, ok, nil
	}
	return "", false, errors.New("unknown attribute " + by)
}

func (u *fakeUsers) Ownership(_ context.Context, ref string) ([]string, error) {
	return append([]string{ref}, u.groups[ref]...), nil
}

// fakeSessions records the sessions started.
type fakeSessions struct {
	mu  sync.Mutex
	ids []auth.Identity
	err error
}

func (s *fakeSessions) StartSession(w http.ResponseWriter, _ *http.Request, id auth.Identity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.ids = append(s.ids, id)
	http.SetCookie(w, &http.Cookie{Name: "atrium_session", Value: id.UserRef, Path: "/"})
	return nil
}

func (s *fakeSessions) started() []auth.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]auth.Identity(nil), s.ids...)
}

// lockedBuffer collects log output written from server goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// env is Atrium (an httptest server mounting the provider's handler,
// with stand-in pages elsewhere) signing in at a real OpenID provider.
type env struct {
	op       *oidctest.Server
	atrium   *httptest.Server
	provider *Provider
	// serving is the handler mounted at MountPath: provider's, or another
	// replica's.
	serving  atomic.Pointer[http.Handler]
	cfg      Config
	users    *fakeUsers
	sessions *fakeSessions
	logs     *lockedBuffer
	// browser follows redirects with a cookie jar, but stops before
	// Atrium's callback so that tests can look at (and tamper with) it.
	browser *http.Client
}

// stateKey is the test configuration's state cookie key.
var stateKey = []byte("0123456789abcdef0123456789abcdef")

// newEnv starts the provider and Atrium, configured with the email
// resolver unless configure changes it.
func newEnv(t *testing.T, configure func(*Config)) *env {
	t.Helper()
	e := &env{
		op:       oidctest.NewServer(t, testUsers...),
		users:    newFakeUsers(),
		sessions: &fakeSessions{},
		logs:     &lockedBuffer{},
	}
	mux := http.NewServeMux()
	e.atrium = httptest.NewServer(mux)
	t.Cleanup(e.atrium.Close)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("page " + r.URL.Path))
	})
	mux.Handle(MountPath+"/", http.StripPrefix(MountPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*e.serving.Load()).ServeHTTP(w, r)
	})))
	e.cfg = Config{
		BaseURL:      e.atrium.URL,
		MetadataURL:  e.op.MetadataURL(),
		ClientID:     oidctest.DefaultClientID,
		ClientSecret: e.op.ClientSecret(),
		Resolvers:    []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}},
		StateKey:     stateKey,
	}
	if configure != nil {
		configure(&e.cfg)
	}
	p, err := New(t.Context(), e.cfg, e.users, e.sessions, slog.New(slog.NewTextHandler(e.logs, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.provider = p
	e.serve(p)
	e.browser = e.newBrowser(t)
	return e
}

// serve makes p the replica that serves MountPath.
func (e *env) serve(p *Provider) {
	h := p.Handler()
	e.serving.Store(&h)
}

func (e *env) newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == MountPath+"/handler/frame" && len(via) > 0 && via[len(via)-1].URL.Host != req.URL.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// startURL is where the sign-in page's button sends the browser.
func (e *env) startURL(redirect string) string {
	return e.atrium.URL + MountPath + "/start?redirect=" + url.QueryEscape(redirect)
}

// authorize starts a sign-in, logs in at the provider as username with
// action ("sign-in" or "deny"), and returns the callback URL the provider
// sends the browser back to, not yet visited.
func (e *env) authorize(t *testing.T, redirect, username, action string) *url.URL {
	t.Helper()
	resp, err := e.browser.Get(e.startURL(redirect))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != oidctest.LoginPath {
		t.Fatalf("start: ended at %s (%s), want the provider's login page", resp.Request.URL, resp.Status)
	}
	resp, err = oidctest.SubmitLogin(e.browser, resp.Request.URL, username, oidctest.DefaultPassword, action)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || loc.Path != MountPath+"/handler/frame" {
		t.Fatalf("login: %s, Location %v, want a redirect to the callback", resp.Status, loc)
	}
	return loc
}

// visit gets u with the browser, following redirects, and returns where
// it ends on Atrium as path and query ("/catalog", "/signin?error=...").
func (e *env) visit(t *testing.T, c *http.Client, u *url.URL) string {
	t.Helper()
	resp, err := c.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Host != strings.TrimPrefix(e.atrium.URL, "http://") {
		t.Fatalf("ended at %s, off Atrium", resp.Request.URL)
	}
	return resp.Request.URL.RequestURI()
}

// signIn runs a whole sign-in and returns where the browser ends.
func (e *env) signIn(t *testing.T, redirect, username string) string {
	t.Helper()
	return e.visit(t, e.browser, e.authorize(t, redirect, username, "sign-in"))
}

// stateCookie returns the browser's state cookie for the callback.
func (e *env) stateCookie(t *testing.T) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(e.atrium.URL + MountPath + "/handler/frame")
	for _, c := range e.browser.Jar.Cookies(u) {
		if c.Name == stateCookie {
			return c
		}
	}
	t.Fatal("the browser has no state cookie")
	return nil
}

// setStateCookie replaces the browser's state cookie with value.
func (e *env) setStateCookie(value string) {
	u, _ := url.Parse(e.atrium.URL + MountPath + "/handler/frame")
	e.browser.Jar.SetCookies(u, []*http.Cookie{{Name: stateCookie, Value: value, Path: MountPath + "/handler/frame"}})
}
