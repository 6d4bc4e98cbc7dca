package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/store"
)

// testEnv is the example catalog served by the UI: one database and one
// server, shared by the handler and browser tests of this package (built
// once; ingesting costs more than most tests).
type testEnv struct {
	svc *catalog.Service
	srv *httptest.Server
	// dir is a temporary folder for files the tests write.
	dir string
}

var (
	envOnce sync.Once
	envVal  *testEnv
	envErr  error
	// cleanups run after every test of the package (TestMain).
	cleanups []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

// xssDescription is the description of an entity in the test catalog; the
// browser test checks that it is shown as text and never runs.
const xssDescription = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> is shown as text`

// xssCatalog is a catalog file with that entity, loaded beside the examples.
const xssCatalog = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: script-in-description
  title: Script in description
  description: '` + xssDescription + `'
  links:
    - url: javascript:alert(1)
      title: A javascript link
spec:
  type: service
  lifecycle: experimental
  owner: group:default/shipping-team
`

// env returns the shared environment, building it on first use.
func env(t testing.TB) *testEnv {
	t.Helper()
	envOnce.Do(func() { envVal, envErr = newTestEnv() })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return envVal
}

func newTestEnv() (*testEnv, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "atrium-web-test-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	xss := filepath.Join(dir, "xss.yaml")
	if err := os.WriteFile(xss, []byte(xssCatalog), 0o644); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, filepath.Join(dir, "db", "atrium.sqlite"), store.Options{})
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { st.Close() })
	svc := catalog.New(st, catalog.Options{
		Readers: map[string]catalog.Reader{"file": &source.FileReader{}},
		Rules: []catalog.Rule{{Allow: catalog.Kinds("Component", "API", "System", "Domain", "Resource",
			"Location", "User", "Group", "Template")}},
		Locations: []catalog.ConfigLocation{
			{Type: "file", Target: filepath.Join(examplesDir(), "all.yaml")},
			{Type: "file", Target: xss},
			{Type: "file", Target: filepath.Join(testdataDir(), "create", "templates.yaml")},
		},
		// The register test pastes a file path.
		AllowedLocationTypes: []string{"url", "file"},
		Logger:               slog.New(slog.DiscardHandler),
	})
	if err := svc.SyncConfigLocations(ctx); err != nil {
		return nil, err
	}
	if err := svc.Sync(ctx); err != nil {
		return nil, err
	}
	srv := httptest.NewServer(NewHandler(svc, slog.New(slog.DiscardHandler), Options{Title: "Atrium"}))
	cleanups = append(cleanups, srv.Close)
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	return &testEnv{svc: svc, srv: srv, dir: work}, nil
}

// testdataDir is this package's testdata folder.
func testdataDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

// examplesDir is the repository's example catalog.
func examplesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples")
}

// client is an HTTP client with a cookie jar that does not follow redirects.
func (e *testEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches path and returns the status and body.
func (e *testEnv) get(t testing.TB, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// mustGet fetches path and fails unless it answers 200.
func (e *testEnv) mustGet(t testing.TB, path string) string {
	t.Helper()
	code, body := e.get(t, e.client(), path)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d\n%s", path, code, excerpt(body))
	}
	return body
}

// excerpt shortens a page for a failure message.
func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}

// writeCatalogFile writes a catalog file in the work folder.
func (e *testEnv) writeCatalogFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// componentYAML is a minimal valid component.
func componentYAML(name, description string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  description: %s
spec:
  type: service
  lifecycle: experimental
  owner: group:default/devex-team
`, name, description)
}
