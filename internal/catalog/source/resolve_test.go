package source

import "testing"

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		name, base, target, want string
		wantErr                  bool
	}{
		{name: "sibling file", base: "/repo/catalog-info.yaml", target: "./services/a.yaml", want: "/repo/services/a.yaml"},
		{name: "plain relative", base: "/repo/catalog-info.yaml", target: "a.yaml", want: "/repo/a.yaml"},
		{name: "parent directory is allowed", base: "/repo/sub/catalog-info.yaml", target: "../other/a.yaml", want: "/repo/other/a.yaml"},
		{name: "glob kept", base: "/repo/all.yaml", target: "./services/**/catalog-info.yaml", want: "/repo/services/**/catalog-info.yaml"},
		{name: "absolute path", base: "/repo/catalog-info.yaml", target: "/etc/../other/a.yaml", want: "/other/a.yaml"},
		{name: "relative base", base: "examples/all.yaml", target: "a.yaml", want: "examples/a.yaml"},
		{name: "no base", base: "", target: "./a.yaml", want: "a.yaml"},
		{name: "URL against file base", base: "/repo/all.yaml", target: "https://example.com/a.yaml", want: "https://example.com/a.yaml"},
		{name: "URL sibling", base: "https://github.com/o/r/blob/main/catalog-info.yaml", target: "./services/a.yaml", want: "https://github.com/o/r/blob/main/services/a.yaml"},
		{name: "URL parent", base: "https://example.com/a/b/c.yaml", target: "../d.yaml", want: "https://example.com/a/d.yaml"},
		{name: "URL root-relative", base: "https://example.com/a/b/c.yaml", target: "/x.yaml", want: "https://example.com/x.yaml"},
		{name: "absolute URL", base: "https://example.com/a.yaml", target: "HTTP://other.com/b.yaml", want: "HTTP://other.com/b.yaml"},
		{name: "URL base keeps query off", base: "https://example.com/a/c.yaml?ref=main", target: "d.yaml", want: "https://example.com/a/d.yaml"},
		{name: "empty target", base: "/repo/a.yaml", target: "  ", wantErr: true},
		{name: "bad relative URL", base: "https://example.com/a.yaml", target: "%zz", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveTarget(tt.base, tt.target)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ResolveTarget(%q, %q) error = %v, wantErr %v", tt.base, tt.target, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ResolveTarget(%q, %q) = %q, want %q", tt.base, tt.target, got, tt.want)
			}
		})
	}
}
