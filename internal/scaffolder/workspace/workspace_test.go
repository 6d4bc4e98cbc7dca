package workspace

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func newWS(t *testing.T, limits Limits) *Workspace {
	t.Helper()
	w, err := New(filepath.Join(t.TempDir(), "ws"), limits)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestResolve(t *testing.T) {
	w := newWS(t, Limits{})
	outside := t.TempDir()
	mustMkdir(t, filepath.Join(w.Dir(), "a", "b"))
	mustSymlink(t, "/", filepath.Join(w.Dir(), "toroot"))
	mustSymlink(t, "..", filepath.Join(w.Dir(), "toparent"))
	mustSymlink(t, outside, filepath.Join(w.Dir(), "tooutside"))
	mustSymlink(t, "toparent", filepath.Join(w.Dir(), "chain"))
	mustSymlink(t, "a/b", filepath.Join(w.Dir(), "inside"))
	mustSymlink(t, "b/../../toroot", filepath.Join(w.Dir(), "a", "sneaky"))
	mustSymlink(t, "nothing-here", filepath.Join(w.Dir(), "dangling"))

	tests := []struct {
		name, rel string
		want      string // relative to the root; "" means an error
	}{
		{"empty is root", "", "."},
		{"dot", ".", "."},
		{"plain", "a/b/c.txt", "a/b/c.txt"},
		{"dot slash", "./a/./b", "a/b"},
		{"inner dotdot", "a/../a/b", "a/b"},
		{"trailing slash", "a/", "a"},
		{"symlink inside", "inside/x", "inside/x"},
		{"dangling inside", "dangling", "dangling"},
		{"not yet existing", "new/dir/file", "new/dir/file"},
		{"dotdot", "..", ""},
		{"dotdot x", "../x", ""},
		{"climb out", "a/../../x", ""},
		{"deep climb", "a/b/../../../etc", ""},
		{"absolute", "/etc/passwd", ""},
		{"NUL", "a\x00b", ""},
		{"symlink to /", "toroot/etc/passwd", ""},
		{"symlink to /, last", "toroot", ""},
		{"symlink to parent", "toparent/x", ""},
		{"symlink outside", "tooutside/f", ""},
		{"symlink chain", "chain/x", ""},
		{"nested symlink climbing", "a/sneaky/etc", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.Resolve(tt.rel)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Resolve(%q) = %q, want error", tt.rel, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.rel, err)
			}
			if want := filepath.Join(w.Dir(), tt.want); got != want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.rel, got, want)
			}
		})
	}
}

// TestOperationsRefuseEscapes checks that every method, not only Resolve,
// refuses hostile paths, including symlinks planted after any check.
func TestOperationsRefuseEscapes(t *testing.T) {
	w := newWS(t, Limits{})
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, outside, filepath.Join(w.Dir(), "out"))
	mustSymlink(t, secret, filepath.Join(w.Dir(), "secretlink"))

	for _, rel := range []string{"../x", "/tmp/x", "a\x00b", "out/x", "out/secret"} {
		if err := w.WriteFile(rel, []byte("x"), 0o644); err == nil {
			t.Errorf("WriteFile(%q) succeeded", rel)
		}
		if _, err := w.ReadFile(rel); err == nil {
			t.Errorf("ReadFile(%q) succeeded", rel)
		}
		if err := w.MkdirAll(rel+"/d", 0o755); err == nil {
			t.Errorf("MkdirAll(%q) succeeded", rel)
		}
		if _, err := w.ReadDir(rel); err == nil {
			t.Errorf("ReadDir(%q) succeeded", rel)
		}
		if err := w.Rename("secretlink", rel, true); err == nil && rel != "out/secret" {
			t.Errorf("Rename to %q succeeded", rel)
		}
	}
	if _, err := w.ReadFile("secretlink"); err == nil {
		t.Error("ReadFile through a symlink to an outside file succeeded")
	}
	if err := w.Remove("out/secret"); err == nil {
		t.Error("Remove through a symlink succeeded")
	}
	// Writing over a symlink replaces the link; it never writes through it.
	if err := w.WriteFile("secretlink", []byte("overwritten"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "s" {
		t.Errorf("outside file changed to %q", b)
	}
	// A directory swapped for a symlink after Resolve approved the path:
	// the write goes through the root and must fail.
	if err := w.MkdirAll("swap", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Resolve("swap/f"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(w.Dir(), "swap")); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, outside, filepath.Join(w.Dir(), "swap"))
	if err := w.WriteFile("swap/f", []byte("x"), 0o644); err == nil {
		t.Error("WriteFile through a swapped-in symlink succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "f")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file appeared outside the workspace: %v", err)
	}
}

func TestFileOperations(t *testing.T) {
	w := newWS(t, Limits{})
	if err := w.WriteFile("a/b/c.txt", []byte("hello"), 0o640); err != nil {
		t.Fatal(err)
	}
	fi, err := w.Stat("a/b/c.txt")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}
	if err := w.WriteFile("a/d.sh", []byte("#!/bin/sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := w.Rename("a/b", "x/y", false); err != nil {
		t.Fatal(err)
	}
	if err := w.Rename("a/d.sh", "x/y/c.txt", false); err == nil {
		t.Error("Rename onto an existing file without overwrite succeeded")
	}
	if err := w.Rename("a/d.sh", "x/y/c.txt", true); err != nil {
		t.Fatal(err)
	}
	if err := w.Rename("missing", "z", true); err == nil {
		t.Error("Rename of a missing file succeeded")
	}
	var got []string
	if err := w.Walk(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		got = append(got, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{".", "a", "x", "x/y", "x/y/c.txt"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if b, err := w.ReadFile("x/y/c.txt"); err != nil || string(b) != "#!/bin/sh" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if files, bytes := w.Usage(); files != 1 || bytes != 9 {
		t.Errorf("Usage = %d, %d; want 1, 9", files, bytes)
	}
	if err := w.Remove("x"); err != nil {
		t.Fatal(err)
	}
	if err := w.Remove("x"); err != nil {
		t.Errorf("Remove of a missing path: %v", err)
	}
	if err := w.Remove("."); err == nil {
		t.Error("Remove of the root succeeded")
	}
	if files, bytes := w.Usage(); files != 0 || bytes != 0 {
		t.Errorf("Usage after remove = %d, %d; want 0, 0", files, bytes)
	}
}

func TestLimits(t *testing.T) {
	t.Run("files", func(t *testing.T) {
		w := newWS(t, Limits{MaxFiles: 3, MaxBytes: 1 << 20})
		for i := range 3 {
			if err := w.WriteFile(string(rune('a'+i)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Overwriting does not take a new slot.
		if err := w.WriteFile("a", []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := w.WriteFile("d", nil, 0o644)
		if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "at most 3 files") {
			t.Fatalf("4th file: err = %v, want ErrLimit naming the limit", err)
		}
		if err := w.Remove("a"); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFile("d", nil, 0o644); err != nil {
			t.Errorf("after freeing a slot: %v", err)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		w := newWS(t, Limits{MaxFiles: 10, MaxBytes: 100})
		if err := w.WriteFile("a", make([]byte, 60), 0o644); err != nil {
			t.Fatal(err)
		}
		err := w.WriteFile("b", make([]byte, 41), 0o644)
		if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "at most 100 bytes") {
			t.Fatalf("err = %v, want ErrLimit naming the limit", err)
		}
		if ok, _ := w.Exists("b"); ok {
			t.Error("partial file left behind")
		}
		if files, bytes := w.Usage(); files != 1 || bytes != 60 {
			t.Errorf("Usage = %d, %d; want 1, 60", files, bytes)
		}
		// Replacing a file frees its old bytes first.
		if err := w.WriteFile("a", make([]byte, 100), 0o644); err != nil {
			t.Errorf("replace within budget: %v", err)
		}
	})
	t.Run("existing content counts", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 50), 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := New(dir, Limits{MaxFiles: 10, MaxBytes: 60})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.WriteFile("more", make([]byte, 11), 0o644); !errors.Is(err, ErrLimit) {
			t.Errorf("err = %v, want ErrLimit", err)
		}
	})
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", ".", "a/b", "../x", "a/../../x", "/etc/passwd", "a\x00b", "toroot/x", "a//b/./c/..", `a\..\..\x`, "inside/../../x"} {
		f.Add(s)
	}
	dir := filepath.Join(f.TempDir(), "ws")
	w, err := New(dir, Limits{})
	if err != nil {
		f.Fatal(err)
	}
	defer w.Close()
	mustMkdir(f, filepath.Join(dir, "a", "b"))
	mustSymlink(f, "/", filepath.Join(dir, "toroot"))
	mustSymlink(f, "a/b", filepath.Join(dir, "inside"))
	f.Fuzz(func(t *testing.T, rel string) {
		got, err := w.Resolve(rel)
		if err != nil {
			return
		}
		if strings.ContainsRune(rel, 0) || filepath.IsAbs(rel) {
			t.Fatalf("Resolve(%q) accepted a NUL or absolute path", rel)
		}
		if got != w.Dir() && !strings.HasPrefix(got, w.Dir()+string(filepath.Separator)) {
			t.Fatalf("Resolve(%q) = %q, outside %q", rel, got, w.Dir())
		}
		// Whatever exists at the answer must really be inside the root.
		if real, err := filepath.EvalSymlinks(got); err == nil {
			if real != w.Dir() && !strings.HasPrefix(real, w.Dir()+string(filepath.Separator)) {
				t.Fatalf("Resolve(%q) = %q, which leads to %q outside the root", rel, got, real)
			}
		}
	})
}

func mustMkdir(t testing.TB, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
