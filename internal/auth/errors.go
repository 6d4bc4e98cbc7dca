package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// The auth routes and the authenticator answer errors with Backstage's
// error body, as internal/api does; auth sits below api, so it renders
// the body itself.

// handlerFunc is an auth endpoint: it writes a successful response itself
// and returns any failure for errorAdapter to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errorAdapter renders handler errors and logs them.
type errorAdapter struct {
	logger *slog.Logger
}

func newErrorAdapter(logger *slog.Logger) errorAdapter {
	if logger == nil {
		logger = slog.Default()
	}
	return errorAdapter{logger: logger}
}

// wrap adapts fn to an http.Handler that renders fn's error, if any.
func (a errorAdapter) wrap(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			a.write(w, r, err)
		}
	})
}

// write logs err and renders it as Backstage's error body, showing the
// client only a safe message.
func (a errorAdapter) write(w http.ResponseWriter, r *http.Request, err error) {
	c := derrors.Classify(err)
	attrs := []any{"method", r.Method, "url", r.URL.RequestURI(), "status", c.Status, "err", err}
	switch {
	case errors.Is(err, context.Canceled):
		a.logger.Debug("auth: request canceled", attrs...)
	case c.Status >= 500:
		a.logger.Error("auth: request failed", attrs...)
	default:
		a.logger.Debug("auth: request rejected", attrs...)
	}
	name, message := derrors.BackstageName(c.Kind), c.Message
	if c.Kind == nil {
		message = "Internal server error"
	}
	derrors.WriteBackstageError(w, r, c.Status, name, message)
}

// writeJSON writes v as the whole response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// unauthenticated returns an ErrUnauthenticated error with a client-safe
// message and, for the logs, its cause.
func unauthenticated(cause error, message string) error {
	return derrors.Wrap(derrors.ErrUnauthenticated, cause, "%s", message)
}
