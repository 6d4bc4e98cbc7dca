package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/bench"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/store"
)

// BenchmarkCatalogPage measures the server-side rendering of catalog list
// pages (routing, SQL, decoding, template) on a synthetic organisation.
//
// By default it ingests 2,000 components into a temporary database first.
// To measure at scale, make the database once and point the benchmark at it:
//
//	go run ./cmd/atrium bench ingest --components 100000 --dir /tmp/atrium-100k
//	ATRIUM_BENCH_DIR=/tmp/atrium-100k go test -run '^$' -bench CatalogPage -benchtime 50x ./internal/web/
//
// ATRIUM_BENCH_COMPONENTS sets the size of the default ingest. Each case
// reports cold-ms, the first request on a freshly opened store (counts and
// facets not cached yet), and first-ms, its first request after the pages
// atrium serve warms once ingestion has caught up (app.warmPaths),
// beside ns/op, the steady state.
func BenchmarkCatalogPage(b *testing.B) {
	dir := benchDatabase(b)
	ctx := context.Background()

	// Pick the cases' parameters from the data: an owner with a handful
	// of components, and positions in the middle and at the end of the
	// component list sorted by name.
	st, err := store.Open(ctx, filepath.Join(dir, "atrium.sqlite"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	owners, err := st.Facets(ctx, []string{"relations.ownedby"}, filter.Match{Key: "kind", Values: []string{"component"}})
	if err != nil || len(owners["relations.ownedby"]) == 0 {
		b.Fatalf("no owners in %s: %v", dir, err)
	}
	owner := owners["relations.ownedby"][len(owners["relations.ownedby"])/2].Value
	total, err := st.QueryEntities(ctx, catalog.Query{Filter: filter.Match{Key: "kind", Values: []string{"component"}}, CountTotal: true})
	if err != nil {
		b.Fatal(err)
	}
	middle := total.TotalItems / 2
	mid, err := st.QueryEntities(ctx, catalog.Query{
		Filter: filter.Match{Key: "kind", Values: []string{"component"}},
		Order:  []filter.Order{{Field: "metadata.name"}}, DropMissing: true, Offset: middle, Limit: 1,
	})
	if err != nil || len(mid.Items) == 0 {
		b.Fatalf("middle of the list: %v", err)
	}
	st.Close()
	midCursor := pageCursor{Dir: cursorNext, Value: mid.Last.Value, ID: mid.Last.ID, Offset: middle + 1}.encode()

	cases := []struct{ name, path string }{
		{"first page", "/catalog"},
		{"owner filter", "/catalog?filters[kind]=component&filters[owners]=" + url.QueryEscape(owner)},
		{"type and lifecycle", "/catalog?filters[kind]=component&filters[type]=service&filters[lifecycles]=production"},
		{"text filter", "/catalog?filters[kind]=component&filters[text]=pay"},
		{"middle page", "/catalog?cursor=" + midCursor},
		{"last page", "/catalog?cursor=" + pageCursor{Dir: cursorLast}.encode()},
		{"sorted by owner", "/catalog?sort=owner&dir=desc"},
		{"sorted by system", "/catalog?sort=system"},
		{"all kinds by owner", "/catalog?filters[kind]=all&sort=owner"},
		{"all kinds", "/catalog?filters[kind]=all"},
		{"header search", "/catalog?filters[kind]=all&filters[text]=pay"},
		{"100 rows", "/catalog?limit=100"},
		{"api docs", "/api-docs"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			getFrom := func(h http.Handler, path string) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d\n%s", path, rec.Code, excerpt(rec.Body.String()))
				}
			}
			warmed, settle, closeWarmed := benchHandler(b, dir)
			for _, p := range []string{"/catalog", "/catalog?filters[kind]=all", "/api-docs", "/catalog?filters[kind]=all&filters[text]=atrium"} { // as app.warmPaths
				getFrom(warmed, p)
			}
			settle()
			start := time.Now()
			getFrom(warmed, c.path)
			first := time.Since(start)
			closeWarmed()

			h, _, closeStore := benchHandler(b, dir)
			defer closeStore()
			get := func() { getFrom(h, c.path) }
			start = time.Now()
			get()
			cold := time.Since(start)
			b.ResetTimer()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(cold.Microseconds())/1000, "cold-ms")
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
		})
	}
}

// benchHandler opens the database in dir read-only in spirit (nothing
// writes: no ingestion loop runs) and returns the UI over it.
// It also returns the store's Settle, which app.warm calls after the
// warm paths.
func benchHandler(b *testing.B, dir string) (http.Handler, func(), func()) {
	st, err := store.Open(context.Background(), filepath.Join(dir, "atrium.sqlite"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	svc := catalog.New(st, catalog.Options{Logger: slog.New(slog.DiscardHandler)})
	return NewHandler(svc, slog.New(slog.DiscardHandler), Options{}), st.Settle, func() { st.Close() }
}

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// benchDatabase returns a folder holding a synthetic catalog's database:
// $ATRIUM_BENCH_DIR, or one ingested now (once per run).
func benchDatabase(b *testing.B) string {
	b.Helper()
	if d := os.Getenv("ATRIUM_BENCH_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "atrium.sqlite")); err != nil {
			b.Fatalf("ATRIUM_BENCH_DIR: %v (make it with atrium bench ingest --dir)", err)
		}
		return d
	}
	benchOnce.Do(func() {
		n := 2000
		if s := os.Getenv("ATRIUM_BENCH_COMPONENTS"); s != "" {
			if n, benchErr = strconv.Atoi(s); benchErr != nil {
				return
			}
		}
		tmp, err := os.MkdirTemp("", "atrium-web-bench-")
		if err != nil {
			benchErr = err
			return
		}
		cleanups = append(cleanups, func() { os.RemoveAll(tmp) })
		benchDir = filepath.Join(tmp, "db")
		_, benchErr = bench.Ingest(context.Background(), bench.IngestOptions{Components: n, Seed: 1, Dir: benchDir, Progress: io.Discard})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

// BenchmarkEntityPage measures entity pages on the same database as
// BenchmarkCatalogPage: the overview of a component, of the group that
// owns the most and of a system, a definition, and the relation graph.
func BenchmarkEntityPage(b *testing.B) {
	dir := benchDatabase(b)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "atrium.sqlite"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	first := func(kind string) string {
		p, err := st.QueryEntities(ctx, catalog.Query{Filter: filter.Match{Key: "kind", Values: []string{kind}}, Limit: 1})
		if err != nil || len(p.Items) == 0 {
			b.Fatalf("no %s: %v", kind, err)
		}
		e, err := decodeEntity(p.Items[0])
		if err != nil {
			b.Fatal(err)
		}
		return entityHref(e.Ref())
	}
	owners, err := st.Facets(ctx, []string{"relations.ownedby"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	top := owners["relations.ownedby"][0]
	for _, o := range owners["relations.ownedby"] {
		if o.Count > top.Count {
			top = o
		}
	}
	group := refLink(top.Value, "").Href
	component, system, api, location := first("component"), first("system"), first("api"), first("location")
	st.Close()
	cases := []struct{ name, path string }{
		{"component", component},
		{"group " + strconv.Itoa(top.Count) + " owned", group},
		{"system", system},
		{"api definition", api + "/definition"},
		{"graph depth 1", component + "/dependencies"},
		{"graph depth 2", component + "/dependencies?depth=2"},
		{"inspect", component + "/inspect"},
		{"location", location},
		{"unregister", component + "/unregister"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h, _, closeStore := benchHandler(b, dir)
			defer closeStore()
			get := func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d\n%s", c.path, rec.Code, excerpt(rec.Body.String()))
				}
			}
			start := time.Now()
			get()
			cold := time.Since(start)
			b.ResetTimer()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(cold.Microseconds())/1000, "cold-ms")
		})
	}
}
