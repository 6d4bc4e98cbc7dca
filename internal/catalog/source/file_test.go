package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeTree creates files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFileReaderRead(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"catalog-info.yaml":        "kind: A\n",
		"services/a/catalog.yaml":  "kind: B\n",
		"services/b/catalog.yaml":  "kind: C\n",
		"services/b/notes.txt":     "x",
		"teams/platform.yaml":      "kind: Group\n",
		"teams/nested/deep/x.yaml": "kind: D\n",
	})
	tests := []struct {
		name   string
		target string
		want   []string // relative to dir
	}{
		{"plain path", "catalog-info.yaml", []string{"catalog-info.yaml"}},
		{"star", "services/*/catalog.yaml", []string{"services/a/catalog.yaml", "services/b/catalog.yaml"}},
		{"double star", "**/*.yaml", []string{
			"catalog-info.yaml", "services/a/catalog.yaml", "services/b/catalog.yaml",
			"teams/nested/deep/x.yaml", "teams/platform.yaml",
		}},
		{"alternatives", "{teams,services/a}/*.yaml", []string{"services/a/catalog.yaml", "teams/platform.yaml"}},
		{"star does not match directories", "services/*", []string{}},
		{"question mark", "services/?/notes.txt", []string{"services/b/notes.txt"}},
		{"glob without matches", "nothing/**/*.yaml", []string{}},
		{"glob in missing directory", "missing/*.yaml", []string{}},
	}
	r := &FileReader{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := r.Read(context.Background(), filepath.Join(dir, tt.target))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			got := []string{}
			for _, f := range files {
				rel, err := filepath.Rel(dir, f.Path)
				if err != nil || !filepath.IsAbs(f.Path) {
					t.Errorf("Path %q is not absolute under %s", f.Path, dir)
				}
				got = append(got, filepath.ToSlash(rel))
				want, _ := os.ReadFile(f.Path)
				if string(f.Data) != string(want) {
					t.Errorf("Data of %s = %q, want %q", rel, f.Data, want)
				}
				sum := sha256.Sum256(want)
				if f.ETag != hex.EncodeToString(sum[:]) {
					t.Errorf("ETag of %s = %q", rel, f.ETag)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read(%q) paths (-want +got):\n%s", tt.target, diff)
			}
		})
	}
}

func TestFileReaderErrors(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"sub/a.yaml": "kind: A\n", "small.yaml": strings.Repeat("x", 101)})
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(20 << 20); err != nil { // sparse, 20 MB
		t.Fatal(err)
	}
	f.Close()

	tests := []struct {
		name   string
		reader *FileReader
		target string
		is     error  // errors.Is target, if any
		msg    string // substring of the message
	}{
		{"missing file", &FileReader{}, filepath.Join(dir, "missing.yaml"), fs.ErrNotExist, "missing.yaml"},
		{"missing directory", &FileReader{}, filepath.Join(dir, "nope", "a.yaml"), fs.ErrNotExist, "a.yaml"},
		{"directory", &FileReader{}, filepath.Join(dir, "sub"), nil, "is a directory"},
		{"empty target", &FileReader{}, "", nil, "empty target"},
		{"20 MB over the default limit", &FileReader{}, big, ErrTooLarge, "big.yaml: file is 20971520 bytes, exceeds the limit of 10485760 bytes"},
		{"glob match over the limit", &FileReader{Limits: Limits{MaxBytes: 100}}, filepath.Join(dir, "*.yaml"), ErrTooLarge, "exceeds the limit of 100 bytes"},
		{"invalid glob", &FileReader{}, filepath.Join(dir, "[a.yaml"), nil, "invalid glob pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := tt.reader.Read(context.Background(), tt.target)
			if err == nil {
				t.Fatalf("Read(%q) = %d files, want an error", tt.target, len(files))
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Read error %v does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Read error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestFileReaderCanceled(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a/b.yaml": "x"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&FileReader{}).Read(ctx, filepath.Join(dir, "**/*.yaml")); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with canceled context = %v, want context.Canceled", err)
	}
}

func TestFileReaderRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeTree(t, base, map[string]string{
		"outside.yaml":          "secret: 1\n",
		"outside-dir/x.yaml":    "secret: 2\n",
		"root/catalog.yaml":     "kind: A\n",
		"root/sub/inside.yaml":  "kind: B\n",
		"root/sub/other.yaml":   "kind: C\n",
		"root/linked/keep.yaml": "kind: D\n",
	})
	mustSymlink(t, filepath.Join(base, "outside.yaml"), filepath.Join(root, "sub", "escape.yaml"))
	mustSymlink(t, filepath.Join(base, "outside-dir"), filepath.Join(root, "escape-dir"))
	// os.Root follows only relative symlinks that stay inside the root.
	mustSymlink(t, "sub/inside.yaml", filepath.Join(root, "internal-link.yaml"))
	mustSymlink(t, "sub", filepath.Join(root, "sub-link"))
	mustSymlink(t, filepath.Join(root, "catalog.yaml"), filepath.Join(root, "linked", "absolute.yaml"))

	r := &FileReader{Root: root}
	okTests := []struct {
		name   string
		target string
		want   []string // relative to root
	}{
		{"relative target", "catalog.yaml", []string{"catalog.yaml"}},
		{"absolute target inside", filepath.Join(root, "sub", "inside.yaml"), []string{"sub/inside.yaml"}},
		{"dot-dot staying inside", "sub/../catalog.yaml", []string{"catalog.yaml"}},
		{"symlink inside the root", "internal-link.yaml", []string{"internal-link.yaml"}},
		{"glob skips symlinked directories", "sub-*", []string{}},
		{"symlinked directory inside the root", "sub-link/other.yaml", []string{"sub-link/other.yaml"}},
		{"glob does not descend into symlinked directories", "**/other.yaml", []string{"sub/other.yaml"}},
	}
	for _, tt := range okTests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := r.Read(context.Background(), tt.target)
			if err != nil {
				t.Fatalf("Read(%q): %v", tt.target, err)
			}
			got := []string{}
			for _, f := range files {
				rel, _ := filepath.Rel(root, f.Path)
				got = append(got, filepath.ToSlash(rel))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read(%q) (-want +got):\n%s", tt.target, diff)
			}
		})
	}

	badTests := []struct {
		name   string
		target string
	}{
		{"dot-dot out of the root", "../outside.yaml"},
		{"absolute path outside", filepath.Join(base, "outside.yaml")},
		{"symlinked file escaping", "sub/escape.yaml"},
		{"symlinked directory escaping", "escape-dir/x.yaml"},
		{"glob matching an escaping symlink", "sub/*.yaml"},
		{"glob below an escaping symlink", "escape-dir/*.yaml"},
		{"glob matching an escaping directory symlink", "escape-*"},
		{"absolute symlink, even to inside", "linked/absolute.yaml"},
	}
	for _, tt := range badTests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := r.Read(context.Background(), tt.target)
			if !errors.Is(err, ErrNotAllowed) {
				t.Errorf("Read(%q) = %d files, error %v; want ErrNotAllowed", tt.target, len(files), err)
			}
		})
	}
}

func mustSymlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Skipf("symlinks not supported: %v", err)
	}
}
