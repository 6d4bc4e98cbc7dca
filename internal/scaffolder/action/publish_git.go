package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

func init() {
	Register(Action{
		ID:          "publish:git",
		Description: "Initializes a git repository with the content of the workspace and pushes it to any git remote",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["repoUrl"],
  "properties": {
    "repoUrl": {
      "title": "Repository Location",
      "description": "The remote: https://host/owner/repo.git, ssh://git@host/owner/repo.git, file:///path/to/bare.git, http://... (loopback hosts, or with allowInsecure), or the RepoUrlPicker form host?owner=o&repo=r, which means https://host/o/r.git. When the host is Atrium's own git host (scaffolder.localGit), the repository is created there. Credentials in the URL are refused; use token.",
      "type": "string"
    },
    "defaultBranch": {"title": "Default Branch", "description": "The branch to push, default main", "type": "string"},
    "sourcePath": {"title": "Source Path", "description": "Path within the workspace to publish, default the whole workspace", "type": "string"},
    "gitCommitMessage": {"title": "Git Commit Message", "description": "Default Initial commit", "type": "string"},
    "gitAuthorName": {"title": "Git Author Name", "description": "Default Atrium", "type": "string"},
    "gitAuthorEmail": {"title": "Git Author Email", "description": "Default atrium@localhost", "type": "string"},
    "token": {"title": "Authentication Token", "description": "Token for http(s) remotes, sent as the password of basic auth (or as a bearer token, see tokenAuth); never logged", "type": "string"},
    "tokenAuth": {"title": "Token Auth Scheme", "description": "How token is sent: basic (user x-access-token, default) or bearer", "type": "string", "enum": ["basic", "bearer"]},
    "allowInsecure": {"title": "Allow Insecure", "description": "Allow a plain http:// remote on a host that is not loopback", "type": "boolean"}
  }
}`),
		Output: json.RawMessage(`{
  "type": "object",
  "properties": {
    "remoteUrl": {"title": "The remote the content was pushed to, without credentials", "type": "string"},
    "repoContentsUrl": {"title": "A URL to the pushed branch's contents (https remotes) or the remote itself", "type": "string"},
    "commitHash": {"title": "The hash of the pushed commit", "type": "string"}
  }
}`),
		Examples: []Example{{
			Description: "Publish the workspace to a repository picked with RepoUrlPicker.",
			Example: `steps:
  - id: publish
    action: publish:git
    name: Publish
    input:
      repoUrl: ${{ parameters.repoUrl }}
      defaultBranch: main
      gitCommitMessage: Initial commit
      token: ${{ secrets.gitToken }}
`,
		}, {
			Description: "Publish a subdirectory of the workspace over SSH.",
			Example: `steps:
  - id: publish
    action: publish:git
    name: Publish service
    input:
      repoUrl: ssh://git@git.example.com/team/service.git
      sourcePath: service
`,
		}},
		Run:      runPublishGit,
		External: true,
	})
}

// gitRemote is a parsed, checked repoUrl.
type gitRemote struct {
	// URL is what go-git pushes to; it carries no credentials.
	URL string
	// Web is the browsable base (https://host/owner/repo) for http(s)
	// remotes, "" for others.
	Web string
	// HTTP is set for http and https remotes, where a token applies.
	HTTP bool
}

// scpLike matches git's "user@host:path" shorthand, which url.Parse
// cannot read and which is easily confused with the RepoUrlPicker form.
var scpLike = regexp.MustCompile(`^[^/?@]+@[^/?:]+:`)

// parseRepoURL reads repoUrl in one of the forms the input schema lists.
// Credentials in the URL are refused so that they cannot end up in logs,
// outputs or the task's stored input; the token input carries them.
func parseRepoURL(raw string, allowInsecure bool) (gitRemote, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return gitRemote{}, derrors.Invalid("repoUrl: required")
	}
	if !strings.Contains(raw, "://") {
		return parsePickerURL(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, which may hold a password.
		return gitRemote{}, derrors.Invalid("repoUrl: not a valid URL")
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword || u.Scheme != "ssh" {
			return gitRemote{}, derrors.Invalid("repoUrl: credentials in the URL are not allowed; pass them in the token input")
		}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return gitRemote{}, derrors.Invalid("repoUrl: a %s URL must not have a query or fragment", u.Scheme)
	}
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" {
			return gitRemote{}, derrors.Invalid("repoUrl: %s URL has no host", u.Scheme)
		}
		if u.Scheme == "http" && !allowInsecure && !isLoopback(u.Hostname()) {
			return gitRemote{}, derrors.Invalid("repoUrl: plain http to %s is refused; use https, or set allowInsecure", u.Hostname())
		}
		if strings.Trim(u.Path, "/") == "" {
			return gitRemote{}, derrors.Invalid("repoUrl: %s URL has no repository path", u.Scheme)
		}
		web := strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), ".git")
		return gitRemote{URL: u.String(), Web: web, HTTP: true}, nil
	case "ssh":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return gitRemote{}, derrors.Invalid("repoUrl: ssh URL needs a host and a repository path")
		}
		return gitRemote{URL: u.String()}, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return gitRemote{}, derrors.Invalid("repoUrl: file URL must be file:///absolute/path, not on host %q", u.Host)
		}
		if !path.IsAbs(u.Path) || path.Clean(u.Path) == "/" {
			return gitRemote{}, derrors.Invalid("repoUrl: file URL needs an absolute repository path")
		}
		return gitRemote{URL: "file://" + path.Clean(u.Path)}, nil
	}
	return gitRemote{}, derrors.Invalid("repoUrl: unsupported scheme %q; use https, ssh, file or a RepoUrlPicker value", u.Scheme)
}

// parsePickerURL reads Backstage's RepoUrlPicker value, host?owner=o&repo=r.
func parsePickerURL(raw string) (gitRemote, error) {
	if scpLike.MatchString(raw) {
		return gitRemote{}, derrors.Invalid("repoUrl: the user@host:path form is not supported; use ssh://user@host/path")
	}
	if strings.Contains(raw, "@") {
		return gitRemote{}, derrors.Invalid("repoUrl: credentials in the URL are not allowed; pass them in the token input")
	}
	u, err := url.Parse("https://" + raw)
	if err != nil || u.Host == "" || u.User != nil {
		return gitRemote{}, derrors.Invalid("repoUrl: %q is neither a URL nor of the form host?owner=o&repo=r", raw)
	}
	if strings.Trim(u.Path, "/") != "" {
		return gitRemote{}, derrors.Invalid("repoUrl: %q has a path; write host?owner=o&repo=r or a full URL", raw)
	}
	q := u.Query()
	owner, repo := q.Get("owner"), q.Get("repo")
	if owner == "" || repo == "" {
		return gitRemote{}, derrors.Invalid("repoUrl: %q must name both owner and repo (host?owner=o&repo=r)", raw)
	}
	for _, part := range append(strings.Split(owner, "/"), repo) {
		if part == "" || part == "." || part == ".." {
			return gitRemote{}, derrors.Invalid("repoUrl: owner %q and repo %q must be plain names", owner, repo)
		}
	}
	if strings.Contains(repo, "/") {
		return gitRemote{}, derrors.Invalid("repoUrl: repo %q must not contain /", repo)
	}
	web := (&url.URL{Scheme: "https", Host: u.Host, Path: "/" + owner + "/" + repo}).String()
	return gitRemote{URL: web + ".git", Web: web, HTTP: true}, nil
}

// localRepo returns the repository on Atrium's own git host that raw
// names, as a RepoUrlPicker value (host?owner=o&repo=r with the host's
// name) or as the repository's URL; nil if raw names another host.
func localRepo(h *githost.Host, raw string) (*githost.Location, error) {
	if h == nil {
		return nil, nil
	}
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		u, err := url.Parse("https://" + raw)
		if err != nil || !strings.EqualFold(u.Host, h.Name()) {
			return nil, nil
		}
		loc := &githost.Location{Owner: u.Query().Get("owner"), Repo: u.Query().Get("repo")}
		if err := githost.CheckName("repoUrl: owner", loc.Owner); err != nil {
			return nil, err
		}
		if err := githost.CheckName("repoUrl: repository", loc.Repo); err != nil {
			return nil, err
		}
		return loc, nil
	}
	loc, ok, err := h.Parse(raw)
	if !ok {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("repoUrl: %w", err)
	}
	if loc.Ref != "" || loc.Path != "" {
		return nil, derrors.Invalid("repoUrl: %s names a folder or file; give the repository's URL", raw)
	}
	return &loc, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validBranch is a conservative subset of git's ref name rules.
var validBranch = regexp.MustCompile(`^[A-Za-z0-9._\-]+(/[A-Za-z0-9._\-]+)*$`)

func runPublishGit(ctx context.Context, rc *RunContext) error {
	const id = "publish:git"
	in := rc.Input
	rawURL, err := requireString(in, "repoUrl")
	if err != nil {
		return errorf(id, "%w", err)
	}
	allowInsecure, err := inputBool(in, "allowInsecure", false)
	if err != nil {
		return errorf(id, "%w", err)
	}
	remote, err := parseRepoURL(rawURL, allowInsecure)
	if err != nil {
		return errorf(id, "%w", err)
	}
	branch, err1 := inputString(in, "defaultBranch", "main")
	sourcePath, err2 := inputString(in, "sourcePath", "")
	message, err3 := inputString(in, "gitCommitMessage", "Initial commit")
	authorName, err4 := inputString(in, "gitAuthorName", "Atrium")
	authorEmail, err5 := inputString(in, "gitAuthorEmail", "atrium@localhost")
	token, err6 := inputString(in, "token", "")
	tokenAuth, err7 := inputString(in, "tokenAuth", "basic")
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		return errorf(id, "%w", err)
	}
	if !validBranch.MatchString(branch) || strings.Contains(branch, "..") || strings.HasSuffix(branch, ".lock") {
		return errorf(id, "%w", derrors.Invalid("defaultBranch: %q is not a valid branch name", branch))
	}
	if token != "" && !remote.HTTP {
		return errorf(id, "%w", derrors.Invalid("token: only http(s) remotes take a token"))
	}
	src, err := workspace.Clean(sourcePath)
	if err != nil {
		return errorf(id, "sourcePath: %w", err)
	}
	// Resolve refuses a path through a symlink that leaves the workspace.
	if _, err := rc.Workspace.Resolve(src); err != nil {
		return errorf(id, "sourcePath: %w", err)
	}
	if fi, err := rc.Workspace.Stat(src); err != nil || !fi.IsDir() {
		return errorf(id, "%w", derrors.Invalid("sourcePath: %q is not a directory in the workspace", sourcePath))
	}

	if strings.HasPrefix(remote.URL, "file://") && !rc.AllowFileRemotes {
		return errorf(id, "%w", derrors.Forbidden("repoUrl: file:// remotes are turned off (scaffolder.allowFileRemotes)"))
	}
	local, err := localRepo(rc.Git, rawURL)
	if err != nil {
		return errorf(id, "%w", err)
	}
	ref := plumbing.NewBranchReferenceName(branch)
	var repo *git.Repository
	if local != nil && !rc.IsDryRun {
		// Atrium's own host: the objects go straight into the bare
		// repository, and the branch is set last, so a failure leaves
		// only unreferenced objects.
		unlock := rc.Git.Lock(local.Owner, local.Repo)
		defer unlock()
		if repo, err = rc.Git.Create(local.Owner, local.Repo, branch); err != nil {
			return errorf(id, "%w", err)
		}
		if _, err := repo.Reference(ref, false); err == nil {
			return errorf(id, "%w", derrors.Conflict("branch %s of %s already has commits; publish:git only pushes to a new branch", branch, rc.Git.URL(local.Owner, local.Repo)))
		}
	} else {
		// The repository lives in memory: the workspace gains no .git, as
		// with Backstage's publish actions, and nothing is left to clean up.
		if repo, err = git.Init(memory.NewStorage(), nil); err != nil {
			return errorf(id, "init repository: %w", err)
		}
	}
	tree, files, err := buildTree(ctx, repo, rc.Workspace, src)
	if err != nil {
		return errorf(id, "%w", err)
	}
	now := time.Now()
	sig := object.Signature{Name: authorName, Email: authorEmail, When: now}
	commit := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree}
	hash, err := storeObject(repo, commit)
	if err != nil {
		return errorf(id, "commit: %w", err)
	}
	log := rc.logger()
	if local != nil {
		web := rc.Git.URL(local.Owner, local.Repo)
		if rc.IsDryRun {
			log.Info("Dry run: would publish to "+web, "branch", branch, "files", files, "commit", hash.String())
		} else {
			if err := repo.Storer.SetReference(plumbing.NewHashReference(ref, hash)); err != nil {
				return errorf(id, "publish: %w", err)
			}
			log.Info("Published "+web, "branch", branch, "files", files, "commit", hash.String())
		}
		rc.output("remoteUrl", rc.Git.CloneURL(local.Owner, local.Repo))
		rc.output("repoContentsUrl", web+"/tree/"+branch)
		rc.output("commitHash", hash.String())
		return nil
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(ref, hash)); err != nil {
		return errorf(id, "commit: %w", err)
	}

	contents := remote.URL
	if remote.Web != "" {
		contents = remote.Web + "/tree/" + branch
	}
	if rc.IsDryRun {
		log.Info("Dry run: would push to git remote", "remote", remote.URL, "branch", branch, "files", files, "commit", hash.String())
		rc.output("remoteUrl", remote.URL)
		rc.output("repoContentsUrl", contents)
		rc.output("commitHash", hash.String())
		return nil
	}

	var auth transport.AuthMethod
	switch {
	case token == "":
	case tokenAuth == "bearer":
		auth = &githttp.TokenAuth{Token: token}
	default:
		auth = &githttp.BasicAuth{Username: "x-access-token", Password: token}
	}
	origin, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote.URL}})
	if err != nil {
		return errorf(id, "add remote: %w", err)
	}
	refs, err := origin.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return errorf(id, "%w", remoteError(err, remote.URL, token))
	}
	for _, r := range refs {
		if r.Name() == ref {
			return errorf(id, "%w", derrors.Conflict("branch %s of %s already has commits; publish:git only pushes to a new branch", branch, remote.URL))
		}
	}
	log.Info("Pushing to git remote", "remote", remote.URL, "branch", branch, "files", files, "commit", hash.String())
	// Not forced: if someone pushed the branch since the check above, the
	// push fails as a non-fast-forward instead of overwriting it.
	spec := config.RefSpec(ref.String() + ":" + ref.String())
	err = origin.PushContext(ctx, &git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: auth})
	if err != nil {
		return errorf(id, "%w", remoteError(err, remote.URL, token))
	}
	rc.output("remoteUrl", remote.URL)
	rc.output("repoContentsUrl", contents)
	rc.output("commitHash", hash.String())
	return nil
}

// remoteError explains a failed remote operation and makes sure the token
// never reaches the step's error, which is stored and shown.
func remoteError(err error, remoteURL, token string) error {
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return derrors.Wrap(derrors.ErrUnauthenticated, err, "%s requires authentication; pass a token", remoteURL)
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return derrors.Wrap(derrors.ErrForbidden, err, "%s refused the credentials", remoteURL)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return derrors.Wrap(derrors.ErrNotFound, err, "repository %s not found", remoteURL)
	case errors.Is(err, git.ErrNonFastForwardUpdate):
		return derrors.Wrap(derrors.ErrConflict, err, "the remote branch changed while publishing")
	}
	msg := err.Error()
	if token != "" && strings.Contains(msg, token) {
		return fmt.Errorf("%s: %s", remoteURL, strings.ReplaceAll(msg, token, "[token]"))
	}
	return fmt.Errorf("%s: %w", remoteURL, err)
}

// buildTree stores every file below dir in the workspace as git objects and
// returns the root tree's hash and the number of files. Executable bits
// and symlinks are kept; empty directories, .git directories and paths the
// tree's .gitignore files exclude are left out, as git add would.
func buildTree(ctx context.Context, repo *git.Repository, ws *workspace.Workspace, dir string) (plumbing.Hash, int, error) {
	fsys := ws.FS()
	var patterns []gitignore.Pattern
	// trees maps a directory (relative to dir, "" for dir itself) to its
	// entries; subdirectories are added by their parents once written.
	trees := map[string][]object.TreeEntry{"": nil}
	var dirs []string
	files := 0
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := "" // p relative to dir
		if p != dir {
			rel = strings.TrimPrefix(p, dir+"/")
			if dir == "." {
				rel = p
			}
			if d.Name() == ".git" {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if gitignore.NewMatcher(patterns).Match(strings.Split(rel, "/"), d.IsDir()) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
		}
		if d.IsDir() {
			trees[rel] = nil
			dirs = append(dirs, rel)
			ps, err := readIgnore(fsys, p, rel)
			if err != nil {
				return err
			}
			patterns = append(patterns, ps...)
			return nil
		}
		entry, err := writeBlob(repo, fsys, p, d)
		if err != nil {
			return err
		}
		if entry == nil {
			return nil // neither file nor symlink (a socket, a device)
		}
		entry.Name = path.Base(rel)
		parent := path.Dir(rel)
		if parent == "." {
			parent = ""
		}
		trees[parent] = append(trees[parent], *entry)
		files++
		return nil
	})
	if err != nil {
		return plumbing.ZeroHash, 0, fmt.Errorf("read %s: %w", dir, err)
	}
	if files == 0 {
		return plumbing.ZeroHash, 0, derrors.Invalid("sourcePath: %q holds no files to publish", dir)
	}
	// Deepest directories first, so each tree is complete when written.
	depth := func(d string) int {
		if d == "" {
			return 0
		}
		return strings.Count(d, "/") + 1
	}
	sort.SliceStable(dirs, func(i, j int) bool { return depth(dirs[i]) > depth(dirs[j]) })
	var root plumbing.Hash
	for _, d := range dirs {
		entries := trees[d]
		if len(entries) == 0 {
			continue // git does not keep empty directories
		}
		sort.Slice(entries, func(i, j int) bool { return treeSortKey(entries[i]) < treeSortKey(entries[j]) })
		h, err := storeObject(repo, &object.Tree{Entries: entries})
		if err != nil {
			return plumbing.ZeroHash, 0, fmt.Errorf("write tree: %w", err)
		}
		if d == "" {
			root = h
			continue
		}
		parent := path.Dir(d)
		if parent == "." {
			parent = ""
		}
		trees[parent] = append(trees[parent], object.TreeEntry{Name: path.Base(d), Mode: filemode.Dir, Hash: h})
	}
	return root, files, nil
}

// treeSortKey orders tree entries as git does: directories sort as if
// their name ended in "/".
func treeSortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// readIgnore parses dir's .gitignore, if it has one; rel is dir relative
// to the published tree, the patterns' domain.
func readIgnore(fsys fs.FS, dir, rel string) ([]gitignore.Pattern, error) {
	b, err := fs.ReadFile(fsys, path.Join(dir, ".gitignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var domain []string
	if rel != "" {
		domain = strings.Split(rel, "/")
	}
	var ps []gitignore.Pattern
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps, nil
}

// writeBlob stores the file or symlink p and returns its tree entry
// without a name, or nil for other kinds of file.
func writeBlob(repo *git.Repository, fsys fs.FS, p string, d fs.DirEntry) (*object.TreeEntry, error) {
	var (
		content io.Reader
		mode    filemode.FileMode
	)
	switch t := d.Type(); {
	case t&fs.ModeSymlink != 0:
		// The link is stored, not followed, so it cannot publish a file
		// from outside the workspace.
		target, err := fs.ReadLink(fsys, p)
		if err != nil {
			return nil, err
		}
		content, mode = strings.NewReader(target), filemode.Symlink
	case t.IsRegular():
		f, err := fsys.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		content, mode = f, filemode.Regular
		if fi.Mode().Perm()&0o111 != 0 {
			mode = filemode.Executable
		}
	default:
		return nil, nil
	}
	obj := repo.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, content); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	h, err := repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return nil, err
	}
	return &object.TreeEntry{Mode: mode, Hash: h}, nil
}

// storeObject encodes a commit or tree into the repository's storage.
func storeObject(repo *git.Repository, o interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	obj := repo.Storer.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return repo.Storer.SetEncodedObject(obj)
}
