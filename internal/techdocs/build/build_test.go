package build

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// fixedNow is the build time of golden builds: 2024-01-02T03:04:05Z.
func fixedNow() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

// buildSite builds srcDir into a fresh directory with the fake renderer.
func buildSite(t *testing.T, srcDir string, opts Options) (string, *Result, *fakeRenderer) {
	t.Helper()
	f := newFakeRenderer()
	if opts.Renderer == nil {
		opts.Renderer = f.Render
	}
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	out := filepath.Join(t.TempDir(), "site")
	res, err := Build(context.Background(), srcDir, out, opts)
	if err != nil {
		t.Fatalf("Build(%s): %v", srcDir, err)
	}
	return out, res, f
}

// listFiles lists the files under dir, slash-separated and sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// checkGolden compares got with testdata/golden/name, or rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func readOut(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestBuildGolden(t *testing.T) {
	var logged []string
	out, res, f := buildSite(t, "testdata/site-basic", Options{
		Etag: "abc123",
		Log:  func(line string) { logged = append(logged, line) },
	})

	checkGolden(t, "site-basic/files.txt", []byte(strings.Join(listFiles(t, out), "\n")+"\n"))
	checkGolden(t, "site-basic/techdocs_metadata.json", readOut(t, out, MetadataFile))
	checkGolden(t, "site-basic/search_index.json", indentJSON(t, readOut(t, out, SearchIndexFile)))
	checkGolden(t, "site-basic/site.json", readOut(t, out, SiteFile))
	checkGolden(t, "site-basic/guides-deploy.html", readOut(t, out, "guides/deploy/index.html"))
	checkGolden(t, "site-basic/warnings.txt", []byte(strings.Join(res.Warnings, "\n")+"\n"))

	// The metadata's file list is the site as it is on disk.
	var md metadata
	if err := json.Unmarshal(readOut(t, out, MetadataFile), &md); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(listFiles(t, out), md.Files); diff != "" {
		t.Errorf("metadata files differ from the files written (-disk +metadata):\n%s", diff)
	}
	if md.BuildTimestamp != fixedNow().UnixMilli() || md.Etag != "abc123" {
		t.Errorf("metadata timestamp, etag = %d, %q; want %d, abc123", md.BuildTimestamp, md.Etag, fixedNow().UnixMilli())
	}

	// Result agrees with what was written.
	if res.Pages != 5 || res.Files != len(md.Files) || res.Etag != "abc123" {
		t.Errorf("Result pages, files, etag = %d, %d, %q; want 5, %d, abc123", res.Pages, res.Files, res.Etag, len(md.Files))
	}
	var info SiteInfo
	if err := json.Unmarshal(readOut(t, out, SiteFile), &info); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(info, res.Site); diff != "" {
		t.Errorf("Result.Site differs from site.json (-file +result):\n%s", diff)
	}

	// Links as the renderer got them back.
	wantLinks := map[string]string{
		"Welcome|getting-started.md":         "getting-started/",
		"Welcome|guides/deploy.md#rollback":  "guides/deploy/#rollback",
		"Welcome|img/logo.png":               "img/logo.png",
		"Welcome|missing.md":                 "missing.md",
		"Getting started|index.md":           "../",
		"Getting started|guides/":            "../guides/",
		"Getting started|img/logo.png":       "../img/logo.png",
		"Getting started|guides/unlisted.md": "../guides/unlisted/",
		"Guides|deploy.md":                   "deploy/",
		"Deploying|../index.md#welcome":      "../../#welcome",
		"Deploying|../../mkdocs.yml":         "#",
	}
	if diff := cmp.Diff(wantLinks, f.resolved); diff != "" {
		t.Errorf("resolved links (-want +got):\n%s", diff)
	}
	if len(logged) == 0 || !strings.HasPrefix(logged[len(logged)-1], "built 5 pages") {
		t.Errorf("log = %q, want it to end with the summary", logged)
	}
}

// TestPageHTML checks the parts of a page document that readers rely on.
func TestPageHTML(t *testing.T) {
	out, _, _ := buildSite(t, "testdata/site-basic", Options{})
	page := string(readOut(t, out, "getting-started/index.html"))
	for _, want := range []string{
		"<!doctype html>",
		`<title>Getting started - Basic Site</title>`,
		`<div class="md-container">`,
		`<main class="md-main">`,
		`<div class="md-content">`,
		`<article class="md-content__inner md-typeset">` + ArticleStart + "<h1>Getting started</h1>",
		ArticleEnd + "</article>",
		`<nav class="md-nav md-nav--primary"`,
		`<a class="md-nav__link md-nav__link--active" href="./">Getting started</a>`,
		`<a class="md-nav__link" href="../guides/">Guides</a>`, // collapsed section: its first page
		`<a class="md-nav__link" href="https://backstage.io" rel="noopener">Backstage</a>`,
		`href="https://github.com/atrium-dev/example/edit/master/docs/getting-started.md"`,
		`<a class="md-nav__link" href="#install">Install</a>`,
		`<a class="md-footer__link md-footer__link--prev" href="../" rel="prev">Home</a>`,
		`<a class="md-footer__link md-footer__link--next" href="../guides/" rel="next">Guides</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("getting-started/index.html lacks %s", want)
		}
	}
	if strings.Count(page, ArticleStart) != 1 || strings.Count(page, ArticleEnd) != 1 {
		t.Errorf("want exactly one pair of article markers")
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Errorf("page has a script")
	}
	// The section holding the page is open, with the page's siblings.
	deploy := string(readOut(t, out, "guides/deploy/index.html"))
	if !strings.Contains(deploy, `<a class="md-nav__link md-nav__link--active" href="./">Deploying</a>`) ||
		!strings.Contains(deploy, `<a class="md-nav__link" href="../">Guides</a>`) {
		t.Errorf("guides/deploy/index.html: open section or active page missing:\n%s", deploy)
	}
}

func TestBuildEtagDefaultsToSourceDigest(t *testing.T) {
	_, res, _ := buildSite(t, "testdata/site-basic", Options{})
	want, err := SourceDigest("testdata/site-basic")
	if err != nil {
		t.Fatal(err)
	}
	if res.Etag != want || len(want) != 64 {
		t.Errorf("Etag = %q, want SourceDigest %q", res.Etag, want)
	}
}

func TestSourceDigestChangesWithSources(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "mkdocs.yml", "site_name: S\n")
	write(t, dir, "docs/index.md", "# A\n")
	write(t, dir, "docs/img.png", "png")
	write(t, dir, "notdocs.txt", "outside docs_dir: not read")
	d0 := mustDigest(t, dir)
	if d := mustDigest(t, dir); d != d0 {
		t.Fatalf("digest not deterministic: %s then %s", d0, d)
	}
	write(t, dir, "notdocs.txt", "changed")
	if d := mustDigest(t, dir); d != d0 {
		t.Errorf("a file the build does not read changed the digest")
	}
	for _, change := range []struct{ file, content string }{
		{"docs/img.png", "png2"},
		{"docs/index.md", "# B\n"},
		{"mkdocs.yml", "site_name: T\n"},
		{"docs/new.md", "new"},
	} {
		write(t, dir, change.file, change.content)
		d := mustDigest(t, dir)
		if d == d0 {
			t.Errorf("changing %s left the digest as it was", change.file)
		}
		d0 = d
	}
}

func mustDigest(t *testing.T, dir string) string {
	t.Helper()
	d, err := SourceDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// write creates dir/name with content, and its directories.
func write(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBuildReplacesOldSite(t *testing.T) {
	src := t.TempDir()
	write(t, src, "docs/index.md", "# Home\n")
	out := filepath.Join(t.TempDir(), "site")
	write(t, out, "stale.html", "old")
	opts := Options{Renderer: newFakeRenderer().Render}
	if _, err := Build(context.Background(), src, out, opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"atrium/site.json", "index.html", "search/search_index.json", "techdocs_metadata.json"}, listFiles(t, out)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("left beside the site: %v", entries)
	}
}

func TestDefaultNav(t *testing.T) {
	src := t.TempDir()
	write(t, src, "mkdocs.yml", "site_name: Nav\n")
	for _, f := range []string{"zeta.md", "alpha.md", "index.md", "b-dir/index.md", "b-dir/two.md", "b-dir/One_Thing.md", "a_dir/deep/x.md", "a_dir/README.md"} {
		write(t, src, "docs/"+f, "text\n")
	}
	write(t, src, "docs/titled.md", "# Has A Title\n")
	_, res, _ := buildSite(t, src, Options{})
	want := []NavEntry{
		{Title: "Home", URL: "", Source: "index.md"},
		{Title: "Alpha", URL: "alpha/", Source: "alpha.md"},
		{Title: "Has A Title", URL: "titled/", Source: "titled.md"},
		{Title: "Zeta", URL: "zeta/", Source: "zeta.md"},
		{Title: "A dir", Children: []NavEntry{
			{Title: "A dir", URL: "a_dir/", Source: "a_dir/README.md"},
			{Title: "Deep", Children: []NavEntry{{Title: "X", URL: "a_dir/deep/x/", Source: "a_dir/deep/x.md"}}},
		}},
		{Title: "B dir", Children: []NavEntry{
			{Title: "B dir", URL: "b-dir/", Source: "b-dir/index.md"},
			{Title: "One Thing", URL: "b-dir/One_Thing/", Source: "b-dir/One_Thing.md"},
			{Title: "Two", URL: "b-dir/two/", Source: "b-dir/two.md"},
		}},
	}
	if diff := cmp.Diff(want, res.Site.Nav); diff != "" {
		t.Errorf("default nav (-want +got):\n%s", diff)
	}
	// Every page is in the default nav, so prev/next chain them all.
	var chain []string
	for _, p := range res.Site.Pages {
		chain = append(chain, p.Path)
		if p.Prev == nil != (p.Path == "") {
			t.Errorf("%q: prev = %v", p.Path, p.Prev)
		}
	}
	if diff := cmp.Diff([]string{"", "alpha/", "titled/", "zeta/", "a_dir/", "a_dir/deep/x/", "b-dir/", "b-dir/One_Thing/", "b-dir/two/"}, chain); diff != "" {
		t.Errorf("page order (-want +got):\n%s", diff)
	}
}

func TestConflictingPages(t *testing.T) {
	src := t.TempDir()
	write(t, src, "docs/index.md", "# Index\n")
	write(t, src, "docs/README.md", "# Readme\n")
	write(t, src, "docs/a.md", "# A page\n")
	write(t, src, "docs/a/index.md", "# A index\n")
	write(t, src, "docs/search/search_index.json", "{}")
	out, res, _ := buildSite(t, src, Options{})
	if got := string(readOut(t, out, "index.html")); !strings.Contains(got, "<h1>Index</h1>") {
		t.Errorf("index.html is not index.md")
	}
	if got := string(readOut(t, out, "a/index.html")); !strings.Contains(got, "<h1>A index</h1>") {
		t.Errorf("a/index.html is not a/index.md")
	}
	for _, w := range []string{"README.md: excluded", "a.md: excluded", "search/search_index.json: excluded"} {
		if !containsSubstring(res.Warnings, w) {
			t.Errorf("warnings %q lack %q", res.Warnings, w)
		}
	}
}

func containsSubstring(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.Contains(x, s) })
}
