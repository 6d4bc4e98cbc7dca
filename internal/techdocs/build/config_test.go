package build

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want *Config
		// wantWarnings are substrings, one per warning, in order.
		wantWarnings []string
	}{
		{
			name: "minimal",
			yaml: "site_name: Docs\n",
			want: &Config{File: "mkdocs.yml", SiteName: "Docs", DocsDir: "docs"},
		},
		{
			name: "every key",
			yaml: `site_name: My Service
site_description: What it does
docs_dir: documentation/
repo_url: https://gitlab.com/acme/svc
edit_uri: edit/main/documentation/
nav:
  - index.md
  - Guide: guide.md
markdown_extensions:
  - admonition
  - toc:
      permalink: true
  - pymdownx.superfences
plugins:
  - techdocs-core
  - search
theme:
  name: material
extra:
  version: 1
copyright: ACME
`,
			want: &Config{
				File: "mkdocs.yml", SiteName: "My Service", SiteDescription: "What it does",
				DocsDir: "documentation", RepoURL: "https://gitlab.com/acme/svc", EditURI: "edit/main/documentation/",
				Nav:                []NavItem{{Path: "index.md"}, {Title: "Guide", Path: "guide.md"}},
				MarkdownExtensions: []string{"admonition", "toc", "pymdownx.superfences"},
				Plugins:            []string{"techdocs-core", "search"},
			},
		},
		{
			name: "nested nav with external links",
			yaml: `site_name: S
nav:
  - Home: index.md
  - Guides:
      - guides/index.md
      - Deep:
          - Deeper: guides/deep/x.md
          - ./guides/deep/../y.md
      - Upstream: https://backstage.io/docs
  - mailto:team@example.com
  - Script: javascript:alert(1)
  - Ftp: ftp://example.com/x
  - Image: img/logo.png
  - Abs: /etc/passwd.md
  - Sub: '!include ./sub/mkdocs.yml'
`,
			want: &Config{File: "mkdocs.yml", SiteName: "S", DocsDir: "docs", Nav: []NavItem{
				{Title: "Home", Path: "index.md"},
				{Title: "Guides", Children: []NavItem{
					{Path: "guides/index.md"},
					{Title: "Deep", Children: []NavItem{{Title: "Deeper", Path: "guides/deep/x.md"}, {Path: "guides/y.md"}}},
					{Title: "Upstream", URL: "https://backstage.io/docs"},
				}},
				{Title: "mailto:team@example.com", URL: "mailto:team@example.com"},
			}},
			wantWarnings: []string{
				`mkdocs.yml:11:13: nav[3].Script: expected an http(s) or mailto URL, got "javascript:alert(1)"`,
				`nav[4].Ftp: expected an http(s) or mailto URL`,
				`nav[5].Image: "img/logo.png" is not a Markdown page`,
				`nav[6].Abs: expected a path relative to docs_dir`,
				`nav[7].Sub: monorepo !include entries are not supported`,
			},
		},
		{
			name: "nav escaping docs_dir",
			yaml: "site_name: S\nnav:\n  - Secret: ../../secret.md\n  - ../x.md\n",
			want: &Config{File: "mkdocs.yml", SiteName: "S", DocsDir: "docs", Nav: []NavItem{}},
			wantWarnings: []string{
				`mkdocs.yml:3:13: nav[0].Secret: "../../secret.md" points outside docs_dir`,
				`mkdocs.yml:4:5: nav[1]: "../x.md" points outside docs_dir`,
			},
		},
		{
			name: "derived edit_uri",
			yaml: "site_name: S\nrepo_url: https://github.com/acme/svc\n",
			want: &Config{File: "mkdocs.yml", SiteName: "S", DocsDir: "docs", RepoURL: "https://github.com/acme/svc", EditURI: "edit/master/docs/"},
		},
		{
			name: "derived edit_uri follows docs_dir",
			yaml: "site_name: S\nrepo_url: https://bitbucket.org/acme/svc\ndocs_dir: site-docs\n",
			want: &Config{File: "mkdocs.yml", SiteName: "S", DocsDir: "site-docs", RepoURL: "https://bitbucket.org/acme/svc", EditURI: "src/default/site-docs/"},
		},
		{
			name: "empty edit_uri turns edit links off",
			yaml: "site_name: S\nrepo_url: https://github.com/acme/svc\nedit_uri: ''\n",
			want: &Config{File: "mkdocs.yml", SiteName: "S", DocsDir: "docs", RepoURL: "https://github.com/acme/svc"},
		},
		{
			name:         "no edit_uri for other hosts, and a bad repo_url",
			yaml:         "site_name: S\nrepo_url: javascript:alert(1)\n",
			want:         &Config{File: "mkdocs.yml", SiteName: "S", DocsDir: "docs"},
			wantWarnings: []string{`mkdocs.yml:2:11: repo_url: expected an http(s) URL, got "javascript:alert(1)"; ignored`},
		},
		{
			name: "Python tags and !ENV",
			yaml: `site_name: !ENV [SITE_NAME, Fallback Name]
site_description: !ENV DESCRIPTION
markdown_extensions:
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          format: !!python/name:os.system
  - !!python/name:evil.module
`,
			want: &Config{File: "mkdocs.yml", SiteName: "Fallback Name", DocsDir: "docs", MarkdownExtensions: []string{"pymdownx.emoji", "pymdownx.superfences"}},
			wantWarnings: []string{
				"mkdocs.yml:1:12: !ENV: environment variables are not read",
				"mkdocs.yml:2:19: !ENV: environment variables are not read",
				`mkdocs.yml:10:19: Python YAML tag "!!python/name:os.system" is not supported`,
				`mkdocs.yml:11:5: Python YAML tag "!!python/name:evil.module" is not supported`,
				`mkdocs.yml:4:3: markdown_extensions: extension "pymdownx.emoji" is not supported: its syntax shows as written`,
			},
		},
		{
			name: "unknown keys, plugins and tags",
			yaml: "site_name: S\nhooks:\n  - hooks.py\nsite_nme: typo\nplugins:\n  - techdocs-core\n  - monorepo\n  - mkdocstrings:\n      handlers: {}\nextra: !custom {a: 1}\nsite_name: S2\n",
			want: &Config{File: "mkdocs.yml", SiteName: "S2", DocsDir: "docs", Plugins: []string{"techdocs-core", "monorepo", "mkdocstrings"}},
			wantWarnings: []string{
				`mkdocs.yml:10:8: YAML tag "!custom" is not supported`,
				"mkdocs.yml:2:1: hooks: unknown key; ignored",
				"mkdocs.yml:4:1: site_nme: unknown key; ignored",
				`mkdocs.yml:6:3: plugins: plugin "mkdocstrings" is not supported; ignored`,
				"mkdocs.yml:11:1: site_name: duplicate key; the last one wins",
			},
		},
		{
			name: "plugins and extensions as mappings, anchors and aliases",
			yaml: "site_name: &n Named\nsite_description: *n\nplugins:\n  search: {}\nmarkdown_extensions:\n  toc: {permalink: true}\n  admonition: null\n",
			want: &Config{File: "mkdocs.yml", SiteName: "Named", SiteDescription: "Named", DocsDir: "docs", Plugins: []string{"search"}, MarkdownExtensions: []string{"toc", "admonition"}},
		},
		{
			name: "null nav is the default nav",
			yaml: "site_name: S\nnav:\n",
			want: &Config{File: "mkdocs.yml", SiteName: "S", DocsDir: "docs"},
		},
		{
			name: "docs_dir cleaned",
			yaml: "site_name: S\ndocs_dir: ./a//b/../c/\n",
			want: &Config{File: "mkdocs.yml", SiteName: "S", DocsDir: "a/c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := ParseConfig("mkdocs.yml", []byte(tt.yaml))
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if len(warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings = %q, want %d matching %q", warnings, len(tt.wantWarnings), tt.wantWarnings)
			}
			for i, w := range tt.wantWarnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
				}
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want ConfigError
	}{
		{"empty file", "", ConfigError{Line: 1, Column: 1, Field: "site_name", Message: "missing required key (the file is empty)"}},
		{"missing site_name", "# comment\ndocs_dir: docs\n", ConfigError{Line: 2, Column: 1, Field: "site_name", Message: "missing required key: expected the site's title"}},
		{"blank site_name", "site_name: '  '\n", ConfigError{Line: 1, Column: 1, Field: "site_name", Message: "missing required key: expected the site's title"}},
		{"site_name ignored tag", "site_name: !!python/name:x.y\n", ConfigError{Line: 1, Column: 1, Field: "site_name", Message: "missing required key: expected the site's title"}},
		{"not a mapping", "- a\n- b\n", ConfigError{Line: 1, Column: 1, Message: "expected a mapping of settings, got a list"}},
		{"site_name a list", "site_name: [a]\n", ConfigError{Line: 1, Column: 12, Field: "site_name", Message: "expected a string, got a list"}},
		{"bad indentation", "site_name: S\nnav:\n  - a.md\n - b.md\n", ConfigError{Line: 4, Column: 1, Message: "invalid YAML: did not find expected key"}},
		{"tab", "site_name: S\n\tnav: []\n", ConfigError{Line: 2, Column: 1, Message: "invalid YAML: found a tab character that violates indentation"}},
		{"unclosed quote", "site_name: \"S\nnav: []\n", ConfigError{Line: 3, Column: 1, Message: "invalid YAML: found unexpected end of stream"}},
		{"docs_dir parent", "site_name: S\ndocs_dir: ../..\n", ConfigError{Line: 2, Column: 11, Field: "docs_dir", Message: `expected a relative path to a directory inside the source directory, got "../.."`}},
		{"docs_dir escaping after clean", "site_name: S\ndocs_dir: docs/../../x\n", ConfigError{Line: 2, Column: 11, Field: "docs_dir", Message: `expected a relative path to a directory inside the source directory, got "docs/../../x"`}},
		{"docs_dir absolute", "site_name: S\ndocs_dir: /etc\n", ConfigError{Line: 2, Column: 11, Field: "docs_dir", Message: `expected a relative path to a directory inside the source directory, got "/etc"`}},
		{"docs_dir is the source dir", "site_name: S\ndocs_dir: .\n", ConfigError{Line: 2, Column: 11, Field: "docs_dir", Message: `expected a relative path to a directory inside the source directory, got "."`}},
		{"nav a mapping", "site_name: S\nnav:\n  a: b.md\n", ConfigError{Line: 3, Column: 3, Field: "nav", Message: "expected a list of nav entries, got a mapping"}},
		{"nav entry with two keys", "site_name: S\nnav:\n  - A: a.md\n    B: b.md\n", ConfigError{Line: 3, Column: 5, Field: "nav[0]", Message: "expected a single-key mapping {title: page, URL or list}, got a mapping with 2 keys"}},
		{"nav entry without target", "site_name: S\nnav:\n  - Guides:\n      - Empty:\n", ConfigError{Line: 4, Column: 15, Field: "nav[0].Guides[0].Empty", Message: "expected a page path, a URL or a list of entries, got nothing"}},
		{"nav entry a list", "site_name: S\nnav:\n  - [a.md]\n", ConfigError{Line: 3, Column: 5, Field: "nav[0]", Message: "expected a page path or a single-key mapping {title: target}, got a list"}},
		{"nav entry a number", "site_name: S\nnav:\n  - Page: 42\n", ConfigError{Line: 3, Column: 11, Field: "nav[0].Page", Message: `"42" is not a Markdown page; entry dropped`}},
		{"nav alias loop", "site_name: S\nnav: &n\n  - S: *n\n", ConfigError{Line: 2, Column: 6, Field: "nav[0]" + strings.Repeat(".S[0]", 32) + ".S", Message: "expected at most 32 levels of nav sections"}},
		{"nav alias bomb", navBomb, ConfigError{Line: 4, Column: 20, Field: "nav[0].x[0].x[1].x[1].x[0].x[0].x[0].x[0].x[1].x[1].x[0].x[1].x[0].x[0].x", Message: "expected at most 50000 nav entries"}},
		{"extensions a string", "site_name: S\nmarkdown_extensions: toc\n", ConfigError{Line: 2, Column: 22, Field: "markdown_extensions", Message: `expected a list of names, got the string "toc"`}},
		{"extension entry a list", "site_name: S\nplugins:\n  - [a]\n", ConfigError{Line: 3, Column: 5, Field: "plugins[0]", Message: "expected a name or a single-key mapping {name: options}, got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseConfig("mkdocs.yml", []byte(tt.yaml))
			if tt.name == "nav entry a number" {
				// Not an error: a warning. Checked here to keep the
				// table of nav shapes in one place.
				if err != nil {
					t.Fatalf("err = %v, want a warning", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			want := tt.want
			want.File = "mkdocs.yml"
			if diff := cmp.Diff(&want, ce); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("errors.Is(err, derrors.ErrInvalid) = false")
			}
			if !strings.HasPrefix(err.Error(), "mkdocs.yml:") {
				t.Errorf("Error() = %q, want it to start with the file name", err.Error())
			}
		})
	}
}

// navBomb is a nav of 2^17 entries in 20 lines.
var navBomb = func() string {
	var b strings.Builder
	b.WriteString("site_name: S\nl0: &l0 [a.md, b.md]\n")
	for i := 1; i <= 16; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [{x: *l%d}, {x: *l%d}]\n", i, i, i-1, i-1)
	}
	b.WriteString("nav: *l16\n")
	return b.String()
}()

func TestReadConfig(t *testing.T) {
	t.Run("mkdocs.yaml wins over mkdocs.yml, as in Backstage", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "mkdocs.yml", "site_name: yml\n")
		write(t, dir, "mkdocs.yaml", "site_name: yaml\n")
		cfg, _, err := ReadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.File != "mkdocs.yaml" || cfg.SiteName != "yaml" {
			t.Errorf("read %s (site_name %q), want mkdocs.yaml", cfg.File, cfg.SiteName)
		}
	})
	t.Run("no file: Backstage's defaults", func(t *testing.T) {
		cfg, warnings, err := ReadConfig(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&Config{DocsDir: "docs"}, cfg); diff != "" || warnings != nil {
			t.Errorf("config (-want +got):\n%s\nwarnings %q", diff, warnings)
		}
	})
	t.Run("error names the file", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "mkdocs.yaml", "docs_dir: x\n")
		_, _, err := ReadConfig(dir)
		if err == nil || !strings.HasPrefix(err.Error(), "mkdocs.yaml:1:1: site_name: missing required key") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "mkdocs.yml", "site_name: S\n"+strings.Repeat("#", maxConfigBytes))
		if _, _, err := ReadConfig(dir); err == nil || !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("err = %v, want an invalid-input error", err)
		}
	})
}
