package techdocs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/githost/githosttest"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/store/storetest"
	"github.com/atrium-dev/atrium/internal/techdocs/build"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
)

// fakeCatalog serves entities by ref key; hidden ones are not found, as
// the catalog answers for entities the caller may not see.
type fakeCatalog struct {
	mu       sync.Mutex
	entities map[string]json.RawMessage
}

func (c *fakeCatalog) EntityByRef(_ context.Context, ref entity.Ref) (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entities[ref.Key()]; ok {
		return e, nil
	}
	return nil, derrors.NotFound("no entity %s", ref)
}

func (c *fakeCatalog) EntitiesByRefs(_ context.Context, refs []string, _ filter.Expr) ([]json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]json.RawMessage, len(refs))
	for i, r := range refs {
		out[i] = c.entities[r]
	}
	return out, nil
}

func (c *fakeCatalog) add(name, location, docsRef string) entity.Ref {
	c.mu.Lock()
	defer c.mu.Unlock()
	annotations := map[string]string{"backstage.io/managed-by-location": location}
	if docsRef != "" {
		annotations[RefAnnotation] = docsRef
	}
	b, _ := json.Marshal(map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": name, "namespace": "default", "title": "The " + name, "annotations": annotations},
		"spec":     map[string]any{"type": "service"}})
	c.entities["component:default/"+name] = b
	return entity.Ref{Kind: "Component", Namespace: "default", Name: name}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
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

var siteFiles = map[string]string{
	"catalog-info.yaml":     "kind: Component\n",
	"docs/mkdocs.yml":       "site_name: Parcels\nnav:\n  - Home: index.md\n  - Guide: guide.md\n",
	"docs/docs/index.md":    "# Parcels\n\nHow parcels move. See the [guide](guide.md).\n\n## Tracking\n\nParcels are tracked by barcode.\n",
	"docs/docs/guide.md":    "# Guide\n\n<script>alert(1)</script>\n\n## Rollback\n\nRoll back with the barcode scanner.\n",
	"docs/docs/img/map.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
}

type env struct {
	svc *Service
	cat *fakeCatalog
	dir string
	pub publish.Publisher
	st  *store.Store
}

func newEnv(t *testing.T, st *store.Store, builder string) *env {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, siteFiles)
	pub, err := publish.New(context.Background(), publish.Config{Local: struct{ PublishDirectory string }{filepath.Join(t.TempDir(), "sites")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	cat := &fakeCatalog{entities: map[string]json.RawMessage{}}
	svc := New(Options{Catalog: cat, Store: st, Publisher: pub, Builder: builder, StaleCheckInterval: time.Hour})
	t.Cleanup(svc.Close)
	return &env{svc: svc, cat: cat, dir: dir, pub: pub, st: st}
}

func openStore(t *testing.T, e storetest.Engine) *store.Store {
	t.Helper()
	var st *store.Store
	var err error
	if e == storetest.Postgres {
		st, err = store.OpenPostgres(context.Background(), storetest.PostgresURL(t), store.Options{})
	} else {
		st, err = store.Open(context.Background(), storetest.SQLitePath(t), store.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestLocalBuilder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, engine storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, openStore(t, engine), BuilderLocal)
		ref := e.cat.add("parcels", "file:"+filepath.Join(e.dir, "catalog-info.yaml"), "dir:./docs")

		if _, err := e.svc.Site(ctx, ref); !errors.Is(err, derrors.ErrNotFound) {
			t.Fatalf("Site before a build: %v, want not found", err)
		}
		var lines []string
		updated, err := e.svc.Sync(ctx, ref, false, func(l string) { lines = append(lines, l) })
		if err != nil || !updated {
			t.Fatalf("first Sync = %v, %v\n%s", updated, err, strings.Join(lines, "\n"))
		}
		if log := strings.Join(lines, "\n"); !strings.Contains(strings.ToLower(log), "building the docs of component:default/parcels") || !strings.Contains(log, "Published") {
			t.Errorf("build log:\n%s", log)
		}
		if updated, err := e.svc.Sync(ctx, ref, false, func(string) {}); err != nil || updated {
			t.Errorf("Sync of fresh docs = %v, %v, want no build", updated, err)
		}

		site, err := e.svc.Site(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if site.Info.SiteName != "Parcels" || len(site.Info.Pages) != 2 || site.State.Built.IsZero() || site.State.Stale || site.State.Builder != BuilderLocal {
			t.Errorf("site = %+v", site)
		}
		page, err := e.svc.Page(ctx, ref, "guide/")
		if err != nil {
			t.Fatal(err)
		}
		if page.Info.Title != "Guide" || page.Info.Prev == nil || strings.Contains(string(page.HTML), "<script") || !strings.Contains(string(page.HTML), `id="rollback"`) {
			t.Errorf("guide page = %+v\n%s", page.Info, page.HTML)
		}
		home, _ := e.svc.Page(ctx, ref, "")
		if !strings.Contains(string(home.HTML), `href="guide/"`) {
			t.Errorf("the home page's link to the guide is not rewritten:\n%s", home.HTML)
		}
		if _, err := e.svc.Page(ctx, ref, "nope/"); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("a missing page: %v", err)
		}
		rc, info, err := e.svc.Asset(ctx, ref, "img/map.svg")
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if info.ContentType != "image/svg+xml" {
			t.Errorf("svg content type %q", info.ContentType)
		}

		hits, err := e.svc.Search(ctx, ref, "barcode", 10)
		if err != nil || len(hits) < 2 {
			t.Fatalf("Search(barcode) = %+v, %v", hits, err)
		}
		if hits, _ := e.svc.Search(ctx, ref, "roll back scanner", 10); len(hits) == 0 || hits[0].Location != "guide/#rollback" {
			t.Errorf("Search(roll back scanner) = %+v, want the guide's rollback section first", hits)
		}
		if hits, _ := e.svc.Search(ctx, ref, "nothing-like-this", 10); len(hits) != 0 {
			t.Errorf("Search of an absent word = %+v", hits)
		}

		// A change to the source makes the docs stale; Sync rebuilds them.
		writeFiles(t, e.dir, map[string]string{"docs/docs/guide.md": "# Guide\n\nNew words: forklift.\n"})
		if updated, err := e.svc.Sync(ctx, ref, false, func(string) {}); err != nil || !updated {
			t.Fatalf("Sync after a change = %v, %v", updated, err)
		}
		if hits, _ := e.svc.Search(ctx, ref, "forklift", 10); len(hits) == 0 {
			t.Error("the rebuilt site's index lacks the new words")
		}
		if page, _ := e.svc.Page(ctx, ref, "guide/"); !strings.Contains(string(page.HTML), "forklift") {
			t.Errorf("the page was not rebuilt:\n%s", page.HTML)
		}
		if updated, _ := e.svc.Sync(ctx, ref, true, func(string) {}); !updated {
			t.Error("a forced Sync did not build")
		}

		// A broken source fails the build with its error and keeps the
		// published site.
		writeFiles(t, e.dir, map[string]string{"docs/mkdocs.yml": "nav: [index.md]\n"})
		if _, err := e.svc.Sync(ctx, ref, false, func(string) {}); err == nil || !strings.Contains(err.Error(), "site_name") {
			t.Errorf("Sync of a broken mkdocs.yml: %v", err)
		}
		st, _ := e.svc.State(ctx, ref)
		if !strings.Contains(st.Error, "site_name") || st.Built.IsZero() {
			t.Errorf("state after a failed build = %+v", st)
		}
		if _, err := e.svc.Page(ctx, ref, ""); err != nil {
			t.Errorf("the last good site is gone: %v", err)
		}
	})
}

// TestBuildsAreShared: callers asking at once share one build, and a
// second service (another replica) waits for the first's lease instead of
// building again.
func TestBuildsAreShared(t *testing.T) {
	storetest.Run(t, func(t *testing.T, engine storetest.Engine) {
		ctx := context.Background()
		st := openStore(t, engine)
		e := newEnv(t, st, BuilderLocal)
		ref := e.cat.add("parcels", "file:"+filepath.Join(e.dir, "catalog-info.yaml"), "dir:./docs")
		other := New(Options{Catalog: e.cat, Store: st, Publisher: e.pub, StaleCheckInterval: time.Hour})
		t.Cleanup(other.Close)

		var wg sync.WaitGroup
		results := make([]bool, 6)
		errs := make([]error, 6)
		for i := range results {
			svc := e.svc
			if i%2 == 1 {
				svc = other
			}
			wg.Go(func() { results[i], errs[i] = svc.Sync(ctx, ref, false, func(string) {}) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Sync %d: %v", i, err)
			}
		}
		md, err := e.pub.Metadata(ctx, pubEntity(ref))
		if err != nil {
			t.Fatal(err)
		}
		// One build at most per service: the in-process runs are shared;
		// the lease keeps the two services from building at once, and
		// the second sees the first's result as fresh.
		builds := 0
		for _, updated := range results {
			if updated {
				builds++
			}
		}
		if builds == 0 || md.Etag == "" {
			t.Errorf("no build happened: %v, etag %q", results, md.Etag)
		}
		if b, _, _ := st.DocsBuildState(ctx, ref.Key()); b.Building || b.Etag != md.Etag {
			t.Errorf("build state after = %+v, published etag %q", b, md.Etag)
		}
	})
}

func TestExternalBuilder(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, BuilderExternal)
	ref := e.cat.add("parcels", "file:"+filepath.Join(e.dir, "catalog-info.yaml"), "dir:./docs")
	if _, err := e.svc.Sync(ctx, ref, false, func(string) {}); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("Sync with nothing published: %v, want not found", err)
	}
	// CI builds and publishes.
	local := newEnv(t, nil, BuilderLocal)
	local.pub = e.pub
	local.svc = New(Options{Catalog: e.cat, Publisher: e.pub})
	if _, err := local.svc.Sync(ctx, ref, false, func(string) {}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	if updated, err := e.svc.Sync(ctx, ref, true, func(l string) { lines = append(lines, l) }); err != nil || updated {
		t.Errorf("external Sync = %v, %v, want no build", updated, err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "external") {
		t.Errorf("log: %v", lines)
	}
	if page, err := e.svc.Page(ctx, ref, ""); err != nil || !strings.Contains(string(page.HTML), "How parcels move") {
		t.Errorf("Page from the CI-published site: %v", err)
	}
}

func TestSources(t *testing.T) {
	ctx := context.Background()
	h, err := githost.New("localhost:7007", filepath.Join(t.TempDir(), "git"), "http://localhost:7007/git")
	if err != nil {
		t.Fatal(err)
	}
	githosttest.Commit(t, h, "acme", "parcels", "main", "docs", siteFiles)

	e := newEnv(t, nil, BuilderLocal)
	e.svc.opts.Git = h
	fromGit := e.cat.add("from-git", "url:http://localhost:7007/git/acme/parcels/tree/main/catalog-info.yaml", "dir:docs")
	if _, err := e.svc.Sync(ctx, fromGit, false, func(string) {}); err != nil {
		t.Fatalf("docs from the local git host: %v", err)
	}
	if page, err := e.svc.Page(ctx, fromGit, "guide/"); err != nil || !strings.Contains(string(page.HTML), "Rollback") {
		t.Errorf("the git-sourced guide: %v", err)
	}
	byURL := e.cat.add("by-url", "file:/somewhere/catalog-info.yaml", "url:http://localhost:7007/git/acme/parcels/tree/main/docs")
	if _, err := e.svc.Sync(ctx, byURL, false, func(string) {}); err != nil {
		t.Errorf("url: docs on the local git host: %v", err)
	}

	for name, tc := range map[string]struct{ loc, ref string }{
		"no annotation":      {"file:/x/catalog-info.yaml", ""},
		"bad annotation":     {"file:/x/catalog-info.yaml", "docs"},
		"absolute dir":       {"file:/x/catalog-info.yaml", "dir:/etc"},
		"unknown kind":       {"file:/x/catalog-info.yaml", "git:x"},
		"missing folder":     {"file:" + filepath.Join(e.dir, "catalog-info.yaml"), "dir:./nope"},
		"other host":         {"file:/x/catalog-info.yaml", "url:https://github.com/acme/parcels/tree/main"},
		"dir under a url":    {"url:https://github.com/acme/parcels/blob/main/catalog-info.yaml", "dir:."},
		"escaping docs_dir":  {"file:" + filepath.Join(e.dir, "catalog-info.yaml"), "dir:./bad"},
		"credentials in url": {"file:/x/catalog-info.yaml", "url:https://user:s3cret@example.com/repo"},
	} {
		writeFiles(t, e.dir, map[string]string{"bad/mkdocs.yml": "site_name: x\ndocs_dir: ../../\n"})
		ref := e.cat.add(strings.ReplaceAll(name, " ", "-"), tc.loc, tc.ref)
		_, err := e.svc.Sync(ctx, ref, false, func(string) {})
		if err == nil {
			t.Errorf("%s: Sync succeeded", name)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}

func TestArticle(t *testing.T) {
	doc := []byte("<html><nav>x</nav><article><!--atrium:article--><p>body</p><!--/atrium:article--></article></html>")
	if got := string(article(doc)); got != "<p>body</p>" {
		t.Errorf("article = %q", got)
	}
	if got := article([]byte("<p>no markers</p>")); got != nil {
		t.Errorf("article without markers = %q", got)
	}
}

func TestSnippet(t *testing.T) {
	text := strings.Repeat("alpha ", 30) + "needle " + strings.Repeat("omega ", 40)
	s := snippet(text, strings.Index(text, "needle"))
	if !strings.Contains(s, "needle") || !strings.HasPrefix(s, "…") || !strings.HasSuffix(s, "…") || len(s) > 260 {
		t.Errorf("snippet = %q", s)
	}
	if s := snippet("short text", -1); s != "short text" {
		t.Errorf("snippet of short text = %q", s)
	}
}

var _ io.Closer = (publish.Publisher)(nil)

// TestForeignSite serves a site techdocs-cli (MkDocs with the material
// theme) published: no site.json, pages found from the metadata's files,
// the article cut from <article>, scripts removed.
func TestForeignSite(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, BuilderExternal)
	ref := e.cat.add("legacy", "file:/x/catalog-info.yaml", "dir:.")
	site := t.TempDir()
	page := func(title, body string) string {
		return `<!doctype html><html><head><title>` + title + `</title><script src="assets/bundle.js"></script></head><body>` +
			`<div class="md-container"><main><article class="md-content__inner md-typeset">` + body +
			`</article></main></div><script>alert(1)</script></body></html>`
	}
	writeFiles(t, site, map[string]string{
		"index.html":                 page("Home", `<h1 id="legacy">Legacy</h1><p>Old docs.</p><h2 id="setup">Setup<a class="headerlink" href="#setup">¶</a></h2><script>x()</script>`),
		"getting-started/index.html": page("Start", `<h1>Getting started</h1><h3 id="install">Install</h3>`),
		"search/search_index.json":   `{"docs":[{"location":"","title":"Legacy","text":"Old docs."},{"location":"getting-started/","title":"Getting started","text":"Install it."}]}`,
		"techdocs_metadata.json": `{"site_name":"Legacy","site_description":"d","build_timestamp":1700000000000,` +
			`"files":["index.html","getting-started/index.html","search/search_index.json","assets/bundle.js"]}`,
		"assets/bundle.js": "alert(1)",
	})
	if _, err := e.pub.Publish(ctx, pubEntity(ref), site); err != nil {
		t.Fatal(err)
	}
	s, err := e.svc.Site(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Info.Pages) != 2 || s.Info.Pages[0].Path != "" || s.Info.Pages[1].Title != "Getting started" || s.Info.Pages[0].Next == nil {
		t.Errorf("pages = %+v", s.Info.Pages)
	}
	home, err := e.svc.Page(ctx, ref, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(home.HTML), "<script") || !strings.Contains(string(home.HTML), "Old docs.") {
		t.Errorf("home article: %s", home.HTML)
	}
	if len(home.Info.TOC) != 1 || home.Info.TOC[0] != (build.Heading{Level: 2, ID: "setup", Text: "Setup"}) {
		t.Errorf("home TOC = %+v", home.Info.TOC)
	}
	if hits, _ := e.svc.Search(ctx, ref, "install", 5); len(hits) != 1 || hits[0].Location != "getting-started/" {
		t.Errorf("search = %+v", hits)
	}
}

// TestStaleDocsRebuildInBackground: reading a site whose source changed
// flags it stale and rebuilds it without holding up the reader.
func TestStaleDocsRebuildInBackground(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, BuilderLocal)
	e.svc.opts.StaleCheckInterval = time.Millisecond
	ref := e.cat.add("parcels", "file:"+filepath.Join(e.dir, "catalog-info.yaml"), "dir:./docs")
	if _, err := e.svc.Sync(ctx, ref, false, func(string) {}); err != nil {
		t.Fatal(err)
	}
	first, _ := e.pub.Metadata(ctx, pubEntity(ref))
	writeFiles(t, e.dir, map[string]string{"docs/docs/guide.md": "# Guide\n\nRewritten.\n"})
	time.Sleep(5 * time.Millisecond)
	if _, err := e.svc.Site(ctx, ref); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		md, err := e.pub.Metadata(ctx, pubEntity(ref))
		if err == nil && md.Etag != first.Etag {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale site was not rebuilt")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if page, _ := e.svc.Page(ctx, ref, "guide/"); !strings.Contains(string(page.HTML), "Rewritten") {
		t.Errorf("the rebuilt page: %s", page.HTML)
	}
}

// TestStates answers a list's states at once: built, never built, hidden
// or without docs.
func TestStates(t *testing.T) {
	storetest.Run(t, func(t *testing.T, engine storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, openStore(t, engine), BuilderLocal)
		built := e.cat.add("parcels", "file:"+filepath.Join(e.dir, "catalog-info.yaml"), "dir:./docs")
		unbuilt := e.cat.add("unbuilt", "file:"+filepath.Join(e.dir, "catalog-info.yaml"), "dir:./nowhere")
		nodocs := e.cat.add("nodocs", "file:/x/catalog-info.yaml", "")
		hidden := entity.Ref{Kind: "Component", Namespace: "default", Name: "hidden"}
		if _, err := e.svc.Sync(ctx, built, false, func(string) {}); err != nil {
			t.Fatal(err)
		}
		_, _ = e.svc.Sync(ctx, unbuilt, false, func(string) {}) // fails: no folder
		got, err := e.svc.States(ctx, []entity.Ref{built, unbuilt, nodocs, hidden})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("States = %+v, want the two documented entities", got)
		}
		if st := got[built.Key()]; st.Built.IsZero() || st.Error != "" || st.Builder != BuilderLocal {
			t.Errorf("built = %+v", st)
		}
		if st := got[unbuilt.Key()]; !st.Built.IsZero() || !strings.Contains(st.Error, "cannot be read") {
			t.Errorf("unbuilt = %+v", st)
		}
		one, _ := e.svc.State(ctx, built)
		if one != got[built.Key()] {
			t.Errorf("State = %+v, States = %+v", one, got[built.Key()])
		}
	})
}
