package config

import (
	"fmt"
	"strings"
)

// Auth configures sign-in (key "auth"), in Backstage's shape. Sign-in is
// on when any provider is configured: every request then needs a signed-in
// user or a service token, and the permission policy decides what each may
// do. With no provider Atrium is open, as it is for local development.
type Auth struct {
	// Environment selects each provider's settings for this environment
	// (key "auth.environment"): "development" (default) or "production",
	// where the guest provider is refused.
	Environment string `yaml:"environment"`
	// Providers are the sign-in providers (key "auth.providers").
	// Providers Atrium does not know (github, google, ...) are ignored.
	Providers AuthProviders `yaml:"providers"`
	// SessionDuration is how long a browser session lasts without use (key
	// "auth.sessionDuration"). Default 12 hours.
	SessionDuration Duration `yaml:"sessionDuration"`
	// TransitiveGroups makes a user own through the parents of its groups
	// too, not only through the groups it is a member of (key
	// "auth.transitiveGroups"). Default true.
	TransitiveGroups bool `yaml:"transitiveGroups"`
	// Session holds the secret that protects sign-in state between the
	// browser's trip to the provider and back (key "auth.session").
	Session AuthSession `yaml:"session"`
}

// AuthSession is auth.session, as in Backstage.
type AuthSession struct {
	// Secret is a random string of at least 32 characters, the same on
	// every replica (key "auth.session.secret", usually
	// "${AUTH_SESSION_SECRET}"). Required with the OIDC provider.
	Secret string `yaml:"secret"`
}

// AuthProviders are the sign-in providers Atrium has.
type AuthProviders struct {
	// Guest signs everyone in as one user, for development (key
	// "auth.providers.guest").
	Guest *GuestProvider `yaml:"guest"`
	// OIDC is a generic OpenID Connect provider, per environment (key
	// "auth.providers.oidc.<environment>").
	OIDC map[string]OIDCProvider `yaml:"oidc"`
}

// GuestProvider is Backstage's guest provider.
type GuestProvider struct {
	// UserEntityRef is who guests sign in as (key "userEntityRef").
	// Default "user:development/guest", as in Backstage.
	UserEntityRef string `yaml:"userEntityRef"`
	// DangerouslyAllowOutsideDevelopment allows the guest provider when
	// auth.environment is production (key
	// "dangerouslyAllowOutsideDevelopment").
	DangerouslyAllowOutsideDevelopment bool `yaml:"dangerouslyAllowOutsideDevelopment"`
}

// OIDCProvider is one environment's settings of the OIDC provider.
type OIDCProvider struct {
	// MetadataURL is the provider's discovery URL, usually
	// https://issuer/.well-known/openid-configuration (key "metadataUrl").
	MetadataURL string `yaml:"metadataUrl"`
	// ClientID and ClientSecret are the client's credentials at the
	// provider (keys "clientId", "clientSecret").
	ClientID     string `yaml:"clientId"`
	ClientSecret string `yaml:"clientSecret"`
	// CallbackURL is where the provider sends the browser back (key
	// "callbackUrl"). Default <backend.baseUrl>/api/auth/oidc/handler/frame.
	CallbackURL string `yaml:"callbackUrl"`
	// Scope is the scopes asked for (key "scope"). Default "openid profile
	// email".
	Scope string `yaml:"scope"`
	// Prompt is passed to the provider as is, e.g. "login" (key "prompt").
	Prompt string `yaml:"prompt"`
	// SignIn says how a signed-in person becomes a catalog user (key
	// "signIn").
	SignIn SignIn `yaml:"signIn"`
}

// SignIn lists the sign-in resolvers, tried in order.
type SignIn struct {
	// Resolvers (key "signIn.resolvers").
	Resolvers []SignInResolver `yaml:"resolvers"`
}

// SignInResolver is one of Backstage's sign-in resolvers.
type SignInResolver struct {
	// Resolver is emailMatchingUserEntityProfileEmail,
	// emailLocalPartMatchingUserEntityName or
	// usernameMatchingUserEntityName (key "resolver").
	Resolver string `yaml:"resolver"`
	// AllowedDomains restricts the email domains it accepts (key
	// "allowedDomains").
	AllowedDomains []string `yaml:"allowedDomains"`
	// DangerouslyAllowSignInWithoutUserInCatalog signs in people the
	// catalog has no user for, as user:default/<name> owning only itself
	// (key "dangerouslyAllowSignInWithoutUserInCatalog").
	DangerouslyAllowSignInWithoutUserInCatalog bool `yaml:"dangerouslyAllowSignInWithoutUserInCatalog"`
}

// SignInResolvers are the resolver names Atrium knows.
var SignInResolvers = []string{"emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName", "usernameMatchingUserEntityName"}

// Enabled reports whether any sign-in provider is configured.
func (a Auth) Enabled() bool { return a.Providers.Guest != nil || a.OIDCFor() != nil }

// OIDCFor returns the OIDC settings of the configured environment, or nil.
func (a Auth) OIDCFor() *OIDCProvider {
	p, ok := a.Providers.OIDC[a.Environment]
	if !ok {
		return nil
	}
	return &p
}

// BackendAuth is backend.auth.
type BackendAuth struct {
	// ExternalAccess lists the credentials of callers that are not users
	// (key "backend.auth.externalAccess"): static tokens for pipelines.
	ExternalAccess []ExternalAccess `yaml:"externalAccess"`
}

// ExternalAccess is one external caller's credentials, as in Backstage.
type ExternalAccess struct {
	// Type is "static", the one type Atrium supports (key "type").
	Type string `yaml:"type"`
	// Options hold the token and the subject it is known by (key
	// "options").
	Options ExternalAccessOptions `yaml:"options"`
	// AccessRestrictions limit what the token may do; none means anything
	// the permission policy allows its subject (key "accessRestrictions").
	AccessRestrictions []AccessRestriction `yaml:"accessRestrictions"`
}

// ExternalAccessOptions are a static token's options.
type ExternalAccessOptions struct {
	// Token is sent as "Authorization: Bearer <token>"; at least 8
	// characters, no whitespace (key "token").
	Token string `yaml:"token"`
	// Subject names the caller in the audit log and in policies, as
	// "service:<subject>" (key "subject").
	Subject string `yaml:"subject"`
}

// AccessRestriction limits a token to a plugin and, optionally, to some
// permissions or permission actions.
type AccessRestriction struct {
	// Plugin is the plugin id, e.g. "catalog" (key "plugin").
	Plugin string `yaml:"plugin"`
	// Permission is one permission name or a list (key "permission").
	Permission StringList `yaml:"permission"`
	// PermissionAttribute restricts by action: read, create, update,
	// delete; one or a list (key "permissionAttribute.action").
	PermissionAttribute struct {
		Action StringList `yaml:"action"`
	} `yaml:"permissionAttribute"`
}

// Permission configures authorization (key "permission").
type Permission struct {
	// Enabled is Backstage's permission.enabled. Atrium enforces the
	// policy whenever sign-in is on; the key is accepted for compatibility.
	Enabled bool `yaml:"enabled"`
	// Policy is the policy file (key "permission.policy"), YAML, reloaded
	// when it changes. Without one the default policy applies: signed-in
	// users and services may read, and nobody may change anything.
	Policy string `yaml:"policy"`
}

// StringList is a list of strings that may also be written as one string.
type StringList []string

func (l *StringList) decodeNode(d *decoder, n *node, path string) {
	if n.kind == scalarNode {
		if s, ok := d.str(n, path); ok {
			*l = StringList{s}
		}
		return
	}
	var items []string
	d.decode(n, path, reflectValue(&items))
	*l = items
}

// validateAuth checks auth, backend.auth and permission.
func (c *Config) validateAuth(bad func(path, format string, args ...any)) {
	a := c.Auth
	if a.Environment != "development" && a.Environment != "production" {
		bad("auth.environment", "must be \"development\" or \"production\", got %q", a.Environment)
	}
	if g := a.Providers.Guest; g != nil && a.Environment == "production" && !g.DangerouslyAllowOutsideDevelopment {
		bad("auth.providers.guest", "the guest provider is refused when auth.environment is production (set dangerouslyAllowOutsideDevelopment to allow it)")
	}
	if g := a.Providers.Guest; g != nil && g.UserEntityRef != "" && !strings.HasPrefix(strings.ToLower(g.UserEntityRef), "user:") {
		bad("auth.providers.guest.userEntityRef", "must be a user ref such as user:default/guest, got %q", g.UserEntityRef)
	}
	if p := a.OIDCFor(); p != nil {
		path := "auth.providers.oidc." + a.Environment
		checkURL := func(key, s string) {
			if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
				bad(path+"."+key, "must be an absolute http(s) URL, got %q", s)
			}
		}
		checkURL("metadataUrl", p.MetadataURL)
		if p.CallbackURL != "" {
			checkURL("callbackUrl", p.CallbackURL)
		}
		if p.ClientID == "" {
			bad(path+".clientId", "missing")
		}
		if len(a.Session.Secret) < 32 {
			bad("auth.session.secret", "the OIDC provider needs a secret of at least 32 characters, the same on every replica (openssl rand -base64 32)")
		}
		if len(p.SignIn.Resolvers) == 0 {
			bad(path+".signIn.resolvers", "missing: name at least one of %s", strings.Join(SignInResolvers, ", "))
		}
		for i, r := range p.SignIn.Resolvers {
			known := false
			for _, k := range SignInResolvers {
				known = known || r.Resolver == k
			}
			if !known {
				bad(fmt.Sprintf("%s.signIn.resolvers[%d].resolver", path, i), "must be one of %s, got %q", strings.Join(SignInResolvers, ", "), r.Resolver)
			}
		}
	}
	for i, x := range c.Backend.Auth.ExternalAccess {
		path := fmt.Sprintf("backend.auth.externalAccess[%d]", i)
		if x.Type != "static" {
			bad(path+".type", "must be \"static\", got %q", x.Type)
			continue
		}
		if t := x.Options.Token; len(t) < 8 || strings.ContainsAny(t, " \t\r\n") {
			bad(path+".options.token", "must be at least 8 characters without whitespace")
		}
		if x.Options.Subject == "" {
			bad(path+".options.subject", "missing")
		}
		for j, r := range x.AccessRestrictions {
			if r.Plugin == "" {
				bad(fmt.Sprintf("%s.accessRestrictions[%d].plugin", path, j), "missing")
			}
		}
	}
}
