package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// The browser routes' security, in the spirit of tailscale's safeweb: the
// UI and the JSON API are separate handlers, and only the UI's pass
// through this middleware, which
//
//   - sets a strict Content-Security-Policy (scripts, styles, images and
//     fonts from our own origin only; no inline script or style, no
//     framing, forms post only to us) and the other hardening headers;
//   - accepts GET, HEAD and POST only;
//   - protects every POST against cross-site request forgery twice over:
//     net/http's CrossOriginProtection rejects requests that the browser
//     marks as cross-origin (Sec-Fetch-Site, Origin), and a double-submit
//     token, kept in an HttpOnly cookie and repeated in a hidden form
//     field, catches browsers that send neither header;
//   - caps form bodies at maxFormBytes, except on the few routes that
//     take files (uploadRoutes), which may also be sent as
//     multipart/form-data, up to their own limit.

// contentSecurityPolicy allows nothing the pages do not use.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// csrfCookie holds the double-submit token; csrfField is the form field
// that must repeat it.
const (
	csrfCookie = "atrium_csrf"
	csrfField  = "csrf"
)

// maxFormBytes caps the body of a form post: forms here carry a URL or an
// id, never a file.
const maxFormBytes = 64 << 10

type csrfKey struct{}

// csrfToken returns the request's CSRF token, for forms to repeat.
func csrfToken(ctx context.Context) string {
	s, _ := ctx.Value(csrfKey{}).(string)
	return s
}

// errCSRF is what a forged or stale form post gets.
var errCSRF = derrors.Forbidden("This form did not come from this page, or it has expired. Go back, reload the page and try again.")

// secure wraps next with the security headers and checks above. fail
// renders the errors the middleware itself raises; uploads maps the
// paths that take multipart posts (with files) to their body limit.
func secure(next http.Handler, fail func(http.ResponseWriter, *http.Request, error), uploads map[string]int64) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
		hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
		hdr.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")

		token, fresh := requestToken(r)
		if fresh {
			http.SetCookie(w, &http.Cookie{
				Name: csrfCookie, Value: token, Path: "/",
				HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
			})
		}
		r = r.WithContext(context.WithValue(r.Context(), csrfKey{}, token))

		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			if err := checkPost(w, r, cop, fresh, uploads[r.URL.Path]); err != nil {
				fail(w, r, err)
				return
			}
			if r.MultipartForm != nil {
				// r is a copy the server does not clean up after.
				defer r.MultipartForm.RemoveAll()
			}
		default:
			hdr.Set("Allow", "GET, HEAD, POST")
			fail(w, r, errMethod)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkPost accepts a form post only if it is same-origin, url-encoded
// and small (or, where uploadLimit is set, multipart and at most that
// big), and repeats the token of the cookie it came with.
func checkPost(w http.ResponseWriter, r *http.Request, cop *http.CrossOriginProtection, freshToken bool, uploadLimit int64) error {
	if err := cop.Check(r); err != nil {
		return errCSRF
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return derrors.Invalid("The form could not be read.")
		}
	case mt == "multipart/form-data" && uploadLimit > 0:
		r.Body = http.MaxBytesReader(w, r.Body, uploadLimit)
		// Held in memory whole: the limit is small enough.
		if err := r.ParseMultipartForm(uploadLimit); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return derrors.Invalid("The form with its files is larger than %d MiB. Send fewer or smaller files.", uploadLimit>>20)
			}
			return derrors.Invalid("The form could not be read (a form may carry about 1,000 files at most: send more as an archive).")
		}
	default:
		return derrors.Invalid("Forms must be sent as application/x-www-form-urlencoded.")
	}
	if freshToken {
		// No valid cookie came with the post: nothing to compare with.
		return errCSRF
	}
	got := r.PostForm.Get(csrfField)
	if subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(r.Context()))) != 1 {
		return errCSRF
	}
	return nil
}

// requestToken returns the token of the request's cookie, or a new one
// (fresh) when the cookie is missing or malformed.
func requestToken(r *http.Request) (token string, fresh bool) {
	if c, err := r.Cookie(csrfCookie); err == nil && validToken(c.Value) {
		return c.Value, false
	}
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics if the OS cannot supply randomness)
	return base64.RawURLEncoding.EncodeToString(b), true
}

// validToken reports whether s has the shape of a token we issue.
func validToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}
