// Package store owns Atrium's database: opening it, applying the embedded
// migrations, and the SQL behind the catalog (ingestion state, stitching,
// and the queries, filters, facets and pages served to clients). Filters,
// counts and pages are computed in SQL; nothing here loads a table into
// memory to answer a query.
package store

import (
	"context"
	"crypto/tls"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// Store is the catalog's database: embedded SQLite by default, PostgreSQL
// in production. SQLite allows one writer at a time, so there writes go
// through a single connection and reads through a pool; on PostgreSQL both
// share one pool, and several replicas may write at once.
type Store struct {
	d   *dialect
	w   pool // writes: SQLite's one writer connection
	r   pool // reads
	now func() time.Time
	// counts and facets cache query results per catalog generation.
	counts resultCache[int]
	facets resultCache[[]FacetCount]
	// texts caches the entities full-text searches match (resolveText).
	texts resultCache[textMatch]
	// textIdx holds the values full-text searches look in.
	textIdx     textIndexes
	staleFacets time.Duration
	// staleMinCost is how long a facet must have taken to compute for its
	// counts to be served stale (staleFacetsMinCost; tests lower it).
	staleMinCost time.Duration
	// noAudit turns the audit log off (Options.DisableAudit).
	noAudit    bool
	background sync.WaitGroup // background recomputations
	// analyzeMu guards sinceAnalyze, the entities written since
	// PostgreSQL's statistics were last refreshed, and analyzedAt, those
	// written before; analyzing says a refresh is running in the
	// background, and analyzeAgain that another was asked for meanwhile.
	analyzeMu                sync.Mutex
	sinceAnalyze, analyzedAt int
	analyzing, analyzeAgain  bool
	// analyzed is closed when the running refresh ends, and analyses
	// tracks the refresh goroutines for Close. They are kept apart from
	// background: Settle waits for a refresh while the ingestion loop,
	// which starts them, may be running, and a WaitGroup must not gain
	// work while it is being waited on.
	analyzed chan struct{}
	analyses sync.WaitGroup
	// closing is cancelled when Close has waited closeGrace for
	// background work, stopping what is left of it.
	closing     context.Context
	stopClosing context.CancelFunc
}

// Options tune Open and OpenPostgres.
type Options struct {
	// Now is the clock; nil means time.Now. Tests pass a fake.
	Now func() time.Time
	// ReadConns bounds the SQLite reader pool (default 4).
	ReadConns int
	// MaxConns bounds the PostgreSQL pool (default 10).
	MaxConns int
	// TLS, if set, replaces the TLS configuration the PostgreSQL URL's
	// sslmode implies (for a CA bundle given in configuration).
	TLS *tls.Config
	// StaleFacets lets facet counts computed before the catalog last
	// changed be served for that long while they are recomputed in the
	// background. Zero always computes fresh counts. Facets cost a scan of
	// their field at 100,000 entities, and a catalog that changes every
	// few seconds would otherwise pay it on almost every request.
	StaleFacets time.Duration
	// DisableAudit stops recording changes in the audit log (audit.enabled:
	// false), for measuring what auditing costs.
	DisableAudit bool
}

// staleFacetsMinCost is the least computation time for which facet counts
// are served stale: cheaper ones, as in any catalog of a few thousand
// entities, are always computed fresh.
const staleFacetsMinCost = 20 * time.Millisecond

// Open opens (creating if needed) the SQLite database at path, or an
// in-memory one for ":memory:", and applies pending migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	pageSize := sqlitePageSize
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
		var err error
		if pageSize, err = prepareDatabase(ctx, path); err != nil {
			return nil, err
		}
	}
	// A checkpoint copies the WAL into the database once it holds 32 MiB.
	checkpointPages := max(1, walCheckpointBytes/pageSize)
	dsn := func(immediate bool) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)",
			"busy_timeout(10000)", "cache_size(-32768)", "temp_store(MEMORY)",
			"wal_autocheckpoint(" + strconv.Itoa(checkpointPages) + ")"} {
			q.Add("_pragma", p)
		}
		if immediate {
			q.Set("_txlock", "immediate")
		}
		if path == ":memory:" {
			// A shared in-memory database so the reader pool sees the writer's data.
			q.Set("mode", "memory")
			q.Set("cache", "shared")
			return "file:atrium-mem-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "?" + q.Encode()
		}
		return "file:" + uriPath(path) + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	d := sqliteDialect
	s := &Store{d: d, w: pool{w, d}, r: pool{w, d}, now: opts.Now, staleFacets: opts.StaleFacets, staleMinCost: staleFacetsMinCost,
		texts:   resultCache[textMatch]{limit: maxTextsCached},
		noAudit: opts.DisableAudit}
	s.closing, s.stopClosing = context.WithCancel(context.Background())
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if path != ":memory:" {
		r, err := sql.Open("sqlite", dsn(false))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		r.SetMaxOpenConns(opts.ReadConns)
		r.SetMaxIdleConns(opts.ReadConns)
		s.r = pool{r, d}
	}
	return s, nil
}

// sqlitePageSize is the page size of the databases Open creates. With
// SQLite's default of 4 KiB, a page held two or three entity documents
// (final entities, audit events, ingestion state: 1 to 2 KB each) and a
// quarter of it went unused; at 32 KiB, loading 10,000 components took
// 2.65-2.94 s instead of 3.03-3.53 s, and 100,000 46 s instead of 49 s,
// with queries as fast or faster (the relation filter's p99 at 100,000:
// 2.3 ms instead of 9.0 ms).
const sqlitePageSize = 32 << 10

// walCheckpointBytes is how much the WAL grows before it is copied into
// the database.
const walCheckpointBytes = 32 << 20

// prepareDatabase creates the database at path, if there is none, with
// sqlitePageSize pages in WAL mode, and returns its page size. The page
// size must be set before WAL mode is, and the connection pragmas (which
// the driver runs in alphabetical order) set WAL mode first. A database
// created before keeps its page size.
func prepareDatabase(ctx context.Context, path string) (int, error) {
	_, statErr := os.Stat(path)
	db, err := sql.Open("sqlite", "file:"+uriPath(path))
	if err != nil {
		return 0, fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if errors.Is(statErr, fs.ErrNotExist) {
		for _, p := range []string{"PRAGMA page_size = " + strconv.Itoa(sqlitePageSize), "PRAGMA journal_mode = WAL"} {
			if _, err := db.ExecContext(ctx, p); err != nil {
				return 0, fmt.Errorf("create database: %w", err)
			}
		}
	}
	var size int
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, fmt.Errorf("open database: %w", err)
	}
	return size, nil
}

// uriPath escapes what a SQLite URI filename would read as anything but
// the path: '%' escapes, and '?' and '#' that would end it (a data folder
// named "a?b" otherwise opens, silently, a database somewhere else).
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
}

// Close closes the database.
func (s *Store) Close() error {
	// A statistics refresh cancelled halfway leaves PostgreSQL planning
	// with the counts of a catalog a fraction of the size (a sorted query
	// at a million entities then ran for minutes), so it is let finish.
	settled := make(chan struct{})
	go func() {
		s.background.Wait()
		s.analyses.Wait()
		close(settled)
	}()
	select {
	case <-settled:
	case <-time.After(closeGrace):
		s.stopClosing()
		<-settled
	}
	s.stopClosing()
	var errs []error
	if s.r.db != s.w.db {
		errs = append(errs, s.r.db.Close())
	}
	errs = append(errs, s.w.db.Close())
	return errors.Join(errs...)
}

// closeGrace is how long Close waits for background work (statistics
// refreshes, facet recomputations) before cancelling it. A refresh takes
// seconds at a million entities.
const closeGrace = time.Minute

// postgresWriters is how many of the catalog loop's write transactions
// run at once on PostgreSQL.
const postgresWriters = 2

// Writers is how many write transactions the catalog's loop should run at
// once (processing results, stitching): one on SQLite, which has one
// writer; two on PostgreSQL, where one transaction's inserts keep one
// server process busy and leave the other cores idle. Concurrent
// transactions claim and lock their rows as concurrent replicas do.
func (s *Store) Writers() int {
	if s.d == postgresDialect {
		return postgresWriters
	}
	return 1
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.r.db.PingContext(ctx) }

// migrate applies the embedded migrations of the store's dialect not yet
// recorded in schema_migrations, in file-name order, in one transaction.
// On PostgreSQL the transaction first takes an advisory lock, so replicas
// starting together apply each migration once: the others wait, then find
// it recorded.
func (s *Store) migrate(ctx context.Context) error {
	names, err := s.migrationNames()
	if err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		if s.d == postgresDialect {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLockID); err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		for _, name := range names {
			version := strings.TrimSuffix(filepath.Base(name), ".sql")
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			if n > 0 {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			// The body is run as is: it may hold several statements,
			// and its quoted strings must not be rebound.
			if _, err := tx.tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("apply migration %s: %w", version, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				version, s.now().UnixMilli()); err != nil {
				return fmt.Errorf("record migration %s: %w", version, err)
			}
		}
		return nil
	})
}

// migrationLockID is the PostgreSQL advisory lock key migrations hold.
const migrationLockID = 0x61747269756d // "atrium"

func (s *Store) migrationNames() ([]string, error) {
	names, err := fs.Glob(migrations, "migrations/"+s.d.name+"/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// Ready reports whether the database answers and every migration this
// build knows has been applied (GET /readyz).
func (s *Store) Ready(ctx context.Context) error {
	names, err := s.migrationNames()
	if err != nil {
		return err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if n < len(names) {
		return fmt.Errorf("database schema is behind: %d of %d migrations applied", n, len(names))
	}
	return nil
}

// maxTxAttempts bounds how often a transaction is retried after a
// serialization failure or deadlock, which concurrent replicas can cause
// on PostgreSQL.
const maxTxAttempts = 8

// tx runs fn in a write transaction, committing if it returns nil. On
// PostgreSQL a transaction that failed because it raced another (a
// deadlock, a serialization failure, a unique key another replica took
// first) is rolled back and run again, so fn must only set its results,
// never accumulate them across calls.
//
// fn gets a context that is never cancelled: a write transaction is short
// and is better finished than interrupted, and the SQLite driver watches a
// cancellable context with a goroutine and a progress callback on every
// statement, which costs more than many of the statements themselves.
func (s *Store) tx(ctx context.Context, fn func(context.Context, *txn) error) error {
	ctx = context.WithoutCancel(ctx)
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !s.retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(context.Context, *txn) error) error {
	conn, err := s.w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(ctx, &txn{sqlTx, s.d, conn}); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
