package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenPostgres connects to the PostgreSQL database at url (a
// postgres:// URL or a libpq key=value string) and applies pending
// migrations. Several replicas may open the same database.
func OpenPostgres(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 10
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL connection: %w", err)
	}
	// The search table's keys and values are very unevenly spread
	// (kind=component may be half the catalog, metadata.name=x one row),
	// so a plan is only good for the values it was made for: PostgreSQL's
	// generic plans for prepared statements, used after five executions,
	// turn a 40 ms page into seconds.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	if opts.TLS != nil {
		t := opts.TLS.Clone()
		if t.ServerName == "" {
			t.ServerName = cfg.Host
		}
		cfg.TLSConfig = t
		cfg.Fallbacks = nil
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(opts.MaxConns)
	db.SetMaxIdleConns(opts.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	d := postgresDialect
	s := &Store{d: d, w: pool{db, d}, r: pool{db, d}, now: opts.Now, staleFacets: opts.StaleFacets, staleMinCost: staleFacetsMinCost,
		texts:   resultCache[textMatch]{limit: maxTextsCached},
		noAudit: opts.DisableAudit}
	s.closing, s.stopClosing = context.WithCancel(context.Background())
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// retryable reports whether a transaction failed only because it raced
// another one, so that running it again can succeed.
func (s *Store) retryable(err error) bool {
	if s.d != postgresDialect {
		return false
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40001", // serialization_failure
		"40P01", // deadlock_detected
		"23505": // unique_violation: another replica inserted the same key first
		return true
	}
	return false
}
