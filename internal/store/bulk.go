package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// bulkRows is how many rows one multi-row statement carries. Per-statement
// overhead (driver, VDBE setup) dominates single-row inserts; a few hundred
// rows per statement amortises it while staying far below SQLite's limit on
// bound parameters.
const bulkRows = 200

// bulk batches rows into multi-row INSERT statements within a transaction.
type bulk struct {
	ctx    context.Context
	tx     *txn
	prefix string // "INSERT INTO t (a, b) VALUES "
	suffix string // e.g. " ON CONFLICT DO NOTHING"
	ncols  int
	args   []any
	full   *sql.Stmt
}

func newBulk(ctx context.Context, tx *txn, prefix, suffix string, ncols int) *bulk {
	return &bulk{ctx: ctx, tx: tx, prefix: prefix, suffix: suffix, ncols: ncols}
}

// add queues one row, flushing a full batch.
func (b *bulk) add(vals ...any) error {
	if len(vals) != b.ncols {
		panic(fmt.Sprintf("store: bulk row has %d values, want %d", len(vals), b.ncols))
	}
	b.args = append(b.args, vals...)
	if len(b.args) >= bulkRows*b.ncols {
		return b.flush()
	}
	return nil
}

// flush writes the queued rows.
func (b *bulk) flush() error {
	n := len(b.args) / b.ncols
	if n == 0 {
		return nil
	}
	var err error
	if n == bulkRows {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(b.ctx, b.statement(n)); err != nil {
				return fmt.Errorf("prepare bulk insert: %w", err)
			}
		}
		_, err = b.full.ExecContext(b.ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(b.ctx, b.statement(n), b.args...)
	}
	b.args = b.args[:0]
	if err != nil {
		return fmt.Errorf("bulk insert: %w", err)
	}
	return nil
}

func (b *bulk) statement(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", b.ncols), ", ") + ")"
	var sb strings.Builder
	sb.WriteString(b.prefix)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	sb.WriteString(b.suffix)
	return sb.String()
}

func (b *bulk) close() {
	if b.full != nil {
		b.full.Close()
	}
}
