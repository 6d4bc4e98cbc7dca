// Package githost is the git host Atrium keeps itself: bare repositories
// in a local directory, which software templates publish to (publish:git
// with a RepoUrlPicker value naming this host), the catalog reads
// catalog-info.yaml files from, the web UI browses, and git clients clone
// over smart HTTP.
//
// It exists so that a portal started with no configuration can run its
// example templates end to end: create a repository, register it, open
// it. Production installations publish to their real git hosts; this one
// is meant for trying Atrium, demos and tests, on one node (or replicas
// sharing the directory on one volume: pushes are serialised per
// repository within a process only).
//
// Layout: <dir>/<owner>/<repo>.git, each a bare repository. Repositories
// are addressed by URL under the host's web base, e.g.
// http://localhost:7007/git/acme/parcel-api (browse),
// .../parcel-api.git (clone), .../parcel-api/tree/main/docs (a folder) and
// .../parcel-api/blob/main/catalog-info.yaml (a file).
package githost

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// Host is a directory of bare repositories served under one URL.
type Host struct {
	name string
	dir  string
	web  *url.URL

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// New returns the host for dir (created on first publish), named name
// in RepoUrlPicker values ("localhost:7007") and browsed under webBase
// ("http://localhost:7007/git").
func New(name, dir, webBase string) (*Host, error) {
	if name == "" {
		return nil, errors.New("githost: the host needs a name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("githost: directory %s: %w", dir, err)
	}
	u, err := url.Parse(strings.TrimSuffix(webBase, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("githost: web base %q is not an http(s) URL", webBase)
	}
	return &Host{name: strings.ToLower(name), dir: abs, web: u, locks: map[string]*sync.Mutex{}}, nil
}

// Name is the host name RepoUrlPicker values use for this host.
func (h *Host) Name() string { return h.name }

// Dir is the directory holding the repositories.
func (h *Host) Dir() string { return h.dir }

// BaseURL is the URL the repositories are browsed under, without a
// trailing slash.
func (h *Host) BaseURL() string { return h.web.String() }

// URL is the web address of a repository.
func (h *Host) URL(owner, repo string) string {
	return h.BaseURL() + "/" + url.PathEscape(owner) + "/" + url.PathEscape(repo)
}

// CloneURL is the address git clones a repository from.
func (h *Host) CloneURL(owner, repo string) string { return h.URL(owner, repo) + ".git" }

// namePart is what an owner or repository name may be: git hosts' usual
// set, never "." or "..", never hidden.
var namePart = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$`)

// CheckName validates an owner or repository name; what says which.
func CheckName(what, name string) error {
	if !namePart.MatchString(name) || strings.HasSuffix(strings.ToLower(name), ".git") {
		return derrors.Invalid("%s %q must be 1 to 100 letters, digits, '.', '_' or '-', not starting with '.' or '-' and not ending in .git", what, name)
	}
	return nil
}

// path returns the repository's directory after checking the names.
func (h *Host) path(owner, repo string) (string, error) {
	if err := CheckName("owner", owner); err != nil {
		return "", err
	}
	if err := CheckName("repository", repo); err != nil {
		return "", err
	}
	return filepath.Join(h.dir, owner, repo+".git"), nil
}

// Open opens an existing repository; a missing one is derrors.ErrNotFound.
func (h *Host) Open(owner, repo string) (*git.Repository, error) {
	p, err := h.path(owner, repo)
	if err != nil {
		return nil, err
	}
	r, err := git.PlainOpen(p)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, derrors.NotFound("no repository %s/%s on %s", owner, repo, h.name)
	}
	if err != nil {
		return nil, fmt.Errorf("open repository %s/%s: %w", owner, repo, err)
	}
	return r, nil
}

// Lock serialises writes to one repository within this process; call the
// function it returns to unlock.
func (h *Host) Lock(owner, repo string) func() {
	key := strings.ToLower(owner + "/" + repo)
	h.mu.Lock()
	m, ok := h.locks[key]
	if !ok {
		m = &sync.Mutex{}
		h.locks[key] = m
	}
	h.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Create opens a repository, creating it as a bare repository whose HEAD
// names branch if it does not exist. Hold Lock around it and the writes
// that follow.
func (h *Host) Create(owner, repo, branch string) (*git.Repository, error) {
	p, err := h.path(owner, repo)
	if err != nil {
		return nil, err
	}
	r, err := git.PlainOpen(p)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("open repository %s/%s: %w", owner, repo, err)
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		return nil, fmt.Errorf("create repository %s/%s: %w", owner, repo, err)
	}
	r, err = git.PlainInitWithOptions(p, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		return nil, fmt.Errorf("create repository %s/%s: %w", owner, repo, err)
	}
	return r, nil
}

// Location is what a URL on this host points at.
type Location struct {
	Owner, Repo string
	// Ref is the branch, tag or commit ("" for the default branch) and
	// Path the slash-separated path in its tree ("" for the root).
	Ref, Path string
}

// Parse reads a URL on this host: the repository's web or clone URL,
// optionally followed by /tree/<ref>/<path> or /blob/<ref>/<path> (the
// ref is one path segment: branches with "/" are not addressable). ok is
// false for URLs elsewhere; err is set for malformed ones here.
func (h *Host) Parse(raw string) (loc Location, ok bool, err error) {
	u, perr := url.Parse(raw)
	if perr != nil || !strings.EqualFold(u.Scheme, h.web.Scheme) || !strings.EqualFold(u.Host, h.web.Host) {
		return Location{}, false, nil
	}
	prefix := strings.TrimSuffix(h.web.Path, "/") + "/"
	if !strings.HasPrefix(u.Path, prefix) {
		return Location{}, false, nil
	}
	rest := strings.Split(strings.TrimPrefix(u.Path, prefix), "/")
	if len(rest) < 2 {
		return Location{}, true, derrors.Invalid("%s names no repository (want %s/<owner>/<repo>)", raw, h.BaseURL())
	}
	loc = Location{Owner: rest[0], Repo: strings.TrimSuffix(rest[1], ".git")}
	if _, err := h.path(loc.Owner, loc.Repo); err != nil {
		return Location{}, true, err
	}
	rest = rest[2:]
	if len(rest) > 0 && rest[len(rest)-1] == "" {
		rest = rest[:len(rest)-1] // a trailing slash
	}
	if len(rest) == 0 {
		return loc, true, nil
	}
	if (rest[0] != "tree" && rest[0] != "blob") || len(rest) < 2 || rest[1] == "" {
		return Location{}, true, derrors.Invalid("%s: want .../<repo>/tree/<ref>/<path> or .../blob/<ref>/<path>", raw)
	}
	loc.Ref = rest[1]
	for _, seg := range rest[2:] {
		if seg == "" || seg == "." || seg == ".." {
			return Location{}, true, derrors.Invalid("%s: the path must not have empty, . or .. segments", raw)
		}
	}
	loc.Path = strings.Join(rest[2:], "/")
	return loc, true, nil
}
