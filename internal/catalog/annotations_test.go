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
