package auth

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
)

// AuthenticatorOptions are what an Authenticator checks credentials with.
// A nil field turns that kind of credential off.
type AuthenticatorOptions struct {
	// Tokens checks user tokens (Authorization: Bearer <JWT>).
	Tokens *Tokens
	// Static checks static service tokens (Authorization: Bearer <token>).
	Static *StaticTokens
	// Sessions reads the browser session cookie.
	Sessions *Sessions
	// Logger receives refused credentials at debug level and failures
	// at error level; slog.Default when nil.
	Logger *slog.Logger
}

// Authenticator finds who a request comes from.
type Authenticator struct {
	tokens   *Tokens
	static   *StaticTokens
	sessions *Sessions
	errs     errorAdapter
}

// NewAuthenticator returns an Authenticator.
func NewAuthenticator(opts AuthenticatorOptions) *Authenticator {
	return &Authenticator{tokens: opts.Tokens, static: opts.Static, sessions: opts.Sessions, errs: newErrorAdapter(opts.Logger)}
}

// Middleware puts the identity a request proves in its context
// (IdentityFrom), from, in order:
//
//   - Authorization: Bearer <token>, a static service token (whose
//     access restrictions go in the context too, RestrictionsFrom) or a
//     user token;
//   - the session cookie.
//
// A request with none of these goes on unauthenticated: whether it may
// is for the handler to decide. A bearer token that is neither, or a
// user token that fails verification, ends the request with 401 (with
// Backstage's error body under /api/), rather than falling back to the
// cookie: a client that sent a token meant to be known by it.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := a.authenticate(r)
		if err != nil {
			if !strings.HasPrefix(r.URL.Path, "/api/") {
				a.errs.logger.Debug("auth: credentials refused", "url", r.URL.RequestURI(), "err", err)
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
				return
			}
			a.errs.write(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticate returns the request's context with the identity it proves,
// if any.
func (a *Authenticator) authenticate(r *http.Request) (context.Context, error) {
	ctx := r.Context()
	if token, ok := bearerToken(r); ok {
		if id, rs, ok := a.static.Verify(token); ok {
			ctx = WithIdentity(ctx, id)
			if len(rs) > 0 {
				ctx = context.WithValue(ctx, restrictionsKey{}, rs)
			}
			return ctx, nil
		}
		if a.tokens == nil {
			return nil, unauthenticated(nil, "Invalid token")
		}
		id, err := a.tokens.Verify(ctx, token)
		if err != nil {
			return nil, err
		}
		return WithIdentity(ctx, id), nil
	}
	if a.sessions != nil {
		id, ok, err := a.sessions.FromRequest(r)
		if err != nil {
			return nil, err
		}
		if ok {
			return WithIdentity(ctx, id), nil
		}
	}
	return ctx, nil
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header. Other schemes are not ours and are ignored, as Backstage does.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

type restrictionsKey struct{}

// RestrictionsFrom returns the access restrictions of the static token
// the request in ctx came with; nil means none. The permission layer
// applies them (Permits, PermitsPlugin).
func RestrictionsFrom(ctx context.Context) []AccessRestriction {
	rs, _ := ctx.Value(restrictionsKey{}).([]AccessRestriction)
	return rs
}
