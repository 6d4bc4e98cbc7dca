package oidc

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
)

// ErrorCode is why a sign-in failed, as the sign-in page receives it
// (/signin?error=<code>): short and free of detail, which goes to the log.
type ErrorCode string

// The error codes.
const (
	// ErrorDenied: the person (or the provider's policy) declined at the
	// provider.
	ErrorDenied ErrorCode = "access_denied"
	// ErrorProvider: the provider answered with another error, or could
	// not be reached.
	ErrorProvider ErrorCode = "provider_error"
	// ErrorBadState: the callback did not come from a sign-in this browser
	// started here (no state cookie, a tampered one, a state that does
	// not match, or one already used).
	ErrorBadState ErrorCode = "bad_state"
	// ErrorExpiredState: the sign-in took longer than Config.StateTTL.
	ErrorExpiredState ErrorCode = "expired_state"
	// ErrorExchange: the provider refused the code (expired, already
	// used, or not ours).
	ErrorExchange ErrorCode = "exchange_failed"
	// ErrorInvalidToken: the ID token failed verification (signature,
	// issuer, audience, expiry, nonce).
	ErrorInvalidToken ErrorCode = "invalid_token"
	// ErrorUnknownUser: no resolver found a catalog user.
	ErrorUnknownUser ErrorCode = "unknown_user"
	// ErrorAmbiguousUser: several catalog users match.
	ErrorAmbiguousUser ErrorCode = "ambiguous_user"
	// ErrorDomainNotAllowed: the email's domain is not in allowedDomains.
	ErrorDomainNotAllowed ErrorCode = "domain_not_allowed"
	// ErrorEmailNotVerified: the provider says the email is unverified.
	ErrorEmailNotVerified ErrorCode = "email_not_verified"
	// ErrorServer: something failed on our side.
	ErrorServer ErrorCode = "server_error"
)

// SignInPath is the sign-in page that failures are sent to.
const SignInPath = "/signin"

// failure is a sign-in error with the code the browser is shown.
type failure struct {
	code ErrorCode
	err  error
}

func (f *failure) Error() string { return string(f.code) + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func fail(code ErrorCode, err error) error { return &failure{code: code, err: err} }

// serve adapts a handler that returns an error: a failure is logged in
// full and the browser sent to the sign-in page with only its code.
func (p *Provider) serve(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		// The callback URL carries the code; keep it out of Referer.
		w.Header().Set("Referrer-Policy", "no-referrer")
		err := h(w, r)
		if err == nil {
			return
		}
		code, level := ErrorServer, slog.LevelError
		if f, ok := errors.AsType[*failure](err); ok {
			code, level = f.code, slog.LevelWarn
		}
		p.logger.Log(r.Context(), level, "oidc sign-in failed", "code", string(code), "error", err)
		http.Redirect(w, r, SignInPath+"?error="+url.QueryEscape(string(code)), http.StatusFound)
	}
}
