package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MountPath is where the application mounts Handler (with
// http.StripPrefix), as Backstage mounts its oidc provider; the default
// callback URL is BaseURL + MountPath + "/handler/frame".
const MountPath = "/api/auth/oidc"

// Defaults of the optional Config fields.
const (
	DefaultScope    = "openid profile email"
	DefaultStateTTL = 10 * time.Minute
	// DefaultHTTPTimeout bounds each request to the provider when
	// Config.HTTPClient is nil.
	DefaultHTTPTimeout = 10 * time.Second
)

// minStateKey is the shortest Config.StateKey accepted: 256 bits.
const minStateKey = 32

// Config configures the OpenID Connect provider. Its fields are those of
// Backstage's auth.providers.oidc.<environment> (named in each field's
// comment); the application maps its YAML onto it.
type Config struct {
	// BaseURL is the backend's public base URL (backend.baseUrl, for
	// example "https://atrium.example.com"). It is used only to build the
	// default CallbackURL, and may be empty when CallbackURL is set.
	BaseURL string
	// MetadataURL (metadataUrl) is the provider's discovery document,
	// "<issuer>/.well-known/openid-configuration", or the issuer URL
	// itself. The document's "issuer" must match the URL it was served
	// from, as OpenID Connect Discovery requires.
	MetadataURL string
	// ClientID (clientId) is this application's client ID at the provider;
	// ID tokens must name it in their audience.
	ClientID string
	// ClientSecret (clientSecret) authenticates the client at the token
	// endpoint.
	ClientSecret string
	// CallbackURL (callbackUrl) is the redirect URI registered at the
	// provider. Default: BaseURL + "/api/auth/oidc/handler/frame". It must
	// reach this provider's Handler at "/handler/frame" (after the mount
	// point is stripped), and the state cookie is scoped to its path.
	CallbackURL string
	// Scope (scope) is the space-separated scopes requested. Default
	// "openid profile email"; "openid" is always requested.
	Scope string
	// AdditionalScopes (additionalScopes) are requested besides Scope, as
	// newer Backstage versions configure scopes.
	AdditionalScopes []string
	// Prompt (prompt) is sent as the authorization request's prompt
	// parameter ("login", "consent", "select_account", "none"). Empty or
	// "auto" sends none, so the provider asks only when it must. (Backstage
	// sends prompt=none when this is unset, which fails for anyone without
	// a session at the provider; its documentation recommends "auto".)
	Prompt string
	// Resolvers (signIn.resolvers) map the signed-in person to a catalog
	// User, tried in order: a resolver that finds no user passes to the
	// next; one that refuses (a domain not allowed, an unverified email)
	// ends the sign-in. At least one is required.
	Resolvers []ResolverConfig
	// StateKey is the secret, at least 32 bytes, that encrypts and
	// authenticates the sign-in state cookie. Every replica must have the
	// same key, or a sign-in started on one fails on another. It is
	// Atrium's own setting; Backstage keeps this state in memory.
	StateKey []byte
	// StateTTL is how long a started sign-in may take to come back.
	// Default 10 minutes.
	StateTTL time.Duration
	// HTTPClient makes the requests to the provider (discovery, keys,
	// token, userinfo). Default: a client with a 10-second timeout.
	HTTPClient *http.Client
}

// ResolverName names a sign-in resolver, as Backstage's signIn.resolvers
// entries do.
type ResolverName string

// The sign-in resolvers.
const (
	// EmailMatchingUserEntityProfileEmail signs in the User whose
	// spec.profile.email is the email claim; if there is none and the email
	// has plus addressing ("jane+work@example.com"), the User with the
	// address without it. Without a catalog user, the fallback identity is
	// user:default/<email>.
	EmailMatchingUserEntityProfileEmail ResolverName = "emailMatchingUserEntityProfileEmail"
	// EmailLocalPartMatchingUserEntityName signs in user:default/<local
	// part of the email claim>.
	EmailLocalPartMatchingUserEntityName ResolverName = "emailLocalPartMatchingUserEntityName"
	// UsernameMatchingUserEntityName signs in user:default/<the
	// preferred_username claim>.
	UsernameMatchingUserEntityName ResolverName = "usernameMatchingUserEntityName"
	// PreferredUsernameMatchingUserEntityName is another name of
	// UsernameMatchingUserEntityName, the one Red Hat Developer Hub uses.
	PreferredUsernameMatchingUserEntityName ResolverName = "preferredUsernameMatchingUserEntityName"
)

// ResolverConfig is one entry of signIn.resolvers.
type ResolverConfig struct {
	// Resolver (resolver) is the resolver's name.
	Resolver ResolverName
	// AllowedDomains (allowedDomains), if not empty, are the email domains
	// that may sign in through this resolver ("example.com", compared
	// case-insensitively); any other domain ends the sign-in. Only the
	// email resolvers take it.
	AllowedDomains []string
	// DangerouslyAllowSignInWithoutUserInCatalog
	// (dangerouslyAllowSignInWithoutUserInCatalog) signs in someone the
	// catalog does not know as user:default/<name>, owning only itself,
	// where it would otherwise pass to the next resolver. Anyone the
	// provider (and AllowedDomains) lets through gets in.
	DangerouslyAllowSignInWithoutUserInCatalog bool
}

// settings is a validated Config with its defaults applied.
type settings struct {
	Config
	callback *url.URL
	scopes   []string
	prompt   string
}

func (c Config) settings() (settings, error) {
	s := settings{Config: c}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}

	if u, err := url.Parse(c.MetadataURL); c.MetadataURL == "" {
		bad("metadataUrl", "is required")
	} else if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("metadataUrl", "must be an absolute http(s) URL")
	}
	if c.ClientID == "" {
		bad("clientId", "is required")
	}
	if c.ClientSecret == "" {
		bad("clientSecret", "is required")
	}

	callback := c.CallbackURL
	if callback == "" {
		if c.BaseURL == "" {
			bad("callbackUrl", "is required when backend.baseUrl is not set")
		}
		callback = strings.TrimSuffix(c.BaseURL, "/") + MountPath + "/handler/frame"
	}
	if u, err := url.Parse(callback); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		bad("callbackUrl", "must be an absolute http(s) URL without a fragment")
	} else {
		s.callback = u
		s.CallbackURL = callback
	}

	scope := c.Scope
	if scope == "" {
		scope = DefaultScope
	}
	s.scopes = []string{"openid"}
	for _, sc := range append(strings.Fields(scope), c.AdditionalScopes...) {
		if sc = strings.TrimSpace(sc); sc != "" && !slices.Contains(s.scopes, sc) {
			s.scopes = append(s.scopes, sc)
		}
	}

	switch c.Prompt {
	case "", "auto":
	case "none", "login", "consent", "select_account":
		s.prompt = c.Prompt
	default:
		bad("prompt", "must be one of auto, none, login, consent, select_account")
	}

	if len(c.Resolvers) == 0 {
		bad("signIn.resolvers", "at least one resolver is required")
	}
	s.Resolvers = make([]ResolverConfig, len(c.Resolvers))
	for i, r := range c.Resolvers {
		field := fmt.Sprintf("signIn.resolvers[%d]", i)
		st, ok := strategies[r.Resolver]
		if !ok {
			bad(field+".resolver", "unknown resolver %q", r.Resolver)
		}
		if len(r.AllowedDomains) > 0 && ok && !st.usesEmail {
			bad(field+".allowedDomains", "resolver %s does not use the email, so it cannot restrict its domain", r.Resolver)
		}
		domains := make([]string, 0, len(r.AllowedDomains))
		for _, d := range r.AllowedDomains {
			d = strings.ToLower(strings.TrimSpace(d))
			if d == "" || strings.ContainsAny(d, "@/: \t") {
				bad(field+".allowedDomains", "%q is not a domain", d)
			}
			domains = append(domains, d)
		}
		r.AllowedDomains = domains
		s.Resolvers[i] = r
	}

	if len(c.StateKey) < minStateKey {
		bad("stateKey", "must be at least %d bytes", minStateKey)
	}
	if s.StateTTL == 0 {
		s.StateTTL = DefaultStateTTL
	} else if s.StateTTL < 0 {
		bad("stateTTL", "must be positive")
	}
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return s, errors.Join(errs...)
}
