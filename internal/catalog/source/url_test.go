package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testServer is an httptest server that counts the connections it accepts,
// so tests can prove that a refused read never connected.
type testServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newTestServer(t *testing.T, h http.Handler) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /catalog-info.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, "kind: Component\n")
	})
	mux.HandleFunc("GET /missing.yaml", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "SECRET-BODY not here", http.StatusNotFound)
	})
	mux.HandleFunc("GET /broken.yaml", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "SECRET-BODY stack trace", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /size/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		fmt.Fprint(w, strings.Repeat("x", n))
	})
	mux.HandleFunc("GET /chunked/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		for range n {
			fmt.Fprint(w, "x")
			w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
		}
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("GET /slow-body", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "kind: ")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("GET /redirect/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			http.Redirect(w, r, "/catalog-info.yaml", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("GET /to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	return mux
}

func TestURLReaderRead(t *testing.T) {
	srv := newTestServer(t, testMux())
	r := &URLReader{AllowPrivate: true}
	got, err := r.Read(context.Background(), srv.URL+"/catalog-info.yaml")
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if want := (File{Path: srv.URL + "/catalog-info.yaml", Data: []byte("kind: Component\n"), ETag: `"v1"`}); got.Path != want.Path || string(got.Data) != string(want.Data) || got.ETag != want.ETag {
		t.Errorf("Read = %+v, want %+v", got, want)
	}

	// Redirects end at the final URL.
	got, err = r.Read(context.Background(), srv.URL+"/redirect/2")
	if err != nil {
		t.Fatalf("Read(redirect): %v", err)
	}
	if got.Path != srv.URL+"/catalog-info.yaml" {
		t.Errorf("Path after redirects = %q", got.Path)
	}

	// The httptest client is accepted too.
	r2 := &URLReader{AllowPrivate: true, Client: srv.Client()}
	if _, err := r2.Read(context.Background(), srv.URL+"/catalog-info.yaml"); err != nil {
		t.Errorf("Read with Client: %v", err)
	}
}

func TestURLReaderErrors(t *testing.T) {
	srv := newTestServer(t, testMux())
	tests := []struct {
		name   string
		reader *URLReader
		path   string
		is     error
		msg    string
	}{
		{"404", &URLReader{AllowPrivate: true}, "/missing.yaml", fs.ErrNotExist, "/missing.yaml: HTTP 404 Not Found"},
		{"500", &URLReader{AllowPrivate: true}, "/broken.yaml", nil, "/broken.yaml: HTTP 500 Internal Server Error"},
		{"over the limit", &URLReader{AllowPrivate: true, Limits: Limits{MaxBytes: 10}}, "/size/11", ErrTooLarge, "exceeds the limit of 10 bytes"},
		{"over the limit, chunked", &URLReader{AllowPrivate: true, Limits: Limits{MaxBytes: 10}}, "/chunked/11", ErrTooLarge, "exceeds the limit of 10 bytes"},
		{"timeout before headers", &URLReader{AllowPrivate: true, Limits: Limits{Timeout: 50 * time.Millisecond}}, "/slow", context.DeadlineExceeded, "timed out after 50ms"},
		{"timeout in the body", &URLReader{AllowPrivate: true, Limits: Limits{Timeout: 50 * time.Millisecond}}, "/slow-body", context.DeadlineExceeded, "timed out after 50ms"},
		{"too many redirects", &URLReader{AllowPrivate: true, Limits: Limits{MaxRedirects: 2}}, "/redirect/2", nil, "stopped after 2 redirects"},
		{"default redirect limit", &URLReader{AllowPrivate: true}, "/redirect/5", nil, "stopped after 5 redirects"},
		{"redirects disabled", &URLReader{AllowPrivate: true, Limits: Limits{MaxRedirects: -1}}, "/redirect/0", nil, "stopped after 0 redirects"},
		{"redirect to a scheme not allowed", &URLReader{AllowPrivate: true}, "/to?u=" + url.QueryEscape("file:///etc/passwd"), ErrNotAllowed, `scheme "file"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.reader.Read(context.Background(), srv.URL+tt.path)
			if err == nil {
				t.Fatalf("Read = %q, want an error", f.Data)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if tt.is != fs.ErrNotExist && errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v wraps fs.ErrNotExist", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %q does not name the URL", err)
			}
			if strings.Contains(err.Error(), "SECRET-BODY") {
				t.Errorf("error %q includes the response body", err)
			}
		})
	}
	// Exactly at the limit is fine.
	r := &URLReader{AllowPrivate: true, Limits: Limits{MaxBytes: 10}}
	if _, err := r.Read(context.Background(), srv.URL+"/chunked/10"); err != nil {
		t.Errorf("Read at the limit: %v", err)
	}
}

// hostRewriter sends requests for fake public hosts to the test server, so
// that redirect handling can be tested with AllowPrivate false without DNS.
type hostRewriter struct {
	hosts map[string]string // fake host -> test server host:port
}

func (h hostRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if to, ok := h.hosts[req.URL.Host]; ok {
		req = req.Clone(req.Context())
		req.URL.Host = to
		resp, err := http.DefaultTransport.RoundTrip(req)
		if resp != nil {
			resp.Request.URL.Host = to
		}
		return resp, err
	}
	return nil, fmt.Errorf("test transport: unexpected request to %s", req.URL.Host)
}

func TestURLReaderRefusesNonPublic(t *testing.T) {
	srv := newTestServer(t, testMux())
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	r := &URLReader{} // AllowPrivate false

	for _, target := range []string{
		srv.URL + "/catalog-info.yaml",
		fmt.Sprintf("http://localhost:%d/catalog-info.yaml", port),
		fmt.Sprintf("http://LOCALHOST:%d/catalog-info.yaml", port),
		fmt.Sprintf("http://[::1]:%d/catalog-info.yaml", port),
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/catalog-info.yaml", port),
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:169.254.169.254]/latest/meta-data/",
		"http://[fe80::1%25eth0]/",
		"http://10.0.0.1/catalog-info.yaml",
		"https://192.168.1.1/x",
		"http://100.64.0.1/x",
		"http://0.0.0.0/x",
		"http://[::]/x",
		"http://a.localhost/x",
	} {
		t.Run(target, func(t *testing.T) {
			_, err := r.Read(context.Background(), target)
			if !errors.Is(err, ErrNotAllowed) {
				t.Errorf("Read(%s) = %v, want ErrNotAllowed", target, err)
			}
		})
	}

	// Redirects from an allowed public server to private addresses.
	public := &URLReader{Client: &http.Client{Transport: hostRewriter{map[string]string{"public.example": srv.Listener.Addr().String()}}}}
	if _, err := public.Read(context.Background(), "http://public.example/catalog-info.yaml"); err != nil {
		t.Fatalf("Read through the test transport: %v", err)
	}
	before := srv.conns.Load()
	for _, to := range []string{
		srv.URL + "/catalog-info.yaml",
		fmt.Sprintf("http://localhost:%d/catalog-info.yaml", port),
		"http://169.254.169.254/latest/meta-data/",
		"http://[::1]/",
	} {
		t.Run("redirect to "+to, func(t *testing.T) {
			_, err := public.Read(context.Background(), "http://public.example/to?u="+url.QueryEscape(to))
			if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "redirect to") {
				t.Errorf("Read(redirect to %s) = %v, want a refused redirect", to, err)
			}
		})
	}
	if got := srv.conns.Load() - before; got > 4 {
		t.Errorf("%d connections for 4 refused redirects, want at most 4 (one per first hop)", got)
	}
}

func TestDialGuard(t *testing.T) {
	srv := newTestServer(t, testMux())
	before := srv.conns.Load()

	// The check on the URL is one layer; the dialer is the one that holds
	// under DNS rebinding, so test it without the URL check in front.
	r := &URLReader{}
	if _, err := r.dialer().DialContext(context.Background(), "tcp", srv.Listener.Addr().String()); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("dial %s = %v, want ErrNotAllowed", srv.Listener.Addr(), err)
	}
	for _, c := range []*http.Client{nil, srv.Client()} {
		rr := &URLReader{Client: c}
		_, err := (&http.Client{Transport: rr.transport()}).Get(srv.URL + "/catalog-info.yaml")
		if !errors.Is(err, ErrNotAllowed) {
			t.Errorf("GET through the guarded transport = %v, want ErrNotAllowed", err)
		}
	}
	time.Sleep(20 * time.Millisecond) // let the server notice any connection
	if got := srv.conns.Load() - before; got != 0 {
		t.Errorf("server accepted %d connections, want 0", got)
	}
	// With AllowPrivate the same dial works.
	c, err := (&URLReader{AllowPrivate: true}).dialer().DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial with AllowPrivate: %v", err)
	}
	c.Close()
}

func TestURLReaderRejectsURL(t *testing.T) {
	tests := []struct {
		name   string
		target string
		is     error
		msg    string
	}{
		{"ftp", "ftp://example.com/x.yaml", ErrNotAllowed, `scheme "ftp"`},
		{"file", "file:///etc/passwd", ErrNotAllowed, `scheme "file"`},
		{"relative", "catalog-info.yaml", ErrNotAllowed, `scheme ""`},
		{"javascript", "javascript:alert(1)", ErrNotAllowed, `scheme "javascript"`},
		{"userinfo", "https://user:hunter2@example.com/x.yaml", ErrNotAllowed, "credentials in URLs"},
		{"no host", "https:///x.yaml", nil, "URL has no host"},
		{"not in the allow list", "https://other.example.com/x", ErrNotAllowed, "backend.reading.allow"},
		{"invalid", "https://exa mple.com/%zz", nil, "invalid URL"},
	}
	r := &URLReader{Allow: []AllowRule{{Host: "example.com"}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Read(context.Background(), tt.target)
			if err == nil {
				t.Fatal("Read succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		rule AllowRule
		url  string
		want bool
	}{
		{AllowRule{Host: "example.com"}, "https://example.com/x", true},
		{AllowRule{Host: "example.com"}, "https://EXAMPLE.com/x", true},
		{AllowRule{Host: "Example.COM"}, "https://example.com/x", true},
		{AllowRule{Host: "example.com"}, "https://sub.example.com/x", false},
		{AllowRule{Host: "example.com"}, "https://example.com.evil.io/x", false},
		{AllowRule{Host: "*.example.com"}, "https://a.example.com/x", true},
		{AllowRule{Host: "*.example.com"}, "https://a.b.example.com/x", true},
		{AllowRule{Host: "*.example.com"}, "https://example.com/x", false},
		{AllowRule{Host: "*.example.com"}, "https://evilexample.com/x", false},
		// Ports: none in the rule means none (or the default) in the URL.
		{AllowRule{Host: "example.com"}, "https://example.com:443/x", true},
		{AllowRule{Host: "example.com"}, "http://example.com:80/x", true},
		{AllowRule{Host: "example.com"}, "https://example.com:8443/x", false},
		{AllowRule{Host: "example.com"}, "http://example.com:443/x", false},
		{AllowRule{Host: "example.com:8443"}, "https://example.com:8443/x", true},
		{AllowRule{Host: "example.com:8443"}, "https://example.com/x", false},
		{AllowRule{Host: "example.com:443"}, "https://example.com/x", true},
		{AllowRule{Host: "example.com:8000-9000"}, "http://example.com:8500/x", true},
		{AllowRule{Host: "example.com:8000-9000"}, "http://example.com:9001/x", false},
		{AllowRule{Host: "example.com:9000-8000"}, "http://example.com:8500/x", false},
		{AllowRule{Host: "example.com:x"}, "http://example.com/x", false},
		{AllowRule{Host: "*.example.com:8080"}, "http://a.example.com:8080/x", true},
		{AllowRule{Host: "[::1]:8080"}, "http://[::1]:8080/x", true},
		{AllowRule{Host: "::1"}, "http://[::1]/x", true},
		{AllowRule{Host: "127.0.0.1:8080"}, "http://127.0.0.1:8080/x", true},
		// Paths: prefixes, after dot segments are resolved.
		{AllowRule{Host: "example.com", Paths: []string{"/org/"}}, "https://example.com/org/repo/x.yaml", true},
		{AllowRule{Host: "example.com", Paths: []string{"/org/"}}, "https://example.com/org/", true},
		{AllowRule{Host: "example.com", Paths: []string{"/org/"}}, "https://example.com/org", false},
		{AllowRule{Host: "example.com", Paths: []string{"/org/"}}, "https://example.com/other/x", false},
		{AllowRule{Host: "example.com", Paths: []string{"/org/"}}, "https://example.com/org/../secret", false},
		{AllowRule{Host: "example.com", Paths: []string{"/org/"}}, "https://example.com/org/%2e%2e/secret", false},
		{AllowRule{Host: "example.com", Paths: []string{"/org/"}}, `https://example.com/org/..\secret`, false},
		{AllowRule{Host: "example.com", Paths: []string{"/org/"}}, "https://example.com/org/./a/../b", true},
		{AllowRule{Host: "example.com", Paths: []string{"/a/", "/b/"}}, "https://example.com/b/x", true},
		{AllowRule{Host: "other.com", Paths: []string{"/org/"}}, "https://example.com/org/x", false},
		{AllowRule{Host: ""}, "https://example.com/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.rule.Host+" "+tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := allowed([]AllowRule{tt.rule}, u); got != tt.want {
				t.Errorf("allowed(%+v, %s) = %v, want %v", tt.rule, tt.url, got, tt.want)
			}
		})
	}
}

func TestIsPublic(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"172.32.0.1", true},
		{"100.128.0.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true},
		{"2002:808:808::1", true},
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"255.255.255.255", false},
		{"224.0.0.1", false},
		{"240.0.0.1", false},
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"ff02::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false},
		{"64:ff9b::a9fe:a9fe", false},
		{"64:ff9b::7f00:1", false},
		{"2002:7f00:1::1", false},
		{"2002:a9fe:a9fe::", false},
		{"2001::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			if got := isPublic(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("isPublic(%s) = %v, want %v", tt.ip, got, tt.want)
			}
		})
	}
}
