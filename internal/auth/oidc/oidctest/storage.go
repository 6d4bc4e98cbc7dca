package oidctest

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the provider's state, in memory: the op.Storage the op
// package runs on, reduced to the authorization code flow.
type storage struct {
	mu           sync.Mutex
	users        map[string]*User // by subject
	clients      map[string]*Client
	authRequests map[string]*authRequest
	codes        map[string]code
	tokens       map[string]*token
	key          *rsa.PrivateKey
	// offset moves the clock that codes expire by (Server.Advance).
	offset time.Duration
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

type code struct {
	requestID string
	issued    time.Time
}

type token struct {
	id, clientID, subject string
	scopes                []string
	expires               time.Time
}

func (s *storage) now() time.Time { return time.Now().Add(s.offset) }

// authenticate checks a login for the authorization request id and, if
// it is right, marks the request done for the user.
func (s *storage) authenticate(id, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok {
		return errors.New("the sign-in request has expired")
	}
	for _, u := range s.users {
		if u.Username == username && u.Password == password {
			req.subject, req.done, req.authTime = u.Subject, true, time.Now()
			return nil
		}
	}
	return errors.New("wrong username or password")
}

// authRequest is an authorization request being served.
type authRequest struct {
	id            string
	clientID      string
	redirectURI   string
	state, nonce  string
	scopes        []string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	subject       string
	done          bool
	authTime      time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		// There are no sessions here to sign in silently with.
		return nil, oidc.ErrLoginRequired()
	}
	c, ok := s.clients[req.ClientID]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", req.ClientID, errNotFound)
	}
	a := &authRequest{
		id:           randomString(),
		clientID:     c.tokenClientID(),
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       req.Scopes,
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
	}
	if req.CodeChallenge != "" {
		a.codeChallenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	s.authRequests[a.id] = a
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return nil, fmt.Errorf("authorization request: %w", errNotFound)
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(_ context.Context, c string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cd, ok := s.codes[c]
	if !ok {
		return nil, fmt.Errorf("code: %w", errNotFound)
	}
	if s.now().Sub(cd.issued) > CodeLifetime {
		return nil, errors.New("code has expired")
	}
	a, ok := s.authRequests[cd.requestID]
	if !ok {
		return nil, fmt.Errorf("authorization request of code: %w", errNotFound)
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, c string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[c] = code{requestID: id, issued: s.now()}
	return nil
}

// DeleteAuthRequest is called once the code is exchanged: the request
// and its code are gone, so a code works only once.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for c, cd := range s.codes {
		if cd.requestID == id {
			delete(s.codes, c)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID := ""
	if a, ok := req.(*authRequest); ok {
		clientID = a.clientID
	}
	t := &token{id: randomString(), clientID: clientID, subject: req.GetSubject(), scopes: req.GetScopes(), expires: time.Now().Add(5 * time.Minute)}
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

var errNoRefresh = errors.New("refresh tokens are not supported")

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNoRefresh
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNoRefresh
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.tokens, tokenOrID)
	}
	return nil
}

// key is the provider's one signing key, RS256.
type key struct{ k *rsa.PrivateKey }

func (k key) ID() string                                  { return "oidctest" }
func (k key) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k key) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k key) Use() string                                 { return "sig" }

// signing is the private key as op.SigningKey wants it; key itself
// answers Key() with the public half for op.Key.
type signing struct{ key }

func (k signing) Key() any { return k.k }
func (k key) Key() any     { return &k.k.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signing{key{s.key}}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) { return []op.Key{key{s.key}}, nil }

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", id, errNotFound)
	}
	return client{c}, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || c.Secret != secret {
		return errors.New("wrong client ID or secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does
// the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.userinfo(ui, req.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("access token is invalid or expired")
	}
	return s.userinfo(ui, t.subject, t.scopes)
}

func (s *storage) userinfo(ui *oidc.UserInfo, subject string, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[subject]
	if !ok {
		return fmt.Errorf("user %q: %w", subject, errNotFound)
	}
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeOpenID:
			ui.Subject = u.Subject
		case oidc.ScopeProfile:
			ui.PreferredUsername = u.Username
			ui.Name = u.Name
		case oidc.ScopeEmail:
			if u.Email != "" {
				ui.Email = u.Email
				ui.EmailVerified = oidc.Bool(u.EmailVerified)
				if !u.EmailVerified {
					// op omits a false email_verified (omitempty);
					// say it, as providers that check emails do.
					ui.AppendClaims("email_verified", false)
				}
			}
		}
	}
	return nil
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not supported")
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT client authentication is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s *storage) Health(context.Context) error { return nil }

// client is a registered Client as op sees it: a confidential web
// client of the code flow.
type client struct{ c *Client }

var _ op.HasRedirectGlobs = client{}

// tokenClientID is the client ID written into c's tokens.
func (c *Client) tokenClientID() string {
	if c.Audience != "" {
		return c.Audience
	}
	return c.ID
}

// GetID is the ID the tokens carry, so that op accepts the code exchange
// of a client with an Audience as the audience's.
func (c client) GetID() string                       { return c.c.tokenClientID() }
func (c client) RedirectURIs() []string              { return c.c.RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string    { return nil }
func (c client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c client) LoginURL(id string) string           { return LoginPath + "?authRequestID=" + id }
func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c client) IDTokenLifetime() time.Duration      { return time.Hour }
func (c client) DevMode() bool                       { return false }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(string) bool           { return false }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return c.c.ClaimsInIDToken }
func (c client) ClockSkew() time.Duration             { return 0 }

func (c client) RedirectURIGlobs() []string {
	if len(c.c.RedirectURIs) == 0 {
		return loopbackRedirectGlobs
	}
	return nil
}
func (c client) PostLogoutRedirectURIGlobs() []string { return nil }
