package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// configFiles are the names an MkDocs configuration may have, in the order
// Backstage looks for them.
var configFiles = []string{"mkdocs.yaml", "mkdocs.yml"}

// maxConfigBytes bounds mkdocs.yml: real ones are a few kilobytes.
const maxConfigBytes = 1 << 20

// defaultDocsDir is MkDocs' docs_dir when none is configured.
const defaultDocsDir = "docs"

// Config is the part of an mkdocs.yml that the builder uses. Keys it does
// not use (theme, extra, copyright, ...) are tolerated and not kept.
type Config struct {
	// File is the configuration file read, "mkdocs.yaml" or "mkdocs.yml",
	// or "" when the source has none and Backstage's defaults apply.
	File string
	// SiteName is site_name, the title of the whole site. It is required
	// in a configuration file; without one, Build uses Options.SiteName.
	SiteName string
	// SiteDescription is site_description, stored in the metadata.
	SiteDescription string
	// DocsDir is docs_dir, slash-separated and relative to the source
	// directory, "docs" by default. It never leaves the source directory.
	DocsDir string
	// RepoURL is repo_url, kept only when it is an http(s) URL.
	RepoURL string
	// EditURI is edit_uri as configured or, when absent and RepoURL is on
	// github.com, gitlab.com or bitbucket.org, derived as MkDocs does
	// ("edit/master/docs/", "src/default/docs/"), with the actual docs_dir.
	EditURI string
	// Nav is the configured nav, or nil when mkdocs.yml has none and the
	// default nav (every page, index first, then by name) applies.
	Nav []NavItem
	// MarkdownExtensions are the names listed under markdown_extensions,
	// without their options, for the Renderer to honour what it can.
	MarkdownExtensions []string
	// Plugins are the names listed under plugins.
	Plugins []string
}

// NavItem is one entry of the nav: a page, an external link, or a section
// holding more entries.
type NavItem struct {
	// Title is the title written in the nav, or "" for a bare page path,
	// whose title then comes from the page.
	Title string
	// Path is the docs-relative, slash-separated path of a Markdown page,
	// or "" for sections and external links.
	Path string
	// URL is the target of an external link (http, https or mailto).
	URL string
	// Children are the entries of a section.
	Children []NavItem
}

// ConfigError is a problem in an mkdocs.yml that stops the build. It
// matches derrors.ErrInvalid, so it reaches a client as invalid input.
type ConfigError struct {
	File   string // "mkdocs.yml"
	Line   int    // 1-based
	Column int    // 1-based
	// Field is the path of the offending key, as in "nav[2].Guide[0]", or
	// "" for a problem with the file as a whole.
	Field string
	// Message says what was expected and what was found.
	Message string
}

// Error formats the problem as "file:line:column: field: message".
func (e *ConfigError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, e.Field, e.Message)
}

// Is makes a ConfigError match derrors.ErrInvalid.
func (e *ConfigError) Is(target error) bool { return target == derrors.ErrInvalid }

// knownKeys are the mkdocs.yml keys Backstage accepts. The builder reads a
// few of them; the others are accepted without a word.
var knownKeys = map[string]bool{
	"site_name": true, "site_url": true, "site_description": true, "site_author": true,
	"repo_url": true, "repo_name": true, "edit_uri": true, "edit_uri_template": true,
	"docs_dir": true, "site_dir": true,
	"nav": true, "exclude_docs": true, "not_in_nav": true,
	"theme": true, "plugins": true, "markdown_extensions": true, "extra": true, "extra_css": true,
	"use_directory_urls": true, "strict": true, "dev_addr": true, "watch": true,
	"copyright": true, "remote_branch": true, "remote_name": true, "validation": true,
	"google_analytics": true,
}

// renderedExtensions are the Python-Markdown extensions whose syntax
// Atrium's renderer always understands (or which change nothing it
// shows), so listing them is quiet. Others (pymdownx.emoji, mark, caret,
// keys, snippets, smarty, md_in_html, ...) get a warning.
var renderedExtensions = map[string]bool{
	"abbr": true, "admonition": true, "attr_list": true, "def_list": true, "fenced_code": true,
	"footnotes": true, "tables": true, "toc": true, "codehilite": true, "meta": true, "extra": true,
	"sane_lists": true, "mdx_truly_sane_lists": true,
	"pymdownx.details": true, "pymdownx.superfences": true, "pymdownx.tabbed": true, "pymdownx.tasklist": true,
	"pymdownx.highlight": true, "pymdownx.inlinehilite": true, "pymdownx.magiclink": true, "pymdownx.tilde": true,
	"pymdownx.extra": true, "pymdownx.betterem": true, "pymdownx.escapeall": true,
}

// quietPlugins are the plugins whose work the builder does itself.
var quietPlugins = map[string]bool{"techdocs-core": true, "search": true, "monorepo": true}

// quietTags are the Python tags that real TechDocs sites use in
// markdown_extensions options (emoji indexes, Mermaid fences, slugs).
// They name code MkDocs would import; the builder never does, and keeps
// quiet about these because a Renderer provides their effect natively.
var quietTags = map[string]bool{
	"!!python/name:pymdownx.emoji.emojione":                 true,
	"!!python/name:pymdownx.emoji.gemoji":                   true,
	"!!python/name:pymdownx.emoji.twemoji":                  true,
	"!!python/name:pymdownx.emoji.to_svg":                   true,
	"!!python/name:pymdownx.emoji.to_png":                   true,
	"!!python/name:pymdownx.emoji.to_alt":                   true,
	"!!python/name:materialx.emoji.twemoji":                 true,
	"!!python/name:materialx.emoji.to_svg":                  true,
	"!!python/name:material.extensions.emoji.twemoji":       true,
	"!!python/name:material.extensions.emoji.to_svg":        true,
	"!!python/name:pymdownx.superfences.fence_code_format":  true,
	"!!python/name:pymdownx.superfences.fence_div_format":   true,
	"!!python/object/apply:pymdownx.slugs.slugify":          true,
	"!!python/name:pymdownx.slugs.uslugify":                 true,
	"!!python/name:pymdownx.slugs.uslugify_cased":           true,
	"!!python/name:material.extensions.emoji.to_svg_sprite": true,
	"!!python/name:pymdownx.emoji.to_svg_sprite":            true,
	"!!python/name:pymdownx.emoji.to_png_sprite":            true,
	"!!python/name:material.plugins.search.slugify.slugify": true,
}

// ReadConfig reads srcDir's mkdocs.yaml or mkdocs.yml. Without either it
// returns Backstage's default configuration (docs_dir "docs", no site
// name: Build fills it in). Problems that MkDocs would survive come back
// as warnings. A bad file gives a *ConfigError; any error matches
// derrors.ErrInvalid except a failure to open srcDir.
func ReadConfig(srcDir string) (*Config, []string, error) {
	root, err := os.OpenRoot(srcDir)
	if err != nil {
		return nil, nil, fmt.Errorf("opening source directory: %w", err)
	}
	defer root.Close()
	return readConfig(root)
}

func readConfig(root *os.Root) (*Config, []string, error) {
	for _, name := range configFiles {
		data, err := readFileLimited(root, name, maxConfigBytes)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, derrors.Wrap(derrors.ErrInvalid, err, "cannot read %s", name)
		}
		return ParseConfig(name, data)
	}
	return &Config{DocsDir: defaultDocsDir}, nil, nil
}

// readFileLimited reads name from root, refusing files over limit bytes.
func readFileLimited(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}

// ParseConfig parses the contents of an mkdocs.yml named file (the name
// is only used in messages). See ReadConfig.
func ParseConfig(file string, data []byte) (*Config, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, yamlError(file, err)
	}
	p := &configParser{file: file}
	cfg := &Config{File: file, DocsDir: defaultDocsDir}
	if len(doc.Content) == 0 {
		return nil, nil, &ConfigError{File: file, Line: 1, Column: 1, Field: "site_name", Message: "missing required key (the file is empty)"}
	}
	top := deref(doc.Content[0])
	if top.Kind != yaml.MappingNode {
		return nil, nil, p.errorf(top, "", "expected a mapping of settings, got %s", describe(top))
	}
	p.warnTags(top, 0)

	var editURISet, siteNameSet bool
	seen := make(map[string]bool)
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		key := k.Value
		if seen[key] {
			p.warnf(k, key, "duplicate key; the last one wins")
		}
		seen[key] = true
		var err error
		switch key {
		case "site_name":
			cfg.SiteName, siteNameSet, err = p.str(v, key)
		case "site_description":
			cfg.SiteDescription, _, err = p.str(v, key)
		case "docs_dir":
			var dir string
			var ok bool
			if dir, ok, err = p.str(v, key); err == nil && ok {
				cfg.DocsDir, err = p.docsDir(v, dir)
			}
		case "repo_url":
			var u string
			if u, _, err = p.str(v, key); err == nil && u != "" {
				if isWebURL(u) {
					cfg.RepoURL = u
				} else {
					p.warnf(v, key, "expected an http(s) URL, got %q; ignored", u)
				}
			}
		case "edit_uri":
			cfg.EditURI, editURISet, err = p.str(v, key)
		case "nav":
			cfg.Nav, err = p.nav(v, key, 0)
		case "markdown_extensions":
			cfg.MarkdownExtensions, err = p.names(v, key)
			for _, name := range cfg.MarkdownExtensions {
				if !renderedExtensions[name] {
					p.warnf(v, key, "extension %q is not supported: its syntax shows as written", name)
				}
			}
		case "plugins":
			cfg.Plugins, err = p.names(v, key)
			for _, name := range cfg.Plugins {
				if !quietPlugins[name] {
					p.warnf(v, key, "plugin %q is not supported; ignored", name)
				}
			}
		default:
			if !knownKeys[key] {
				p.warnf(k, key, "unknown key; ignored")
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if !siteNameSet || strings.TrimSpace(cfg.SiteName) == "" {
		return nil, nil, &ConfigError{File: file, Line: top.Line, Column: top.Column, Field: "site_name", Message: "missing required key: expected the site's title"}
	}
	if !editURISet && cfg.RepoURL != "" {
		cfg.EditURI = defaultEditURI(cfg.RepoURL, cfg.DocsDir)
	}
	return cfg, p.warnings, nil
}

// defaultEditURI is MkDocs' edit_uri for the hosts it knows.
func defaultEditURI(repoURL, docsDir string) string {
	u, err := url.Parse(repoURL)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Hostname()) {
	case "github.com", "gitlab.com":
		return "edit/master/" + docsDir + "/"
	case "bitbucket.org":
		return "src/default/" + docsDir + "/"
	}
	return ""
}

// isWebURL reports whether s is an absolute http(s) URL with a host.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Bounds on the nav. Aliases let a few lines of YAML describe a nav that
// is deep without end, or exponentially wide.
const (
	maxNavDepth   = 32
	maxNavEntries = 50_000
)

// configParser collects warnings while reading the YAML tree.
type configParser struct {
	file       string
	warnings   []string
	navEntries int
}

func (p *configParser) errorf(n *yaml.Node, field, format string, args ...any) error {
	return &ConfigError{File: p.file, Line: n.Line, Column: n.Column, Field: field, Message: fmt.Sprintf(format, args...)}
}

func (p *configParser) warnf(n *yaml.Node, field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	p.warnings = append(p.warnings, fmt.Sprintf("%s:%d:%d: %s", p.file, n.Line, n.Column, msg))
}

// maxTagDepth bounds the walk that looks for tags; deeper nodes are not
// looked at (no real mkdocs.yml nests this deep).
const maxTagDepth = 64

// warnTags warns once for every node with a tag the builder does not
// understand: Python tags name code MkDocs would import, !ENV would read
// the environment, and neither happens here. Aliases are not followed,
// so an alias bomb costs nothing.
func (p *configParser) warnTags(n *yaml.Node, depth int) {
	if depth > maxTagDepth {
		return
	}
	if tag := customTag(n); tag != "" && !quietTags[tag] {
		switch {
		case tag == "!ENV":
			p.warnf(n, "", "!ENV: environment variables are not read; the default value, if any, is used")
		case strings.HasPrefix(tag, "!!python/"):
			p.warnf(n, "", "Python YAML tag %q is not supported; value ignored", tag)
		default:
			p.warnf(n, "", "YAML tag %q is not supported; value ignored", tag)
		}
	}
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, c := range n.Content {
		p.warnTags(c, depth+1)
	}
}

// coreTags are the tags of the YAML core schema.
var coreTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!timestamp": true, "!!binary": true, "!!map": true, "!!seq": true, "!!merge": true,
}

// customTag returns n's tag if it is not one of the core schema, or "".
func customTag(n *yaml.Node) string {
	if n.Tag == "" || n.Kind == yaml.AliasNode {
		return ""
	}
	if t := n.ShortTag(); !coreTags[t] {
		return t
	}
	return ""
}

// deref follows aliases (a bounded number of times) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for range 8 {
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			return n
		}
		n = n.Alias
	}
	return n
}

// str reads a scalar string setting; ok is false when it is null or
// carries a tag the builder ignores. !ENV values use their default, the
// last item of a sequence form (!ENV [VAR, default]).
func (p *configParser) str(v *yaml.Node, field string) (s string, ok bool, err error) {
	v = deref(v)
	if tag := customTag(v); tag != "" {
		if tag == "!ENV" && v.Kind == yaml.SequenceNode && len(v.Content) >= 2 {
			if d := deref(v.Content[len(v.Content)-1]); d.Kind == yaml.ScalarNode && customTag(d) == "" {
				return d.Value, true, nil
			}
		}
		return "", false, nil
	}
	if v.Kind != yaml.ScalarNode {
		return "", false, p.errorf(v, field, "expected a string, got %s", describe(v))
	}
	if v.ShortTag() == "!!null" {
		return "", false, nil
	}
	return v.Value, true, nil
}

// docsDir checks that docs_dir names a directory inside the source
// directory, as Backstage requires, and returns it cleaned.
func (p *configParser) docsDir(v *yaml.Node, dir string) (string, error) {
	slashed := filepath.ToSlash(dir)
	clean := path.Clean(slashed)
	if path.IsAbs(slashed) || filepath.IsAbs(dir) || filepath.VolumeName(dir) != "" ||
		clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", p.errorf(v, "docs_dir", "expected a relative path to a directory inside the source directory, got %q", dir)
	}
	return clean, nil
}

// names reads markdown_extensions or plugins: a list of names or of
// single-key mappings {name: options}, or a mapping of names to options.
func (p *configParser) names(v *yaml.Node, field string) ([]string, error) {
	v = deref(v)
	var out []string
	switch v.Kind {
	case yaml.ScalarNode:
		if v.ShortTag() == "!!null" {
			return nil, nil
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			out = append(out, v.Content[i].Value)
		}
		return out, nil
	case yaml.SequenceNode:
		for i, e := range v.Content {
			e = deref(e)
			if customTag(e) != "" {
				continue // warned by warnTags
			}
			switch {
			case e.Kind == yaml.ScalarNode:
				out = append(out, e.Value)
			case e.Kind == yaml.MappingNode && len(e.Content) == 2:
				out = append(out, deref(e.Content[0]).Value)
			default:
				return nil, p.errorf(e, fmt.Sprintf("%s[%d]", field, i), "expected a name or a single-key mapping {name: options}, got %s", describe(e))
			}
		}
		return out, nil
	}
	return nil, p.errorf(v, field, "expected a list of names, got %s", describe(v))
}

// nav reads a nav list (or, at depth > 0, a section's children).
func (p *configParser) nav(v *yaml.Node, field string, depth int) ([]NavItem, error) {
	v = deref(v)
	if depth > maxNavDepth {
		return nil, p.errorf(v, field, "expected at most %d levels of nav sections", maxNavDepth)
	}
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" && depth == 0 {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, p.errorf(v, field, "expected a list of nav entries, got %s", describe(v))
	}
	items := make([]NavItem, 0, len(v.Content))
	for i, e := range v.Content {
		if p.navEntries++; p.navEntries > maxNavEntries {
			return nil, p.errorf(e, field, "expected at most %d nav entries", maxNavEntries)
		}
		item, ok, err := p.navEntry(e, fmt.Sprintf("%s[%d]", field, i), depth)
		if err != nil {
			return nil, err
		}
		if ok {
			items = append(items, item)
		}
	}
	return items, nil
}

func (p *configParser) navEntry(e *yaml.Node, field string, depth int) (NavItem, bool, error) {
	e = deref(e)
	if customTag(e) != "" {
		return NavItem{}, false, nil // warned by warnTags
	}
	switch e.Kind {
	case yaml.ScalarNode:
		return p.navTarget("", e, field)
	case yaml.MappingNode:
		if len(e.Content) != 2 {
			return NavItem{}, false, p.errorf(e, field, "expected a single-key mapping {title: page, URL or list}, got a mapping with %d keys", len(e.Content)/2)
		}
		k, val := deref(e.Content[0]), deref(e.Content[1])
		if k.Kind != yaml.ScalarNode {
			return NavItem{}, false, p.errorf(k, field, "expected a title, got %s", describe(k))
		}
		title := k.Value
		field += "." + title
		if customTag(val) != "" {
			return NavItem{}, false, nil
		}
		switch val.Kind {
		case yaml.SequenceNode:
			children, err := p.nav(val, field, depth+1)
			if err != nil {
				return NavItem{}, false, err
			}
			return NavItem{Title: title, Children: children}, true, nil
		case yaml.ScalarNode:
			if val.ShortTag() != "!!null" {
				return p.navTarget(title, val, field)
			}
		}
		return NavItem{}, false, p.errorf(val, field, "expected a page path, a URL or a list of entries, got %s", describe(val))
	}
	return NavItem{}, false, p.errorf(e, field, "expected a page path or a single-key mapping {title: target}, got %s", describe(e))
}

// navTarget reads the target of a nav entry: a docs-relative Markdown
// path or an external URL.
func (p *configParser) navTarget(title string, v *yaml.Node, field string) (NavItem, bool, error) {
	s := strings.TrimSpace(v.Value)
	switch {
	case s == "":
		return NavItem{}, false, p.errorf(v, field, "expected a page path or a URL, got an empty string")
	case strings.HasPrefix(s, "!include"):
		p.warnf(v, field, "monorepo !include entries are not supported; entry dropped")
		return NavItem{}, false, nil
	case hasScheme(s) || strings.HasPrefix(s, "//"):
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto") {
			p.warnf(v, field, "expected an http(s) or mailto URL, got %q; entry dropped", s)
			return NavItem{}, false, nil
		}
		if title == "" {
			title = s
		}
		return NavItem{Title: title, URL: s}, true, nil
	case strings.HasPrefix(s, "/"):
		p.warnf(v, field, "expected a path relative to docs_dir, got the absolute path %q; entry dropped", s)
		return NavItem{}, false, nil
	}
	clean := path.Clean(s)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		p.warnf(v, field, "%q points outside docs_dir; entry dropped", s)
		return NavItem{}, false, nil
	}
	if !isMarkdown(clean) {
		p.warnf(v, field, "%q is not a Markdown page; entry dropped", s)
		return NavItem{}, false, nil
	}
	return NavItem{Title: title, Path: clean}, true, nil
}

// hasScheme reports whether s starts with a URL scheme ("https:").
func hasScheme(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return false
	}
	for j, r := range s[:i] {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// describe names a node's kind for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	}
	return fmt.Sprintf("the string %q", n.Value)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are yaml.v3 messages from its parser (rather than its
// scanner), whose lines it reports 0-based.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
}

// yamlError turns a yaml.v3 syntax error into a ConfigError. yaml.v3
// reports no column, so it is 1.
func yamlError(file string, err error) error {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if parserProblems[msg] {
			line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &ConfigError{File: file, Line: max(line, 1), Column: 1, Message: "invalid YAML: " + msg}
}
