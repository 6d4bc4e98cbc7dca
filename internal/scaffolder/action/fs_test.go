package action

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

var wsFiles = map[string]string{
	"a.txt":              "a",
	"b.md":               "b",
	"docs/x.md":          "x",
	"docs/sub/y.md":      "y",
	"docs/keep.txt":      "k",
	".hidden/z.md":       "z",
	"src/main.go":        "m",
	"src/empty/.gitkeep": "",
}

// newWSEnv is newEnv with files placed in the workspace instead.
func newWSEnv(t *testing.T) *testEnv {
	t.Helper()
	env := newEnv(t, nil, workspace.Limits{})
	for name, content := range wsFiles {
		if err := env.ws.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return env
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		if !strings.HasSuffix(k, "/") {
			out = append(out, k)
		}
	}
	return out
}

func TestFSDelete(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		deleted []string
	}{
		{"plain paths", []string{"a.txt", "./src"}, []string{"a.txt", "src/main.go", "src/empty/.gitkeep"}},
		{"missing is fine", []string{"nope", "nope/*.md"}, nil},
		{"glob", []string{"docs/**/*.md"}, []string{"docs/x.md", "docs/sub/y.md"}},
		{"glob matches dot dirs", []string{"*/*.md"}, []string{"docs/x.md", ".hidden/z.md"}},
		{"directory glob", []string{"docs/*"}, []string{"docs/x.md", "docs/sub/y.md", "docs/keep.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newWSEnv(t)
			if err := env.run(t, "fs:delete", map[string]any{"files": tt.files}); err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for k := range wsFiles {
				want[k] = true
			}
			for _, d := range tt.deleted {
				delete(want, d)
			}
			got := map[string]bool{}
			for _, k := range keysOf(env.tree(t)) {
				got[k] = true
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files left (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFSDeleteHostile(t *testing.T) {
	for _, f := range []string{"../x", "/etc/passwd", "a/../../x", ".", "./", "a\x00b", "../*", "out/*"} {
		t.Run(f, func(t *testing.T) {
			env := newWSEnv(t)
			outside := t.TempDir()
			victim := filepath.Join(outside, "victim")
			if err := os.WriteFile(victim, []byte("v"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(env.ws.Dir(), "out")); err != nil {
				t.Fatal(err)
			}
			err := env.run(t, "fs:delete", map[string]any{"files": []string{f}})
			if _, serr := os.Stat(victim); serr != nil {
				t.Fatalf("file outside the workspace deleted (err %v)", err)
			}
			if f != "out/*" && err == nil {
				t.Errorf("fs:delete %q succeeded", f)
			}
		})
	}
}

func TestFSRename(t *testing.T) {
	tests := []struct {
		name    string
		files   []map[string]any
		want    []string // files after
		wantErr error
	}{
		{"file", []map[string]any{{"from": "a.txt", "to": "renamed/a2.txt"}},
			[]string{"renamed/a2.txt", "b.md", "docs/x.md", "docs/sub/y.md", "docs/keep.txt", ".hidden/z.md", "src/main.go", "src/empty/.gitkeep"}, nil},
		{"directory", []map[string]any{{"from": "docs", "to": "documentation"}},
			[]string{"a.txt", "b.md", "documentation/x.md", "documentation/sub/y.md", "documentation/keep.txt", ".hidden/z.md", "src/main.go", "src/empty/.gitkeep"}, nil},
		{"overwrite", []map[string]any{{"from": "a.txt", "to": "b.md", "overwrite": true}},
			[]string{"b.md", "docs/x.md", "docs/sub/y.md", "docs/keep.txt", ".hidden/z.md", "src/main.go", "src/empty/.gitkeep"}, nil},
		{"exists", []map[string]any{{"from": "a.txt", "to": "b.md"}}, nil, derrors.ErrConflict},
		{"missing", []map[string]any{{"from": "nope", "to": "x"}}, nil, derrors.ErrNotFound},
		{"from dotdot", []map[string]any{{"from": "../x", "to": "x"}}, nil, derrors.ErrInvalid},
		{"to dotdot", []map[string]any{{"from": "a.txt", "to": "../a.txt"}}, nil, derrors.ErrInvalid},
		{"to absolute", []map[string]any{{"from": "a.txt", "to": "/tmp/a.txt"}}, nil, derrors.ErrInvalid},
		{"root", []map[string]any{{"from": ".", "to": "x"}}, nil, derrors.ErrInvalid},
		{"into itself", []map[string]any{{"from": "docs", "to": "docs/sub/docs"}}, nil, derrors.ErrInvalid},
		{"empty to", []map[string]any{{"from": "a.txt", "to": ""}}, nil, derrors.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newWSEnv(t)
			err := env.run(t, "fs:rename", map[string]any{"files": tt.files})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, k := range keysOf(env.tree(t)) {
				got[k] = true
			}
			want := map[string]bool{}
			for _, k := range tt.want {
				want[k] = true
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFSReadDir(t *testing.T) {
	content := func(env *testEnv, rel string) DirContent {
		return DirContent{Name: filepath.Base(rel), Path: rel, FullPath: filepath.Join(env.ws.Dir(), rel)}
	}
	tests := []struct {
		name        string
		input       map[string]any
		files, dirs []string
		wantErr     bool
	}{
		{"top", map[string]any{"paths": []string{"./"}}, []string{"a.txt", "b.md"}, []string{".hidden", "docs", "src"}, false},
		{"two paths", map[string]any{"paths": []string{"docs", "src/empty"}}, []string{"docs/keep.txt", "docs/x.md", "src/empty/.gitkeep"}, []string{"docs/sub"}, false},
		{"recursive", map[string]any{"paths": []string{"docs"}, "recursive": true}, []string{"docs/keep.txt", "docs/sub/y.md", "docs/x.md"}, []string{"docs/sub"}, false},
		{"missing", map[string]any{"paths": []string{"nope"}}, nil, nil, true},
		{"dotdot", map[string]any{"paths": []string{"../"}}, nil, nil, true},
		{"absolute", map[string]any{"paths": []string{"/etc"}}, nil, nil, true},
		{"through symlink", map[string]any{"paths": []string{"out"}}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newWSEnv(t)
			if err := os.Symlink(t.TempDir(), filepath.Join(env.ws.Dir(), "out")); err != nil {
				t.Fatal(err)
			}
			err := env.run(t, "fs:readdir", tt.input)
			if tt.wantErr {
				if err == nil {
					t.Fatal("fs:readdir succeeded, want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantFiles, wantDirs := []DirContent{}, []DirContent{}
			for _, f := range tt.files {
				wantFiles = append(wantFiles, content(env, f))
			}
			if tt.name == "top" {
				wantFiles = append(wantFiles, content(env, "out")) // a symlink is not a folder
			}
			for _, d := range tt.dirs {
				wantDirs = append(wantDirs, content(env, d))
			}
			if diff := cmp.Diff(wantFiles, env.outputs["files"]); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantDirs, env.outputs["folders"]); diff != "" {
				t.Errorf("folders (-want +got):\n%s", diff)
			}
		})
	}
}
