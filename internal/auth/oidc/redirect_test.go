package oidc

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeRedirect(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"path", "/catalog", "/catalog"},
		{"root", "/", "/"},
		{"path with query and fragment", "/catalog?filter=kind:component&x=1#top", "/catalog?filter=kind:component&x=1#top"},
		{"encoded characters", "/docs/default/component/a%20b", "/docs/default/component/a%20b"},
		{"empty", "", "/"},
		{"protocol-relative", "//evil.com", "/"},
		{"protocol-relative with path", "//evil.com/catalog", "/"},
		{"backslash host", "/\\evil.com", "/"},
		{"backslash later", "/catalog\\..\\evil", "/"},
		{"absolute https", "https://evil.com", "/"},
		{"absolute http to ourselves", "http://atrium.example.com/catalog", "/"},
		{"scheme-less host", "evil.com/catalog", "/"},
		{"relative path", "catalog", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"javascript after slash-less whitespace", " javascript:alert(1)", "/"},
		{"data", "data:text/html,<script>alert(1)</script>", "/"},
		{"tab makes it protocol-relative", "/\t/evil.com", "/"},
		{"newline", "/\n/evil.com", "/"},
		{"carriage return", "/catalog\r\nSet-Cookie: x=y", "/"},
		{"NUL", "/catalog\x00", "/"},
		{"DEL", "/catalog\x7f", "/"},
		{"space", "/cat alog", "/"},
		{"encoded slashes that decode to //", "/%2F/evil.com", "/"},
		{"encoded slash later is fine", "/catalog/a%2Fb", "/catalog/a%2Fb"},
		{"userinfo-looking path", "/@evil.com", "/@evil.com"},
		{"triple slash", "///evil.com", "/"},
		{"too long", "/" + strings.Repeat("a", maxRedirect), "/"},
		{"bad escape", "/catalog%zz", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeRedirect(tt.in); got != tt.want {
				t.Errorf("safeRedirect(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzSafeRedirect checks that whatever comes in, what goes out is a
// path on this site that a browser resolves against our own origin.
func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"/", "/catalog?x=1#y", "//evil.com", "/\\evil.com", "https://evil.com", "javascript:x", "/\t/x", "/%2F/x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://atrium.example.com/api/auth/oidc/handler/frame")
	f.Fuzz(func(t *testing.T, in string) {
		got := safeRedirect(in)
		if got != "/" && got != in {
			t.Fatalf("safeRedirect(%q) = %q: neither the input nor /", in, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safeRedirect(%q) = %q, which does not parse: %v", in, got, err)
		}
		if r := base.ResolveReference(u); r.Scheme != base.Scheme || r.Host != base.Host {
			t.Fatalf("safeRedirect(%q) = %q resolves to %s, off our origin", in, got, r)
		}
		if strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("safeRedirect(%q) = %q, which a browser may read as another host", in, got)
		}
	})
}
