package githost_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/githost/githosttest"
)

func newHost(t *testing.T) *githost.Host {
	t.Helper()
	h, err := githost.New("LocalHost:7007", filepath.Join(t.TempDir(), "git"), "http://localhost:7007/git/")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNewRefusesBadInput(t *testing.T) {
	for _, tt := range []struct{ name, base string }{{"", "http://x/git"}, {"x", "ftp://x/git"}, {"x", "/git"}, {"x", "http:///git"}} {
		if _, err := githost.New(tt.name, t.TempDir(), tt.base); err == nil {
			t.Errorf("githost.New(%q, %q) succeeded", tt.name, tt.base)
		}
	}
}

func TestParse(t *testing.T) {
	h := newHost(t)
	if h.Name() != "localhost:7007" || h.BaseURL() != "http://localhost:7007/git" {
		t.Fatalf("name %q, base %q", h.Name(), h.BaseURL())
	}
	tests := []struct {
		url     string
		want    githost.Location
		ok, bad bool
	}{
		{"http://localhost:7007/git/acme/app", githost.Location{Owner: "acme", Repo: "app"}, true, false},
		{"http://LOCALHOST:7007/git/acme/app.git", githost.Location{Owner: "acme", Repo: "app"}, true, false},
		{"http://localhost:7007/git/acme/app/", githost.Location{Owner: "acme", Repo: "app"}, true, false},
		{"http://localhost:7007/git/acme/app/tree/main", githost.Location{Owner: "acme", Repo: "app", Ref: "main"}, true, false},
		{"http://localhost:7007/git/acme/app/tree/main/", githost.Location{Owner: "acme", Repo: "app", Ref: "main"}, true, false},
		{"http://localhost:7007/git/acme/app/blob/main/docs/index.md", githost.Location{Owner: "acme", Repo: "app", Ref: "main", Path: "docs/index.md"}, true, false},
		{"http://localhost:7007/git/acme/app/tree/main/catalog-info.yaml", githost.Location{Owner: "acme", Repo: "app", Ref: "main", Path: "catalog-info.yaml"}, true, false},
		{"https://localhost:7007/git/acme/app", githost.Location{}, false, false},
		{"http://localhost:7008/git/acme/app", githost.Location{}, false, false},
		{"http://localhost:7007/other/acme/app", githost.Location{}, false, false},
		{"http://localhost:7007/git/acme", githost.Location{}, true, true},
		{"http://localhost:7007/git/../etc/passwd", githost.Location{}, true, true},
		{"http://localhost:7007/git/acme/.hidden", githost.Location{}, true, true},
		{"http://localhost:7007/git/acme/app/tree/main/../../x", githost.Location{}, true, true},
		{"http://localhost:7007/git/acme/app/tree/main/a//b", githost.Location{}, true, true},
		{"http://localhost:7007/git/acme/app/raw/main/x", githost.Location{}, true, true},
		{"http://localhost:7007/git/acme/app/tree", githost.Location{}, true, true},
	}
	for _, tt := range tests {
		got, ok, err := h.Parse(tt.url)
		if ok != tt.ok || (err != nil) != tt.bad {
			t.Errorf("Parse(%s): ok %v err %v, want ok %v bad %v", tt.url, ok, err, tt.ok, tt.bad)
			continue
		}
		if err != nil && !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("Parse(%s): err %v is not invalid input", tt.url, err)
		}
		if got != tt.want {
			t.Errorf("Parse(%s) = %+v, want %+v", tt.url, got, tt.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"app", "App_2", "a.b-c", "_x"} {
		if err := githost.CheckName("repository", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", ".git", "-x", "a/b", "a\\b", "x.git", "X.GIT", "a b", strings.Repeat("a", 101), "é"} {
		if err := githost.CheckName("repository", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestViewAndReadFile(t *testing.T) {
	h := newHost(t)
	hash := githosttest.Commit(t, h, "acme", "app", "main", "Create app\n\nbody", map[string]string{
		"catalog-info.yaml": "kind: Component\n",
		"docs/index.md":     "# Docs\n",
		"bin.dat":           "a\x00b",
		"big.txt":           strings.Repeat("x", 100),
	})
	v, err := h.View(githost.Location{Owner: "acme", Repo: "app"}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ref != "main" || v.Commit.Hash != hash || v.Commit.Subject != "Create app" || v.Commit.Author != "Tess Ter" || !v.Dir {
		t.Errorf("root view = %+v", v)
	}
	var names []string
	for _, e := range v.Entries {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"docs", "big.txt", "bin.dat", "catalog-info.yaml"}, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"main"}, v.Branches); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}

	f, err := h.View(githost.Location{Owner: "acme", Repo: "app", Ref: "main", Path: "bin.dat"}, 1<<20)
	if err != nil || f.Dir || !f.Binary || f.Size != 3 {
		t.Errorf("bin.dat view = %+v, %v", f, err)
	}
	f, err = h.View(githost.Location{Owner: "acme", Repo: "app", Ref: hash[:10], Path: "big.txt"}, 10)
	if err != nil || !f.Truncated || len(f.Content) != 10 || f.Size != 100 {
		t.Errorf("big.txt view truncated to 10 = %+v, %v", f, err)
	}
	d, err := h.View(githost.Location{Owner: "acme", Repo: "app", Ref: "main", Path: "docs"}, 1<<20)
	if err != nil || !d.Dir || len(d.Entries) != 1 || d.Entries[0].Path != "docs/index.md" {
		t.Errorf("docs view = %+v, %v", d, err)
	}

	data, etag, err := h.ReadFile(githost.Location{Owner: "acme", Repo: "app", Ref: "main", Path: "catalog-info.yaml"}, 1024)
	if err != nil || string(data) != "kind: Component\n" || len(etag) != 40 {
		t.Errorf("ReadFile = %q, %q, %v", data, etag, err)
	}
	for name, loc := range map[string]githost.Location{
		"missing repo": {Owner: "acme", Repo: "nope"},
		"missing ref":  {Owner: "acme", Repo: "app", Ref: "dev", Path: "catalog-info.yaml"},
		"missing path": {Owner: "acme", Repo: "app", Ref: "main", Path: "nope.yaml"},
	} {
		if _, _, err := h.ReadFile(loc, 1024); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("%s: err = %v, want not found", name, err)
		}
	}
	if _, _, err := h.ReadFile(githost.Location{Owner: "acme", Repo: "app", Ref: "main", Path: "big.txt"}, 50); !errors.Is(err, derrors.ErrInvalid) {
		t.Errorf("over the limit: err = %v", err)
	}
	if _, _, err := h.ReadFile(githost.Location{Owner: "acme", Repo: "app", Ref: "main", Path: "docs"}, 50); !errors.Is(err, derrors.ErrInvalid) {
		t.Errorf("a folder: err = %v", err)
	}

	repos, err := h.Repositories()
	if err != nil || len(repos) != 1 || repos[0].URL != "http://localhost:7007/git/acme/app" || repos[0].CloneURL != "http://localhost:7007/git/acme/app.git" {
		t.Errorf("Repositories = %+v, %v", repos, err)
	}
}

func TestEmptyRepository(t *testing.T) {
	h := newHost(t)
	unlock := h.Lock("acme", "empty")
	if _, err := h.Create("acme", "empty", "main"); err != nil {
		t.Fatal(err)
	}
	unlock()
	v, err := h.View(githost.Location{Owner: "acme", Repo: "empty"}, 10)
	if err != nil || !v.Empty {
		t.Errorf("View = %+v, %v; want an empty repository", v, err)
	}
	if _, _, err := h.ReadFile(githost.Location{Owner: "acme", Repo: "empty", Path: "x"}, 10); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("ReadFile in an empty repository: %v", err)
	}
}

// TestCloneOverHTTP clones with the real git client through CloneHandler.
func TestCloneOverHTTP(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	h, err := githost.New("localhost", dir, srv.URL+"/git")
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h.CloneHandler()
	hash := githosttest.Commit(t, h, "acme", "app", "main", "Create app\n\nbody", map[string]string{"README.md": "# app\n", "src/main.go": "package main\n"})

	out := filepath.Join(t.TempDir(), "clone")
	cmd := exec.Command("git", "clone", h.CloneURL("acme", "app"), out)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, b)
	}
	got, err := os.ReadFile(filepath.Join(out, "src", "main.go"))
	if err != nil || string(got) != "package main\n" {
		t.Errorf("cloned src/main.go = %q, %v", got, err)
	}
	head, err := exec.Command("git", "-C", out, "rev-parse", "HEAD").Output()
	if err != nil || strings.TrimSpace(string(head)) != hash {
		t.Errorf("cloned HEAD = %s, want %s (%v)", head, hash, err)
	}

	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/git/acme/nope.git/info/refs?service=git-upload-pack", http.StatusNotFound},
		{"GET", "/git/acme/app.git/info/refs?service=git-receive-pack", http.StatusForbidden},
		{"POST", "/git/acme/app.git/git-receive-pack", http.StatusForbidden},
		{"GET", "/git/acme/app.git/info/refs", http.StatusForbidden},
		{"GET", "/git/acme/app.git/HEAD", http.StatusMethodNotAllowed},
		{"GET", "/git/../app.git/info/refs?service=git-upload-pack", http.StatusNotFound},
		{"POST", "/git/acme/app.git/git-upload-pack", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("garbage"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
}
