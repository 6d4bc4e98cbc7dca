package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/atrium-dev/atrium/internal/auth"
)

// SessionStarter starts a browser session for a signed-in identity.
// StartSession sets headers (its cookie) but writes no status or body:
// the provider redirects the browser after it.
type SessionStarter interface {
	StartSession(w http.ResponseWriter, r *http.Request, id auth.Identity) error
}

// Provider signs people in through one OpenID Connect provider. Make one
// with New and serve its Handler.
type Provider struct {
	cfg       settings
	oauth     oauth2.Config
	verifier  *gooidc.IDTokenVerifier
	discovery *gooidc.Provider
	users     Users
	sessions  SessionStarter
	logger    *slog.Logger
	resolvers []resolver
	sealer    *sealer
	// cookiePath and secure scope the state cookie to the callback.
	cookiePath string
	secure     bool
	now        func() time.Time
}

// wellKnown is the discovery document's path under the issuer.
const wellKnown = "/.well-known/openid-configuration"

// New returns a Provider for cfg, after reading the provider's discovery
// document at cfg.MetadataURL (so it fails when the provider cannot be
// reached or describes another issuer). ctx bounds the discovery only.
func New(ctx context.Context, cfg Config, users Users, sessions SessionStarter, logger *slog.Logger) (*Provider, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, fmt.Errorf("auth.providers.oidc: %w", err)
	}
	if users == nil || sessions == nil || logger == nil {
		return nil, errors.New("auth.providers.oidc: users, sessions and logger are required")
	}
	discovery, err := discover(gooidc.ClientContext(ctx, s.HTTPClient), s.MetadataURL)
	if err != nil {
		return nil, fmt.Errorf("auth.providers.oidc: discovery at %s: %w", s.MetadataURL, err)
	}
	ep := discovery.Endpoint()
	if ep.AuthURL == "" || ep.TokenURL == "" {
		return nil, fmt.Errorf("auth.providers.oidc: discovery at %s names no authorization or token endpoint", s.MetadataURL)
	}
	var meta struct {
		CodeChallengeMethods []string `json:"code_challenge_methods_supported"`
	}
	if err := discovery.Claims(&meta); err == nil && !slices.Contains(meta.CodeChallengeMethods, "S256") {
		// PKCE is sent anyway: a provider that ignores it still works, and
		// one that supports it without saying so is protected.
		logger.Warn("oidc provider does not advertise PKCE S256 support", "metadataUrl", s.MetadataURL)
	}
	sl, err := newSealer(s.StateKey, s.ClientID, s.CallbackURL)
	if err != nil {
		return nil, fmt.Errorf("auth.providers.oidc: %w", err)
	}
	p := &Provider{
		cfg: s,
		oauth: oauth2.Config{
			ClientID:     s.ClientID,
			ClientSecret: s.ClientSecret,
			Endpoint:     ep,
			RedirectURL:  s.CallbackURL,
			Scopes:       s.scopes,
		},
		verifier:   discovery.Verifier(&gooidc.Config{ClientID: s.ClientID}),
		discovery:  discovery,
		users:      users,
		sessions:   sessions,
		logger:     logger,
		sealer:     sl,
		cookiePath: s.callback.EscapedPath(),
		secure:     s.callback.Scheme == "https",
		now:        time.Now,
	}
	if p.cookiePath == "" {
		p.cookiePath = "/"
	}
	for _, r := range s.Resolvers {
		p.resolvers = append(p.resolvers, resolver{ResolverConfig: r, strategy: strategies[r.Resolver]})
	}
	return p, nil
}

// discover reads the discovery document at metadataURL. Backstage's
// metadataUrl is the document's own URL, go-oidc wants the issuer; the
// issuer may or may not end in "/", which the document's "issuer" tells.
func discover(ctx context.Context, metadataURL string) (*gooidc.Provider, error) {
	issuer, ok := strings.CutSuffix(metadataURL, wellKnown)
	if !ok {
		issuer = metadataURL
	}
	p, err := gooidc.NewProvider(ctx, issuer)
	var mismatch *gooidc.IssuerMismatchError
	if errors.As(err, &mismatch) && strings.TrimSuffix(mismatch.Discovered, "/") == strings.TrimSuffix(issuer, "/") {
		// Same document URL either way; only the trailing slash differs.
		return gooidc.NewProvider(ctx, mismatch.Discovered)
	}
	return p, err
}

// Handler serves the sign-in endpoints, relative to the mount point
// (MountPath, stripped by the application):
//
//	GET /start?redirect=<path>  sends the browser to the provider
//	GET /handler/frame          the provider's redirect back (CallbackURL)
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", p.serve(p.start))
	mux.HandleFunc("GET /handler/frame", p.serve(p.callback))
	return mux
}
