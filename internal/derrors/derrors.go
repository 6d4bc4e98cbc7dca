// Package derrors defines the few kinds of error that cross package
// boundaries in Atrium (not found, invalid input, conflict, forbidden,
// unauthenticated, ...). Each API surface maps a kind to an HTTP status in
// one place; the message of an error made here is written for the client
// and safe to show, while any other error's text stays in the logs.
package derrors

import (
	"errors"
	"fmt"
)

// The kinds. Test with errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrInvalid         = errors.New("invalid input")
	ErrConflict        = errors.New("conflict")
	ErrForbidden       = errors.New("forbidden")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrNotImplemented  = errors.New("not implemented")
	ErrUnavailable     = errors.New("service unavailable")
)

// Error is an error of a kind with a message safe to show to clients.
type Error struct {
	Kind    error
	Message string
	// Cause, if set, is the underlying error; it is for logs, not clients.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// Unwrap lets errors.Is see both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// New returns an error of kind with a client-safe, formatted message.
func New(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind with a client-safe message and a cause for the logs.
func Wrap(kind, cause error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// NotFound returns an ErrNotFound error with a client-safe message.
func NotFound(format string, args ...any) error { return New(ErrNotFound, format, args...) }

// Invalid returns an ErrInvalid error with a client-safe message.
func Invalid(format string, args ...any) error { return New(ErrInvalid, format, args...) }

// Conflict returns an ErrConflict error with a client-safe message.
func Conflict(format string, args ...any) error { return New(ErrConflict, format, args...) }

// Forbidden returns an ErrForbidden error with a client-safe message.
func Forbidden(format string, args ...any) error { return New(ErrForbidden, format, args...) }

// PublicMessage returns the client-safe message of err, and false if err
// carries none (its text must then not reach clients).
func PublicMessage(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Message, true
	}
	return "", false
}
