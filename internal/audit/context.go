package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
)

type actorKey struct{}

type requestKey struct{}

// WithActor returns ctx carrying the actor that changes made under it are
// recorded as.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or fallback if it carries none.
func ActorFrom(ctx context.Context, fallback Actor) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return fallback
}

// WithRequest returns ctx carrying the HTTP request behind its changes.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, &r)
}

// RequestFrom returns the request ctx carries, or nil.
func RequestFrom(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// RequestOf describes r for the audit log: its request id (the client's
// X-Request-Id when it is a plausible id, else a new random one), method,
// route pattern, client address and user agent. The client address is the
// connection's peer: a proxy in front of Atrium shows as the proxy.
func RequestOf(r *http.Request, route string) Request {
	id := r.Header.Get("X-Request-Id")
	if !plausibleID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return Request{ID: id, Method: r.Method, Route: route, IP: ip, UserAgent: strings.ToValidUTF8(ua, "\uFFFD")}
}

// plausibleID accepts up to 64 letters, digits, '-', '_' and '.'.
func plausibleID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
