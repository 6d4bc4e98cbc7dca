package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/githost/githosttest"
)

// gitSite serves the UI with a git host holding acme/app.
func gitSite(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := githost.New("localhost:7007", filepath.Join(t.TempDir(), "git"), "http://localhost:7007/git")
	if err != nil {
		t.Fatal(err)
	}
	githosttest.Commit(t, h, "acme", "app", "main", "Create <app>", map[string]string{
		"README.md":         "# <script>alert(1)</script>\n",
		"catalog-info.yaml": "kind: Component\n",
		"src/main.go":       "package main\n",
		"logo.bin":          "\x00\x01",
	})
	srv := httptest.NewServer(NewHandler(env(t).svc, slog.New(slog.DiscardHandler), Options{Git: h}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGitPages(t *testing.T) {
	srv := gitSite(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	tests := []struct {
		path    string
		code    int
		want    []string
		notWant []string
	}{
		{"/git", 200, []string{`href="/git/acme/app"`, "http://localhost:7007/git/acme/app.git"}, nil},
		{"/git/acme/app", 200, []string{"git clone http://localhost:7007/git/acme/app.git", "Create &lt;app&gt;",
			`href="/git/acme/app/tree/main/src"`, `href="/git/acme/app/blob/main/README.md"`, "catalog-info.yaml"}, nil},
		{"/git/acme/app/tree/main/src", 200, []string{`href="/git/acme/app/blob/main/src/main.go"`, `href="/git/acme/app/tree/main"`}, nil},
		{"/git/acme/app/blob/main/README.md", 200, []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, []string{"<script>alert"}},
		{"/git/acme/app/blob/main/logo.bin", 200, []string{"A binary file of 2 bytes."}, nil},
		{"/git/acme/app/tree/main/catalog-info.yaml", 200, []string{"kind"}, nil},
		{"/git/acme/app/blob/main/nope", 404, []string{"There is no such page here: acme/app has no nope at main."}, nil},
		{"/git/acme/gone", 404, []string{"There is no such page here: no repository acme/gone on localhost:7007."}, nil},
		{"/git/acme/app/blob/dev/README.md", 404, nil, nil},
		{"/git/acme/nope", 404, nil, nil},
		{"/git/acme/app/raw/main/README.md", 404, nil, nil},
		{"/git/acme/app/blob/main/src/%2E%2E/%2E%2E/x", 404, nil, nil},
		{"/git/.hidden/app", 404, nil, nil},
	}
	for _, tt := range tests {
		code, body, _ := get(tt.path)
		if code != tt.code {
			t.Errorf("GET %s = %d, want %d", tt.path, code, tt.code)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tt.path, w)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(body, w) {
				t.Errorf("GET %s has %q", tt.path, w)
			}
		}
	}
	if code, _, h := get("/git/acme/app.git"); code != http.StatusMovedPermanently || h.Get("Location") != "/git/acme/app" {
		t.Errorf("GET the clone URL = %d to %q, want a redirect to the repository's page", code, h.Get("Location"))
	}
}

func TestGitPagesWithoutHost(t *testing.T) {
	srv := httptest.NewServer(NewHandler(env(t).svc, slog.New(slog.DiscardHandler), Options{}))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/git")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /git without a host = %d, want 404", resp.StatusCode)
	}
}
