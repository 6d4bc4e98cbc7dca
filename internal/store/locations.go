package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/atrium-dev/atrium/internal/audit"
)

// LocationRow is a location registered through the API.
type LocationRow struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Target string `json:"target"`
}

// ErrLocationExists is returned by InsertLocation for a known type and target.
var ErrLocationExists = errors.New("location already exists")

// InsertLocation registers a location.
func (s *Store) InsertLocation(ctx context.Context, l LocationRow) error {
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO locations (id, type, target, created_at) VALUES (?, ?, ?, ?)`,
			l.ID, l.Type, l.Target, s.now().UnixMilli())
		if isUniqueViolation(err) {
			return ErrLocationExists
		}
		if err != nil {
			return fmt.Errorf("insert location: %w", err)
		}
		body, err := json.Marshal(l)
		if err != nil {
			return err
		}
		return s.auditLocation(ctx, tx, audit.LocationCreated, l.ID, createdDiff(body))
	})
}

// UpdateLocation changes a location's type and target.
func (s *Store) UpdateLocation(ctx context.Context, l LocationRow) error {
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		var old LocationRow
		err := tx.QueryRowContext(ctx, `SELECT id, type, target FROM locations WHERE id = ?`+tx.d.forUpdate, l.ID).
			Scan(&old.ID, &old.Type, &old.Target)
		if err == sql.ErrNoRows {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("update location: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE locations SET type = ?, target = ? WHERE id = ?`, l.Type, l.Target, l.ID)
		if isUniqueViolation(err) {
			return ErrLocationExists
		}
		if err != nil {
			return fmt.Errorf("update location: %w", err)
		}
		before, err := json.Marshal(old)
		if err != nil {
			return err
		}
		after, err := json.Marshal(l)
		if err != nil {
			return err
		}
		diff, err := audit.Diff(before, after)
		if err != nil {
			return err
		}
		return s.auditLocation(ctx, tx, audit.LocationUpdated, l.ID, diff)
	})
}

// DeleteLocation removes a registered location.
func (s *Store) DeleteLocation(ctx context.Context, id string) error {
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM locations WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete location: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.auditLocation(ctx, tx, audit.LocationDeleted, id, deletedDiff)
	})
}

// auditLocation records a change to a registered location within tx.
func (s *Store) auditLocation(ctx context.Context, tx *txn, action, id string, diff json.RawMessage) error {
	b := newAuditBatch(ctx)
	b.add(audit.Event{Actor: audit.ActorFrom(ctx, audit.Anonymous), Action: action, Target: id,
		Outcome: audit.Succeeded, Severity: audit.Medium, Diff: diff})
	return b.flush(s, tx)
}

// isUniqueViolation reports whether err is a unique constraint failing,
// in either engine's words.
func isUniqueViolation(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "23505"))
}

// Locations lists the registered locations, oldest first.
func (s *Store) Locations(ctx context.Context) ([]LocationRow, error) {
	return s.locations(ctx, `ORDER BY created_at, id`)
}

// LocationByID returns one registered location.
func (s *Store) LocationByID(ctx context.Context, id string) (LocationRow, error) {
	return s.oneLocation(ctx, `WHERE id = ?`, id)
}

// LocationByTarget returns the registered location with that type and target.
func (s *Store) LocationByTarget(ctx context.Context, typ, target string) (LocationRow, error) {
	return s.oneLocation(ctx, `WHERE type = ? AND target = ?`, typ, target)
}

func (s *Store) oneLocation(ctx context.Context, where string, args ...any) (LocationRow, error) {
	ls, err := s.locations(ctx, where, args...)
	if err != nil {
		return LocationRow{}, err
	}
	if len(ls) == 0 {
		return LocationRow{}, ErrNotFound
	}
	return ls[0], nil
}

func (s *Store) locations(ctx context.Context, rest string, args ...any) ([]LocationRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, type, target FROM locations `+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("read locations: %w", err)
	}
	defer rows.Close()
	var out []LocationRow
	for rows.Next() {
		var l LocationRow
		if err := rows.Scan(&l.ID, &l.Type, &l.Target); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// RefreshNow makes the entity with the ref key and every entity above it
// in the ingestion tree due for processing now (POST /refresh).
func (s *Store) RefreshNow(ctx context.Context, key string) error {
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM refresh_state WHERE entity_ref = ?`, key).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `
			WITH RECURSIVE ancestors(ref, depth) AS (
				SELECT entity_ref, 0 FROM refresh_state WHERE entity_ref = ?
				UNION
				SELECT r.source, a.depth + 1 FROM refresh_state_references r
				JOIN ancestors a ON r.target = a.ref
				WHERE r.source LIKE '%/%' AND a.depth < 32
			)
			UPDATE refresh_state SET next_update_at = ?
			WHERE entity_ref IN (SELECT ref FROM ancestors)`, key, s.now().UnixMilli())
		if err != nil {
			return err
		}
		b := newAuditBatch(ctx)
		b.add(audit.Event{Actor: audit.ActorFrom(ctx, audit.Anonymous), Action: audit.EntityRefreshRequested,
			Target: key, Outcome: audit.Succeeded, Severity: audit.Low})
		return b.flush(s, tx)
	})
}
