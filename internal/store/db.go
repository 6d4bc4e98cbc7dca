package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// dialect is what differs between the databases the store runs on. The
// store's SQL is written once, with '?' placeholders and the syntax both
// engines share; a dialect fills in the few places where they must differ.
type dialect struct {
	// name is "sqlite" or "postgres", for errors and logs.
	name string
	// numbered says placeholders are $1, $2, ... instead of '?'.
	numbered bool
	// skipLocked ends a SELECT that claims rows other transactions may be
	// claiming at the same time: they skip rows already claimed instead of
	// waiting for them. Empty where one writer serialises everything.
	skipLocked string
	// forUpdate ends a SELECT whose rows the transaction will update, so
	// that concurrent transactions wait instead of reading them too. Empty
	// where one writer serialises everything.
	forUpdate string
	// keepsInputs ends the stitcher's SELECT of its inputs from
	// refresh_state (alias rs): it holds them against deletion until the
	// stitch commits, so no final entity outlives its entity. Empty where
	// one writer serialises everything.
	keepsInputs string
	// randomBelow returns an SQL expression for a random integer in
	// [0, n), where n is the SQL expression given.
	randomBelow func(n string) string
	// noLimit is a LIMIT that does not limit, for an OFFSET without one.
	noLimit string
	// indexedBy returns the clause after a table name that makes a query
	// use the named index, where the planner needs telling (SQLite has no
	// statistics unless ANALYZEd, and picks among equality indexes
	// blindly); "" for "" or where the planner knows best.
	indexedBy func(index string) string
	// plansByStatistics says the planner keeps per-value statistics
	// (PostgreSQL's most common values) and picks indexes well by itself.
	plansByStatistics bool
}

var sqliteDialect = &dialect{
	name:        "sqlite",
	randomBelow: func(n string) string { return "abs(random() % " + n + ")" },
	noLimit:     "-1",
	indexedBy: func(index string) string {
		if index == "" {
			return ""
		}
		return " INDEXED BY " + index
	},
}

var postgresDialect = &dialect{
	name:        "postgres",
	numbered:    true,
	skipLocked:  " FOR UPDATE SKIP LOCKED",
	forUpdate:   " FOR UPDATE",
	keepsInputs: " FOR KEY SHARE OF rs",
	randomBelow: func(n string) string { return "floor(random() * " + n + ")::bigint" },
	noLimit:     "ALL",
	indexedBy:   func(string) string { return "" },

	plansByStatistics: true,
}

// rebind rewrites the '?' placeholders of query for the dialect, leaving
// quoted strings and identifiers alone.
func (d *dialect) rebind(query string) string {
	if !d.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// pool is a connection pool that speaks the store's SQL in its dialect.
type pool struct {
	db *sql.DB
	d  *dialect
}

func (p pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.d.rebind(query), args...)
}

func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.d.rebind(query), args...)
}

func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.d.rebind(query), args...)
}

// txn is a transaction that speaks the store's SQL in its dialect.
type txn struct {
	tx   *sql.Tx
	d    *dialect
	conn *sql.Conn // the transaction's connection, for COPY
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.rebind(query), args...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.rebind(query), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(query), args...)
}

func (t *txn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.d.rebind(query))
}

// lock serialises transactions that take the same named lock until this
// one ends: a PostgreSQL advisory lock. On SQLite every write transaction
// is already alone.
func (t *txn) lock(ctx context.Context, name string) error {
	if t.d != postgresDialect {
		return nil
	}
	if _, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`, name); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}
