package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// URLReader reads `url` location targets over http(s).
//
// It is built to fetch URLs taken from catalog files written by anyone
// with commit access, so it refuses to be used as a proxy into the
// network it runs in (SSRF): see Read.
//
// A URLReader must not be modified or copied after its first Read; it is
// safe for concurrent use.
type URLReader struct {
	// Limits bound each read.
	Limits Limits
	// Allow is backend.reading.allow as in Backstage: a URL may be read if
	// any rule matches it. Empty Allow means every public host is allowed.
	Allow []AllowRule
	// AllowPrivate lets targets resolve to loopback, private, link-local
	// and other non-public addresses. Only for tests and explicit opt-in:
	// with it, catalog authors can make Atrium fetch internal services and
	// cloud metadata endpoints.
	AllowPrivate bool
	// Client, if set, is used for requests (tests use the httptest
	// client). If its Transport is nil or an *http.Transport, a copy is
	// used with the address guard installed; any other RoundTripper is
	// used as it is, and the address guard is then its job.
	Client *http.Client

	once sync.Once
	rt   http.RoundTripper
}

// AllowRule is one entry of backend.reading.allow.
type AllowRule struct {
	// Host is a host name ("example.com"), a subdomain wildcard
	// ("*.example.com", which does not match example.com itself), either
	// with a port or port range ("example.com:8080", "example.com:8000-8999").
	// Without a port only URLs without an explicit port (or with the
	// scheme's default port) match.
	Host string `yaml:"host" json:"host"`
	// Paths, if not empty, are path prefixes the URL's path must start
	// with, after dot segments are resolved ("/org/repo/").
	Paths []string `yaml:"paths" json:"paths"`
}

// Read fetches target with GET and returns its body.
//
// The URL must be http or https without userinfo and be allowed by Allow.
// Unless AllowPrivate, the connection is refused before it is made if the
// address actually dialled (after DNS resolution, so DNS rebinding is
// covered) is loopback, private, link-local (including 169.254.169.254),
// unspecified, multicast, CGNAT or otherwise not public, including
// IPv4-mapped and IPv4-embedding IPv6 forms. Redirects are followed up to
// Limits.MaxRedirects, each checked like the original URL. A non-2xx
// status is an error with the status code; 404 wraps fs.ErrNotExist.
// Refusals wrap ErrNotAllowed, bodies over Limits.MaxBytes ErrTooLarge.
// Errors name the URL but never include the response body.
func (r *URLReader) Read(ctx context.Context, target string) (File, error) {
	lim := r.Limits.withDefaults()
	u, err := r.check(target)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", redact(target), err)
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", u.Redacted(), err)
	}
	req.Header.Set("User-Agent", "atrium")
	client := &http.Client{
		Transport: r.transport(),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > lim.MaxRedirects {
				return fmt.Errorf("stopped after %d redirects", lim.MaxRedirects)
			}
			if _, err := r.checkURL(req.URL); err != nil {
				return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", u.Redacted(), r.cause(ctx, err, lim))
	}
	defer resp.Body.Close()
	final := resp.Request.URL.Redacted()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return File{}, &statusError{url: final, code: resp.StatusCode}
	}
	if resp.ContentLength > lim.MaxBytes {
		return File{}, fmt.Errorf("read %s: body is %d bytes, exceeds the limit of %d bytes: %w", final, resp.ContentLength, lim.MaxBytes, ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, lim.MaxBytes+1))
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", final, r.cause(ctx, err, lim))
	}
	if int64(len(data)) > lim.MaxBytes {
		return File{}, fmt.Errorf("read %s: body exceeds the limit of %d bytes: %w", final, lim.MaxBytes, ErrTooLarge)
	}
	return File{Path: resp.Request.URL.String(), Data: data, ETag: resp.Header.Get("ETag")}, nil
}

// cause strips net/http's *url.Error wrapper (it repeats the URL) and
// names timeouts plainly.
func (r *URLReader) cause(ctx context.Context, err error, lim Limits) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s: %w", lim.Timeout, context.DeadlineExceeded)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusError is a non-2xx response.
type statusError struct {
	url  string
	code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("read %s: HTTP %d %s", e.url, e.code, http.StatusText(e.code))
}

// Unwrap makes a 404 match fs.ErrNotExist, like a missing file.
func (e *statusError) Unwrap() error {
	if e.code == http.StatusNotFound {
		return fs.ErrNotExist
	}
	return nil
}

// check parses target and applies checkURL.
func (r *URLReader) check(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, errors.New("invalid URL")
	}
	return r.checkURL(u)
}

// checkURL applies the checks that can be made without connecting:
// scheme, userinfo, allow list, and literal non-public addresses.
func (r *URLReader) checkURL(u *url.URL) (*url.URL, error) {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return nil, fmt.Errorf("scheme %q: only http and https URLs can be read: %w", u.Scheme, ErrNotAllowed)
	}
	if u.User != nil {
		return nil, fmt.Errorf("credentials in URLs are not accepted: %w", ErrNotAllowed)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return nil, errors.New("URL has no host")
	}
	if len(r.Allow) > 0 && !allowed(r.Allow, u) {
		return nil, fmt.Errorf("host and path are not in backend.reading.allow: %w", ErrNotAllowed)
	}
	if !r.AllowPrivate {
		if ip, err := netip.ParseAddr(host); err == nil && !isPublic(ip) {
			return nil, fmt.Errorf("address %s is not public: %w", ip, ErrNotAllowed)
		}
		if h := strings.TrimSuffix(host, "."); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return nil, fmt.Errorf("host %s is not public: %w", host, ErrNotAllowed)
		}
	}
	return u, nil
}

// allowed reports whether any rule matches u, with Backstage's
// FetchUrlReader semantics.
func allowed(rules []AllowRule, u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == defaultPort(u.Scheme) {
		port = "" // as WHATWG URL, which Backstage matches against
	}
	p := strings.ReplaceAll(u.Path, `\`, "/")
	if p == "" {
		p = "/"
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	for _, rule := range rules {
		name, portSpec := splitRuleHost(strings.ToLower(strings.TrimSpace(rule.Host)))
		if name == "" {
			continue
		}
		if wild, ok := strings.CutPrefix(name, "*."); ok {
			if !strings.HasSuffix(host, "."+wild) {
				continue
			}
		} else if host != name {
			continue
		}
		if !portMatches(portSpec, port, u.Scheme) {
			continue
		}
		if len(rule.Paths) == 0 {
			return true
		}
		for _, prefix := range rule.Paths {
			if prefix != "" && strings.HasPrefix(clean, prefix) {
				return true
			}
		}
	}
	return false
}

// splitRuleHost splits "host", "host:port", "[v6]:port" or a bare IPv6
// address into name and port spec.
func splitRuleHost(h string) (name, port string) {
	if rest, ok := strings.CutPrefix(h, "["); ok {
		name, after, ok := strings.Cut(rest, "]")
		if !ok {
			return "", ""
		}
		return name, strings.TrimPrefix(after, ":")
	}
	if strings.Count(h, ":") == 1 {
		name, port, _ := strings.Cut(h, ":")
		return name, port
	}
	return h, ""
}

// portMatches applies a rule's port spec ("", "8080", "8000-8999") to a
// URL's port ("" when absent or the scheme default).
func portMatches(spec, port, scheme string) bool {
	if spec == "" {
		return port == ""
	}
	lo, hi, err := parsePortRange(spec)
	if err != nil {
		return false
	}
	if port == "" {
		port = defaultPort(scheme)
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= lo && n <= hi
}

func parsePortRange(spec string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(spec, "-")
	if lo, err = strconv.Atoi(a); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, err
		}
	}
	if lo <= 0 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("invalid port range %q", spec)
	}
	return lo, hi, nil
}

func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// transport returns the round tripper, built once, with the dial guard.
func (r *URLReader) transport() http.RoundTripper {
	r.once.Do(func() {
		var t *http.Transport
		if r.Client != nil && r.Client.Transport != nil {
			ht, ok := r.Client.Transport.(*http.Transport)
			if !ok {
				r.rt = r.Client.Transport
				return
			}
			t = ht.Clone()
		} else {
			t = &http.Transport{
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          100,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ExpectContinueTimeout: 1 * time.Second,
			}
		}
		// A proxy would be dialled instead of the target, defeating the
		// guard, and environment proxies are not the catalog's business.
		t.Proxy = nil
		t.MaxResponseHeaderBytes = 1 << 20
		t.DialContext = r.dialer().DialContext
		t.DialTLSContext = nil
		r.rt = t
	})
	return r.rt
}

// dialer returns a net.Dialer whose Control refuses non-public addresses.
// Control runs on the resolved address just before connect, for every
// connection including redirects and every address DNS returned.
func (r *URLReader) dialer() *net.Dialer {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !r.AllowPrivate {
		d.Control = guardControl
	}
	return d
}

// guardControl is a net.Dialer Control func that refuses to connect to
// non-public addresses.
func guardControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, ErrNotAllowed)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("dial %s: not an IP address: %w", address, ErrNotAllowed)
	}
	if !isPublic(ip) {
		return fmt.Errorf("address %s is not public: %w", ip.WithZone(""), ErrNotAllowed)
	}
	return nil
}

var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated), ::, ::1
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/32"),       // Teredo (embeds an obfuscated IPv4 address)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// isPublic reports whether ip is an address Atrium may fetch from by
// default: not loopback, private, link-local, unspecified, multicast,
// CGNAT or reserved. IPv6 forms that embed an IPv4 address (mapped,
// NAT64, 6to4) are judged by that address.
func isPublic(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip), nat64Local.Contains(ip):
			return isPublic(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return isPublic(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// redact hides userinfo in a target that failed to parse or check.
func redact(target string) string {
	if u, err := url.Parse(target); err == nil {
		return u.Redacted()
	}
	return "URL"
}
