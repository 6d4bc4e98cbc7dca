package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/auth/oidc"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/config"
	"github.com/atrium-dev/atrium/internal/permission"
	"github.com/atrium-dev/atrium/internal/web"
)

// PolicyRead is seeing the effective permission policy on the Settings
// page. It has no action, so only a rule grants it.
var PolicyRead = permission.Permission{Name: "permission.policy.read"}

func init() { permission.Register(PolicyRead) }

// signIn is what sign-in adds to the app when a provider is configured.
type signIn struct {
	authn     *auth.Authenticator
	handler   http.Handler // /api/auth/
	sessions  *auth.Sessions
	policy    *permission.Watcher // nil: the default policy
	providers []web.SignInProvider
	// oidc is built when Run starts, as it discovers its provider over
	// the network.
	oidcCfg *oidc.Config
}

// newSignIn builds keys, tokens, sessions, static tokens and the guest
// provider from cfg, and loads the permission policy.
func (a *App) newSignIn(cfg *config.Config) (*signIn, error) {
	keys := auth.NewKeys(a.Store, auth.KeysOptions{})
	tokens, err := auth.NewTokens(keys, auth.TokensOptions{Issuer: strings.TrimSuffix(cfg.Backend.BaseURL, "/") + auth.Prefix})
	if err != nil {
		return nil, err
	}
	sessions, err := auth.NewSessions(a.Store, auth.SessionsOptions{BaseURL: cfg.Backend.BaseURL,
		Lifetime: time.Duration(cfg.Auth.SessionDuration)})
	if err != nil {
		return nil, err
	}
	var static []auth.StaticToken
	for _, x := range cfg.Backend.Auth.ExternalAccess {
		t := auth.StaticToken{Token: x.Options.Token, Subject: x.Options.Subject}
		for _, r := range x.AccessRestrictions {
			t.Restrictions = append(t.Restrictions, auth.AccessRestriction{Plugin: r.Plugin,
				Permissions: r.Permission, Actions: r.PermissionAttribute.Action})
		}
		static = append(static, t)
	}
	staticTokens, err := auth.NewStaticTokens(static)
	if err != nil {
		return nil, fmt.Errorf("backend.auth.externalAccess: %w", err)
	}
	s := &signIn{sessions: sessions,
		authn: auth.NewAuthenticator(auth.AuthenticatorOptions{Tokens: tokens, Static: staticTokens, Sessions: sessions, Logger: a.log})}
	providers := map[string]http.Handler{}
	if g := cfg.Auth.Providers.Guest; g != nil {
		guest, err := auth.NewGuest(auth.GuestConfig{UserEntityRef: g.UserEntityRef,
			DangerouslyAllowOutsideDevelopment: g.DangerouslyAllowOutsideDevelopment}, cfg.Auth.Environment)
		if err != nil {
			return nil, err
		}
		providers["guest"] = guest.Handler(sessions)
		s.providers = append(s.providers, web.SignInProvider{ID: "guest", Title: "Guest"})
	}
	if p := cfg.Auth.OIDCFor(); p != nil {
		c := oidcConfig(cfg, p)
		s.oidcCfg = &c
		providers["oidc"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.oidcHandler().ServeHTTP(w, r)
		})
		s.providers = append(s.providers, web.SignInProvider{ID: "oidc", Title: "OpenID Connect"})
	}
	s.handler = auth.NewHandler(auth.HandlerOptions{Keys: keys, Tokens: tokens, Sessions: sessions, Providers: providers, Logger: a.log})
	if path := cfg.Permission.Policy; path != "" {
		if s.policy, err = permission.NewWatcher(path, permission.WatcherOptions{Logger: a.log}); err != nil {
			return nil, fmt.Errorf("permission.policy: %w", err)
		}
	}
	return s, nil
}

// oidcConfig maps auth.providers.oidc.<env> to the provider's settings.
// The state key is derived from auth.session.secret, so every replica
// can finish a sign-in another started.
func oidcConfig(cfg *config.Config, p *config.OIDCProvider) oidc.Config {
	mac := hmac.New(sha256.New, []byte(cfg.Auth.Session.Secret))
	mac.Write([]byte("atrium oidc state"))
	c := oidc.Config{BaseURL: cfg.Backend.BaseURL, MetadataURL: p.MetadataURL, ClientID: p.ClientID,
		ClientSecret: p.ClientSecret, CallbackURL: p.CallbackURL, Scope: p.Scope, Prompt: p.Prompt, StateKey: mac.Sum(nil)}
	for _, r := range p.SignIn.Resolvers {
		c.Resolvers = append(c.Resolvers, oidc.ResolverConfig{Resolver: oidc.ResolverName(r.Resolver),
			AllowedDomains: r.AllowedDomains, DangerouslyAllowSignInWithoutUserInCatalog: r.DangerouslyAllowSignInWithoutUserInCatalog})
	}
	return c
}

// oidcHandler is the OIDC provider's handler once Run has built it, else
// a 503: the provider is discovered over the network at start.
func (a *App) oidcHandler() http.Handler {
	if h := a.oidc.Load(); h != nil {
		return *h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/signin?error=failed", http.StatusSeeOther)
	})
}

// startOIDC discovers the OIDC provider and mounts its handler, trying
// again every 30 s while the provider cannot be reached: meanwhile
// Atrium serves everyone else (sessions, tokens, the guest provider) and
// OIDC sign-ins fail with a message.
func (a *App) startOIDC(ctx context.Context) {
	if a.signIn == nil || a.signIn.oidcCfg == nil {
		return
	}
	for {
		p, err := oidc.New(ctx, *a.signIn.oidcCfg, users{a.Catalog, a.cfg.Auth.TransitiveGroups}, a.signIn.sessions, a.log)
		if err == nil {
			h := p.Handler()
			a.oidc.Store(&h)
			return
		}
		a.log.Error("auth.providers.oidc: cannot set up the provider; trying again in 30 s", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}

// users adapts the catalog to the OIDC sign-in resolvers.
type users struct {
	c          *catalog.Service
	transitive bool
}

func (u users) FindUser(ctx context.Context, by, value string) (string, bool, error) {
	return u.c.FindUser(ctx, by, value)
}

func (u users) Ownership(ctx context.Context, userRef string) ([]string, error) {
	return u.c.Ownership(ctx, userRef, u.transitive)
}

// currentPolicy is the policy in force: nil (the defaults) without a
// policy file.
func (s *signIn) currentPolicy() *permission.Policy {
	if s.policy == nil {
		return nil
	}
	return s.policy.Current()
}

// policyAuthorizer decides with the permission policy for the identity a
// request carries, narrowed by a service token's access restrictions.
type policyAuthorizer struct{ w *permission.Watcher }

func (p policyAuthorizer) Decide(ctx context.Context, perm permission.Permission) permission.Decision {
	id, ok := auth.IdentityFrom(ctx)
	if !ok {
		return permission.Decision{Result: permission.Deny, Rule: "unauthenticated", Reason: "the request is not signed in"}
	}
	if d, ok := permission.Restricted(ctx, perm); ok {
		return d
	}
	var pol *permission.Policy
	if p.w != nil {
		pol = p.w.Current()
	}
	return pol.Decide(id, perm)
}

// policyText is the Settings page's view of the policy: the file's text,
// for those the policy lets read it.
func (a *App) policyText(ctx context.Context) (string, bool) {
	if a.signIn == nil || !a.Catalog.Allowed(ctx, PolicyRead.Name, nil) {
		return "", false
	}
	if a.cfg.Permission.Policy == "" {
		return "# No permission.policy is configured: the default applies.\n" +
			"# Signed-in users and services may read; nobody may change anything.\n", true
	}
	b, err := os.ReadFile(a.cfg.Permission.Policy)
	if err != nil {
		return "# The policy file cannot be read now; the last good policy is in force.\n", true
	}
	return string(b), true
}
