package action

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/githost/githosttest"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

var skeleton = map[string]string{
	"template.yaml":                      "kind: Template",
	"skeleton/README.md":                 "# ${{ values.name }}",
	"skeleton/run.sh":                    "echo ${{ values.name }}",
	"skeleton/src/${{ values.name }}.go": "package ${{ values.name }}",
	"skeleton/empty/":                    "",
}

func TestFetchPlain(t *testing.T) {
	tests := []struct {
		name  string
		input map[string]any
		want  map[string]string
	}{
		{
			name:  "into root",
			input: map[string]any{"url": "./skeleton"},
			want: map[string]string{
				"README.md": "# ${{ values.name }}", "run.sh": "echo ${{ values.name }}",
				"src/": "", "src/${{ values.name }}.go": "package ${{ values.name }}", "empty/": "",
			},
		},
		{
			name:  "into target path",
			input: map[string]any{"url": "skeleton/src", "targetPath": "out/dir"},
			want:  map[string]string{"out/": "", "out/dir/": "", "out/dir/${{ values.name }}.go": "package ${{ values.name }}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, skeleton, workspace.Limits{})
			if err := env.run(t, "fetch:plain", tt.input); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, env.tree(t)); diff != "" {
				t.Errorf("workspace (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("keeps modes", func(t *testing.T) {
		env := newEnv(t, skeleton, workspace.Limits{})
		if err := env.run(t, "fetch:plain", map[string]any{"url": "./skeleton"}); err != nil {
			t.Fatal(err)
		}
		if got := env.mode(t, "run.sh"); got != 0o755 {
			t.Errorf("run.sh mode = %v, want 0755", got)
		}
		if got := env.mode(t, "README.md"); got != 0o644 {
			t.Errorf("README.md mode = %v, want 0644", got)
		}
	})
}

func TestFetchPlainFile(t *testing.T) {
	env := newEnv(t, skeleton, workspace.Limits{})
	if err := env.run(t, "fetch:plain:file", map[string]any{"url": "./skeleton/run.sh", "targetPath": "bin/start.sh"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bin/": "", "bin/start.sh": "echo ${{ values.name }}"}
	if diff := cmp.Diff(want, env.tree(t)); diff != "" {
		t.Errorf("workspace (-want +got):\n%s", diff)
	}
	if got := env.mode(t, "bin/start.sh"); got != 0o755 {
		t.Errorf("mode = %v, want 0755", got)
	}
	if err := env.run(t, "fetch:plain:file", map[string]any{"url": "./skeleton", "targetPath": "x"}); err == nil {
		t.Error("fetching a directory as a file succeeded")
	}
}

// TestFetchHostile runs every fetch action with hostile paths and template
// directories; each must fail and leave nothing outside the workspace.
func TestFetchHostile(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	type setup func(t *testing.T, env *testEnv)
	symlink := func(target, link string) setup {
		return func(t *testing.T, env *testEnv) {
			if target == "OUTSIDE" {
				target = outside
			} else if target == "SECRET" {
				target = filepath.Join(outside, "secret")
			}
			if err := os.Symlink(target, filepath.Join(env.tmpl, link)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		action string
		input  map[string]any
		setup  setup
		want   string
	}{
		{"plain url dotdot", "fetch:plain", map[string]any{"url": "../"}, nil, "relative path inside the template"},
		{"plain url climb", "fetch:plain", map[string]any{"url": "skeleton/../../x"}, nil, "relative path inside the template"},
		{"plain url absolute", "fetch:plain", map[string]any{"url": "/etc"}, nil, "relative path inside the template"},
		{"plain url remote", "fetch:plain", map[string]any{"url": "https://github.com/o/r/tree/main/skeleton"}, nil, "remote urls are not supported"},
		{"plain url file scheme", "fetch:plain", map[string]any{"url": "file:///etc"}, nil, "remote urls are not supported"},
		{"plain url NUL", "fetch:plain", map[string]any{"url": "skel\x00eton"}, nil, "relative path inside the template"},
		{"plain target dotdot", "fetch:plain", map[string]any{"url": "./skeleton", "targetPath": "../out"}, nil, "escapes the workspace"},
		{"plain target absolute", "fetch:plain", map[string]any{"url": "./skeleton", "targetPath": outside}, nil, "absolute"},
		{"plain missing", "fetch:plain", map[string]any{"url": "./nothing"}, nil, "does not exist"},
		{"plain symlinked file outside", "fetch:plain", map[string]any{"url": "./skeleton"}, symlink("SECRET", "skeleton/leak"), "outside the template directory"},
		{"plain symlinked dir outside", "fetch:plain", map[string]any{"url": "./skeleton"}, symlink("OUTSIDE", "skeleton/leakdir"), "outside the template directory"},
		{"plain url through symlink", "fetch:plain", map[string]any{"url": "./out"}, symlink("OUTSIDE", "out"), "outside the template directory"},
		{"plain symlink to parent", "fetch:plain", map[string]any{"url": "./skeleton"}, symlink("../..", "skeleton/up"), "outside the template directory"},
		{"plain file url dotdot", "fetch:plain:file", map[string]any{"url": "../secret", "targetPath": "x"}, nil, "relative path inside the template"},
		{"plain file symlink", "fetch:plain:file", map[string]any{"url": "leak", "targetPath": "x"}, symlink("SECRET", "leak"), "outside the template directory"},
		{"plain file target dotdot", "fetch:plain:file", map[string]any{"url": "template.yaml", "targetPath": "a/../../x"}, nil, "escapes the workspace"},
		{"template url dotdot", "fetch:template", map[string]any{"url": "../"}, nil, "relative path inside the template"},
		{"template target dotdot", "fetch:template", map[string]any{"url": "./skeleton", "targetPath": "../x"}, nil, "escapes the workspace"},
		{"template symlink outside", "fetch:template", map[string]any{"url": "./skeleton"}, symlink("SECRET", "skeleton/leak"), "outside the template directory"},
		{"template rendered name climbs", "fetch:template", map[string]any{"url": "./skeleton", "values": map[string]any{"name": "../../escape"}}, nil, "leaves the target path"},
		{"template file url dotdot", "fetch:template:file", map[string]any{"url": "../secret", "targetPath": "x"}, nil, "relative path inside the template"},
		{"template file target dotdot", "fetch:template:file", map[string]any{"url": "template.yaml", "targetPath": "../x"}, nil, "escapes the workspace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, skeleton, workspace.Limits{})
			if tt.setup != nil {
				tt.setup(t, env)
			}
			err := env.run(t, tt.action, tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			entries, _ := os.ReadDir(outside)
			if len(entries) != 1 {
				t.Errorf("outside directory changed: %v", entries)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(env.ws.Dir()), "out")); err == nil {
				t.Error("a file was written next to the workspace")
			}
		})
	}
}

func TestFetchLimits(t *testing.T) {
	big := strings.Repeat("x", 2000)
	files := map[string]string{"s/a": big, "s/b": big, "s/c": "c"}
	for _, action := range []string{"fetch:plain", "fetch:template"} {
		t.Run(action+" bytes", func(t *testing.T) {
			env := newEnv(t, files, workspace.Limits{MaxFiles: 100, MaxBytes: 3000})
			err := env.run(t, action, map[string]any{"url": "./s"})
			if !errors.Is(err, workspace.ErrLimit) {
				t.Fatalf("err = %v, want ErrLimit", err)
			}
		})
		t.Run(action+" files", func(t *testing.T) {
			env := newEnv(t, files, workspace.Limits{MaxFiles: 2, MaxBytes: 1 << 20})
			err := env.run(t, action, map[string]any{"url": "./s"})
			if !errors.Is(err, workspace.ErrLimit) || !strings.Contains(err.Error(), "at most 2 files") {
				t.Fatalf("err = %v, want ErrLimit", err)
			}
		})
	}
	t.Run("template file bigger than the workspace", func(t *testing.T) {
		env := newEnv(t, map[string]string{"s/huge": big}, workspace.Limits{MaxFiles: 10, MaxBytes: 1000})
		err := env.run(t, "fetch:template", map[string]any{"url": "./s"})
		if !errors.Is(err, workspace.ErrLimit) {
			t.Fatalf("err = %v, want ErrLimit", err)
		}
	})
}

func TestFetchTemplate(t *testing.T) {
	binary := "\x00\x01${{ values.name }}"
	files := map[string]string{
		"s/README.md":                   "# ${{ values.name }}",
		"s/run.sh":                      "echo ${{ values.name }}",
		"s/${{ values.name }}/main.go":  "package ${{ values.name }}",
		"s/${{ values.empty }}":         "conditional file",
		"s/${{values.empty}}/inner.txt": "conditional dir",
		"s/docs/${{ values.empty }}.md": "kept: name is .md",
		"s/logo.png":                    binary,
		"s/.github/workflows/ci.yaml":   "run: ${{ values.name }}",
		"s/config.yaml.njk":             "name: ${{ values.name }}",
	}
	values := map[string]any{"name": "svc", "empty": ""}
	tests := []struct {
		name  string
		input map[string]any
		pre   map[string]string // workspace files before the run
		want  map[string]string
	}{
		{
			name:  "render everything",
			input: map[string]any{"url": "./s", "values": values},
			want: map[string]string{
				"README.md": "# svc", "run.sh": "echo svc", "svc/": "", "svc/main.go": "package svc",
				"docs/": "", "docs/.md": "kept: name is .md", "logo.png": binary,
				".github/": "", ".github/workflows/": "", ".github/workflows/ci.yaml": "run: svc",
				"config.yaml.njk": "name: svc",
			},
		},
		{
			name:  "copyWithoutTemplating",
			input: map[string]any{"url": "./s", "values": values, "targetPath": "app", "copyWithoutTemplating": []string{".github/workflows/*", "./README.md"}},
			want: map[string]string{
				"app/": "", "app/README.md": "# ${{ values.name }}", "app/run.sh": "echo svc", "app/svc/": "", "app/svc/main.go": "package svc",
				"app/docs/": "", "app/docs/.md": "kept: name is .md", "app/logo.png": binary,
				"app/.github/": "", "app/.github/workflows/": "", "app/.github/workflows/ci.yaml": "run: ${{ values.name }}",
				"app/config.yaml.njk": "name: svc",
			},
		},
		{
			name:  "templateFileExtension true",
			input: map[string]any{"url": "./s", "values": values, "templateFileExtension": true},
			want: map[string]string{
				"README.md": "# ${{ values.name }}", "run.sh": "echo ${{ values.name }}", "svc/": "", "svc/main.go": "package ${{ values.name }}",
				"docs/": "", "docs/.md": "kept: name is .md", "logo.png": binary,
				".github/": "", ".github/workflows/": "", ".github/workflows/ci.yaml": "run: ${{ values.name }}",
				"config.yaml": "name: svc",
			},
		},
		{
			name:  "templateFileExtension string",
			input: map[string]any{"url": "./s/.github", "values": values, "templateFileExtension": ".yaml"},
			want:  map[string]string{"workflows/": "", "workflows/ci": "run: svc"},
		},
		{
			name:  "existing files are kept without replace",
			input: map[string]any{"url": "./s/.github", "values": values},
			pre:   map[string]string{"workflows/ci.yaml": "mine"},
			want:  map[string]string{"workflows/": "", "workflows/ci.yaml": "mine"},
		},
		{
			name:  "replace",
			input: map[string]any{"url": "./s/.github", "values": values, "replace": true},
			pre:   map[string]string{"workflows/ci.yaml": "mine"},
			want:  map[string]string{"workflows/": "", "workflows/ci.yaml": "run: svc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, files, workspace.Limits{})
			for name, content := range tt.pre {
				if err := env.ws.WriteFile(name, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := env.run(t, "fetch:template", tt.input); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, env.tree(t)); diff != "" {
				t.Errorf("workspace (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("keeps modes", func(t *testing.T) {
		env := newEnv(t, files, workspace.Limits{})
		if err := env.run(t, "fetch:template", map[string]any{"url": "./s", "values": values}); err != nil {
			t.Fatal(err)
		}
		if got := env.mode(t, "run.sh"); got != 0o755 {
			t.Errorf("run.sh mode = %v, want 0755", got)
		}
	})
	errTests := []struct {
		name  string
		input map[string]any
		nilR  bool
		want  error
		text  string
	}{
		{"no engine", map[string]any{"url": "./s"}, true, derrors.ErrUnavailable, "no templating engine"},
		{"cookiecutter without its engine", map[string]any{"url": "./s", "cookiecutterCompat": true}, false, derrors.ErrUnavailable, "cookiecutter-compatible"},
		{"both copy lists", map[string]any{"url": "./s", "copyWithoutRender": []string{"a"}, "copyWithoutTemplating": []string{"b"}}, false, derrors.ErrInvalid, "cannot be used together"},
		{"bad glob", map[string]any{"url": "./s", "copyWithoutTemplating": []string{"a/[b"}}, false, derrors.ErrInvalid, "not a valid glob"},
		{"render error", map[string]any{"url": "./s", "values": map[string]any{"name": "${{ values.fail }}"}}, false, nil, "render failed"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, files, workspace.Limits{})
			if tt.nilR {
				env.rc.Render = nil
			}
			// The render error comes from rendering a rendered value; make
			// the fake engine see it by rendering twice.
			if tt.text == "render failed" {
				env.rc.Render = func(src string, ctx map[string]any) (string, error) {
					out, err := fakeRender(src, ctx)
					if err != nil {
						return "", err
					}
					return fakeRender(out, ctx)
				}
			}
			err := env.run(t, "fetch:template", tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.text) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
}

func TestFetchTemplateFile(t *testing.T) {
	files := map[string]string{"f/catalog-info.yaml": "name: ${{ values.name }}", "f/bin": "\x00${{ values.name }}"}
	tests := []struct {
		name  string
		input map[string]any
		pre   map[string]string
		want  map[string]string
	}{
		{"render", map[string]any{"url": "./f/catalog-info.yaml", "targetPath": "out/catalog-info.yaml", "values": map[string]any{"name": "svc"}}, nil,
			map[string]string{"out/": "", "out/catalog-info.yaml": "name: svc"}},
		{"binary as is", map[string]any{"url": "f/bin", "targetPath": "bin", "values": map[string]any{"name": "svc"}}, nil,
			map[string]string{"bin": "\x00${{ values.name }}"}},
		{"existing kept", map[string]any{"url": "f/catalog-info.yaml", "targetPath": "c.yaml"}, map[string]string{"c.yaml": "mine"},
			map[string]string{"c.yaml": "mine"}},
		{"replace", map[string]any{"url": "f/catalog-info.yaml", "targetPath": "c.yaml", "replace": true, "values": map[string]any{"name": "x"}}, map[string]string{"c.yaml": "mine"},
			map[string]string{"c.yaml": "name: x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, files, workspace.Limits{})
			for name, content := range tt.pre {
				if err := env.ws.WriteFile(name, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := env.run(t, "fetch:template:file", tt.input); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, env.tree(t)); diff != "" {
				t.Errorf("workspace (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFetchFromGitHost fetches a folder and a file by their URLs on
// Atrium's own git host.
func TestFetchFromGitHost(t *testing.T) {
	h, err := githost.New("localhost:7007", filepath.Join(t.TempDir(), "git"), "http://localhost:7007/git")
	if err != nil {
		t.Fatal(err)
	}
	githosttest.Commit(t, h, "acme", "skeletons", "main", "skeletons", map[string]string{
		"go/main.go": "package main\n", "go/sub/x.txt": "${{ values.name }}\n", "other/secret": "no\n"})

	env := newEnv(t, nil, workspace.Limits{})
	env.rc.Git = h
	if err := env.run(t, "fetch:template", map[string]any{"url": "http://localhost:7007/git/acme/skeletons/tree/main/go",
		"values": map[string]any{"name": "parcels"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := env.ws.ReadFile("sub/x.txt"); err != nil || string(got) != "parcels\n" {
		t.Errorf("sub/x.txt = %q, %v", got, err)
	}
	if _, err := env.ws.ReadFile("secret"); err == nil {
		t.Error("a file outside the fetched folder was copied")
	}
	if err := env.run(t, "fetch:plain:file", map[string]any{"url": "http://localhost:7007/git/acme/skeletons/blob/main/go/main.go", "targetPath": "cmd/main.go"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := env.ws.ReadFile("cmd/main.go"); string(got) != "package main\n" {
		t.Errorf("cmd/main.go = %q", got)
	}
	for _, bad := range []string{
		"http://localhost:7007/git/acme/skeletons/tree/main/go/../other",
		"http://localhost:7007/git/acme/nope/tree/main",
		"http://localhost:7007/git/acme/skeletons/tree/main/missing",
	} {
		if err := env.run(t, "fetch:plain", map[string]any{"url": bad, "targetPath": "bad"}); err == nil {
			t.Errorf("%s: fetched", bad)
		}
	}
}
