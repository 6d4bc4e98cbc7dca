package catalog

import "testing"

func TestEditURL(t *testing.T) {
	for _, tc := range []struct{ name, view, want string }{
		{"github blob", "https://github.com/acme/shop/blob/main/catalog-info.yaml", "https://github.com/acme/shop/edit/main/catalog-info.yaml"},
		{"gitlab blob", "https://gitlab.example.com/acme/shop/-/blob/main/catalog-info.yaml", "https://gitlab.example.com/acme/shop/-/edit/main/catalog-info.yaml"},
		{"pinned commit", "https://github.com/acme/shop/blob/0123456789abcdef0123456789abcdef01234567/catalog-info.yaml", ""},
		{"raw file server", "https://files.example.com/catalog-info.yaml", ""},
		{"blob elsewhere", "https://example.com/blob/x.yaml", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := editURL(tc.view); got != tc.want {
				t.Errorf("editURL(%q) = %q, want %q", tc.view, got, tc.want)
			}
		})
	}
}

func TestRuleLocationPattern(t *testing.T) {
	for _, tc := range []struct {
		name, pattern, ref string
		want               bool
	}{
		{"star within a segment", "https://github.com/acme/*/catalog-info.yaml", "url:https://github.com/acme/shop/catalog-info.yaml", true},
		{"star does not cross segments", "https://github.com/acme/*/catalog-info.yaml", "url:https://github.com/acme/shop/sub/catalog-info.yaml", false},
		{"double star crosses segments", "https://github.com/acme/**/catalog-info.yaml", "url:https://github.com/acme/shop/sub/catalog-info.yaml", true},
		{"case-insensitive", "https://GitHub.com/Acme/**", "url:https://github.com/acme/x.yaml", true},
		{"other type", "https://github.com/acme/**", "file:https://github.com/acme/x.yaml", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := RuleLocation{Type: "url", Pattern: tc.pattern}
			if got := l.matches(tc.ref); got != tc.want {
				t.Errorf("matches(%q) with pattern %q = %v, want %v", tc.ref, tc.pattern, got, tc.want)
			}
		})
	}
}
