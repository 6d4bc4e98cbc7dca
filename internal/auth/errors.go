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

// errorNames are Backstage's error names for the kinds auth returns.
var errorNames = map[error]string{
	derrors.ErrInvalid:         "InputError",
	derrors.ErrUnauthenticated: "AuthenticationError",
	derrors.ErrForbidden:       "NotAllowedError",
	derrors.ErrNotFound:        "NotFoundError",
}

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
	name, message := errorNames[c.Kind], c.Message
	if c.Kind == nil {
		name, message = "Error", "Internal server error"
	} else if name == "" {
		name = "Error"
	}
	writeErrorBody(w, r, c.Status, name, message)
}

// errorBody is Backstage's JSON error body.
type errorBody struct {
	Error struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
	Request struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response struct {
		StatusCode int `json:"statusCode"`
	} `json:"response"`
}

func writeErrorBody(w http.ResponseWriter, r *http.Request, status int, name, message string) {
	var body errorBody
	body.Error.Name = name
	body.Error.Message = message
	body.Request.Method = r.Method
	body.Request.URL = r.URL.RequestURI()
	body.Response.StatusCode = status
	_ = writeJSON(w, status, body)
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
