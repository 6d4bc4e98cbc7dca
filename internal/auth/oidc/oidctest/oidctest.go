// Package oidctest runs a real, standards-compliant OpenID provider in
// process for tests of sign-in: zitadel/oidc's op package over a small
// in-memory storage, with a plain HTML login form that a Go test can post
// and a browser test can fill in.
//
// A test starts one with NewServer (or Start, for the common case),
// points the application's metadataUrl at Issuer()+"/.well-known/openid-configuration",
// and signs in through the login page the provider sends the browser to:
//
//	form  action="/login" method="post"
//	  input#username  name="username"
//	  input#password  name="password"
//	  input (hidden)  name="id"        the authorization request
//	  button#sign-in  name="action" value="sign-in"
//	  button#deny     name="action" value="deny"   (answers access_denied)
//
// A wrong password shows the form again with status 401 and a
// p#error message.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// DefaultClientID is the client Start and NewServer register.
const DefaultClientID = "atrium"

// DefaultPassword is the password of a User that sets none.
const DefaultPassword = "password"

// CodeLifetime is how long an authorization code can be exchanged.
const CodeLifetime = time.Minute

// LoginPath is the login page's path.
const LoginPath = "/login"

// User is a person who can sign in at the provider.
type User struct {
	// Subject is the stable ID in the sub claim; Username when empty.
	Subject string
	// Username is the login name, also sent as preferred_username.
	Username string
	// Password is the login password; DefaultPassword when empty.
	Password string
	// Email is sent as the email claim (scope "email"), if not empty.
	Email string
	// EmailVerified is sent as email_verified along with Email.
	EmailVerified bool
	// Name is sent as the name claim (scope "profile").
	Name string
}

// Client is an OAuth client registered at the provider.
type Client struct {
	// ID and Secret authenticate the client (client_secret_basic or
	// client_secret_post).
	ID, Secret string
	// RedirectURIs are the exact redirect URIs allowed. When empty, any
	// http://127.0.0.1:<port>/... or http://localhost:<port>/... URL is
	// allowed, which suits httptest servers.
	RedirectURIs []string
	// ClaimsInIDToken puts the profile and email claims in the ID token
	// as well; otherwise, as OpenID Connect Core 5.4 allows, they come only
	// from the userinfo endpoint.
	ClaimsInIDToken bool
	// Audience, when set, is the ID of another registered client that
	// the provider writes into this client's tokens (aud, azp) in place of
	// this one's: a misconfigured or hostile provider, to test that a
	// relying party checks the audience.
	Audience string
}

// Server is a running OpenID provider.
type Server struct {
	srv     *httptest.Server
	storage *storage
	secret  string
}

// Start runs a provider with users and the default client (ID
// DefaultClientID, a random secret, any loopback redirect URI), stopped
// when the test ends, and returns its issuer URL and the client's
// credentials.
func Start(t testing.TB, users ...User) (issuerURL, clientID, clientSecret string) {
	s := NewServer(t, users...)
	return s.Issuer(), DefaultClientID, s.ClientSecret()
}

// NewServer is Start returning the Server, to register more clients or
// move its clock.
func NewServer(t testing.TB, users ...User) *Server {
	t.Helper()
	st := &storage{
		users:        map[string]*User{},
		clients:      map[string]*Client{},
		authRequests: map[string]*authRequest{},
		codes:        map[string]code{},
		tokens:       map[string]*token{},
		key:          signingKey(),
	}
	for _, u := range users {
		if u.Subject == "" {
			u.Subject = u.Username
		}
		if u.Password == "" {
			u.Password = DefaultPassword
		}
		st.users[u.Subject] = &u
	}
	s := &Server{storage: st, secret: randomString()}
	st.clients[DefaultClientID] = &Client{ID: DefaultClientID, Secret: s.secret}

	mux := http.NewServeMux()
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)

	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		t.Fatal(err)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      cryptoKey,
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, st, op.StaticIssuer(s.srv.URL), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	l := &login{storage: st, provider: provider}
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.HandleFunc("GET "+LoginPath, l.page)
	mux.Handle("POST "+LoginPath, interceptor.HandlerFunc(l.submit))
	mux.Handle("/", provider)
	return s
}

// Issuer returns the provider's issuer URL ("http://127.0.0.1:<port>");
// its discovery document is at Issuer()+"/.well-known/openid-configuration".
func (s *Server) Issuer() string { return s.srv.URL }

// MetadataURL returns the discovery document's URL, Backstage's
// metadataUrl.
func (s *Server) MetadataURL() string { return s.srv.URL + "/.well-known/openid-configuration" }

// ClientSecret returns the default client's secret.
func (s *Server) ClientSecret() string { return s.secret }

// AddClient registers c (replacing a client with the same ID).
func (s *Server) AddClient(c Client) {
	s.storage.mu.Lock()
	defer s.storage.mu.Unlock()
	s.storage.clients[c.ID] = &c
}

// Advance moves the provider's clock for authorization codes forward by
// d, so that a test can let a code expire (see CodeLifetime).
func (s *Server) Advance(d time.Duration) {
	s.storage.mu.Lock()
	defer s.storage.mu.Unlock()
	s.storage.offset += d
}

// SubmitLogin posts the login form of the page at loginURL (where the
// provider sent the browser) as a person would, with action "sign-in" or
// "deny", and returns the response (c decides whether redirects are
// followed).
func SubmitLogin(c *http.Client, loginURL *url.URL, username, password, action string) (*http.Response, error) {
	id := loginURL.Query().Get("authRequestID")
	if id == "" {
		return nil, fmt.Errorf("oidctest: %s is not a login page URL", loginURL)
	}
	target := *loginURL
	target.RawQuery = ""
	return c.PostForm(target.String(), url.Values{
		"id": {id}, "username": {username}, "password": {password}, "action": {action},
	})
}

// login serves the login page.
type login struct {
	storage  *storage
	provider *op.Provider
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to the test provider</title></head>
<body>
<h1>Test OpenID provider</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form action="` + LoginPath + `" method="post">
<input type="hidden" name="id" value="{{.ID}}">
<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="sign-in" type="submit" name="action" value="sign-in">Sign in</button>
<button id="deny" type="submit" name="action" value="deny">Deny</button>
</form>
</body></html>
`))

type loginData struct{ ID, Error string }

func (l *login) page(w http.ResponseWriter, r *http.Request) {
	l.render(w, http.StatusOK, loginData{ID: r.URL.Query().Get("authRequestID")})
}

func (l *login) render(w http.ResponseWriter, status int, d loginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, d)
}

func (l *login) submit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("id")
	req, err := l.storage.AuthRequestByID(r.Context(), id)
	if err != nil {
		http.Error(w, "unknown authorization request", http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("action") == "deny" {
		op.AuthRequestError(w, r, req, oidc.ErrAccessDenied(), l.provider)
		return
	}
	if err := l.storage.authenticate(id, r.PostForm.Get("username"), r.PostForm.Get("password")); err != nil {
		l.render(w, http.StatusUnauthorized, loginData{ID: id, Error: err.Error()})
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(l.provider)(r.Context(), id), http.StatusFound)
}

// signingKey returns the RSA key every Server signs with: made once per
// test binary, since generating one is slow under the race detector.
var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func randomString() string { return rand.Text() }

// errNotFound is returned for unknown requests, codes, tokens and clients.
var errNotFound = errors.New("not found")

// loopbackRedirectGlobs allow any path on a loopback port.
var loopbackRedirectGlobs = []string{"http://127.0.0.1:*/**", "http://localhost:*/**"}
