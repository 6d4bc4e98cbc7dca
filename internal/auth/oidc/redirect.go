package oidc

import (
	"net/url"
	"strings"
)

// maxRedirect bounds the redirect path kept in the state cookie.
const maxRedirect = 1024

// safeRedirect returns s if it is a path on this site ("/catalog?x=1"),
// else "/". Only a path that starts with exactly one "/" is kept: "//host"
// and "/\host" are another host to a browser, as is anything with a scheme
// or host. Backslashes, control characters and whitespace are refused
// outright, because browsers drop or rewrite them ("/\t/evil.com" becomes
// "//evil.com").
func safeRedirect(s string) string {
	if s == "" || len(s) > maxRedirect || s[0] != '/' {
		return "/"
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	// A path that decodes to "//" at the start ("/%2F/evil.com") is still a
	// path here, but no page of ours begins so; refuse rather than hand it
	// to code that might decode it.
	if strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return s
}
