// Package bench owns Atrium's built-in benchmarks (`atrium bench ...`):
// ingesting a synthetic organisation into a fresh database and timing it
// until every entity is queryable with its relations, and timing the
// catalog API's common queries at that size.
package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/internal/api"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/synth"
)

// IngestOptions configure Ingest.
type IngestOptions struct {
	Components int
	Seed       int64
	// Dir holds the generated files and the database; it must not exist
	// or be empty.
	Dir string
	// Progress, if set, receives a line per phase.
	Progress io.Writer
	// Logger, if set, receives the catalog's logs (at debug level, the
	// duration of every processing and stitching round).
	Logger *slog.Logger
	// Postgres, if set, is a PostgreSQL URL to ingest into instead of
	// SQLite in Dir. The benchmark works in the schema BenchSchema, which
	// it empties first.
	Postgres string
	// Replicas is how many catalog services share the PostgreSQL database,
	// each with its own connection pool, as replicas would (default 1).
	Replicas int
	// NoAudit turns the audit log off, to measure what it costs.
	NoAudit bool
}

// BenchSchema is the PostgreSQL schema benchmarks work in.
const BenchSchema = "atrium_bench"

// IngestReport is what Ingest measured.
type IngestReport struct {
	Components      int
	Entities        int
	GenerateSeconds float64
	// QueryableSeconds is the time from registering the location until
	// every entity is stitched with its relations.
	QueryableSeconds float64
	EntitiesPerSec   float64
	PeakRSSMiB       float64
	Relations        int
	// AuditEvents is how many events the audit log holds afterwards.
	AuditEvents int64
}

// Ingest generates a synthetic organisation and ingests it into a fresh
// SQLite database in opts.Dir, timing it until the catalog has caught up.
func Ingest(ctx context.Context, opts IngestOptions) (IngestReport, error) {
	rep := IngestReport{Components: opts.Components}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return rep, err
	}
	genDir := filepath.Join(dir, "catalog")
	t0 := time.Now()
	stats, err := synth.Generate(genDir, synth.Options{Components: opts.Components, Seed: opts.Seed})
	if err != nil {
		return rep, fmt.Errorf("generate: %w", err)
	}
	rep.GenerateSeconds = time.Since(t0).Seconds()
	fmt.Fprintf(progress, "generated %d entities in %d files (%.1fs)\n", stats.Entities, len(stats.Files), rep.GenerateSeconds)

	replicas := max(opts.Replicas, 1)
	if replicas > 1 && opts.Postgres == "" {
		return rep, fmt.Errorf("several replicas need PostgreSQL")
	}
	if opts.Postgres != "" {
		if err := resetSchema(ctx, opts.Postgres); err != nil {
			return rep, err
		}
	}
	var svcs []*catalog.Service
	var stores []*store.Store
	for range replicas {
		s, err := openStore(ctx, dir, opts.Postgres, store.Options{DisableAudit: opts.NoAudit})
		if err != nil {
			return rep, err
		}
		defer s.Close()
		stores = append(stores, s)
		svcs = append(svcs, newService(s, stats.Root, opts.Logger))
	}
	st := stores[0]
	t1 := time.Now()
	if err := svcs[0].SyncConfigLocations(ctx); err != nil {
		return rep, err
	}
	// Each replica works until it finds nothing left to claim; when the
	// last one stops, the catalog has caught up.
	errs := make(chan error, len(svcs))
	for _, svc := range svcs {
		go func() { errs <- svc.Sync(ctx) }()
	}
	for range svcs {
		if err := <-errs; err != nil {
			return rep, err
		}
	}
	// On PostgreSQL the last statistics refresh runs in the background;
	// until it ends, queries are planned for a catalog a fraction of the
	// size, so the time includes it.
	for _, s := range stores {
		s.Settle()
	}
	rep.QueryableSeconds = time.Since(t1).Seconds()
	page, err := st.QueryEntities(ctx, store.Query{CountTotal: true})
	if err != nil {
		return rep, err
	}
	rep.Entities = page.TotalItems
	// The generated root Location entity comes on top of the files' entities.
	if want := stats.Entities + 1; rep.Entities != want {
		return rep, fmt.Errorf("ingested %d entities, want %d", rep.Entities, want)
	}
	rep.EntitiesPerSec = float64(rep.Entities) / rep.QueryableSeconds
	head, err := st.ReadAuditHead(ctx)
	if err != nil {
		return rep, err
	}
	rep.AuditEvents = head.Seq
	rep.PeakRSSMiB = peakRSSMiB()
	fmt.Fprintf(progress, "ingested %d entities in %.1fs\n", rep.Entities, rep.QueryableSeconds)
	return rep, nil
}

// openStore opens the benchmark's database: PostgreSQL in BenchSchema
// when pgURL is set, else SQLite in dir.
func openStore(ctx context.Context, dir, pgURL string, opts store.Options) (*store.Store, error) {
	if pgURL == "" {
		return store.Open(ctx, filepath.Join(dir, "atrium.sqlite"), opts)
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		return nil, fmt.Errorf("--postgres: %w", err)
	}
	q := u.Query()
	q.Set("search_path", BenchSchema)
	u.RawQuery = q.Encode()
	return store.OpenPostgres(ctx, u.String(), opts)
}

// resetSchema empties BenchSchema.
func resetSchema(ctx context.Context, pgURL string) error {
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+BenchSchema+` CASCADE; CREATE SCHEMA `+BenchSchema); err != nil {
		return fmt.Errorf("reset schema %s: %w", BenchSchema, err)
	}
	return nil
}

// newService builds a catalog service that reads the synthetic files.
func newService(st *store.Store, root string, log *slog.Logger) *catalog.Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return catalog.New(st, catalog.Options{
		Readers:   map[string]catalog.Reader{"file": &source.FileReader{}},
		Rules:     []catalog.Rule{{Allow: catalog.Kinds("Component", "API", "System", "Domain", "Resource", "Location", "User", "Group", "Template")}},
		Locations: []catalog.ConfigLocation{{Type: "file", Target: root}},
		Workers:   runtime.GOMAXPROCS(0),
		Logger:    log,
		// Far beyond any run: a load of a million components takes longer
		// than the default interval, and entities falling due again would
		// keep the catalog from ever being caught up.
		ProcessingInterval: store.Interval{Min: 24 * time.Hour, Max: 36 * time.Hour},
	})
}

// peakRSSMiB reads the process's peak resident set size (Linux).
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// QueryOptions configure Query.
type QueryOptions struct {
	// Dir holds a database made by Ingest.
	Dir string
	// Postgres, if set, reads the database Ingest made in BenchSchema
	// there instead.
	Postgres string
	// Iterations per query kind.
	Iterations int
	Seed       int64
}

// QueryResult is the latency of one kind of request.
type QueryResult struct {
	Name    string
	Request string
	// First is the first request's latency: caches (counts and facets are
	// cached per catalog generation) are cold then.
	First    time.Duration
	P50, P99 time.Duration
	Max      time.Duration
}

// Query times the catalog API's common requests, in process through the
// real HTTP handler (routing, SQL, JSON), against the database in opts.Dir.
func Query(ctx context.Context, opts QueryOptions) ([]QueryResult, error) {
	st, err := openStore(ctx, opts.Dir, opts.Postgres, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	svc := catalog.New(st, catalog.Options{Logger: slog.New(slog.DiscardHandler)})
	h := api.NewCatalogHandler(svc, slog.New(slog.DiscardHandler), api.Options{})
	rnd := rand.New(rand.NewPCG(uint64(opts.Seed), 7))
	components, err := sampleRefs(ctx, st, "component", 500)
	if err != nil {
		return nil, err
	}
	groups, err := sampleRefs(ctx, st, "group", 200)
	if err != nil {
		return nil, err
	}
	if len(components) == 0 || len(groups) == 0 {
		return nil, fmt.Errorf("the database in %s holds no components or groups; run bench ingest first", opts.Dir)
	}
	kinds := []request{
		{"by-name", func() string {
			r := components[rnd.IntN(len(components))]
			return "/api/catalog/entities/by-name/component/" + r.Namespace + "/" + url.PathEscape(r.Name)
		}},
		{"by-query kind=component limit=100", func() string {
			return "/api/catalog/entities/by-query?filter=kind=component&limit=100"
		}},
		{"by-query kind=component orderField=metadata.name limit=100", func() string {
			return "/api/catalog/entities/by-query?filter=kind=component&orderField=metadata.name,asc&limit=100"
		}},
		{"by-query relations.ownedby=<group> limit=100", func() string {
			g := groups[rnd.IntN(len(groups))]
			return "/api/catalog/entities/by-query?limit=100&filter=" + url.QueryEscape("relations.ownedby="+g.String())
		}},
		{"facets spec.type,spec.lifecycle for kind=component", func() string {
			return "/api/catalog/entity-facets?facet=spec.type&facet=spec.lifecycle&filter=kind=component"
		}},
	}
	return timeRequests(ctx, h, kinds, opts.Iterations)
}

// request is a kind of request to time: req returns the next path.
type request struct {
	name string
	req  func() string
}

// timeRequests sends each kind of request iterations times (plus a tenth
// more first, to warm caches) through h and reports its latencies.
func timeRequests(ctx context.Context, h http.Handler, kinds []request, iterations int) ([]QueryResult, error) {
	var out []QueryResult
	for _, k := range kinds {
		var lat []time.Duration
		var example string
		var first time.Duration
		for i := range iterations + iterations/10 {
			path := k.req()
			example = path
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
			rec := httptest.NewRecorder()
			t := time.Now()
			h.ServeHTTP(rec, req)
			d := time.Since(t)
			if rec.Code != http.StatusOK {
				return nil, fmt.Errorf("%s: status %d: %s", path, rec.Code, rec.Body.String())
			}
			if i == 0 {
				first = d
			}
			if i >= iterations/10 { // the first tenth warms caches
				lat = append(lat, d)
			}
		}
		slices.Sort(lat)
		out = append(out, QueryResult{Name: k.name, Request: example, First: first,
			P50: lat[len(lat)/2], P99: lat[len(lat)*99/100], Max: lat[len(lat)-1]})
	}
	return out, nil
}

func sampleRefs(ctx context.Context, st *store.Store, kind string, n int) ([]entity.Ref, error) {
	page, err := st.QueryEntities(ctx, store.Query{Limit: n, Filter: kindFilter(kind)})
	if err != nil {
		return nil, err
	}
	var out []entity.Ref
	for _, raw := range page.Items {
		var e entity.Entity
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		out = append(out, e.Ref())
	}
	return out, nil
}
