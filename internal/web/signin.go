package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/atrium-dev/atrium/internal/auth"
)

// Signing in. The auth package owns the sign-in itself (its endpoints
// are /api/auth/{provider}/start and /api/auth/logout, and its middleware
// puts the identity in the request's context); the UI owns
//
//	the gate     sends a visitor without an identity to /signin, with the
//	             page they asked for, when sign-in is on;
//	GET /signin  one button per provider, each starting that provider's
//	             sign-in and coming back to that page; and the messages of
//	             a failed sign-in (?error=) or a sign-out (?signedOut=1).

// signInPath is the sign-in page.
const signInPath = "/signin"

// signInView is the sign-in page.
type signInView struct {
	Layout
	Providers []signInButton
	// Error explains why the last sign-in failed; SignedOut confirms a
	// sign-out.
	Error     string
	SignedOut bool
}

// signInButton starts a provider's sign-in.
type signInButton struct{ Title, Href string }

// signInErrors explain the codes the auth package sends a failed sign-in
// back with (/signin?error=<code>). Only these fixed texts are shown, so
// a link cannot make the page say anything else.
var signInErrors = map[string]string{
	"access_denied":      "The sign-in was cancelled, or the provider refused it. Try again.",
	"unknown_user":       "You signed in, but no user in the catalog matches your account. Ask an administrator of this portal to add you to the catalog.",
	"ambiguous_user":     "You signed in, but several users in the catalog match your account. Ask an administrator of this portal to fix the catalog.",
	"domain_not_allowed": "Your account's email domain may not sign in to this portal. Sign in with another account.",
	"email_not_verified": "Your account's email address is not verified at the provider. Verify it there, then try again.",
	"bad_state":          "The sign-in was started in another window, or did not come from this portal. Try again.",
	"expired_state":      "The sign-in took too long. Try again.",
	"failed":             "The sign-in failed. Try again; if it keeps failing, tell an administrator of this portal.",
}

// gate sends requests without an identity to the sign-in page when
// sign-in is on: a page with a 303 to /signin?redirect=<the page>, a form
// post too, before anything changes (to the page the form was on, where
// the browser says so, since the address a form posts to has no page).
// The sign-in page, the static files and API paths pass (the API answers
// its own 401s).
func (h *handler) gate(next http.Handler) http.Handler {
	if !h.signInOn() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if _, ok := auth.IdentityFrom(r.Context()); ok || p == signInPath ||
			strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		back := r.URL.RequestURI()
		if r.Method == http.MethodPost {
			back = formPage(r)
		}
		http.Redirect(w, r, signInHref(back), http.StatusSeeOther)
	})
}

// signInHref is the sign-in page's address for coming back to back.
func signInHref(back string) string {
	back = redirectPath(back)
	if back == "/" {
		return signInPath
	}
	return signInPath + "?redirect=" + url.QueryEscape(back)
}

// formPage returns the page a form post came from, if the Referer names
// one of ours, or else the home page.
func formPage(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host || (u.Scheme != "http" && u.Scheme != "https") {
		return "/"
	}
	return redirectPath(u.RequestURI())
}

// maxRedirectLen bounds the redirect path a sign-in carries.
const maxRedirectLen = 2048

// redirectPath returns s if it is a path of this site to come back to
// after signing in, or else "/". Only a path beginning with a single "/"
// is accepted: "//host" and "/\host" are other sites to browsers, and a
// scheme, host, control character or backslash has no business in a path
// of ours. The sign-in page itself is not a place to come back to.
func redirectPath(s string) string {
	if s == "" || len(s) > maxRedirectLen || s[0] != '/' || strings.ContainsAny(s, "\\") {
		return "/"
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.Path, "/\\") {
		return "/"
	}
	if u.Path == signInPath {
		return "/"
	}
	return s
}

// signIn serves GET /signin.
func (h *handler) signIn(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	back := redirectPath(q.Get("redirect"))
	if _, ok := auth.IdentityFrom(r.Context()); ok || !h.signInOn() {
		// Nothing to sign in to, or done already.
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	v := &signInView{Layout: h.layout(r, "Sign in", ""), SignedOut: q.Get("signedOut") == "1"}
	if code := q.Get("error"); code != "" {
		v.Error = signInErrors[code]
		if v.Error == "" {
			v.Error = signInErrors["failed"]
		}
	}
	for _, p := range h.opts.SignIn {
		v.Providers = append(v.Providers, signInButton{
			Title: p.Title,
			Href:  "/api/auth/" + url.PathEscape(p.ID) + "/start?redirect=" + url.QueryEscape(back),
		})
	}
	return h.views.render(w, http.StatusOK, "signin", v)
}
