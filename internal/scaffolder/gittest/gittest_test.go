package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestServerPushClone pushes with the git command over HTTP and clones the
// result back, with and without required auth.
func TestServerPushClone(t *testing.T) {
	tests := []struct {
		name     string
		auth     bool // server requires basic auth
		withCred bool // the pushing client sends it
		wantPush bool
	}{
		{"open server", false, false, true},
		{"auth given", true, true, true},
		{"auth missing", true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t)
			if tt.auth {
				s.RequireBasicAuth("u", "secret")
			}
			url := s.NewBareRepo(t, "team/app.git")

			src := t.TempDir()
			s.Git(t, src, "init", "--quiet", "--initial-branch=main")
			if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("hello\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			s.Git(t, src, "add", ".")
			s.Git(t, src, "commit", "--quiet", "-m", "first")
			if tt.withCred {
				url = "http://u:secret@" + url[len("http://"):]
			}
			pushed := tryGit(s, src, "push", "--quiet", url, "main")
			if pushed != tt.wantPush {
				t.Fatalf("push succeeded = %v, want %v", pushed, tt.wantPush)
			}
			if !tt.wantPush {
				return
			}
			got, err := os.ReadFile(filepath.Join(s.Clone(t, "team/app.git"), "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "hello\n" {
				t.Errorf("README.md = %q, want %q", got, "hello\n")
			}
		})
	}
}

// tryGit runs git and reports whether it succeeded.
func tryGit(s *Server, dir string, args ...string) bool {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), s.env...)
	return cmd.Run() == nil
}

// fakeT records Fatalf instead of stopping the real test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}

func TestRepoDirRefusesEscape(t *testing.T) {
	s := NewServer(t)
	for _, name := range []string{"../x.git", "/abs.git"} {
		ft := &fakeT{}
		func() {
			defer func() { _ = recover() }()
			s.RepoDir(ft, name)
		}()
		if !ft.failed {
			t.Errorf("RepoDir(%q) did not fail", name)
		}
	}
}
