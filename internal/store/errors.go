package store

import "github.com/atrium-dev/atrium/internal/derrors"

// ErrNotFound is returned (wrapped) when a row asked for does not exist. It
// is the shared kind, so callers can test any layer's error with errors.Is.
var ErrNotFound = derrors.ErrNotFound
