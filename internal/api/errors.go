package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// handlerFunc is an API endpoint: it writes a successful response itself and
// returns any failure for the error adapter to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// httpError is an error raised by the HTTP layer itself (unknown route,
// wrong method, body too large) that has no derrors kind; it carries its own
// status and Backstage-style name, and its message is safe for clients.
type httpError struct {
	status  int
	name    string
	message string
}

func (e *httpError) Error() string { return e.message }

// invalid returns a 400 InputError with a client-safe message.
func invalid(format string, args ...any) error { return derrors.Invalid(format, args...) }

// classify returns the status, Backstage error name and client-safe message
// for err. Errors of no known kind become a 500 whose detail stays in the logs.
func classify(err error) (status int, name, message string) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.name, he.message
	}
	if c := derrors.Classify(err); c.Kind != nil {
		return c.Status, derrors.BackstageName(c.Kind), c.Message
	}
	return http.StatusInternalServerError, "Error", "Internal server error"
}

// errorAdapter turns handler errors into responses and log lines.
type errorAdapter struct {
	logger *slog.Logger
}

// wrap adapts fn to an http.Handler that renders fn's error, if any.
func (a *errorAdapter) wrap(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		if err := fn(tw, r); err != nil {
			a.write(tw, r, err)
		}
	})
}

// write renders err as Backstage's error body, or, when the response has
// already started (a streamed list), aborts the connection so that the
// client sees a failure rather than a truncated but plausible document.
func (a *errorAdapter) write(w *trackingWriter, r *http.Request, err error) {
	status, name, message := classify(err)
	a.log(r, status, err)
	if w.started {
		panic(http.ErrAbortHandler)
	}
	writeError(w, r, status, name, message)
}

func (a *errorAdapter) log(r *http.Request, status int, err error) {
	attrs := []any{"method", r.Method, "url", r.URL.RequestURI(), "status", status, "err", err}
	switch {
	case errors.Is(err, context.Canceled):
		a.logger.Debug("api: request canceled", attrs...)
	case status >= 500:
		a.logger.Error("api: request failed", attrs...)
	default:
		a.logger.Debug("api: request rejected", attrs...)
	}
}

// writeError writes Backstage's error body. request.url is the URL as the
// handler saw it, relative to the plugin's mount point, as Backstage's is.
func writeError(w http.ResponseWriter, r *http.Request, status int, name, message string) {
	derrors.WriteBackstageError(w, r, status, name, message)
}

// trackingWriter records whether the response has started, so the adapter
// knows if it may still write an error body.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.started = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.started = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// writeJSON writes v as the whole response body with the given status.
// HTML characters stay unescaped, as Express writes them.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return fmt.Errorf("api: encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// marshalJSON is json.Marshal without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
