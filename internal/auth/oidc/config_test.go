package oidc

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func validConfig() Config {
	return Config{
		BaseURL:      "https://atrium.example.com/",
		MetadataURL:  "https://id.example.com/.well-known/openid-configuration",
		ClientID:     "atrium",
		ClientSecret: "secret",
		Resolvers:    []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail, AllowedDomains: []string{" Example.COM "}}},
		StateKey:     stateKey,
	}
}

func TestConfigDefaults(t *testing.T) {
	s, err := validConfig().settings()
	if err != nil {
		t.Fatal(err)
	}
	got := []any{s.CallbackURL, s.scopes, s.prompt, s.StateTTL, s.HTTPClient.Timeout, s.Resolvers[0].AllowedDomains}
	want := []any{"https://atrium.example.com/api/auth/oidc/handler/frame", []string{"openid", "profile", "email"}, "", DefaultStateTTL, DefaultHTTPTimeout, []string{"example.com"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("callback, scopes, prompt, state TTL, HTTP timeout, domains (-want +got):\n%s", diff)
	}

	c := validConfig()
	c.CallbackURL = "https://sso.example.com/oidc/cb"
	c.Scope = "profile email"
	c.AdditionalScopes = []string{"groups", "email"}
	c.Prompt = "auto"
	c.StateTTL = time.Minute
	c.HTTPClient = http.DefaultClient
	s, err = c.settings()
	if err != nil {
		t.Fatal(err)
	}
	got = []any{s.CallbackURL, s.scopes, s.prompt, s.StateTTL, s.HTTPClient == http.DefaultClient}
	want = []any{"https://sso.example.com/oidc/cb", []string{"openid", "profile", "email", "groups"}, "", time.Minute, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with everything set (-want +got):\n%s", diff)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"no metadata URL", func(c *Config) { c.MetadataURL = "" }, "metadataUrl: is required"},
		{"relative metadata URL", func(c *Config) { c.MetadataURL = "/.well-known/openid-configuration" }, "metadataUrl: must be an absolute http(s) URL"},
		{"no client ID", func(c *Config) { c.ClientID = "" }, "clientId: is required"},
		{"no client secret", func(c *Config) { c.ClientSecret = "" }, "clientSecret: is required"},
		{"no callback and no base URL", func(c *Config) { c.BaseURL = "" }, "callbackUrl: is required when backend.baseUrl is not set"},
		{"callback with a fragment", func(c *Config) { c.CallbackURL = "https://a.example.com/cb#x" }, "callbackUrl: must be an absolute http(s) URL without a fragment"},
		{"unknown prompt", func(c *Config) { c.Prompt = "always" }, "prompt: must be one of"},
		{"no resolvers", func(c *Config) { c.Resolvers = nil }, "signIn.resolvers: at least one resolver is required"},
		{"unknown resolver", func(c *Config) { c.Resolvers = []ResolverConfig{{Resolver: "emailMatchingUserEntityAnnotation"}} }, `signIn.resolvers[0].resolver: unknown resolver "emailMatchingUserEntityAnnotation"`},
		{"allowed domains on the username resolver", func(c *Config) {
			c.Resolvers = append(c.Resolvers, ResolverConfig{Resolver: UsernameMatchingUserEntityName, AllowedDomains: []string{"example.com"}})
		}, "signIn.resolvers[1].allowedDomains: resolver usernameMatchingUserEntityName does not use the email"},
		{"allowed domain that is an address", func(c *Config) { c.Resolvers[0].AllowedDomains = []string{"jane@example.com"} }, `signIn.resolvers[0].allowedDomains: "jane@example.com" is not a domain`},
		{"short state key", func(c *Config) { c.StateKey = []byte("short") }, "stateKey: must be at least 32 bytes"},
		{"negative state TTL", func(c *Config) { c.StateTTL = -time.Second }, "stateTTL: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.modify(&c)
			_, err := c.settings()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("settings() = %v, want an error containing %q", err, tt.want)
			}
			// New reports the same, before touching the network.
			_, err = New(t.Context(), c, newFakeUsers(), &fakeSessions{}, discardLogger)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestNewDiscoveryFailure(t *testing.T) {
	c := validConfig()
	c.MetadataURL = "http://127.0.0.1:1/.well-known/openid-configuration"
	if _, err := New(t.Context(), c, newFakeUsers(), &fakeSessions{}, discardLogger); err == nil || !strings.Contains(err.Error(), "discovery") {
		t.Errorf("New with an unreachable provider = %v, want a discovery error", err)
	}
}
