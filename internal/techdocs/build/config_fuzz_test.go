package build

import (
	"errors"
	"os"
	"path"
	"strings"
	"testing"
)

// FuzzParseConfig checks that no mkdocs.yml makes ParseConfig panic, that
// every failure is a *ConfigError with a position, and that whatever it
// accepts stays inside docs_dir.
func FuzzParseConfig(f *testing.F) {
	if seed, err := os.ReadFile("testdata/site-basic/mkdocs.yml"); err == nil {
		f.Add(seed)
	}
	for _, s := range []string{
		"site_name: S\n",
		"site_name: S\ndocs_dir: ../..\n",
		"site_name: !ENV [A, B]\nnav:\n  - A: a.md\n  - B:\n      - b/c.md\n      - X: https://x\n",
		"site_name: S\nmarkdown_extensions:\n  - toc:\n      permalink: true\n  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n",
		"a: &a [*a]\nsite_name: *a\n",
		"site_name: S\nnav: [{A: ../x.md}, {B: [c.md, {D: !include x}]}]\n",
		"\t",
		"site_name: \"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := ParseConfig("mkdocs.yml", data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Line < 1 || ce.Column < 1 || ce.File != "mkdocs.yml" {
				t.Fatalf("err = %#v, want a *ConfigError with a position", err)
			}
			return
		}
		if strings.TrimSpace(cfg.SiteName) == "" {
			t.Fatalf("accepted an empty site_name")
		}
		if !local(cfg.DocsDir) || cfg.DocsDir == "." {
			t.Fatalf("docs_dir %q leaves the source directory", cfg.DocsDir)
		}
		checkNav(t, cfg.Nav)
	})
}

func checkNav(t *testing.T, items []NavItem) {
	for _, it := range items {
		if it.Path != "" && (!local(it.Path) || !isMarkdown(it.Path)) {
			t.Fatalf("nav path %q is not a Markdown page inside docs_dir", it.Path)
		}
		if it.URL != "" && !strings.HasPrefix(it.URL, "http:") && !strings.HasPrefix(it.URL, "https:") && !strings.HasPrefix(it.URL, "mailto:") {
			t.Fatalf("nav URL %q has an unsafe scheme", it.URL)
		}
		checkNav(t, it.Children)
	}
}

// local reports whether p is a clean relative path that stays below its base.
func local(p string) bool {
	return p != "" && path.Clean(p) == p && !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../")
}
