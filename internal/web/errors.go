package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// errorView is the HTML error page.
type errorView struct {
	Layout
	Status           int
	Heading, Message string
}

// handlerFunc is a page: it writes a successful response itself and
// returns any failure for the error adapter to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errNotFound and errMethod are the router's own errors.
var (
	errNotFound = derrors.NotFound("There is no page at this address.")
	errMethod   = &statusError{status: http.StatusMethodNotAllowed, title: "Method not allowed",
		message: "This page cannot be used that way."}
)

// statusError is an error the HTTP layer raises itself, with no derrors
// kind; its message is safe to show.
type statusError struct {
	status         int
	title, message string
}

func (e *statusError) Error() string { return e.message }

// errorTitles are the page headings for the derrors kinds (whose statuses
// derrors.Classify gives).
var errorTitles = map[error]string{
	derrors.ErrInvalid:         "That request was not valid",
	derrors.ErrUnauthenticated: "Sign in required",
	derrors.ErrForbidden:       "Not allowed",
	derrors.ErrNotFound:        "Not found",
	derrors.ErrConflict:        "Conflict",
	derrors.ErrNotImplemented:  "Not available",
	derrors.ErrUnavailable:     "Temporarily unavailable",
}

// classify returns the status, heading and client-safe message for err.
// Errors of no known kind are a 500 whose detail stays in the logs.
func classify(err error) (status int, title, message string) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.title, se.message
	}
	if c := derrors.Classify(err); c.Kind != nil {
		return c.Status, errorTitles[c.Kind], c.Message
	}
	return http.StatusInternalServerError, "Something went wrong",
		"Atrium could not show this page. The error has been logged; try again in a moment."
}

// wrap adapts a page to an http.Handler that renders its error, if any.
func (h *handler) wrap(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.errorPage(w, r, err)
		}
	})
}

// errorPage logs err and renders the HTML error page for it. Pages render
// into a buffer before writing, so no half-written page precedes it.
func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	status, title, message := classify(err)
	attrs := []any{"method", r.Method, "url", r.URL.RequestURI(), "status", status, "err", err}
	switch {
	case errors.Is(err, context.Canceled):
		h.log.Debug("web: request canceled", attrs...)
	case status >= 500:
		h.log.Error("web: request failed", attrs...)
	default:
		h.log.Debug("web: request rejected", attrs...)
	}
	p := &errorView{Status: status, Heading: title, Message: message}
	p.Layout = h.layout(r, title, "")
	if rerr := h.views.render(w, status, "error", p); rerr != nil {
		h.log.Error("web: render error page", "err", rerr)
		http.Error(w, message, status)
	}
}
