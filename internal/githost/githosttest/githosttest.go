// Package githosttest helps tests put content on Atrium's git host.
package githosttest

import (
	"path"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/atrium-dev/atrium/internal/githost"
)

// Commit writes files (slash paths to contents) as one commit with
// message on owner/repo's default branch, creating the repository with
// branch as its default if needed, and returns the commit's hash.
func Commit(t testing.TB, h *githost.Host, owner, repo, branch, message string, files map[string]string) string {
	t.Helper()
	defer h.Lock(owner, repo)()
	r, err := h.Create(owner, repo, branch)
	if err != nil {
		t.Fatal(err)
	}
	fs := memfs.New()
	wr, err := git.Open(r.Storer, fs)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := wr.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := fs.MkdirAll(path.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := fs.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "Tess Ter", Email: "tess@example.com", When: time.Now()}
	hash, err := wt.Commit(message, &git.CommitOptions{Author: sig})
	if err != nil {
		t.Fatal(err)
	}
	return hash.String()
}
