// Package gittest owns a real git server for tests: git's own smart HTTP
// backend (git http-backend) behind net/http/cgi, serving bare
// repositories from a temporary directory. Tests that publish to git push
// to it with any client and check the result with the git command line.
// Everything here skips the test when git is not installed.
package gittest

import (
	"bytes"
	"crypto/subtle"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Server serves the bare repositories under one directory over git's smart
// HTTP protocol. Make one with NewServer; it stops when the test ends.
type Server struct {
	// URL is the base URL, such as "http://127.0.0.1:43210"; a repository
	// named "team/app.git" is at URL + "/team/app.git".
	URL string

	root string   // directory holding the bare repositories
	env  []string // environment for every git process, isolated from the user's config

	mu       sync.Mutex
	user     string // required basic-auth user name, "" for none
	password string
}

// NewServer starts a git HTTP server for the test. It skips the test if
// git or git-http-backend cannot be found.
func NewServer(t testing.TB) *Server {
	t.Helper()
	git := lookGit(t)
	out, err := exec.Command(git, "--exec-path").Output()
	if err != nil {
		t.Skipf("gittest: git --exec-path failed (%v); skipping test that needs a git server", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("gittest: git-http-backend not installed (%v); skipping test that needs a git server", err)
	}
	s := &Server{root: t.TempDir(), env: isolatedEnv(t)}
	cgiHandler := &cgi.Handler{
		Path: backend,
		Env: append([]string{
			"GIT_PROJECT_ROOT=" + s.root,
			"GIT_HTTP_EXPORT_ALL=1",
		}, s.env...),
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="gittest"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		cgiHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// RequireBasicAuth makes the server refuse every request that does not
// carry HTTP basic auth with user and password.
func (s *Server) RequireBasicAuth(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.password = user, password
}

func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	wantUser, wantPass := s.user, s.password
	s.mu.Unlock()
	if wantUser == "" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	return ok &&
		subtle.ConstantTimeCompare([]byte(user), []byte(wantUser)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(wantPass)) == 1
}

// NewBareRepo creates an empty bare repository name (such as
// "team/app.git") whose default branch is main and that accepts pushes
// over HTTP, and returns its URL.
func (s *Server) NewBareRepo(t testing.TB, name string) string {
	t.Helper()
	dir := s.RepoDir(t, name)
	s.Git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", dir)
	s.Git(t, dir, "config", "http.receivepack", "true")
	return s.URL + "/" + filepath.ToSlash(name)
}

// RepoDir returns the directory on disk of repository name, for tests that
// push to it through a file:// URL or inspect it directly.
func (s *Server) RepoDir(t testing.TB, name string) string {
	t.Helper()
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		t.Fatalf("gittest: repository name %q must be a relative path inside the server", name)
	}
	return filepath.Join(s.root, filepath.FromSlash(name))
}

// Clone clones repository name with the git command into a new temporary
// directory and returns that directory. It reads the repository from disk,
// so it works whatever auth the server requires.
func (s *Server) Clone(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	s.Git(t, "", "clone", "--quiet", s.RepoDir(t, name), dir)
	return dir
}

// Git runs the git command in dir ("" for the current directory) with the
// server's isolated environment and returns its trimmed standard output. It
// fails the test if git fails.
func (s *Server) Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(lookGit(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), s.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gittest: git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func lookGit(t testing.TB) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skipf("gittest: git is not installed (%v); skipping test that needs a git server", err)
	}
	return git
}

// isolatedEnv keeps the user's and the system's git configuration (hooks,
// signing, credential helpers, templates) out of the tests.
func isolatedEnv(t testing.TB) []string {
	home := t.TempDir()
	return []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, ".gitconfig"),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=gittest",
		"GIT_AUTHOR_EMAIL=gittest@localhost",
		"GIT_COMMITTER_NAME=gittest",
		"GIT_COMMITTER_EMAIL=gittest@localhost",
	}
}
