// Package store owns Atrium's database: opening it, applying the embedded
// migrations, and the SQL behind the catalog (ingestion state, stitching,
// and the queries, filters, facets and pages served to clients). Filters,
// counts and pages are computed in SQL; nothing here loads a table into
// memory to answer a query.
package store

import (
	"context"
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
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// Store is the catalog's database. SQLite allows one writer at a time, so
// writes go through a single connection and reads through a pool.
type Store struct {
	w   *sql.DB // the one writer connection
	r   *sql.DB // readers
	now func() time.Time
	// counts and facets cache query results per catalog generation.
	counts resultCache[int]
	facets resultCache[[]FacetCount]
}

// Options tune Open.
type Options struct {
	// Now is the clock; nil means time.Now. Tests pass a fake.
	Now func() time.Time
	// ReadConns bounds the reader pool (default 4).
	ReadConns int
}

// Open opens (creating if needed) the SQLite database at path, or an
// in-memory one for ":memory:", and applies pending migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	dsn := func(immediate bool) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)",
			"busy_timeout(10000)", "cache_size(-32768)", "temp_store(MEMORY)", "wal_autocheckpoint(8192)"} {
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
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	s := &Store{w: w, r: w, now: opts.Now}
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
		s.r = r
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	var errs []error
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction, in file-name order.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		var n int
		if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				version, s.now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", version, err)
		}
	}
	return nil
}

// tx runs fn in a write transaction, committing if it returns nil.
//
// fn gets a context that is never cancelled: a write transaction is short
// and is better finished than interrupted, and the SQLite driver watches a
// cancellable context with a goroutine and a progress callback on every
// statement, which costs more than many of the statements themselves.
func (s *Store) tx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	ctx = context.WithoutCancel(ctx)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
