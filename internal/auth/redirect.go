package auth

import (
	"net/url"
	"strings"
)

// SafeRedirect returns target if it is safe to redirect a browser to
// after sign-in: a path on this site, starting with a single "/". It
// refuses absolute URLs ("https://evil.com", "javascript:..."),
// scheme-relative ones ("//evil.com"), and the spellings browsers read as
// those ("/\evil.com", control characters they strip). An empty target
// means "/".
func SafeRedirect(target string) (string, bool) {
	if target == "" {
		return "/", true
	}
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
		return "", false
	}
	// Browsers treat "\" as "/" in URLs, and drop tabs and newlines:
	// "/\evil.com" and "/\t/evil.com" both lead to evil.com.
	for _, c := range []byte(target) {
		if c == '\\' || c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return target, true
}
