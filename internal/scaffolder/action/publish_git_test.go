package action

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/scaffolder/gittest"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

const testToken = "tok-3f9a1c-very-secret"

// publishFiles is the workspace content of the publish tests; names ending
// in ".sh" are made executable.
var publishFiles = map[string]string{
	"README.md":               "# app\n",
	"catalog-info.yaml":       "apiVersion: backstage.io/v1alpha1\nkind: Component\n",
	".gitignore":              "build/\n*.log\n",
	"build/out.bin":           "ignored",
	"debug.log":               "ignored",
	"service/main.go":         "package main\n",
	"service/run.sh":          "#!/bin/sh\necho hi\n",
	"service/docs/index.md":   "docs\x00with binary\xff\n",
	"service/.gitignore":      "tmp.txt\n",
	"service/tmp.txt":         "ignored",
	"service/sub/deep/x.json": "{}",
}

// newPublishEnv is a test env whose workspace holds publishFiles, an empty
// directory and a symlink.
func newPublishEnv(t *testing.T) *testEnv {
	t.Helper()
	env := newEnv(t, nil, workspace.Limits{})
	for name, content := range publishFiles {
		if err := env.ws.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".sh") {
			if err := os.Chmod(filepath.Join(env.ws.Dir(), name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := env.ws.MkdirAll("empty", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("main.go", filepath.Join(env.ws.Dir(), "service/link.go")); err != nil {
		t.Fatal(err)
	}
	return env
}

// checkout returns the files of a clone (without .git), symlinks as
// "-> target", and the paths of executable files.
func checkout(t *testing.T, dir string) (files map[string]string, executable []string) {
	t.Helper()
	files = map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.Type()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			files[rel] = "-> " + target
			return err
		}
		b, err := os.ReadFile(p)
		files[rel] = string(b)
		fi, _ := d.Info()
		if fi.Mode().Perm()&0o111 != 0 {
			executable = append(executable, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, executable
}

// noToken fails if the token shows up in the logs, the outputs or err.
func noToken(t *testing.T, env *testEnv, err error) {
	t.Helper()
	if strings.Contains(env.logs.String(), testToken) {
		t.Errorf("token in logs:\n%s", env.logs.String())
	}
	for k, v := range env.outputs {
		if strings.Contains(v.(string), testToken) {
			t.Errorf("token in output %s: %v", k, v)
		}
	}
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("token in error: %v", err)
	}
}

func TestPublishGitHTTP(t *testing.T) {
	tests := []struct {
		name       string
		sourcePath string
		want       map[string]string
		wantExec   []string
	}{
		{
			name: "whole workspace",
			want: map[string]string{
				"README.md":               publishFiles["README.md"],
				"catalog-info.yaml":       publishFiles["catalog-info.yaml"],
				".gitignore":              publishFiles[".gitignore"],
				"service/main.go":         publishFiles["service/main.go"],
				"service/run.sh":          publishFiles["service/run.sh"],
				"service/docs/index.md":   publishFiles["service/docs/index.md"],
				"service/.gitignore":      publishFiles["service/.gitignore"],
				"service/sub/deep/x.json": publishFiles["service/sub/deep/x.json"],
				"service/link.go":         "-> main.go",
			},
			wantExec: []string{"service/run.sh"},
		},
		{
			name:       "subdirectory",
			sourcePath: "./service/",
			want: map[string]string{
				"main.go":         publishFiles["service/main.go"],
				"run.sh":          publishFiles["service/run.sh"],
				"docs/index.md":   publishFiles["service/docs/index.md"],
				".gitignore":      publishFiles["service/.gitignore"],
				"sub/deep/x.json": publishFiles["service/sub/deep/x.json"],
				"link.go":         "-> main.go",
			},
			wantExec: []string{"run.sh"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gittest.NewServer(t)
			srv.RequireBasicAuth("x-access-token", testToken)
			url := srv.NewBareRepo(t, "team/app.git")
			env := newPublishEnv(t)
			before := env.tree(t)

			err := env.run(t, "publish:git", map[string]any{
				"repoUrl":          url,
				"sourcePath":       tt.sourcePath,
				"gitCommitMessage": "Scaffold app\n\nfrom a template",
				"gitAuthorName":    "Ada",
				"gitAuthorEmail":   "ada@example.com",
				"token":            testToken,
			})
			noToken(t, env, err)
			if err != nil {
				t.Fatal(err)
			}

			clone := srv.Clone(t, "team/app.git")
			files, exec := checkout(t, clone)
			if diff := cmp.Diff(tt.want, files); diff != "" {
				t.Errorf("cloned files (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantExec, exec); diff != "" {
				t.Errorf("executable files (-want +got):\n%s", diff)
			}
			if got, want := srv.Git(t, clone, "log", "-1", "--format=%an <%ae>|%cn|%B"), "Ada <ada@example.com>|Ada|Scaffold app\n\nfrom a template"; got != want {
				t.Errorf("commit = %q, want %q", got, want)
			}
			if got := srv.Git(t, clone, "rev-list", "--count", "HEAD"); got != "1" {
				t.Errorf("commits = %s, want 1", got)
			}
			wantOut := map[string]any{
				"remoteUrl":       url,
				"repoContentsUrl": strings.TrimSuffix(url, ".git") + "/tree/main",
				"commitHash":      srv.Git(t, clone, "rev-parse", "HEAD"),
			}
			if diff := cmp.Diff(wantOut, env.outputs); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, env.tree(t)); diff != "" {
				t.Errorf("workspace changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPublishGitFileRemote(t *testing.T) {
	srv := gittest.NewServer(t) // only for its bare repository and git helpers
	srv.NewBareRepo(t, "app.git")
	dir := srv.RepoDir(t, "app.git")
	env := newPublishEnv(t)
	input := map[string]any{"repoUrl": "file://" + dir, "defaultBranch": "trunk"}
	if err := env.run(t, "publish:git", input); !errors.Is(err, derrors.ErrForbidden) {
		t.Fatalf("file remote without allowFileRemotes: err = %v, want forbidden", err)
	}
	env.rc.AllowFileRemotes = true
	if err := env.run(t, "publish:git", input); err != nil {
		t.Fatal(err)
	}
	if got := srv.Git(t, dir, "log", "-1", "--format=%an <%ae>|%s", "trunk"); got != "Atrium <atrium@localhost>|Initial commit" {
		t.Errorf("commit = %q, want the defaults", got)
	}
	if got, want := srv.Git(t, dir, "rev-parse", "trunk"), env.outputs["commitHash"]; got != want {
		t.Errorf("trunk = %s, commitHash output = %v", got, want)
	}
	if got, want := env.outputs["repoContentsUrl"], "file://"+dir; got != want {
		t.Errorf("repoContentsUrl = %v, want %s", got, want)
	}
	if got := srv.Git(t, dir, "show", "trunk:service/run.sh"); got+"\n" != publishFiles["service/run.sh"] {
		t.Errorf("service/run.sh = %q", got)
	}
}

func TestPublishGitRefusesNonEmptyBranch(t *testing.T) {
	srv := gittest.NewServer(t)
	url := srv.NewBareRepo(t, "app.git")
	first := newPublishEnv(t)
	if err := first.run(t, "publish:git", map[string]any{"repoUrl": url}); err != nil {
		t.Fatal(err)
	}
	second := newPublishEnv(t)
	err := second.run(t, "publish:git", map[string]any{"repoUrl": url})
	if !errors.Is(err, derrors.ErrConflict) || !strings.Contains(err.Error(), "already has commits") {
		t.Fatalf("second publish: err = %v, want a conflict saying the branch has commits", err)
	}
	if got, want := srv.Git(t, srv.RepoDir(t, "app.git"), "rev-parse", "main"), first.outputs["commitHash"]; got != want {
		t.Errorf("main = %s, want the first commit %v", got, want)
	}
	// Another branch of the same repository is fine.
	if err := second.run(t, "publish:git", map[string]any{"repoUrl": url, "defaultBranch": "feature/x"}); err != nil {
		t.Errorf("publish to a new branch: %v", err)
	}
}

func TestPublishGitAuthFailure(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"no token", "", derrors.ErrUnauthenticated},
		{"wrong token", testToken, derrors.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gittest.NewServer(t)
			srv.RequireBasicAuth("x-access-token", "the-right-one")
			url := srv.NewBareRepo(t, "app.git")
			env := newPublishEnv(t)
			err := env.run(t, "publish:git", map[string]any{"repoUrl": url, "token": tt.token})
			noToken(t, env, err)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if refs := srv.Git(t, srv.RepoDir(t, "app.git"), "for-each-ref"); refs != "" {
				t.Errorf("remote has refs:\n%s", refs)
			}
		})
	}
}

func TestPublishGitDryRun(t *testing.T) {
	srv := gittest.NewServer(t)
	url := srv.NewBareRepo(t, "team/app.git")
	env := newPublishEnv(t)
	env.rc.IsDryRun = true
	err := env.run(t, "publish:git", map[string]any{"repoUrl": url, "token": testToken})
	noToken(t, env, err)
	if err != nil {
		t.Fatal(err)
	}
	if refs := srv.Git(t, srv.RepoDir(t, "team/app.git"), "for-each-ref"); refs != "" {
		t.Errorf("dry run pushed:\n%s", refs)
	}
	if h, _ := env.outputs["commitHash"].(string); !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(h) {
		t.Errorf("commitHash = %q, want a hash", h)
	}
	if got, want := env.outputs["repoContentsUrl"], strings.TrimSuffix(url, ".git")+"/tree/main"; got != want {
		t.Errorf("repoContentsUrl = %v, want %s", got, want)
	}
	if !strings.Contains(env.logs.String(), "Dry run") || !strings.Contains(env.logs.String(), "files=9") {
		t.Errorf("log does not say what would be pushed:\n%s", env.logs.String())
	}
}

func TestPublishGitBadSourcePath(t *testing.T) {
	srv := gittest.NewServer(t)
	url := srv.NewBareRepo(t, "app.git")
	for _, sp := range []string{"../", "../ws", "/etc", "service/../../x", "out", "out/x", "README.md", "missing", "empty"} {
		t.Run(sp, func(t *testing.T) {
			env := newPublishEnv(t)
			if err := os.Symlink(t.TempDir(), filepath.Join(env.ws.Dir(), "out")); err != nil {
				t.Fatal(err)
			}
			err := env.run(t, "publish:git", map[string]any{"repoUrl": url, "sourcePath": sp})
			if !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
			if refs := srv.Git(t, srv.RepoDir(t, "app.git"), "for-each-ref"); refs != "" {
				t.Errorf("remote has refs:\n%s", refs)
			}
		})
	}
}

func TestPublishGitBadInput(t *testing.T) {
	tests := []struct {
		name    string
		input   map[string]any
		wantMsg string
	}{
		{"token over ssh", map[string]any{"repoUrl": "ssh://git@example.com/o/r.git", "token": testToken}, "only http(s) remotes take a token"},
		{"bad branch", map[string]any{"repoUrl": "https://example.com/o/r.git", "defaultBranch": "a..b"}, "not a valid branch name"},
		{"branch with space", map[string]any{"repoUrl": "https://example.com/o/r.git", "defaultBranch": "a b"}, "not a valid branch name"},
		{"bad tokenAuth", map[string]any{"repoUrl": "https://example.com/o/r.git", "tokenAuth": "digest"}, "tokenAuth: must be one of"},
		{"missing repoUrl", map[string]any{}, "repoUrl: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newPublishEnv(t)
			err := env.run(t, "publish:git", tt.input)
			noToken(t, env, err)
			if !errors.Is(err, derrors.ErrInvalid) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want ErrInvalid containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseRepoURL(t *testing.T) {
	tests := []struct {
		name          string
		raw           string
		allowInsecure bool
		want          gitRemote
		wantErr       string // substring of the error, "" for success
	}{
		{"picker", "github.com?owner=acme&repo=app", false, gitRemote{URL: "https://github.com/acme/app.git", Web: "https://github.com/acme/app", HTTP: true}, ""},
		{"picker with port and nested owner", "git.example.com:8443?repo=app&owner=group/sub", false, gitRemote{URL: "https://git.example.com:8443/group/sub/app.git", Web: "https://git.example.com:8443/group/sub/app", HTTP: true}, ""},
		{"https", "https://git.example.com/acme/app.git", false, gitRemote{URL: "https://git.example.com/acme/app.git", Web: "https://git.example.com/acme/app", HTTP: true}, ""},
		{"https without .git", "https://git.example.com/acme/app", false, gitRemote{URL: "https://git.example.com/acme/app", Web: "https://git.example.com/acme/app", HTTP: true}, ""},
		{"http loopback", "http://127.0.0.1:3000/acme/app.git", false, gitRemote{URL: "http://127.0.0.1:3000/acme/app.git", Web: "http://127.0.0.1:3000/acme/app", HTTP: true}, ""},
		{"http localhost", "http://localhost/acme/app.git", false, gitRemote{URL: "http://localhost/acme/app.git", Web: "http://localhost/acme/app", HTTP: true}, ""},
		{"http allowed", "http://git.lan/acme/app.git", true, gitRemote{URL: "http://git.lan/acme/app.git", Web: "http://git.lan/acme/app", HTTP: true}, ""},
		{"ssh", "ssh://git@git.example.com/acme/app.git", false, gitRemote{URL: "ssh://git@git.example.com/acme/app.git"}, ""},
		{"ssh with port", "ssh://git@git.example.com:2222/acme/app.git", false, gitRemote{URL: "ssh://git@git.example.com:2222/acme/app.git"}, ""},
		{"file", "file:///srv/git/app.git", false, gitRemote{URL: "file:///srv/git/app.git"}, ""},
		{"file cleaned", "file:///srv/git/../git/app.git/", false, gitRemote{URL: "file:///srv/git/app.git"}, ""},

		{"empty", " ", false, gitRemote{}, "repoUrl: required"},
		{"picker without owner", "github.com?repo=app", false, gitRemote{}, "must name both owner and repo"},
		{"picker without repo", "github.com?owner=acme", false, gitRemote{}, "must name both owner and repo"},
		{"picker without query", "github.com", false, gitRemote{}, "must name both owner and repo"},
		{"picker with path", "github.com/acme?owner=acme&repo=app", false, gitRemote{}, "has a path"},
		{"picker with dot-dot owner", "github.com?owner=..&repo=app", false, gitRemote{}, "must be plain names"},
		{"picker repo with slash", "github.com?owner=a&repo=b/c", false, gitRemote{}, "must not contain /"},
		{"picker with credentials", "user:" + testToken + "@github.com?owner=a&repo=b", false, gitRemote{}, "credentials in the URL are not allowed"},
		{"scp-like", "git@github.com:acme/app.git", false, gitRemote{}, "use ssh://"},
		{"unsupported scheme", "git://github.com/acme/app.git", false, gitRemote{}, `unsupported scheme "git"`},
		{"ftp", "ftp://example.com/app.git", false, gitRemote{}, "unsupported scheme"},
		{"https credentials", "https://user:" + testToken + "@github.com/acme/app.git", false, gitRemote{}, "credentials in the URL are not allowed; pass them in the token input"},
		{"https user only", "https://" + testToken + "@github.com/acme/app.git", false, gitRemote{}, "credentials in the URL are not allowed"},
		{"ssh password", "ssh://git:" + testToken + "@github.com/acme/app.git", false, gitRemote{}, "credentials in the URL are not allowed"},
		{"http remote host", "http://git.example.com/acme/app.git", false, gitRemote{}, "plain http to git.example.com is refused"},
		{"https no path", "https://github.com/", false, gitRemote{}, "no repository path"},
		{"https no host", "https:///acme/app.git", false, gitRemote{}, "no host"},
		{"https query", "https://github.com/acme/app.git?x=1", false, gitRemote{}, "must not have a query"},
		{"ssh no path", "ssh://git@github.com", false, gitRemote{}, "needs a host and a repository path"},
		{"file relative", "file://srv/app.git", false, gitRemote{}, "not on host"},
		{"file root", "file:///", false, gitRemote{}, "absolute repository path"},
		{"unparsable", "https://exa mple.com/" + testToken, false, gitRemote{}, "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRepoURL(tt.raw, tt.allowInsecure)
			if tt.wantErr != "" {
				if !errors.Is(err, derrors.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseRepoURL(%q) err = %v, want ErrInvalid containing %q", tt.raw, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("error repeats the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRepoURL(%q): %v", tt.raw, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseRepoURL(%q) (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

// FuzzParseRepoURL checks that no repoUrl panics and that an accepted one
// never carries a password.
func FuzzParseRepoURL(f *testing.F) {
	for _, s := range []string{"github.com?owner=a&repo=b", "https://h/o/r.git", "ssh://git@h/o/r", "file:///x", "http://127.0.0.1/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := parseRepoURL(raw, false)
		if err != nil {
			return
		}
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatalf("accepted %q as unparsable %q", raw, r.URL)
		}
		if _, hasPassword := u.User.Password(); hasPassword || (u.User != nil && u.Scheme != "ssh") {
			t.Errorf("accepted %q with credentials: %q", raw, r.URL)
		}
	})
}

func TestPublishGitLocalHost(t *testing.T) {
	h, err := githost.New("localhost:7007", filepath.Join(t.TempDir(), "git"), "http://localhost:7007/git")
	if err != nil {
		t.Fatal(err)
	}
	picker := "localhost:7007?owner=acme&repo=app"

	dry := newPublishEnv(t)
	dry.rc.Git, dry.rc.IsDryRun = h, true
	if err := dry.run(t, "publish:git", map[string]any{"repoUrl": picker}); err != nil {
		t.Fatal(err)
	}
	if repos, _ := h.Repositories(); len(repos) != 0 {
		t.Errorf("the dry run created %+v", repos)
	}

	env := newPublishEnv(t)
	env.rc.Git = h
	if err := env.run(t, "publish:git", map[string]any{"repoUrl": picker, "gitCommitMessage": "Create app"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"remoteUrl":       "http://localhost:7007/git/acme/app.git",
		"repoContentsUrl": "http://localhost:7007/git/acme/app/tree/main",
		"commitHash":      env.outputs["commitHash"],
	}
	if diff := cmp.Diff(want, env.outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if dry.outputs["remoteUrl"] != want["remoteUrl"] || dry.outputs["repoContentsUrl"] != want["repoContentsUrl"] {
		t.Errorf("the dry run's outputs differ: %v", dry.outputs)
	}
	v, err := h.View(githost.Location{Owner: "acme", Repo: "app", Path: "service/run.sh"}, 1<<20)
	if err != nil || v.Commit.Hash != env.outputs["commitHash"] || v.Commit.Subject != "Create app" || string(v.Content) != publishFiles["service/run.sh"] {
		t.Fatalf("published run.sh = %+v, %v", v, err)
	}
	root, err := h.View(githost.Location{Owner: "acme", Repo: "app"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range root.Entries {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"service", ".gitignore", "README.md", "catalog-info.yaml"}, names); diff != "" {
		t.Errorf("root (-want +got), ignored and empty folders left out:\n%s", diff)
	}
	dir, _ := h.View(githost.Location{Owner: "acme", Repo: "app", Path: "service"}, 0)
	modes := map[string]string{}
	for _, e := range dir.Entries {
		modes[e.Name] = e.Mode
	}
	if modes["run.sh"] != "executable" || modes["link.go"] != "symlink" {
		t.Errorf("modes = %v", modes)
	}

	// The URL form names the same repository; its branch now has commits.
	again := newPublishEnv(t)
	again.rc.Git = h
	if err := again.run(t, "publish:git", map[string]any{"repoUrl": "http://localhost:7007/git/acme/app"}); !errors.Is(err, derrors.ErrConflict) {
		t.Errorf("second publish: err = %v, want a conflict", err)
	}
	if err := again.run(t, "publish:git", map[string]any{"repoUrl": "http://localhost:7007/git/acme/app.git", "defaultBranch": "next"}); err != nil {
		t.Errorf("publish to a new branch: %v", err)
	}

	for _, bad := range []string{
		"localhost:7007?owner=../x&repo=app",
		"localhost:7007?owner=acme&repo=.hidden",
		"localhost:7007?owner=acme&repo=a.git",
		"http://localhost:7007/git/acme/app/tree/main",
		"http://localhost:7007/git/acme",
	} {
		env := newPublishEnv(t)
		env.rc.Git = h
		if err := env.run(t, "publish:git", map[string]any{"repoUrl": bad}); !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("%s: err = %v, want invalid input", bad, err)
		}
	}
	if repos, _ := h.Repositories(); len(repos) != 1 {
		t.Errorf("repositories after the refusals: %+v", repos)
	}
}
