package derrors

import (
	"errors"
	"net/http"
)

// kindStatus maps each kind to its HTTP status. It is the only place where
// a kind meets a status code; the API and the UI name them in their own
// words.
var kindStatus = []struct {
	kind   error
	status int
}{
	{ErrInvalid, http.StatusBadRequest},
	{ErrUnauthenticated, http.StatusUnauthorized},
	{ErrForbidden, http.StatusForbidden},
	{ErrNotFound, http.StatusNotFound},
	{ErrConflict, http.StatusConflict},
	{ErrNotImplemented, http.StatusNotImplemented},
	{ErrUnavailable, http.StatusServiceUnavailable},
}

// Class is what a client may learn of an error.
type Class struct {
	// Kind is the error's kind, nil for an error of no known kind.
	Kind error
	// Status is the HTTP status: 500 when Kind is nil.
	Status int
	// Message is safe to show: the error's own public message, or for a
	// bare kind (fmt.Errorf("...: %w", ErrNotFound)) the kind's text; ""
	// when Kind is nil, whose detail belongs in the logs.
	Message string
}

// Classify returns the class of err.
func Classify(err error) Class {
	for _, k := range kindStatus {
		if errors.Is(err, k.kind) {
			msg, ok := PublicMessage(err)
			if !ok {
				msg = k.kind.Error()
			}
			return Class{Kind: k.kind, Status: k.status, Message: msg}
		}
	}
	return Class{Status: http.StatusInternalServerError}
}

// Kinds lists every kind Classify knows, so that each surface can check
// it names them all.
func Kinds() []error {
	out := make([]error, len(kindStatus))
	for i, k := range kindStatus {
		out[i] = k.kind
	}
	return out
}
