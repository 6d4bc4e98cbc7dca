package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func TestFallbacks(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		siteName  string
		wantName  string
		wantIndex string // the <h1> of index.html
		wantFiles []string
		wantWarn  string
	}{
		{
			name:      "no mkdocs.yml, docs/index.md",
			files:     map[string]string{"docs/index.md": "# Docs index\n", "docs/more.md": "# More\n", "README.md": "# Root readme\n"},
			siteName:  "My Component",
			wantName:  "My Component",
			wantIndex: "Docs index",
			wantFiles: []string{"index.html", "more/index.html"},
		},
		{
			name:      "only docs/README.md",
			files:     map[string]string{"docs/README.md": "# Docs readme\n", "README.md": "# Root readme\n"},
			wantName:  "Documentation Site",
			wantIndex: "Docs readme",
			wantFiles: []string{"index.html"},
		},
		{
			name:      "only docs/readme.md, lowercase",
			files:     map[string]string{"docs/readme.md": "# Lower readme\n"},
			siteName:  "S",
			wantName:  "S",
			wantIndex: "Lower readme",
			wantFiles: []string{"index.html", "readme/index.html"}, // copied, as Backstage does
			wantWarn:  "using docs/readme.md as the index page",
		},
		{
			name:      "only README.md at the root",
			files:     map[string]string{"README.md": "# Root readme\n[docs](docs/x.md)\n", "catalog-info.yaml": "kind: Component\n"},
			siteName:  "S",
			wantName:  "S",
			wantIndex: "Root readme",
			wantFiles: []string{"index.html"},
			wantWarn:  "using README.md as the index page",
		},
		{
			name:      "mkdocs.yml without index: root README.md too",
			files:     map[string]string{"mkdocs.yml": "site_name: From Config\n", "docs/page.md": "# Page\n", "README.md": "# Root readme\n"},
			siteName:  "ignored",
			wantName:  "From Config",
			wantIndex: "Root readme",
			wantFiles: []string{"index.html", "page/index.html"},
			wantWarn:  "docs/index.md not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			for name, content := range tt.files {
				write(t, src, name, content)
			}
			out, res, _ := buildSite(t, src, Options{SiteName: tt.siteName})
			if res.Site.SiteName != tt.wantName {
				t.Errorf("site name = %q, want %q", res.Site.SiteName, tt.wantName)
			}
			if index := string(readOut(t, out, "index.html")); !strings.Contains(index, "<h1>"+tt.wantIndex+"</h1>") {
				t.Errorf("index.html is not %q:\n%s", tt.wantIndex, index)
			}
			var pages []string
			for _, f := range listFiles(t, out) {
				if strings.HasSuffix(f, ".html") {
					pages = append(pages, f)
				}
			}
			if diff := cmp.Diff(tt.wantFiles, pages); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
			if tt.wantWarn != "" && !containsSubstring(res.Warnings, tt.wantWarn) {
				t.Errorf("warnings %q lack %q", res.Warnings, tt.wantWarn)
			}
		})
	}
}

func TestNoMarkdownIsAnError(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"empty":              {},
		"docs without pages": {"docs/logo.png": "png", "catalog-info.yaml": "x"},
		"mkdocs.yml only":    {"mkdocs.yml": "site_name: S\n"},
	} {
		t.Run(name, func(t *testing.T) {
			src := t.TempDir()
			for n, c := range files {
				write(t, src, n, c)
			}
			out := filepath.Join(t.TempDir(), "site")
			_, err := Build(context.Background(), src, out, Options{Renderer: newFakeRenderer().Render})
			if err == nil || !strings.Contains(err.Error(), "no Markdown pages found in docs/") || !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("err = %v, want an invalid-input error about no Markdown", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output directory exists after a failed build")
			}
		})
	}
}

func TestHiddenFilesSkipped(t *testing.T) {
	src := t.TempDir()
	write(t, src, "docs/index.md", "# Home\n")
	write(t, src, "docs/.hidden.md", "# Hidden\n")
	write(t, src, "docs/.git/config", "[core]\n")
	write(t, src, "docs/sub/.DS_Store", "x")
	write(t, src, "docs/sub/page.md", "# Page\n")
	out, _, _ := buildSite(t, src, Options{})
	want := []string{"atrium/site.json", "index.html", "search/search_index.json", "sub/page/index.html", "techdocs_metadata.json"}
	if diff := cmp.Diff(want, listFiles(t, out)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

// failBuild runs a build that must fail and checks that it leaves no
// output behind, returning the error.
func failBuild(t *testing.T, ctx context.Context, src string, opts Options) error {
	t.Helper()
	if opts.Renderer == nil {
		opts.Renderer = newFakeRenderer().Render
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "site")
	_, err := Build(ctx, src, out, opts)
	if err == nil {
		t.Fatalf("Build succeeded, want an error")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("a failed build left %v in the output's parent directory", entries)
	}
	return err
}

func TestHostileSources(t *testing.T) {
	t.Run("symlink to /etc/passwd inside docs", func(t *testing.T) {
		src := t.TempDir()
		write(t, src, "docs/index.md", "# Home\n")
		symlink(t, "/etc/passwd", filepath.Join(src, "docs", "passwd.md"))
		err := failBuild(t, context.Background(), src, Options{})
		if !strings.Contains(err.Error(), "docs/passwd.md: symbolic link resolves outside the source directory") || !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("relative symlink climbing out of the source", func(t *testing.T) {
		base := t.TempDir()
		write(t, base, "secret.txt", "secret")
		src := filepath.Join(base, "src")
		write(t, src, "docs/index.md", "# Home\n")
		symlink(t, "../../secret.txt", filepath.Join(src, "docs", "secret.png"))
		err := failBuild(t, context.Background(), src, Options{})
		if !strings.Contains(err.Error(), "docs/secret.png: symbolic link resolves outside") {
			t.Errorf("err = %v", err)
		}
		if _, err := SourceDigest(src); err == nil {
			t.Errorf("SourceDigest read through the symlink")
		}
	})
	t.Run("symlinked docs_dir pointing outside", func(t *testing.T) {
		outside := t.TempDir()
		write(t, outside, "index.md", "# Outside\n")
		src := t.TempDir()
		symlink(t, outside, filepath.Join(src, "docs"))
		err := failBuild(t, context.Background(), src, Options{})
		if !strings.Contains(err.Error(), `docs: symbolic link resolves outside the source directory`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("symlinked mkdocs.yml pointing outside", func(t *testing.T) {
		outside := t.TempDir()
		write(t, outside, "mkdocs.yml", "site_name: S\n")
		src := t.TempDir()
		write(t, src, "docs/index.md", "# Home\n")
		symlink(t, filepath.Join(outside, "mkdocs.yml"), filepath.Join(src, "mkdocs.yml"))
		err := failBuild(t, context.Background(), src, Options{})
		if !strings.Contains(err.Error(), "cannot read mkdocs.yml") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("symlinked README fallback pointing outside", func(t *testing.T) {
		src := t.TempDir()
		symlink(t, "/etc/passwd", filepath.Join(src, "README.md"))
		err := failBuild(t, context.Background(), src, Options{})
		if !strings.Contains(err.Error(), "README.md: symbolic link resolves outside") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("symlinks inside the source are followed", func(t *testing.T) {
		src := t.TempDir()
		write(t, src, "docs/index.md", "# Home\n")
		write(t, src, "shared/guide.md", "# Shared guide\n")
		symlink(t, "../shared", filepath.Join(src, "docs", "shared"))
		symlink(t, "index.md", filepath.Join(src, "docs", "home.md"))
		symlink(t, "..", filepath.Join(src, "docs", "shared", "loop")) // shared/loop -> src: holds docs/shared again
		symlink(t, "nowhere.md", filepath.Join(src, "docs", "dangling.md"))
		out, res, _ := buildSite(t, src, Options{})
		files := listFiles(t, out)
		for _, f := range []string{"shared/guide/index.html", "home/index.html"} {
			if !slices.Contains(files, f) {
				t.Errorf("files %q lack %s", files, f)
			}
		}
		for _, w := range []string{"docs/dangling.md: symbolic link to a missing file", "loops back to a parent directory"} {
			if !containsSubstring(res.Warnings, w) {
				t.Errorf("warnings %q lack %q", res.Warnings, w)
			}
		}
	})
	t.Run("docs_dir: ../..", func(t *testing.T) {
		src := t.TempDir()
		write(t, src, "mkdocs.yml", "site_name: S\ndocs_dir: ../..\n")
		err := failBuild(t, context.Background(), src, Options{})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "docs_dir" || ce.Line != 2 {
			t.Errorf("err = %v, want a ConfigError on docs_dir at line 2", err)
		}
	})
	t.Run("nav entry ../../secret.md", func(t *testing.T) {
		base := t.TempDir()
		write(t, base, "secret.md", "# Secret\n")
		src := filepath.Join(base, "a", "src")
		write(t, src, "mkdocs.yml", "site_name: S\nnav:\n  - Home: index.md\n  - Secret: ../../secret.md\n")
		write(t, src, "docs/index.md", "# Home\n")
		out, res, _ := buildSite(t, src, Options{})
		if len(res.Site.Nav) != 1 || !containsSubstring(res.Warnings, `"../../secret.md" points outside docs_dir; entry dropped`) {
			t.Errorf("nav = %+v, warnings %q", res.Site.Nav, res.Warnings)
		}
		assertNotInSite(t, out, "Secret")
	})
	t.Run("markup in names and titles is escaped", func(t *testing.T) {
		src := t.TempDir()
		write(t, src, "mkdocs.yml", `site_name: "<script>alert('site')</script>"
site_description: "\"><img src=x onerror=alert(1)>"
nav:
  - "<b>Home</b>": index.md
  - "<script>alert.md"
  - "Out<script>": "https://example.com/?q=<script>"
`)
		write(t, src, "docs/index.md", "# <script>alert('title')</script>\n[x](<script>alert.md)\n")
		write(t, src, "docs/<script>alert.md", "# Page <img src=x onerror=alert(2)>\n## <script>h</script>\ntext\n")
		out, res, _ := buildSite(t, src, Options{})
		if res.Pages != 2 {
			t.Fatalf("pages = %d, want 2", res.Pages)
		}
		for _, f := range listFiles(t, out) {
			body := strings.ToLower(string(readOut(t, out, f)))
			for _, bad := range []string{"<script", "<img src=x", "<b>"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s contains %q unescaped", f, bad)
				}
			}
		}
		page := string(readOut(t, out, "<script>alert/index.html"))
		if !strings.Contains(page, `<a class="md-nav__link md-nav__link--active" href="./">Page &lt;img src=x onerror=alert(2)&gt;</a>`) {
			t.Errorf("page's nav entry not escaped:\n%s", page)
		}
		index := string(readOut(t, out, "index.html"))
		if !strings.Contains(index, "<title>&lt;b&gt;Home&lt;/b&gt; - &lt;script&gt;alert(&#39;site&#39;)&lt;/script&gt;</title>") {
			t.Errorf("index.html title not escaped as expected:\n%s", index)
		}
		if !strings.Contains(index, `<a href="%3Cscript%3Ealert/">x</a>`) {
			t.Errorf("link to the page not percent-encoded:\n%s", index)
		}
	})
	t.Run("MaxFiles exceeded", func(t *testing.T) {
		src := t.TempDir()
		for i := range 5 {
			write(t, src, "docs/p"+string(rune('a'+i))+".md", "x")
		}
		err := failBuild(t, context.Background(), src, Options{MaxFiles: 4})
		if !strings.Contains(err.Error(), "docs holds more than 4 files, the limit") || !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("MaxBytes exceeded", func(t *testing.T) {
		src := t.TempDir()
		write(t, src, "docs/index.md", "# Home\n")
		write(t, src, "docs/big.bin", strings.Repeat("x", 2000))
		err := failBuild(t, context.Background(), src, Options{MaxBytes: 1000})
		if !strings.Contains(err.Error(), "docs holds more than 1000 bytes, the limit") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("output directory holding the source", func(t *testing.T) {
		src := t.TempDir()
		write(t, src, "docs/index.md", "# Home\n")
		for _, out := range []string{src, filepath.Dir(src)} {
			_, err := Build(context.Background(), src, out, Options{Renderer: newFakeRenderer().Render})
			if err == nil || !strings.Contains(err.Error(), "contains the source directory") {
				t.Errorf("Build into %s: err = %v", out, err)
			}
		}
		if _, err := os.Stat(filepath.Join(src, "docs", "index.md")); err != nil {
			t.Errorf("source damaged: %v", err)
		}
	})
}

func TestCancelMidBuild(t *testing.T) {
	src := t.TempDir()
	write(t, src, "mkdocs.yml", "site_name: S\n")
	for i := range 200 {
		write(t, src, filepathf("docs/dir%d/page%d.md", i%7, i), "# Page\ntext\n")
	}
	write(t, src, "docs/index.md", "# Home\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFakeRenderer()
	var after atomic.Int32
	f.onRender = func(call int) {
		if call == 20 {
			cancel()
		}
		if call > 20 {
			after.Add(1)
		}
	}
	err := failBuild(t, ctx, src, Options{Renderer: f.Render, Workers: 2})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := after.Load(); n > 4 {
		t.Errorf("%d pages rendered after cancel, want the workers to stop", n)
	}
}

func TestFailedBuildKeepsOldSite(t *testing.T) {
	src := t.TempDir()
	write(t, src, "docs/index.md", "# Home\n")
	out := filepath.Join(t.TempDir(), "site")
	write(t, out, "index.html", "old site")
	_, err := Build(context.Background(), src, out, Options{Renderer: func([]byte, func(string, bool) string) (*RenderedPage, error) {
		return nil, errors.New("renderer broke")
	}})
	if err == nil || !strings.Contains(err.Error(), "rendering index.md") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "index.html")); string(got) != "old site" {
		t.Errorf("old site gone after a failed build: %q", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("left beside the site: %v", entries)
	}
}

func filepathf(format string, args ...any) string {
	return filepath.FromSlash(strings.ReplaceAll(fmt.Sprintf(format, args...), "\\", "/"))
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}

// assertNotInSite fails if any file of the site contains s.
func assertNotInSite(t *testing.T, out, s string) {
	t.Helper()
	for _, f := range listFiles(t, out) {
		if strings.Contains(string(readOut(t, out, f)), s) {
			t.Errorf("%s contains %q", f, s)
		}
	}
}
