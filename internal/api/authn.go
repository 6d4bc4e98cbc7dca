package api

import (
	"net/http"

	"github.com/atrium-dev/atrium/internal/auth"
)

// RequireIdentity answers 401 with Backstage's AuthenticationError body to
// requests that carry no identity (no valid token or session; see
// auth.Authenticator), and passes the others to next. The app puts it in
// front of every API surface when sign-in is on.
func RequireIdentity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.IdentityFrom(r.Context()); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="atrium"`)
			writeError(w, r, http.StatusUnauthorized, "AuthenticationError", "Missing credentials")
			return
		}
		next.ServeHTTP(w, r)
	})
}
