package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// bulkRows is how many rows one multi-row statement carries on SQLite.
// Per-statement overhead (driver, VDBE setup) dominates single-row inserts;
// a few hundred rows per statement amortises it while staying far below
// SQLite's limit on bound parameters.
const bulkRows = 200

// copyRows is how many rows one COPY carries on PostgreSQL.
const copyRows = 5000

// bulk batches rows into a table within a transaction. On SQLite it writes
// multi-row INSERT statements. On PostgreSQL it COPYs the rows into a
// temporary staging table and inserts them from there in one statement:
// COPY skips parsing and planning per row, and going through the staging
// table keeps the statement's ON CONFLICT clause, which COPY lacks.
type bulk struct {
	ctx    context.Context
	tx     *txn
	table  string
	cols   []string
	suffix string // e.g. " ON CONFLICT DO NOTHING"
	args   []any
	full   *sql.Stmt
	staged bool // PostgreSQL: the staging table exists in this session
}

// newBulk starts a batch of rows into table's cols, written with suffix
// after the INSERT (an ON CONFLICT clause, or "").
func newBulk(ctx context.Context, tx *txn, table string, cols []string, suffix string) *bulk {
	return &bulk{ctx: ctx, tx: tx, table: table, cols: cols, suffix: suffix}
}

// add queues one row, flushing a full batch.
func (b *bulk) add(vals ...any) error {
	if len(vals) != len(b.cols) {
		panic(fmt.Sprintf("store: bulk row into %s has %d values, want %d", b.table, len(vals), len(b.cols)))
	}
	b.args = append(b.args, vals...)
	limit := bulkRows
	if b.tx.d == postgresDialect {
		limit = copyRows
	}
	if len(b.args) >= limit*len(b.cols) {
		return b.flush()
	}
	return nil
}

// addRows queues the rows whose values follow each other in vals, as add
// does each.
func (b *bulk) addRows(vals []any) error {
	if len(vals)%len(b.cols) != 0 {
		panic(fmt.Sprintf("store: bulk rows into %s have %d values, not a multiple of %d", b.table, len(vals), len(b.cols)))
	}
	for row := range slices.Chunk(vals, len(b.cols)) {
		if err := b.add(row...); err != nil {
			return err
		}
	}
	return nil
}

// flush writes the queued rows.
func (b *bulk) flush() error {
	n := len(b.args) / len(b.cols)
	if n == 0 {
		return nil
	}
	var err error
	if b.tx.d == postgresDialect {
		err = b.copy(n)
	} else {
		err = b.insert(n)
	}
	b.args = b.args[:0]
	if err != nil {
		return fmt.Errorf("bulk insert into %s: %w", b.table, err)
	}
	return nil
}

func (b *bulk) insert(n int) error {
	if n < bulkRows {
		_, err := b.tx.ExecContext(b.ctx, b.statement(n), b.args...)
		return err
	}
	if b.full == nil {
		var err error
		if b.full, err = b.tx.PrepareContext(b.ctx, b.statement(n)); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	_, err := b.full.ExecContext(b.ctx, b.args...)
	return err
}

func (b *bulk) statement(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(b.cols)), ", ") + ")"
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	sb.WriteString(b.suffix)
	return sb.String()
}

// copy writes n rows: straight into the table when there is no ON
// CONFLICT clause to honour, else through the staging table.
func (b *bulk) copy(n int) error {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = b.args[i*len(b.cols) : (i+1)*len(b.cols)]
	}
	if b.suffix == "" {
		return b.copyInto(b.table, rows)
	}
	stage := "stage_" + b.table
	if !b.staged {
		// LIKE copies the column types (and collations); ON COMMIT DELETE
		// ROWS empties it whatever happens to the transaction.
		if _, err := b.tx.ExecContext(b.ctx, `CREATE TEMP TABLE IF NOT EXISTS `+stage+` (LIKE `+b.table+`) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		b.staged = true
	}
	if err := b.copyInto(stage, rows); err != nil {
		return err
	}
	cols := strings.Join(b.cols, ", ")
	if _, err := b.tx.ExecContext(b.ctx, `INSERT INTO `+b.table+` (`+cols+`) SELECT `+cols+` FROM `+stage+b.suffix); err != nil {
		return err
	}
	_, err := b.tx.ExecContext(b.ctx, `TRUNCATE `+stage)
	return err
}

// copyInto COPYs rows into table, within the transaction.
func (b *bulk) copyInto(table string, rows [][]any) error {
	err := b.tx.conn.Raw(func(driverConn any) error {
		conn := driverConn.(*stdlib.Conn).Conn()
		_, err := conn.CopyFrom(b.ctx, pgx.Identifier{table}, b.cols, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

func (b *bulk) close() {
	if b.full != nil {
		b.full.Close()
	}
}
