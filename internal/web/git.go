package web

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
)

// The pages of Atrium's own git host (Options.Git): the repositories
// templates published, their folders and files. They are what the
// repository links of a template's output open.

// GitHost is Atrium's own git host (a *githost.Host).
type GitHost interface {
	Repositories() ([]githost.Repository, error)
	View(loc githost.Location, maxFile int64) (*githost.View, error)
	CloneURL(owner, repo string) string
}

// maxGitFileView bounds the part of a file the page shows.
const maxGitFileView = 512 << 10

// gitListView lists the host's repositories.
type gitListView struct {
	Layout
	Repos []gitRepoItem
}

type gitRepoItem struct {
	Name, Href, CloneURL string
	Updated              stamp
	HasUpdated           bool
}

// gitRepoView is one folder or file of a repository.
type gitRepoView struct {
	Layout
	Owner, Repo, Href, CloneURL string
	View                        *githost.View
	// Crumbs lead from the repository's root to the shown path.
	Crumbs []gitCrumb
	// Entries are a folder's items with their links.
	Entries []gitEntry
	// Code is a text file's content.
	Code codeView
	// When is the commit's time; Parent the folder above the shown path.
	When   stamp
	Parent string
	// Branches link to each branch's root.
	Branches []gitCrumb
}

type gitCrumb struct{ Name, Href string }

type gitEntry struct {
	githost.Entry
	Href string
}

// gitList serves GET /git.
func (h *handler) gitList(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Git == nil {
		return derrors.NotFound("This portal keeps no git repositories.")
	}
	repos, err := h.opts.Git.Repositories()
	if err != nil {
		return err
	}
	v := &gitListView{Layout: h.layout(r, "Repositories", sectionCreate, crumb{"Create", "/create"}, crumb{"Repositories", ""})}
	for _, rp := range repos {
		v.Repos = append(v.Repos, gitRepoItem{Name: rp.Owner + "/" + rp.Repo, Href: gitHref(rp.Owner, rp.Repo, "", "", false),
			CloneURL: rp.CloneURL, Updated: newStamp(rp.Updated), HasUpdated: !rp.Updated.IsZero()})
	}
	return h.views.render(w, http.StatusOK, "git", v)
}

// gitRepo serves GET /git/{owner}/{repo} and the /tree/{ref}/... and
// /blob/{ref}/... paths below it.
func (h *handler) gitRepo(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Git == nil {
		return derrors.NotFound("This portal keeps no git repositories.")
	}
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	if trimmed, ok := strings.CutSuffix(repo, ".git"); ok {
		// remoteUrl outputs end in .git; browsers get the repository's page.
		http.Redirect(w, r, gitHref(owner, trimmed, "", "", false), http.StatusMovedPermanently)
		return nil
	}
	loc := githost.Location{Owner: owner, Repo: repo}
	if rest := r.PathValue("rest"); rest != "" {
		kind, tail, _ := strings.Cut(rest, "/")
		ref, p, _ := strings.Cut(tail, "/")
		if (kind != "tree" && kind != "blob") || ref == "" {
			return derrors.NotFound("There is no page %s.", r.URL.Path)
		}
		loc.Ref, loc.Path = ref, strings.Trim(p, "/")
		if loc.Path != "" && path.Clean(loc.Path) != loc.Path {
			return derrors.NotFound("There is no page %s.", r.URL.Path)
		}
	}
	if err := githost.CheckName("owner", owner); err != nil {
		return derrors.NotFound("There is no repository %s/%s.", owner, repo)
	}
	gv, err := h.opts.Git.View(loc, maxGitFileView)
	if errors.Is(err, derrors.ErrNotFound) {
		// The host's messages are written to be wrapped ("no repository
		// a/b on host"); the page makes a sentence of them.
		msg, _ := derrors.PublicMessage(err)
		return derrors.NotFound("There is no such page here: %s.", msg)
	}
	if err != nil {
		return err
	}
	title := owner + "/" + repo
	if loc.Path != "" {
		title = loc.Path + " · " + title
	}
	v := &gitRepoView{
		Layout: h.layout(r, title, sectionCreate, crumb{"Create", "/create"}, crumb{"Repositories", "/git"},
			crumb{owner + "/" + repo, ""}),
		Owner: owner, Repo: repo, Href: gitHref(owner, repo, "", "", false),
		CloneURL: h.opts.Git.CloneURL(owner, repo), View: gv,
	}
	if gv.Empty {
		return h.views.render(w, http.StatusOK, "git_repo", v)
	}
	v.When = newStamp(gv.Commit.When)
	for _, b := range gv.Branches {
		v.Branches = append(v.Branches, gitCrumb{Name: b, Href: gitHref(owner, repo, b, "", true)})
	}
	v.Crumbs = []gitCrumb{{Name: repo, Href: gitHref(owner, repo, gv.Ref, "", true)}}
	if loc.Path != "" {
		parts := strings.Split(loc.Path, "/")
		for i, p := range parts {
			v.Crumbs = append(v.Crumbs, gitCrumb{Name: p, Href: gitHref(owner, repo, gv.Ref, strings.Join(parts[:i+1], "/"), true)})
		}
		v.Parent = gitHref(owner, repo, gv.Ref, path.Dir(loc.Path), true)
		if path.Dir(loc.Path) == "." {
			v.Parent = gitHref(owner, repo, gv.Ref, "", true)
		}
	}
	if gv.Dir {
		for _, e := range gv.Entries {
			v.Entries = append(v.Entries, gitEntry{Entry: e, Href: gitHref(owner, repo, gv.Ref, e.Path, e.Dir)})
		}
		return h.views.render(w, http.StatusOK, "git_repo", v)
	}
	if !gv.Binary {
		v.Code = highlight("file", langOf(loc.Path), string(gv.Content))
	}
	return h.views.render(w, http.StatusOK, "git_repo", v)
}

// gitHref is the page of a repository, or of a folder (dir) or file in it
// at ref.
func gitHref(owner, repo, ref, p string, dir bool) string {
	base := "/git/" + url.PathEscape(owner) + "/" + url.PathEscape(repo)
	if ref == "" {
		return base
	}
	kind := "/blob/"
	if dir {
		kind = "/tree/"
	}
	href := base + kind + url.PathEscape(ref)
	for _, seg := range strings.Split(p, "/") {
		if seg != "" {
			href += "/" + url.PathEscape(seg)
		}
	}
	return href
}

// langOf picks the highlighter for a file name.
func langOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml":
		return "yaml"
	case ".json":
		return "json"
	case ".graphql", ".gql":
		return "graphql"
	case ".proto":
		return "proto"
	}
	return ""
}
