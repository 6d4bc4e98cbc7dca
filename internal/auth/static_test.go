package auth

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewStaticTokensRefuses(t *testing.T) {
	tests := []struct {
		name    string
		tokens  []StaticToken
		wantErr string
	}{
		{"empty token", []StaticToken{{Token: "", Subject: "ci"}}, "non-space"},
		{"short token", []StaticToken{{Token: "1234567", Subject: "ci"}}, "at least 8"},
		{"space in token", []StaticToken{{Token: "1234 5678", Subject: "ci"}}, "non-space"},
		{"tab in token", []StaticToken{{Token: "1234\t5678", Subject: "ci"}}, "non-space"},
		{"newline in token", []StaticToken{{Token: "12345678\n", Subject: "ci"}}, "non-space"},
		{"no subject", []StaticToken{{Token: "12345678"}}, "subject"},
		{"space in subject", []StaticToken{{Token: "12345678", Subject: "c i"}}, "subject"},
		{"duplicate token", []StaticToken{{Token: "12345678", Subject: "a"}, {Token: "12345678", Subject: "b"}}, "more than once"},
		{"restriction without plugin", []StaticToken{{Token: "12345678", Subject: "ci",
			Restrictions: []AccessRestriction{{Permissions: []string{"catalog.entity.read"}}}}}, "without a plugin"},
		{"plugin restricted twice", []StaticToken{{Token: "12345678", Subject: "ci",
			Restrictions: []AccessRestriction{{Plugin: "catalog"}, {Plugin: "catalog"}}}}, "twice"},
		{"unknown action", []StaticToken{{Token: "12345678", Subject: "ci",
			Restrictions: []AccessRestriction{{Plugin: "catalog", Actions: []string{"read", "execute"}}}}}, `"execute"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewStaticTokens(tt.tokens)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewStaticTokens = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestStaticTokensVerify(t *testing.T) {
	s, err := NewStaticTokens([]StaticToken{
		{Token: "ci-token-0001", Subject: "ci"},
		{Token: "reader-token", Subject: "catalog-reader", Restrictions: []AccessRestriction{
			// Backstage's config allows lists in one string.
			{Plugin: "catalog", Permissions: []string{"catalog.entity.read, catalog.location.read"}, Actions: []string{"read"}},
			{Plugin: "search"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		token            string
		wantOK           bool
		wantID           Identity
		wantRestrictions []AccessRestriction
	}{
		{"ci-token-0001", true, Service("ci"), nil},
		{"reader-token", true, Service("catalog-reader"), []AccessRestriction{
			{Plugin: "catalog", Permissions: []string{"catalog.entity.read", "catalog.location.read"}, Actions: []string{"read"}},
			{Plugin: "search"},
		}},
		{"ci-token-000", false, Identity{}, nil},
		{"ci-token-00011", false, Identity{}, nil},
		{"CI-TOKEN-0001", false, Identity{}, nil},
		{"", false, Identity{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			id, rs, ok := s.Verify(tt.token)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.wantID, id); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRestrictions, rs); diff != "" {
				t.Errorf("restrictions (-want +got):\n%s", diff)
			}
		})
	}

	// The caller gets a copy: changing it changes no later answer.
	_, rs, _ := s.Verify("reader-token")
	rs[0].Plugin = "scaffolder"
	rs[0].Actions[0] = "delete"
	if _, rs, _ := s.Verify("reader-token"); rs[0].Plugin != "catalog" || rs[0].Actions[0] != "read" {
		t.Errorf("restrictions changed through a returned slice: %v", rs)
	}

	var none *StaticTokens
	if _, _, ok := none.Verify("ci-token-0001"); ok {
		t.Error("nil StaticTokens accepted a token")
	}
}

func TestPermits(t *testing.T) {
	rs := []AccessRestriction{
		{Plugin: "catalog", Permissions: []string{"catalog.entity.read", "catalog.entity.create"}, Actions: []string{"read"}},
		{Plugin: "search"},
		{Plugin: "scaffolder", Actions: []string{"read", "create"}},
	}
	tests := []struct {
		name                       string
		rs                         []AccessRestriction
		plugin, permission, action string
		want                       bool
	}{
		{"unrestricted", nil, "catalog", "catalog.entity.delete", "delete", true},
		{"plugin not listed", rs, "techdocs", "techdocs.read", "read", false},
		{"plugin listed, no limits", rs, "search", "search.query", "", true},
		{"permission and action listed", rs, "catalog", "catalog.entity.read", "read", true},
		{"permission not listed", rs, "catalog", "catalog.entity.delete", "read", false},
		{"permission listed, action not", rs, "catalog", "catalog.entity.create", "create", false},
		{"actions only: listed", rs, "scaffolder", "scaffolder.task.create", "create", true},
		{"actions only: not listed", rs, "scaffolder", "scaffolder.task.cancel", "update", false},
		{"actions only: permission without action", rs, "scaffolder", "scaffolder.action.execute", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Permits(tt.rs, tt.plugin, tt.permission, tt.action); got != tt.want {
				t.Errorf("Permits = %v, want %v", got, tt.want)
			}
		})
	}
	for plugin, want := range map[string]bool{"catalog": true, "search": true, "techdocs": false} {
		if got := PermitsPlugin(rs, plugin); got != want {
			t.Errorf("PermitsPlugin(%s) = %v, want %v", plugin, got, want)
		}
	}
	if !PermitsPlugin(nil, "techdocs") {
		t.Error("PermitsPlugin without restrictions refused")
	}
}
