package auth

import (
	"net/url"
	"testing"
)

var redirectTests = []struct {
	target string
	want   string // "" when refused
}{
	{"", "/"},
	{"/", "/"},
	{"/catalog", "/catalog"},
	{"/catalog/default/component/petstore?tab=docs#api", "/catalog/default/component/petstore?tab=docs#api"},
	{"/a//b", "/a//b"},
	{"/%2F%2Fevil.com", "/%2F%2Fevil.com"}, // stays a path on this site
	{"//evil.com", ""},
	{"///evil.com", ""},
	{"/\\evil.com", ""},
	{"\\\\evil.com", ""},
	{"/\t/evil.com", ""},
	{"/\n/evil.com", ""},
	{"/\r\nSet-Cookie: x=y", ""},
	{"https://evil.com", ""},
	{"http://evil.com/", ""},
	{"HTTPS://evil.com", ""},
	{"javascript:alert(1)", ""},
	{"JavaScript:alert(1)", ""},
	{"data:text/html,hi", ""},
	{"evil.com", ""},
	{"catalog", ""},
	{" /catalog", ""},
	{"\x00/catalog", ""},
	{"/catalog\x7f", ""},
}

func TestSafeRedirect(t *testing.T) {
	for _, tt := range redirectTests {
		t.Run(tt.target, func(t *testing.T) {
			got, ok := SafeRedirect(tt.target)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("SafeRedirect(%q) = %q, %v; want %q", tt.target, got, ok, tt.want)
			}
		})
	}
}

// FuzzSafeRedirect checks that whatever SafeRedirect accepts, a browser
// resolving it against this site stays on this site.
func FuzzSafeRedirect(f *testing.F) {
	for _, tt := range redirectTests {
		f.Add(tt.target)
	}
	base, err := url.Parse("https://atrium.example.com/api/auth/guest/start")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, target string) {
		got, ok := SafeRedirect(target)
		if !ok {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", got, err)
		}
		if r := base.ResolveReference(u); r.Scheme != base.Scheme || r.Host != base.Host {
			t.Fatalf("accepted %q, which leads to %s", got, r)
		}
		if got[0] != '/' || (len(got) > 1 && (got[1] == '/' || got[1] == '\\')) {
			t.Fatalf("accepted %q, which does not start with a single /", got)
		}
	})
}
