// Package app wires Atrium together: configuration to stores, stores to
// services, services to the HTTP server and the background workers, and
// owns their lifecycle from start to graceful shutdown.
package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atrium-dev/atrium/internal/api"
	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/config"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/events"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/metrics"
	"github.com/atrium-dev/atrium/internal/scaffolder"
	"github.com/atrium-dev/atrium/internal/scaffolder/action"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/techdocs"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
	"github.com/atrium-dev/atrium/internal/web"
)

// App is a configured Atrium: its store, services and HTTP handler.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	Store   *store.Store
	Catalog *catalog.Service
	// Events carries change notifications between replicas.
	Events  events.Bus
	handler http.Handler

	// Metrics is the registry served at GET /metrics.
	Metrics *metrics.Registry
	// ClaimDuration is atrium_catalog_claim_duration_seconds{queue}: how
	// long one claim of a batch of work takes, in seconds, for queue
	// "processing" or "stitching". The catalog engine observes it.
	ClaimDuration *metrics.HistogramVec

	// Scaffolder runs software templates; runner claims their tasks.
	Scaffolder *scaffolder.Service
	runner     *scaffolder.Runner
	// Git is Atrium's own git host (scaffolder.localGit); nil when off.
	Git *githost.Host
	// Docs builds and serves TechDocs; publisher stores the sites.
	Docs      *techdocs.Service
	publisher publish.Publisher

	// signIn is sign-in and permissions, nil when no provider is
	// configured; oidc is the OIDC provider's handler once discovered.
	signIn *signIn
	oidc   atomic.Pointer[http.Handler]

	closeOnce sync.Once
	closeErr  error
}

// New opens the database and builds the services for cfg.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	bus, err := OpenEvents(ctx, cfg.Backend.Database, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &App{cfg: cfg, log: log, Store: st, Events: bus}
	a.registerMetrics()
	opts := CatalogOptions(cfg, log)
	opts.Events = bus
	opts.ObserveClaim = func(queue string, d time.Duration) { a.ClaimDuration.With(queue).Observe(d.Seconds()) }
	if cfg.Auth.Enabled() {
		if a.signIn, err = a.newSignIn(cfg); err != nil {
			bus.Close()
			st.Close()
			return nil, err
		}
		opts.Authorizer = policyAuthorizer{a.signIn.policy}
	}
	if cfg.Scaffolder.LocalGit.Enabled {
		a.Git, err = githost.New(cfg.LocalGitHost(), cfg.LocalGitDir(), strings.TrimSuffix(cfg.Backend.BaseURL, "/")+"/git")
		if err != nil {
			bus.Close()
			st.Close()
			return nil, err
		}
		// The catalog reads catalog-info.yaml files from the host's
		// repositories directly, not over HTTP to itself.
		opts.Readers["url"] = urlReader{r: opts.Readers["url"].(urlReader).r, git: a.Git}
	}
	a.Catalog = catalog.New(st, opts)
	a.Scaffolder = scaffolder.NewService(st, a.Catalog)
	if a.signIn != nil {
		a.Scaffolder.SetAuthorizer(opts.Authorizer)
	}
	a.Scaffolder.SetGit(a.Git)
	pub, err := publish.New(ctx, PublisherConfig(cfg))
	if err != nil {
		bus.Close()
		st.Close()
		return nil, fmt.Errorf("techdocs.publisher: %w", err)
	}
	a.Docs = techdocs.New(techdocs.Options{Catalog: a.Catalog, Store: st, Publisher: pub, Builder: cfg.TechDocs.Builder,
		Git: a.Git, Logger: log})
	a.publisher = pub
	a.runner = scaffolder.NewRunner(st, scaffolder.RunnerOptions{Logger: log,
		Concurrency:      cfg.Scaffolder.ConcurrentTasksLimit,
		Git:              a.Git,
		AllowFileRemotes: cfg.Scaffolder.AllowFileRemotes,
		Catalog: func(createdBy string) action.Catalog {
			return taskCatalog{c: a.Catalog, createdBy: createdBy, transitive: cfg.Auth.TransitiveGroups}
		}})
	a.handler = metrics.InstrumentHTTP(a.Metrics, a.routes())
	return a, nil
}

// registerMetrics creates the app's registry and the catalog metrics that
// are not the HTTP middleware's.
func (a *App) registerMetrics() {
	a.Metrics = metrics.NewRegistry()
	a.Metrics.RegisterRuntime(time.Now())
	a.Metrics.NewGaugeFunc("atrium_catalog_queue_depth",
		"Entities waiting in each catalog queue: due for processing, or waiting to be stitched.",
		func(ctx context.Context) ([]metrics.Sample, error) {
			due, stitch, err := a.Store.Pending(ctx)
			if err != nil {
				return nil, err
			}
			return []metrics.Sample{
				{LabelValues: []string{"processing"}, Value: float64(due)},
				{LabelValues: []string{"stitching"}, Value: float64(stitch)},
			}, nil
		}, "queue")
	a.ClaimDuration = a.Metrics.NewHistogramVec("atrium_catalog_claim_duration_seconds",
		"Time to claim one batch of catalog work from the database, by queue.",
		metrics.DefaultBuckets(), "queue")
	a.Metrics.NewGaugeFunc("atrium_catalog_entities",
		"Entities in the catalog by processing state.",
		func(ctx context.Context) ([]metrics.Sample, error) {
			states, err := a.Store.EntityStates(ctx)
			if err != nil {
				return nil, err
			}
			return []metrics.Sample{
				{LabelValues: []string{"processed"}, Value: float64(states.Processed)},
				{LabelValues: []string{"failed"}, Value: float64(states.Failed)},
				{LabelValues: []string{"orphaned"}, Value: float64(states.Orphaned)},
				{LabelValues: []string{"unprocessed"}, Value: float64(states.Unprocessed)},
			}, nil
		}, "state")
}

// staleFacets is how long facet counts may lag the catalog while they are
// recomputed in the background (see store.Options.StaleFacets).
const staleFacets = 30 * time.Second

// OpenStore opens the configured database: SQLite, or PostgreSQL for
// client "pg".
func OpenStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	db := cfg.Backend.Database
	opts := store.Options{StaleFacets: staleFacets, DisableAudit: !cfg.Audit.Enabled}
	if db.IsSQLite() {
		return store.Open(ctx, db.SQLitePath(), opts)
	}
	tlsConfig, err := db.PostgresTLS()
	if err != nil {
		return nil, err
	}
	opts.TLS = tlsConfig
	opts.MaxConns = db.KnexConfig.Pool.Max
	return store.OpenPostgres(ctx, db.PostgresURL(), opts)
}

// OpenEvents opens the change-notification bus the database implies: in
// process on SQLite (one process), LISTEN/NOTIFY on PostgreSQL (replicas).
func OpenEvents(ctx context.Context, db config.Database, log *slog.Logger) (events.Bus, error) {
	// Host and pid say where an event came from; the random part keeps
	// two apps in one process apart.
	host, _ := os.Hostname()
	origin := events.WithOrigin(fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:6]))
	if db.IsSQLite() {
		return events.NewLocal(origin), nil
	}
	tlsConfig, err := db.PostgresTLS()
	if err != nil {
		return nil, err
	}
	return events.NewPostgres(ctx, db.PostgresURL(), log, origin, events.WithTLS(tlsConfig))
}

// CatalogOptions translates configuration into catalog service options.
func CatalogOptions(cfg *config.Config, log *slog.Logger) catalog.Options {
	c := cfg.Catalog
	var rules []catalog.Rule
	if c.Rules != nil {
		rules = []catalog.Rule{}
		for _, r := range c.Rules {
			cr := catalog.Rule{}
			for _, a := range r.Allow {
				cr.Allow = append(cr.Allow, catalog.AllowKind{Kind: a.Kind, SpecType: a.SpecType})
			}
			for _, l := range r.Locations {
				cr.Locations = append(cr.Locations, catalog.RuleLocation{Type: l.Type, Target: l.Exact, Pattern: l.Pattern})
			}
			rules = append(rules, cr)
		}
	}
	var locations []catalog.ConfigLocation
	for _, l := range c.Locations {
		target := l.Target
		if l.Type == "file" && !filepath.IsAbs(target) {
			base := l.BaseDir
			if base == "" {
				base, _ = filepath.Abs(".")
			}
			target = filepath.Join(base, target)
		}
		cl := catalog.ConfigLocation{Type: l.Type, Target: target}
		for _, r := range l.Rules {
			cl.Allow = append(cl.Allow, r.Allow...)
		}
		locations = append(locations, cl)
	}
	var allow []source.AllowRule
	for _, a := range cfg.Backend.Reading.Allow {
		allow = append(allow, source.AllowRule{Host: a.Host, Paths: a.Paths})
	}
	lo, hi := c.ProcessingInterval.Range()
	return catalog.Options{
		Readers: map[string]catalog.Reader{
			"file": &source.FileReader{},
			"url":  urlReader{r: &source.URLReader{Allow: allow, AllowPrivate: cfg.Backend.Reading.AllowPrivateNetworks}},
		},
		Rules:              rules,
		Locations:          locations,
		ProcessingInterval: store.Interval{Min: lo, Max: hi},
		ProcessingDisabled: c.ProcessingInterval.Disabled,
		OrphanStrategy:     c.OrphanStrategy,
		Readonly:           c.Readonly,
		Logger:             log,
	}
}

// urlReader adapts the single-file URL reader to the catalog's Reader,
// and reads URLs of Atrium's own git host from its repositories.
type urlReader struct {
	r   *source.URLReader
	git *githost.Host
}

func (u urlReader) Read(ctx context.Context, target string) ([]source.File, error) {
	if u.git != nil {
		loc, ok, err := u.git.Parse(target)
		if ok {
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", target, err)
			}
			limit := u.r.Limits.MaxBytes
			if limit <= 0 {
				limit = source.DefaultMaxBytes
			}
			data, etag, err := u.git.ReadFile(loc, limit)
			if errors.Is(err, derrors.ErrNotFound) {
				err = fmt.Errorf("%w: %w", fs.ErrNotExist, err)
			}
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", target, err)
			}
			return []source.File{{Path: target, Data: data, ETag: etag}}, nil
		}
	}
	f, err := u.r.Read(ctx, target)
	if err != nil {
		return nil, err
	}
	return []source.File{f}, nil
}

// Handler returns the HTTP handler serving every surface.
func (a *App) Handler() http.Handler { return a.handler }

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	// With sign-in on, every API needs an identity; /api/auth is how one
	// gets it.
	protect := func(h http.Handler) http.Handler { return h }
	webOpts := web.Options{Title: a.cfg.App.Title, Scaffolder: a.Scaffolder, Docs: a.Docs}
	if a.Git != nil {
		webOpts.Git = a.Git
	}
	if a.signIn != nil {
		protect = api.RequireIdentity
		mux.Handle(auth.Prefix+"/", a.signIn.handler)
		webOpts.SignIn = a.signIn.providers
		webOpts.Authorizer = a.Catalog
		webOpts.Policy = a.policyText
	}
	mux.Handle(api.CatalogPrefix+"/", protect(api.NewCatalogHandler(a.Catalog, a.log, api.Options{})))
	mux.Handle(api.AuditPrefix+"/", protect(api.NewAuditHandler(a.Catalog, a.log)))
	mux.Handle(api.ScaffolderPrefix+"/", protect(api.NewScaffolderHandler(a.Scaffolder, a.Catalog, a.log)))
	mux.Handle(api.TechDocsPrefix+"/", protect(api.NewTechDocsHandler(a.Docs, a.log)))
	if a.signIn != nil {
		mux.Handle(api.PermissionPrefix+"/", protect(api.NewPermissionHandler(a.signIn.currentPolicy, a.Catalog, a.log)))
	}
	if a.Git != nil {
		// git clone; the pages under /git are the UI's.
		clone := protect(a.Git.CloneHandler())
		mux.Handle("GET /git/{owner}/{repo}/info/refs", clone)
		mux.Handle("POST /git/{owner}/{repo}/git-upload-pack", clone)
		mux.Handle("POST /git/{owner}/{repo}/git-receive-pack", clone)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := a.Store.Ready(r.Context()); err != nil {
			a.log.Error("readiness check failed", "err", err)
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", a.Metrics.Handler(a.log))
	// The browser UI has every other path; it never serves the API routes
	// above, and only its routes get its CSRF checks and security headers.
	mux.Handle("/", web.NewHandler(a.Catalog, a.log, webOpts))
	if a.signIn != nil {
		return a.signIn.authn.Middleware(mux)
	}
	return mux
}

// Run loads the configured locations, serves HTTP on the configured
// address and runs the ingestion loop until ctx is cancelled; then it stops
// accepting requests, lets in-flight ones finish and drains the workers.
// ready, if not nil, receives the listening address.
func (a *App) Run(ctx context.Context, ready func(addr string)) error {
	if err := a.Catalog.SyncConfigLocations(ctx); err != nil {
		return fmt.Errorf("load catalog.locations: %w", err)
	}
	ln, err := net.Listen("tcp", a.cfg.Backend.Listen.Address())
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	workerCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan error, 1)
	go func() { workerDone <- a.Catalog.Run(workerCtx) }()
	go a.warm(workerCtx)
	var auditWorkers sync.WaitGroup
	if a.Docs.Builder() == techdocs.BuilderLocal {
		auditWorkers.Go(func() { a.buildDocs(workerCtx) })
	}
	auditWorkers.Go(func() {
		if err := a.runner.Run(workerCtx); err != nil && workerCtx.Err() == nil {
			a.log.Error("scaffolder: the task runner stopped", "err", err)
		}
	})
	if s := a.signIn; s != nil {
		auditWorkers.Go(func() { s.sessions.Run(workerCtx, a.log) })
		if s.policy != nil {
			auditWorkers.Go(func() { s.policy.Run(workerCtx) })
		}
		auditWorkers.Go(func() { a.startOIDC(workerCtx) })
	}
	if err := a.startAudit(workerCtx, &auditWorkers); err != nil {
		stopWorkers()
		<-workerDone
		ln.Close()
		return err
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.log.Info("Atrium is listening", "url", a.cfg.Backend.BaseURL, "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = err
		}
	}
	a.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("shutdown http: %w", err))
	}
	stopWorkers()
	if err := <-workerDone; err != nil {
		runErr = errors.Join(runErr, err)
	}
	auditWorkers.Wait()
	return errors.Join(runErr, a.Close())
}

// startAudit starts the audit log's workers: signed checkpoints, the
// export sink and retention, as configured.
func (a *App) startAudit(ctx context.Context, wg *sync.WaitGroup) error {
	cfg := a.cfg.Audit
	if !cfg.Enabled {
		a.log.Warn("the audit log is off (audit.enabled: false): changes are not recorded")
		return nil
	}
	key, err := audit.SigningKey(cfg.SigningKey)
	if err != nil {
		return err
	}
	if cfg.SigningKey == "" {
		a.log.Warn("audit.signingKey is not set: checkpoints are signed with a key made for this process",
			"publicKey", base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)))
	}
	wg.Go(func() { audit.RunCheckpoints(ctx, a.Store, key, time.Duration(cfg.CheckpointInterval), a.log) })
	if cfg.Sink.Type != "" {
		host, _ := os.Hostname()
		sink := &audit.Sink{Store: a.Store, Owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()), Log: a.log}
		switch cfg.Sink.Type {
		case "stdout":
			sink.Name = "stdout"
			sink.Open = func() (io.WriteCloser, error) { return audit.NopCloser(os.Stdout), nil }
		case "file":
			sink.Name = "file:" + cfg.Sink.Path
			sink.Open = func() (io.WriteCloser, error) { return audit.OpenFileSink(cfg.Sink.Path) }
		}
		wg.Go(func() { sink.Run(ctx) })
	}
	if cfg.Retention > 0 {
		r := &audit.Retention{Store: a.Store, Keep: time.Duration(cfg.Retention), Dir: a.cfg.AuditArchiveDir(), Log: a.log}
		wg.Go(func() { r.Run(ctx) })
	}
	return nil
}

// warmPaths are the pages warm renders once the catalog has caught up.
// The text search builds the store's text index for the catalog's search
// box; which term does not matter.
var warmPaths = []string{"/catalog", "/catalog?filters[kind]=all", "/api-docs", "/catalog?filters[kind]=all&filters[text]=atrium"}

// warm renders the most visited pages once ingestion has caught up, so
// that their counts are cached and the text index built before the first
// visitor asks: at 100,000 components that saves up to 150 ms on a first
// request. Facets of a kind are kept up to date by the store.
func (a *App) warm(ctx context.Context) {
	if !a.waitCaughtUp(ctx) {
		return
	}
	start := time.Now()
	// With sign-in on, warm as a service: what every reader with the
	// default policy sees.
	wctx := auth.WithIdentity(ctx, auth.Service("atrium-warm-up"))
	for _, p := range warmPaths {
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, httptest.NewRequestWithContext(wctx, http.MethodGet, p, nil))
	}
	a.Store.Settle()
	a.log.Debug("warmed the catalog pages", "duration", time.Since(start))
}

// waitCaughtUp waits, checking every second, until no catalog work is
// waiting; false if ctx ended first.
func (a *App) waitCaughtUp(ctx context.Context) bool {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		if due, stitch, err := a.Store.Pending(ctx); err == nil && due == 0 && stitch == 0 {
			return true
		}
	}
}

// buildDocs builds, once the catalog has settled after start, the docs of
// every entity that has some and whose site is missing or stale, one
// after another, so that the reader shows them without a wait. Replicas
// share the work through the build leases.
func (a *App) buildDocs(ctx context.Context) {
	if !a.waitCaughtUp(ctx) {
		return
	}
	sctx := auth.WithIdentity(ctx, auth.Service("atrium-techdocs"))
	const pageSize = 500
	var items []json.RawMessage
	for offset := 0; ; offset += pageSize {
		page, err := a.Catalog.QueryEntities(sctx, catalog.Query{
			Filter: filter.Exists{Key: "metadata.annotations." + techdocs.RefAnnotation}, Limit: pageSize, Offset: offset})
		if err != nil {
			a.log.Warn("techdocs: listing the documented entities", "err", err)
			return
		}
		items = append(items, page.Items...)
		if len(page.Items) < pageSize {
			break
		}
	}
	built := 0
	for _, raw := range items {
		var e struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		ref := entity.Ref{Kind: e.Kind, Namespace: e.Metadata.Namespace, Name: e.Metadata.Name}
		updated, err := a.Docs.Sync(sctx, ref, false, func(string) {})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			a.log.Warn("techdocs: building docs", "entity", ref.String(), "err", err)
			continue
		}
		if updated {
			built++
		}
	}
	a.log.Info("techdocs: docs are up to date", "entities", len(items), "built", built)
}

// Close releases the app's resources when Run was not called.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		a.Docs.Close() // background builds use the store
		a.closeErr = errors.Join(a.publisher.Close(), a.Events.Close(), a.Store.Close())
	})
	return a.closeErr
}

// PublisherConfig is techdocs.publisher as the publish package takes it,
// with the local publisher's folder defaulting into the data folder.
func PublisherConfig(cfg *config.Config) publish.Config {
	p := cfg.TechDocs.Publisher
	var out publish.Config
	out.Type = p.Type
	out.Local.PublishDirectory = cfg.TechDocsDir()
	out.AwsS3.BucketName, out.AwsS3.BucketRootPath = p.AwsS3.BucketName, p.AwsS3.BucketRootPath
	out.AwsS3.Region, out.AwsS3.Endpoint, out.AwsS3.S3ForcePathStyle = p.AwsS3.Region, p.AwsS3.Endpoint, p.AwsS3.S3ForcePathStyle
	out.AwsS3.Credentials.AccessKeyID, out.AwsS3.Credentials.SecretAccessKey = p.AwsS3.Credentials.AccessKeyID, p.AwsS3.Credentials.SecretAccessKey
	out.GoogleGcs.BucketName, out.GoogleGcs.BucketRootPath = p.GoogleGcs.BucketName, p.GoogleGcs.BucketRootPath
	out.GoogleGcs.ProjectID, out.GoogleGcs.Credentials = p.GoogleGcs.ProjectID, p.GoogleGcs.Credentials
	out.AzureBlobStorage.ContainerName, out.AzureBlobStorage.BucketRootPath = p.AzureBlobStorage.ContainerName, p.AzureBlobStorage.BucketRootPath
	out.AzureBlobStorage.Credentials.AccountName = p.AzureBlobStorage.Credentials.AccountName
	out.AzureBlobStorage.Credentials.AccountKey = p.AzureBlobStorage.Credentials.AccountKey
	out.AzureBlobStorage.ConnectionString = p.AzureBlobStorage.ConnectionString
	out.LegacyUseCaseSensitiveTripletPaths = cfg.TechDocs.LegacyUseCaseSensitiveTripletPaths
	return out
}
