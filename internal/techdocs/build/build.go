package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// RenderedPage is what a Renderer returns for one Markdown page.
type RenderedPage struct {
	// Title is the page's own title (front matter or first heading), or
	// "" to let the nav or the file name give one.
	Title string
	// Description is the page's summary (front matter), for its
	// <meta name="description">.
	Description string
	// HTML is the sanitized body; the builder inserts it as it is.
	HTML []byte
	// TOC lists the page's headings, for its table of contents.
	TOC []Heading
	// Text is the page as plain text, for the search index.
	Text string
	// Sections split the page at its headings, one search document each.
	Sections []Section
	// Warnings are problems in the page worth telling its author.
	Warnings []string
}

// Heading is one entry of a page's table of contents.
type Heading struct {
	Level int    `json:"level"` // 1 to 6
	ID    string `json:"id"`    // the heading's anchor, without "#"
	Text  string `json:"text"`  // plain text
}

// Section is the part of a page from one heading to the next.
type Section struct {
	ID    string // the heading's anchor
	Title string // the heading's text
	Text  string // plain text under it
}

// Renderer turns one Markdown page into HTML. resolve rewrites a relative
// link or image target as written in the page into its URL in the built
// site (see Build); the Renderer calls it for every link and image it
// emits. A Renderer must be safe for concurrent use.
type Renderer func(src []byte, resolve func(target string, image bool) string) (*RenderedPage, error)

// Options configure a Build.
type Options struct {
	// Renderer renders each Markdown page. Required.
	Renderer Renderer
	// SiteName is the site's title when the source has no mkdocs.yml, as
	// Backstage uses the entity's title or name; "Documentation Site"
	// when empty too.
	SiteName string
	// Etag is stored in techdocs_metadata.json to detect stale docs: a
	// commit hash or the source's ETag. "" stores SourceDigest's digest.
	Etag string
	// Log receives build log lines (progress, warnings), one call per
	// line, always from Build's own goroutine. May be nil.
	Log func(line string)
	// Now gives the build timestamp; nil means time.Now.
	Now func() time.Time
	// Workers is how many files are rendered or copied at once; 0 means
	// GOMAXPROCS.
	Workers int
	// MaxFiles and MaxBytes bound the files in docs_dir and their total
	// size; 0 means DefaultMaxFiles and DefaultMaxBytes.
	MaxFiles int
	MaxBytes int64
}

// Result describes a finished build.
type Result struct {
	// Site is what the build wrote to atrium/site.json.
	Site SiteInfo
	// Pages is the number of pages built.
	Pages int
	// Files is the number of files in the site, generated ones included.
	Files int
	// Warnings are the problems the build survived, for the author.
	Warnings []string
	// Etag is the etag stored in techdocs_metadata.json.
	Etag string
}

// defaultSiteName is Backstage's site_name when it has nothing better.
const defaultSiteName = "Documentation Site"

func (o Options) limits() limits {
	l := limits{files: o.MaxFiles, bytes: o.MaxBytes}
	if l.files <= 0 {
		l.files = DefaultMaxFiles
	}
	if l.bytes <= 0 {
		l.bytes = DefaultMaxBytes
	}
	return l
}

// Build builds the TechDocs site of srcDir into outDir.
//
// It reads srcDir's mkdocs.yml (or Backstage's defaults without one),
// renders every Markdown page of docs_dir with opts.Renderer, copies the
// other files, and writes the pages, techdocs_metadata.json,
// search/search_index.json and atrium/site.json. Pages land where MkDocs
// puts them with use_directory_urls: a/b.md at a/b/index.html, a/index.md
// and a/README.md at a/index.html.
//
// The resolve function handed to the Renderer maps a target relative to
// the page (other.md, sub/x.md#frag, img.png) to a URL relative to the
// page's output (../other/, ../sub/x/#frag, ../img.png). Targets naming
// no file are kept as written, targets leaving docs_dir become "#"; both
// add a warning.
//
// The site is built in a directory beside outDir and renamed over it only
// when complete, so a failed or cancelled build leaves outDir as it was.
func Build(ctx context.Context, srcDir, outDir string, opts Options) (*Result, error) {
	if opts.Renderer == nil {
		return nil, errors.New("build: Options.Renderer is required")
	}
	if err := checkDirs(srcDir, outDir); err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			opts.Log(fmt.Sprintf(format, args...))
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	root, err := os.OpenRoot(srcDir)
	if err != nil {
		return nil, fmt.Errorf("opening source directory: %w", err)
	}
	defer root.Close()
	src, err := loadSource(root, opts.limits())
	if err != nil {
		return nil, err
	}
	cfg := src.cfg
	if cfg.File == "" {
		cfg.SiteName = cmpOr(opts.SiteName, defaultSiteName)
		logf("no mkdocs.yml: using site_name %q and docs_dir %q", cfg.SiteName, cfg.DocsDir)
	} else {
		logf("read %s", cfg.File)
	}
	s := newSite(src)
	logf("building %d pages and copying %d files", len(s.pages), len(s.assets))

	parent := filepath.Dir(filepath.Clean(outDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(outDir)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("creating build directory: %w", err)
	}
	defer os.RemoveAll(tmp) // gone by then when the build succeeded
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	out, err := os.OpenRoot(tmp)
	if err != nil {
		return nil, err
	}
	defer out.Close() // on failure; closed before publishing otherwise

	b := &builder{root: root, out: out, site: s, maxBytes: opts.limits().bytes, renderer: opts.Renderer}
	if err := b.renderAndCopy(ctx, workers); err != nil {
		return nil, err
	}
	logf("rendered %d pages, copied %d files", len(s.pages), len(s.assets))
	s.finish(cfg)
	if err := b.writePages(ctx, workers); err != nil {
		return nil, err
	}

	etag := opts.Etag
	if etag == "" {
		etag = digest(src, s.hashes())
	}
	files, err := b.writeGenerated(now(), etag)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := out.Close(); err != nil { // before the rename, for platforms that care
		return nil, err
	}
	if err := replaceDir(tmp, outDir); err != nil {
		var stale *staleSiteError
		if !errors.As(err, &stale) {
			return nil, fmt.Errorf("publishing the site to %s: %w", outDir, err)
		}
		logf("warning: the new site is in place, but %v", err)
	}
	for _, w := range s.warnings {
		logf("warning: %s", w)
	}
	logf("built %d pages, %d files", len(s.pages), files)
	return &Result{Site: *s.info, Pages: len(s.pages), Files: files, Warnings: s.warnings, Etag: etag}, nil
}

// SourceDigest returns a hex SHA-256 over everything a build of srcDir
// reads: the configuration file and every file of docs_dir (or the README
// standing in for the index), by path and content. Build stores it as
// the etag when Options.Etag is empty; a different digest means the docs
// are stale. It applies the default limits.
func SourceDigest(srcDir string) (string, error) {
	root, err := os.OpenRoot(srcDir)
	if err != nil {
		return "", fmt.Errorf("opening source directory: %w", err)
	}
	defer root.Close()
	src, err := loadSource(root, Options{}.limits())
	if err != nil {
		return "", err
	}
	s := newSite(src)
	for _, f := range s.files() {
		h, err := hashFile(root, f.From)
		if err != nil {
			return "", err
		}
		s.hash[f.Rel] = h
	}
	return digest(src, s.hashes()), nil
}

func hashFile(root *os.Root, name string) ([32]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, fmt.Errorf("reading %s: %w", name, err)
	}
	return [32]byte(h.Sum(nil)), nil
}

// fileHash is the content hash of one source file, for the digest.
type fileHash struct {
	rel, from string
	sum       [32]byte
}

// digest combines the configuration and the file hashes, sorted by path,
// into the source digest.
func digest(src *source, files []fileHash) string {
	h := sha256.New()
	fmt.Fprintf(h, "atrium techdocs source v1\n")
	if src.cfg.File != "" {
		fmt.Fprintf(h, "config %q %x\n", src.cfg.File, sha256.Sum256(src.configData))
	}
	slices.SortFunc(files, func(a, b fileHash) int { return strings.Compare(a.rel, b.rel) })
	for _, f := range files {
		fmt.Fprintf(h, "file %q %q %x\n", f.rel, f.from, f.sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkDirs refuses an outDir that holds srcDir: replacing it would
// delete the sources.
func checkDirs(srcDir, outDir string) error {
	src, err := filepath.Abs(srcDir)
	if err != nil {
		return err
	}
	out, err := filepath.Abs(outDir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(out, src); err == nil && (rel == "." || filepath.IsLocal(rel)) {
		return derrors.Invalid("output directory %s contains the source directory", outDir)
	}
	return nil
}

// replaceDir moves the finished site tmp to outDir, replacing what was
// there. The old site is moved aside first and removed last, so outDir
// always holds a whole site or none. Failing to remove the old site is
// reported as a *staleSiteError: the new site is in place by then.
func replaceDir(tmp, outDir string) error {
	var old string
	if _, err := os.Lstat(outDir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(outDir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, outDir); err != nil {
		if old != "" {
			if rerr := os.Rename(old, outDir); rerr != nil {
				return fmt.Errorf("%w; the old site is left at %s: %v", err, old, rerr)
			}
		}
		return err
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return &staleSiteError{dir: old, err: err}
		}
	}
	return nil
}

// staleSiteError is an old site that could not be removed after the new
// one took its place.
type staleSiteError struct {
	dir string
	err error
}

func (e *staleSiteError) Error() string {
	return fmt.Sprintf("the old site at %s could not be removed: %v", e.dir, e.err)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// site is the site being built: its pages and assets after conflicts
// are settled, then its nav and page order once pages are rendered.
type site struct {
	cfg      *Config
	pages    []*page   // by Rel
	assets   []srcFile // by Rel
	links    *linkTable
	warnings []string

	mu   sync.Mutex
	hash map[string][32]byte // by Rel, filled while reading

	// Set by finish.
	nav     []*navNode
	order   []*page              // site.json order: nav order, then the rest by path
	parents map[*page][]*navNode // the sections holding each page in the nav
	titles  map[*page]string     // each page's title in the nav
	info    *SiteInfo
}

// generated are the files every build writes besides pages and assets.
var generated = []string{MetadataFile, SearchIndexFile, SiteFile}

// newSite settles which source files make the site. Two pages may claim
// one output (a/index.md, a/README.md and a.md all want a/index.html):
// index.md beats README.md beats the rest, as in MkDocs, and the loser is
// dropped with a warning; an asset that collides with a page or a
// generated file is dropped likewise.
func newSite(src *source) *site {
	s := &site{cfg: src.cfg, warnings: slices.Clone(src.warnings), hash: make(map[string][32]byte)}
	pages := make([]*page, 0, len(src.pages))
	for _, f := range src.pages {
		u := pageURL(f.Rel)
		pages = append(pages, &page{srcFile: f, URL: u, Out: u + "index.html"})
	}
	rank := func(p *page) int {
		switch stem := strings.TrimSuffix(path.Base(p.Rel), path.Ext(p.Rel)); {
		case stem == "index":
			return 0
		case stem == "README":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(pages, func(a, b *page) int {
		if c := strings.Compare(a.Out, b.Out); c != 0 {
			return c
		}
		return rank(a) - rank(b)
	})
	taken := make(map[string]*page, len(pages))
	for _, p := range pages {
		if winner, ok := taken[p.Out]; ok {
			s.warnings = append(s.warnings, fmt.Sprintf("%s: excluded because %s is built to the same page %s", p.Rel, winner.Rel, p.Out))
			continue
		}
		taken[p.Out] = p
		s.pages = append(s.pages, p)
	}
	slices.SortFunc(s.pages, func(a, b *page) int { return strings.Compare(a.Rel, b.Rel) })

	// Paths the pages and generated files occupy, as files and as dirs.
	files, dirs := make(map[string]bool), make(map[string]bool)
	occupy := func(p string) {
		files[p] = true
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, p := range s.pages {
		occupy(p.Out)
	}
	for _, g := range generated {
		occupy(g)
	}
	for _, a := range src.assets {
		if files[a.Rel] || dirs[a.Rel] {
			s.warnings = append(s.warnings, fmt.Sprintf("%s: excluded because a page or generated file is written there", a.Rel))
			continue
		}
		s.assets = append(s.assets, a)
	}
	s.links = newLinkTable(s.pages, s.assets)
	return s
}

// files lists every source file the build reads.
func (s *site) files() []srcFile {
	out := make([]srcFile, 0, len(s.pages)+len(s.assets))
	for _, p := range s.pages {
		out = append(out, p.srcFile)
	}
	return append(out, s.assets...)
}

func (s *site) setHash(rel string, sum [32]byte) {
	s.mu.Lock()
	s.hash[rel] = sum
	s.mu.Unlock()
}

func (s *site) hashes() []fileHash {
	out := make([]fileHash, 0, len(s.hash))
	for _, f := range s.files() {
		out = append(out, fileHash{rel: f.Rel, from: f.From, sum: s.hash[f.Rel]})
	}
	return out
}

// finish builds the nav and site.json's data once every page is rendered
// and titled, and gathers the pages' warnings.
func (s *site) finish(cfg *Config) {
	warn := func(w string) { s.warnings = append(s.warnings, w) }
	for _, p := range s.pages {
		s.warnings = append(s.warnings, p.warnings...)
	}
	if cfg.Nav != nil {
		s.nav = resolveNav(cfg.Nav, s.links.pages, warn)
	} else {
		s.nav = defaultNav(s.pages)
	}
	fillTitles(s.nav)
	inNav, parents, titles := navPages(s.nav)
	s.parents, s.titles = parents, titles
	s.order = append(s.order, inNav...)
	for _, p := range s.pages {
		if _, ok := parents[p]; !ok {
			s.order = append(s.order, p)
		}
	}

	info := &SiteInfo{
		SiteName:        cfg.SiteName,
		SiteDescription: cfg.SiteDescription,
		RepoURL:         cfg.RepoURL,
		EditURI:         cfg.EditURI,
		Nav:             navEntries(s.nav),
		Pages:           make([]PageInfo, 0, len(s.order)),
	}
	for _, p := range s.order {
		toc := p.rendered.TOC
		if toc == nil {
			toc = []Heading{}
		}
		info.Pages = append(info.Pages, PageInfo{
			Path: p.URL, Source: p.Rel, Title: s.navTitle(p), TOC: toc, EditURL: editURL(cfg, p.srcFile),
		})
	}
	for i := range inNav {
		if i > 0 {
			info.Pages[i].Prev = &PageLink{Path: inNav[i-1].URL, Title: s.navTitle(inNav[i-1])}
		}
		if i+1 < len(inNav) {
			info.Pages[i].Next = &PageLink{Path: inNav[i+1].URL, Title: s.navTitle(inNav[i+1])}
		}
	}
	s.info = info
}

// navTitle is a page's title as the nav gives it, or its own.
func (s *site) navTitle(p *page) string {
	if t := s.titles[p]; t != "" {
		return t
	}
	return p.title
}

// builder does the reading and writing of one build.
type builder struct {
	root     *os.Root
	out      *os.Root
	site     *site
	maxBytes int64
	renderer Renderer
}

// renderAndCopy renders every page and copies every asset, workers at a
// time.
func (b *builder) renderAndCopy(ctx context.Context, workers int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, p := range b.site.pages {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return b.render(p)
		})
	}
	for _, a := range b.site.assets {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return b.copyAsset(ctx, a)
		})
	}
	return g.Wait()
}

func (b *builder) render(p *page) error {
	data, err := readFileLimited(b.root, p.From, b.maxBytes)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p.From, err)
	}
	b.site.setHash(p.Rel, sha256.Sum256(data))
	var mu sync.Mutex
	var warnings []string
	resolve := func(target string, image bool) string {
		u, w := b.site.links.resolve(p, target, image)
		if w != "" {
			mu.Lock()
			warnings = append(warnings, w)
			mu.Unlock()
		}
		return u
	}
	r, err := b.renderer(data, resolve)
	if err != nil {
		return derrors.Wrap(derrors.ErrInvalid, err, "rendering %s", p.Rel)
	}
	if r == nil {
		return fmt.Errorf("rendering %s: the renderer returned no page", p.Rel)
	}
	p.rendered = r
	p.title = cmpOr(strings.TrimSpace(r.Title), pageTitleFromName(p.Rel))
	p.warnings = warnings
	for _, w := range r.Warnings {
		p.warnings = append(p.warnings, p.Rel+": "+w)
	}
	return nil
}

func (b *builder) copyAsset(ctx context.Context, a srcFile) error {
	in, err := b.root.Open(a.From)
	if err != nil {
		return fmt.Errorf("reading %s: %w", a.From, err)
	}
	defer in.Close()
	if err := b.out.MkdirAll(path.Dir(a.Rel), 0o755); err != nil {
		return err
	}
	out, err := b.out.Create(a.Rel)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), &ctxReader{ctx: ctx, r: io.LimitReader(in, b.maxBytes)})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying %s: %w", a.Rel, err)
	}
	b.site.setHash(a.Rel, [32]byte(h.Sum(nil)))
	return nil
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// writePages writes every page's HTML document, workers at a time.
func (b *builder) writePages(ctx context.Context, workers int) error {
	s := b.site
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, info := range s.info.Pages {
		p := s.order[i]
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return b.writePage(p, info)
		})
	}
	return g.Wait()
}

func (b *builder) writePage(p *page, info PageInfo) error {
	s := b.site
	open := make(map[*navNode]bool)
	for _, n := range s.parents[p] {
		open[n] = true
	}
	v := &pageView{
		SiteName:    s.cfg.SiteName,
		Title:       info.Title,
		Description: p.rendered.Description,
		Home:        relativeURL(p.URL, ""),
		Nav:         pageNav(s.nav, p, open),
		EditURL:     info.EditURL,
		Body:        articleBody(p.rendered.HTML),
	}
	for _, h := range p.rendered.TOC {
		v.TOC = append(v.TOC, tocView{Level: h.Level, Href: "#" + h.ID, Text: h.Text})
	}
	if info.Prev != nil {
		v.Prev = &linkView{Href: relativeURL(p.URL, info.Prev.Path), Title: info.Prev.Title}
	}
	if info.Next != nil {
		v.Next = &linkView{Href: relativeURL(p.URL, info.Next.Path), Title: info.Next.Title}
	}
	html, err := renderPage(v)
	if err != nil {
		return fmt.Errorf("writing %s: %w", p.Out, err)
	}
	if dir := path.Dir(p.Out); dir != "." {
		if err := b.out.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return b.out.WriteFile(p.Out, html, 0o644)
}

// writeGenerated writes the search index, site.json and, last because it
// lists every file, techdocs_metadata.json. It returns the file count.
func (b *builder) writeGenerated(now time.Time, etag string) (int, error) {
	s := b.site
	// The search index is the one big JSON file: compact, as MkDocs writes it.
	if err := b.writeJSON(SearchIndexFile, newSearchIndex(s.order, s.navTitle), ""); err != nil {
		return 0, err
	}
	if err := b.writeJSON(SiteFile, s.info, "  "); err != nil {
		return 0, err
	}
	files := make([]string, 0, len(s.pages)+len(s.assets)+len(generated))
	for _, p := range s.pages {
		files = append(files, p.Out)
	}
	for _, a := range s.assets {
		files = append(files, a.Rel)
	}
	files = append(files, generated...)
	slices.Sort(files)
	md := metadata{
		SiteName:        s.cfg.SiteName,
		SiteDescription: s.cfg.SiteDescription,
		BuildTimestamp:  now.UnixMilli(),
		Files:           files,
		Etag:            etag,
	}
	if err := b.writeJSON(MetadataFile, md, "  "); err != nil {
		return 0, err
	}
	return len(files), nil
}

func (b *builder) writeJSON(name string, v any, indent string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if dir := path.Dir(name); dir != "." {
		if err := b.out.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return b.out.WriteFile(name, buf.Bytes(), 0o644)
}
