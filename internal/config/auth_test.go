package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuthConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app-config.yaml")
	// As a Backstage app-config.yaml writes it, github provider included.
	if err := os.WriteFile(p, []byte(`auth:
  environment: production
  session: {secret: 0123456789abcdef0123456789abcdef}
  providers:
    github:
      production: {clientId: x, clientSecret: y}
    oidc:
      production:
        metadataUrl: https://id.example.com/.well-known/openid-configuration
        clientId: atrium
        clientSecret: ${OIDC_SECRET}
        prompt: auto
        signIn:
          resolvers:
            - resolver: emailMatchingUserEntityProfileEmail
            - resolver: emailLocalPartMatchingUserEntityName
              allowedDomains: [acme.example]
backend:
  auth:
    externalAccess:
      - type: static
        options: {token: "${CI_TOKEN}", subject: ci-pipeline}
        accessRestrictions:
          - plugin: catalog
            permission: catalog.location.create
          - plugin: catalog
            permissionAttribute: {action: [read]}
permission:
  enabled: true
  policy: ./policy.yaml
`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OIDC_SECRET": "s3cret", "CI_TOKEN": "ci-token-123"}
	c, err := Load([]string{p}, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Auth.Enabled() || c.Auth.Providers.Guest != nil {
		t.Errorf("auth enabled = %v, guest = %v", c.Auth.Enabled(), c.Auth.Providers.Guest)
	}
	o := c.Auth.OIDCFor()
	if o == nil || o.ClientSecret != "s3cret" || len(o.SignIn.Resolvers) != 2 ||
		!cmp.Equal(o.SignIn.Resolvers[1].AllowedDomains, []string{"acme.example"}) {
		t.Errorf("oidc = %+v", o)
	}
	x := c.Backend.Auth.ExternalAccess
	if len(x) != 1 || x[0].Options.Subject != "ci-pipeline" || !cmp.Equal([]string(x[0].AccessRestrictions[0].Permission), []string{"catalog.location.create"}) ||
		!cmp.Equal([]string(x[0].AccessRestrictions[1].PermissionAttribute.Action), []string{"read"}) {
		t.Errorf("externalAccess = %+v", x)
	}
	if c.Permission.Policy != "./policy.yaml" || !c.Permission.Enabled {
		t.Errorf("permission = %+v", c.Permission)
	}
}

func TestAuthValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string
	}{
		{"guest in production", func(c *Config) {
			c.Auth.Environment = "production"
			c.Auth.Providers.Guest = &GuestProvider{}
		}, "auth.providers.guest: the guest provider is refused when auth.environment is production"},
		{"guest allowed in production", func(c *Config) {
			c.Auth.Environment = "production"
			c.Auth.Providers.Guest = &GuestProvider{DangerouslyAllowOutsideDevelopment: true}
		}, ""},
		{"oidc without a session secret", func(c *Config) {
			c.Auth.Providers.OIDC = map[string]OIDCProvider{"development": {MetadataURL: "https://x", ClientID: "a",
				SignIn: SignIn{Resolvers: []SignInResolver{{Resolver: "usernameMatchingUserEntityName"}}}}}
		}, "auth.session.secret: the OIDC provider needs a secret of at least 32 characters"},
		{"unknown resolver", func(c *Config) {
			c.Auth.Providers.OIDC = map[string]OIDCProvider{"development": {MetadataURL: "https://x", ClientID: "a",
				SignIn: SignIn{Resolvers: []SignInResolver{{Resolver: "anyoneWins"}}}}}
		}, `auth.providers.oidc.development.signIn.resolvers[0].resolver: must be one of`},
		{"short static token", func(c *Config) {
			c.Backend.Auth.ExternalAccess = []ExternalAccess{{Type: "static", Options: ExternalAccessOptions{Token: "short", Subject: "ci"}}}
		}, "backend.auth.externalAccess[0].options.token: must be at least 8 characters"},
		{"legacy token type", func(c *Config) {
			c.Backend.Auth.ExternalAccess = []ExternalAccess{{Type: "legacy"}}
		}, `backend.auth.externalAccess[0].type: must be "static", got "legacy"`},
		{"environment", func(c *Config) { c.Auth.Environment = "staging" }, `auth.environment: must be "development" or "production"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}
