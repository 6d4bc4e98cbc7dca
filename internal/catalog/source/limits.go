package source

import (
	"errors"
	"time"
)

// Default limits, used where a Limits field is zero.
const (
	DefaultMaxBytes     = 10 << 20
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRedirects = 5
)

// Limits bound every read. Zero fields take the defaults.
type Limits struct {
	// MaxBytes is the largest file or response body accepted, in bytes.
	// Default 10 MiB.
	MaxBytes int64
	// Timeout bounds one Read call, including the whole body. Default 30s.
	Timeout time.Duration
	// MaxRedirects is how many HTTP redirects a URL read follows. Default 5;
	// a negative value follows none.
	MaxRedirects int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxRedirects == 0 {
		l.MaxRedirects = DefaultMaxRedirects
	} else if l.MaxRedirects < 0 {
		l.MaxRedirects = 0
	}
	return l
}

// ErrNotAllowed is wrapped by read errors for targets the reader refuses:
// hosts or paths outside the allow list, private addresses, files outside
// the root, unsupported schemes.
var ErrNotAllowed = errors.New("not allowed")

// ErrTooLarge is wrapped by read errors for files and bodies over
// Limits.MaxBytes.
var ErrTooLarge = errors.New("too large")

// File is the content of one location target.
type File struct {
	// Path is the absolute, cleaned file path, or for URLs the final URL
	// after redirects.
	Path string
	// Data is the raw content.
	Data []byte
	// ETag identifies this version of the content: the server's ETag for
	// URLs, a SHA-256 of the content for files.
	ETag string
}
