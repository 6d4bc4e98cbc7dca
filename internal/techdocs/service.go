package techdocs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/techdocs/build"
	"github.com/atrium-dev/atrium/internal/techdocs/markdown"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
)

// Catalog finds entities, as the caller in ctx may see them.
type Catalog interface {
	EntityByRef(ctx context.Context, ref entity.Ref) (json.RawMessage, error)
	// EntitiesByRefs returns the entities refs name, in order, nil for
	// those missing or hidden (f nil: no further filter).
	EntitiesByRefs(ctx context.Context, refs []string, f filter.Expr) ([]json.RawMessage, error)
}

// Options configure a Service.
type Options struct {
	// Catalog answers which entities exist and which the caller may see.
	Catalog Catalog
	// Store holds the build leases; nil builds without deduplication
	// across replicas (the CLI).
	Store *store.Store
	// Publisher stores and serves the sites.
	Publisher publish.Publisher
	// Builder is BuilderLocal (default) or BuilderExternal.
	Builder string
	// Git is Atrium's own git host, a docs source; nil if off.
	Git *githost.Host
	// WorkDir is where builds put their temporary folders ("" for the
	// system's).
	WorkDir string
	// StaleCheckInterval is how often a site being read is compared with
	// its source (default 1 minute).
	StaleCheckInterval time.Duration
	// Lease is how long a build lease lasts without renewal (default 1
	// minute).
	Lease  time.Duration
	Logger *slog.Logger
}

// Service builds, stores and serves TechDocs sites.
type Service struct {
	opts  Options
	owner string

	mu     sync.Mutex
	builds map[string]*buildRun   // builds running in this process, by entity key
	checks map[string]staleCheck  // the last source checks, by entity key
	sites  map[string]*cachedSite // parsed site.json and search index, by entity key
	bg     sync.WaitGroup
}

// staleCheck is the result of comparing a site with its source.
type staleCheck struct {
	at    time.Time
	stale bool
}

// cachedSite is a built site's parsed files, valid for one build.
type cachedSite struct {
	built  int64 // metadata's build_timestamp
	info   build.SiteInfo
	pages  map[string]*build.PageInfo
	index  []searchDoc
	htmlMu sync.Mutex
	html   map[string][]byte // sanitized articles by page path
}

// New returns a service.
func New(opts Options) *Service {
	if opts.Builder == "" {
		opts.Builder = BuilderLocal
	}
	if opts.StaleCheckInterval <= 0 {
		opts.StaleCheckInterval = time.Minute
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{opts: opts, owner: uuid.NewString(), builds: map[string]*buildRun{},
		checks: map[string]staleCheck{}, sites: map[string]*cachedSite{}}
}

// Builder is the strategy in force.
func (s *Service) Builder() string { return s.opts.Builder }

// Close waits for background builds to end.
func (s *Service) Close() { s.bg.Wait() }

func pubEntity(r entity.Ref) publish.Entity {
	return publish.Entity{Namespace: r.Namespace, Kind: r.Kind, Name: r.Name}
}

// entity reads ref as the caller may see it; an entity without docs is
// derrors.ErrNotFound.
func (s *Service) entity(ctx context.Context, ref entity.Ref) (*docsEntity, error) {
	raw, err := s.opts.Catalog.EntityByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	e, err := parseEntity(raw)
	if err != nil {
		return nil, err
	}
	if e.DocsRef == "" {
		return nil, derrors.NotFound("%s has no documentation (no %s annotation)", ref, RefAnnotation)
	}
	return e, nil
}

// Entity returns ref's entity JSON as the caller may see it, for
// /metadata/entity.
func (s *Service) Entity(ctx context.Context, ref entity.Ref) (json.RawMessage, error) {
	e, err := s.entity(ctx, ref)
	if err != nil {
		return nil, err
	}
	return e.raw, nil
}

// Metadata returns ref's published techdocs_metadata.json.
func (s *Service) Metadata(ctx context.Context, ref entity.Ref) (*publish.Metadata, error) {
	e, err := s.entity(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.opts.Publisher.Metadata(ctx, pubEntity(e.Ref))
}

// State says what is known of ref's docs, without reading their source
// (lists call it for every row); Site also compares the source.
func (s *Service) State(ctx context.Context, ref entity.Ref) (State, error) {
	e, err := s.entity(ctx, ref)
	if err != nil {
		return State{}, err
	}
	return s.state(ctx, e, false)
}

// States is State for several entities at once, for lists: one catalog
// query and one database query in all, and the published metadata of
// each read in parallel. Entities the caller cannot see, without docs, or
// whose published metadata cannot be read (logged) are left out of the
// map, which is keyed by Ref.Key.
func (s *Service) States(ctx context.Context, refs []entity.Ref) (map[string]State, error) {
	keys := make([]string, len(refs))
	for i, r := range refs {
		keys[i] = r.Key()
	}
	raws, err := s.opts.Catalog.EntitiesByRefs(ctx, keys, nil)
	if err != nil {
		return nil, err
	}
	var found []*docsEntity
	for _, raw := range raws {
		if raw == nil {
			continue
		}
		if e, err := parseEntity(raw); err == nil && e.DocsRef != "" {
			found = append(found, e)
		}
	}
	builds := map[string]store.DocsBuild{}
	if s.opts.Store != nil && len(found) > 0 {
		fkeys := make([]string, len(found))
		for i, e := range found {
			fkeys[i] = e.Ref.Key()
		}
		if builds, err = s.opts.Store.DocsBuildStates(ctx, fkeys); err != nil {
			return nil, err
		}
	}
	out := make(map[string]State, len(found))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, e := range found {
		g.Go(func() error {
			md, err := s.opts.Publisher.Metadata(gctx, pubEntity(e.Ref))
			if err != nil && !errors.Is(err, derrors.ErrNotFound) {
				// One unreadable site must not hide the others' state.
				s.opts.Logger.Warn("techdocs: read the published metadata", "entity", e.Ref.String(), "err", err)
				return nil
			}
			b, ok := builds[e.Ref.Key()]
			st := s.assemble(e.Ref.Key(), md, b, ok)
			mu.Lock()
			out[e.Ref.Key()] = st
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// assemble puts together what is known of key's docs: the published
// metadata (nil if none), the database's build record (ok if any) and
// this process's builds and source checks.
func (s *Service) assemble(key string, md *publish.Metadata, b store.DocsBuild, ok bool) State {
	st := State{Builder: s.opts.Builder}
	if md != nil {
		st.Built, st.Etag = time.UnixMilli(md.BuildTimestamp), md.Etag
	}
	if ok {
		st.Building, st.Error = b.Building, b.Error
	}
	s.mu.Lock()
	if _, running := s.builds[key]; running {
		st.Building = true
	}
	last, checked := s.checks[key]
	s.mu.Unlock()
	st.Stale = checked && last.stale
	return st
}

// state is State; with check, a site not compared with its source for a
// while is compared in the background (local builder), and rebuilt if
// stale.
func (s *Service) state(ctx context.Context, e *docsEntity, check bool) (State, error) {
	md, err := s.opts.Publisher.Metadata(ctx, pubEntity(e.Ref))
	if err != nil && !errors.Is(err, derrors.ErrNotFound) {
		return State{}, err
	}
	return s.stateWith(ctx, e, md, check)
}

// stateWith is state given e's published metadata (nil if none).
func (s *Service) stateWith(ctx context.Context, e *docsEntity, md *publish.Metadata, check bool) (State, error) {
	key := e.Ref.Key()
	var err error
	var b store.DocsBuild
	var ok bool
	if s.opts.Store != nil {
		if b, ok, err = s.opts.Store.DocsBuildState(ctx, key); err != nil {
			return State{}, err
		}
	}
	st := s.assemble(key, md, b, ok)
	if check && s.opts.Builder == BuilderLocal && !st.Built.IsZero() {
		s.mu.Lock()
		last, checked := s.checks[key]
		s.mu.Unlock()
		if !checked || time.Since(last.at) > s.opts.StaleCheckInterval {
			s.checkInBackground(ctx, e)
		}
	}
	return st, nil
}

// checkInBackground compares e's site with its source and rebuilds it if
// it is stale, without holding up the caller.
func (s *Service) checkInBackground(ctx context.Context, e *docsEntity) {
	key := e.Ref.Key()
	s.mu.Lock()
	s.checks[key] = staleCheck{at: time.Now(), stale: s.checks[key].stale}
	s.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	s.bg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		if _, err := s.sync(ctx, e, false, func(string) {}); err != nil {
			s.opts.Logger.Warn("techdocs: background build failed", "entity", key, "err", err)
		}
	})
}

// Site returns ref's built site; derrors.ErrNotFound if none is published.
func (s *Service) Site(ctx context.Context, ref entity.Ref) (*Site, error) {
	e, err := s.entity(ctx, ref)
	if err != nil {
		return nil, err
	}
	c, md, err := s.site(ctx, e)
	if err != nil {
		return nil, err
	}
	st, err := s.stateWith(ctx, e, md, true)
	if err != nil {
		return nil, err
	}
	return &Site{Ref: e.Ref, Info: c.info, Metadata: *md, State: st}, nil
}

// site returns e's parsed site files, read again only after a new build.
func (s *Service) site(ctx context.Context, e *docsEntity) (*cachedSite, *publish.Metadata, error) {
	pe := pubEntity(e.Ref)
	md, err := s.opts.Publisher.Metadata(ctx, pe)
	if err != nil {
		return nil, nil, err
	}
	key := e.Ref.Key()
	s.mu.Lock()
	c := s.sites[key]
	s.mu.Unlock()
	if c != nil && c.built == md.BuildTimestamp {
		return c, md, nil
	}
	c = &cachedSite{built: md.BuildTimestamp, pages: map[string]*build.PageInfo{}, html: map[string][]byte{}}
	if err := s.readJSON(ctx, pe, build.SiteFile, &c.info); errors.Is(err, derrors.ErrNotFound) {
		// Built by MkDocs (techdocs-cli), not by Atrium.
		c.info = foreignSite(md)
	} else if err != nil {
		return nil, nil, fmt.Errorf("%s: the published site's %s cannot be read: %w", e.Ref, build.SiteFile, err)
	}
	for i := range c.info.Pages {
		c.pages[c.info.Pages[i].Path] = &c.info.Pages[i]
	}
	var idx struct {
		Docs []searchDoc `json:"docs"`
	}
	if err := s.readJSON(ctx, pe, build.SearchIndexFile, &idx); err == nil {
		c.index = idx.Docs
	}
	s.mu.Lock()
	s.sites[key] = c
	s.mu.Unlock()
	return c, md, nil
}

func (s *Service) readJSON(ctx context.Context, e publish.Entity, name string, v any) error {
	rc, _, err := s.opts.Publisher.Open(ctx, e, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	return json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(v)
}

// Page returns the page at the site-relative path ("" for the home page,
// "a/b/" for a/b.md).
func (s *Service) Page(ctx context.Context, ref entity.Ref, p string) (*Page, error) {
	e, err := s.entity(ctx, ref)
	if err != nil {
		return nil, err
	}
	c, _, err := s.site(ctx, e)
	if err != nil {
		return nil, err
	}
	info, ok := c.pages[p]
	if !ok {
		return nil, derrors.NotFound("%s's docs have no page %q", ref, p)
	}
	c.htmlMu.Lock()
	html, ok := c.html[p]
	c.htmlMu.Unlock()
	if !ok {
		rc, _, err := s.opts.Publisher.Open(ctx, pubEntity(e.Ref), p+"index.html")
		if err != nil {
			return nil, err
		}
		doc, err := io.ReadAll(io.LimitReader(rc, 32<<20))
		rc.Close()
		if err != nil {
			return nil, err
		}
		// Sanitized again: the site may have been published by CI.
		html = markdown.Sanitize(article(doc))
		c.htmlMu.Lock()
		c.html[p] = html
		c.htmlMu.Unlock()
	}
	page := &Page{Info: *info, HTML: html}
	if page.Info.TOC == nil {
		// A page MkDocs built: its TOC comes from its headings.
		page.Info.TOC = tocOf(html)
	}
	return page, nil
}

// article cuts a built page's body out of the whole document: between
// Atrium's markers, or for a page MkDocs built, its <article> (the
// material theme's, as techdocs-core uses) or its role="main" block (the
// default theme's).
func article(doc []byte) []byte {
	if _, rest, ok := bytes.Cut(doc, []byte(build.ArticleStart)); ok {
		body, _, _ := bytes.Cut(rest, []byte(build.ArticleEnd))
		return body
	}
	for _, open := range [][]byte{[]byte("<article"), []byte(`<div role="main"`)} {
		i := bytes.Index(doc, open)
		if i < 0 {
			continue
		}
		j := bytes.IndexByte(doc[i:], '>')
		if j < 0 {
			return nil
		}
		body := doc[i+j+1:]
		end := []byte("</article>")
		if open[1] == 'd' {
			end = []byte("<footer")
		}
		if k := bytes.LastIndex(body, end); k >= 0 {
			body = body[:k]
		}
		return body
	}
	return nil
}

// Asset opens any other file of ref's site.
func (s *Service) Asset(ctx context.Context, ref entity.Ref, p string) (io.ReadCloser, publish.FileInfo, error) {
	e, err := s.entity(ctx, ref)
	if err != nil {
		return nil, publish.FileInfo{}, err
	}
	return s.opts.Publisher.Open(ctx, pubEntity(e.Ref), p)
}

// Sync makes sure ref's docs are built from their current source: with
// the local builder it builds them if they are missing or stale (always,
// with force), sending the build's log lines to log, and reports whether
// a new site was published. With the external builder it only reports
// what is published.
func (s *Service) Sync(ctx context.Context, ref entity.Ref, force bool, log func(string)) (updated bool, err error) {
	e, err := s.entity(ctx, ref)
	if err != nil {
		return false, err
	}
	return s.sync(ctx, e, force, log)
}

// buildRun is a build running in this process; callers asking for the
// same entity meanwhile follow its log.
type buildRun struct {
	mu      sync.Mutex
	lines   []string
	subs    []func(string)
	done    chan struct{}
	updated bool
	err     error
}

func (b *buildRun) log(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	for _, f := range b.subs {
		f(line)
	}
}

// follow replays the lines so far to f and sends it the rest.
func (b *buildRun) follow(f func(string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lines {
		f(l)
	}
	b.subs = append(b.subs, f)
}

func (s *Service) sync(ctx context.Context, e *docsEntity, force bool, log func(string)) (bool, error) {
	if s.opts.Builder != BuilderLocal {
		if _, err := s.opts.Publisher.Metadata(ctx, pubEntity(e.Ref)); err != nil {
			if errors.Is(err, derrors.ErrNotFound) {
				return false, derrors.NotFound("no docs are published for %s; with techdocs.builder external, CI builds them (atrium docs build, atrium docs publish)", e.Ref)
			}
			return false, err
		}
		log("Docs are built and published by CI (techdocs.builder: external)")
		return false, nil
	}
	key := e.Ref.Key()
	s.mu.Lock()
	run, running := s.builds[key]
	if !running {
		run = &buildRun{done: make(chan struct{})}
		s.builds[key] = run
	}
	s.mu.Unlock()
	// Log lines of a shared build go to every follower; a follower whose
	// request has ended stops receiving them.
	var logMu sync.Mutex
	stopped := false
	run.follow(func(l string) {
		logMu.Lock()
		defer logMu.Unlock()
		if !stopped {
			log(l)
		}
	})
	defer func() {
		logMu.Lock()
		stopped = true
		logMu.Unlock()
	}()
	if !running {
		// The build outlives the request that started it: others may
		// follow it, and a half-built site is no use to anyone.
		bctx := context.WithoutCancel(ctx)
		s.bg.Go(func() {
			run.updated, run.err = s.build(bctx, e, force, run.log)
			s.mu.Lock()
			delete(s.builds, key)
			s.mu.Unlock()
			close(run.done)
		})
	}
	select {
	case <-run.done:
		return run.updated, run.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// build builds e's docs if they are stale or missing (or force), holding
// the entity's lease in the database so that one replica builds at a
// time.
func (s *Service) build(ctx context.Context, e *docsEntity, force bool, log func(string)) (bool, error) {
	key := e.Ref.Key()
	src, err := s.resolveSource(e)
	if err != nil {
		return false, s.failed(ctx, key, err, log)
	}
	etag, err := s.sourceEtag(src)
	if err != nil {
		return false, s.failed(ctx, key, err, log)
	}
	pe := pubEntity(e.Ref)
	md, err := s.opts.Publisher.Metadata(ctx, pe)
	if err != nil && !errors.Is(err, derrors.ErrNotFound) {
		return false, err
	}
	upToDate := md != nil && md.Etag == etag
	s.mu.Lock()
	s.checks[key] = staleCheck{at: time.Now(), stale: md != nil && !upToDate}
	s.mu.Unlock()
	if upToDate && !force {
		log("The docs are up to date with their source")
		return false, nil
	}
	if s.opts.Store != nil {
		for {
			ok, err := s.opts.Store.AcquireDocsBuild(ctx, key, s.owner, s.opts.Lease)
			if err != nil {
				return false, err
			}
			if ok {
				break
			}
			log("Another replica is building these docs; waiting for it")
			if err := s.waitForOtherBuild(ctx, key); err != nil {
				return false, err
			}
			if now, err := s.opts.Publisher.Metadata(ctx, pe); err == nil && now.Etag == etag {
				log("The other replica published them")
				s.markFresh(key)
				return md == nil || md.BuildTimestamp != now.BuildTimestamp, nil
			}
		}
	}
	buildErr := s.buildAndPublish(ctx, e, src, etag, log)
	if s.opts.Store != nil {
		msg := ""
		if buildErr != nil {
			msg = buildErr.Error()
		}
		if err := s.opts.Store.FinishDocsBuild(context.WithoutCancel(ctx), key, s.owner, etag, msg); err != nil && buildErr == nil {
			buildErr = err
		}
	}
	if buildErr != nil {
		log("The build failed: " + buildErr.Error())
		return false, buildErr
	}
	s.markFresh(key)
	return true, nil
}

// failed records why e's docs cannot be built, for State, when no other
// replica is building them, and returns err.
func (s *Service) failed(ctx context.Context, key string, err error, log func(string)) error {
	log("The build failed: " + err.Error())
	if s.opts.Store == nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	if ok, lerr := s.opts.Store.AcquireDocsBuild(ctx, key, s.owner, s.opts.Lease); lerr == nil && ok {
		if ferr := s.opts.Store.FinishDocsBuild(ctx, key, s.owner, "", err.Error()); ferr != nil {
			s.opts.Logger.Warn("techdocs: recording a failed build", "entity", key, "err", ferr)
		}
	}
	return err
}

func (s *Service) markFresh(key string) {
	s.mu.Lock()
	s.checks[key] = staleCheck{at: time.Now()}
	s.mu.Unlock()
}

// waitForOtherBuild polls until no replica holds key's build lease.
func (s *Service) waitForOtherBuild(ctx context.Context, key string) error {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		b, _, err := s.opts.Store.DocsBuildState(ctx, key)
		if err != nil {
			return err
		}
		if !b.Building {
			return nil
		}
	}
}

// sourceEtag identifies the content of a docs source.
func (s *Service) sourceEtag(src source) (string, error) {
	if src.Git != nil {
		h, err := s.opts.Git.TreeHash(*src.Git)
		if err != nil {
			return "", err
		}
		return "git:" + h, nil
	}
	if _, err := os.Stat(src.Dir); err != nil {
		return "", derrors.NotFound("the docs folder %s cannot be read: %v", src.Dir, err)
	}
	return build.SourceDigest(src.Dir)
}

// buildAndPublish builds src into a temporary folder and publishes it,
// renewing the lease meanwhile.
func (s *Service) buildAndPublish(ctx context.Context, e *docsEntity, src source, etag string, log func(string)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if s.opts.Store != nil {
		go func() {
			t := time.NewTicker(s.opts.Lease / 3)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if err := s.opts.Store.RenewDocsBuild(ctx, e.Ref.Key(), s.owner, s.opts.Lease); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	tmp, err := os.MkdirTemp(s.opts.WorkDir, "atrium-docs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	srcDir := src.Dir
	if src.Git != nil {
		srcDir = path.Join(tmp, "src")
		if err := os.Mkdir(srcDir, 0o755); err != nil {
			return err
		}
		log("Reading the source from " + src.String())
		if _, err := s.opts.Git.Export(*src.Git, srcDir, build.DefaultMaxFiles, build.DefaultMaxBytes); err != nil {
			return err
		}
	}
	log("Building the docs of " + e.Ref.String() + " from " + src.String())
	start := time.Now()
	res, err := build.Build(ctx, srcDir, path.Join(tmp, "site"), build.Options{
		Renderer: Renderer, SiteName: e.Title, Etag: etag, Log: log,
	})
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return cause
		}
		return err
	}
	log(fmt.Sprintf("Built %d pages in %s", res.Pages, time.Since(start).Round(time.Millisecond)))
	pub, err := s.opts.Publisher.Publish(ctx, pubEntity(e.Ref), path.Join(tmp, "site"))
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	log(fmt.Sprintf("Published %d files (%d removed)", pub.Uploaded, pub.Deleted))
	return nil
}

// Renderer is the build's Markdown renderer: Atrium's markdown package.
func Renderer(src []byte, resolve func(target string, image bool) string) (*build.RenderedPage, error) {
	p, err := markdown.Render(src, markdown.Options{ResolveLink: resolve})
	if err != nil {
		return nil, err
	}
	out := &build.RenderedPage{Title: p.Title, Description: p.Description, HTML: p.HTML, Text: p.Text, Warnings: p.Warnings}
	for _, h := range p.TOC {
		out.TOC = append(out.TOC, build.Heading{Level: h.Level, ID: h.ID, Text: h.Text})
	}
	for _, sec := range p.Sections {
		out.Sections = append(out.Sections, build.Section{ID: sec.ID, Title: sec.Title, Text: sec.Text})
	}
	return out, nil
}
