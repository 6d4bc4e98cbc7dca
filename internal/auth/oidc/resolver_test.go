package oidc

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestResolverPlans checks what each resolver looks up, and the
// fallback name it would sign in without a catalog user, for claims the
// end-to-end tests do not reach.
func TestResolverPlans(t *testing.T) {
	tests := []struct {
		name         string
		resolver     ResolverName
		claims       claims
		wantLookups  []lookup
		wantFallback string
	}{
		{"email, lowercased", EmailMatchingUserEntityProfileEmail, claims{Email: "Jane@Example.COM"},
			[]lookup{{"email", "jane@example.com"}}, "jane@example.com"},
		{"email with plus addressing", EmailMatchingUserEntityProfileEmail, claims{Email: "jane+ci@example.com"},
			[]lookup{{"email", "jane+ci@example.com"}, {"email", "jane@example.com"}}, "jane@example.com"},
		{"email with characters unfit for a ref: no fallback", EmailMatchingUserEntityProfileEmail, claims{Email: "a/b@example.com"},
			[]lookup{{"email", "a/b@example.com"}}, ""},
		{"email quoted local part: no fallback", EmailMatchingUserEntityProfileEmail, claims{Email: `"j d"@example.com`},
			[]lookup{{"email", `"j d"@example.com`}}, ""},
		{"local part", EmailLocalPartMatchingUserEntityName, claims{Email: "Jane.Doe@example.com"},
			[]lookup{{"name", "jane.doe"}}, "jane.doe"},
		{"local part with plus is no entity name", EmailLocalPartMatchingUserEntityName, claims{Email: "jane+ci@example.com"},
			nil, ""},
		{"local part too long", EmailLocalPartMatchingUserEntityName, claims{Email: "a234567890123456789012345678901234567890123456789012345678901234@example.com"},
			nil, ""},
		{"username", UsernameMatchingUserEntityName, claims{PreferredUsername: "Jane_Doe"},
			[]lookup{{"name", "jane_doe"}}, "jane_doe"},
		{"username with a slash cannot name another namespace", UsernameMatchingUserEntityName, claims{PreferredUsername: "admins/root"},
			nil, ""},
		{"username with a colon", UsernameMatchingUserEntityName, claims{PreferredUsername: "group:x"},
			nil, ""},
		{"no username", UsernameMatchingUserEntityName, claims{Email: "jane@example.com"},
			nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookups, fallback := strategies[tt.resolver].plan(tt.claims)
			if diff := cmp.Diff(tt.wantLookups, lookups, cmp.AllowUnexported(lookup{})); diff != "" {
				t.Errorf("lookups (-want +got):\n%s", diff)
			}
			if fallback != tt.wantFallback {
				t.Errorf("fallback = %q, want %q", fallback, tt.wantFallback)
			}
		})
	}
}
