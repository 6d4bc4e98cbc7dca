package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Unmatched is the route label of requests no pattern matched, such as
// 404s for unknown paths, so that the number of series stays bounded
// whatever paths clients send.
const Unmatched = "unmatched"

// InstrumentHTTP times every request next serves into the histogram
// atrium_http_request_duration_seconds, which it registers on reg, with
// the labels method, route and code (the response status, such as "200").
//
// The route is the net/http ServeMux pattern that served the request,
// such as "GET /api/catalog/entities/by-name/{kind}/{namespace}/{name}",
// read after next returns: next must be the ServeMux, or pass the request
// it was given on unchanged. A handler that routes again on a copy of the
// request can name a finer route with SetRoute. Requests no pattern
// matched get the route Unmatched; the raw path is never a label.
func InstrumentHTTP(reg *Registry, next http.Handler) http.Handler {
	duration := reg.NewHistogramVec("atrium_http_request_duration_seconds",
		"Time to serve an HTTP request, by method, route pattern and status code.",
		DefaultBuckets(), "method", "route", "code")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rt := new(route)
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, rt))
		sw := &statusWriter{ResponseWriter: w}
		returned := false
		defer func() {
			name := r.Pattern
			if p := rt.name.Load(); p != nil {
				name = *p
			}
			if name == "" {
				name = Unmatched
			}
			code := sw.code
			switch {
			case code == 0 && !returned:
				// A handler that panics before answering: the server
				// closes the connection, a failure like a 500.
				code = http.StatusInternalServerError
			case code == 0:
				code = http.StatusOK
			}
			duration.With(methodLabel(r.Method), name, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
		returned = true
	})
}

// route is where SetRoute leaves the route name for InstrumentHTTP. It is
// atomic because a handler may hand the request to other goroutines.
type route struct{ name atomic.Pointer[string] }

type routeKey struct{}

// SetRoute names the route InstrumentHTTP records for the request whose
// context is ctx, in place of the pattern of the outer ServeMux. A handler
// that strips a prefix and routes a copy of the request with a ServeMux
// of its own calls it with the full pattern it matched, so that latency
// is recorded per endpoint rather than per mount point. name must come
// from a fixed set, never from the request path. Without InstrumentHTTP
// it does nothing.
func SetRoute(ctx context.Context, name string) {
	if rt, ok := ctx.Value(routeKey{}).(*route); ok {
		rt.name.Store(&name)
	}
}

// methodLabel bounds the method label: clients may send any token as a
// method, and each would be a new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// statusWriter records the status code of the response.
type statusWriter struct {
	http.ResponseWriter
	code int // 0 until the final status is sent
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx responses, such as 103 Early Hints, come before the final one.
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush serves handlers that assert http.Flusher rather than use
// http.ResponseController.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush() // a writer that cannot flush still delivers the data
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
