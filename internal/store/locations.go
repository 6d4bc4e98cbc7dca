package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// LocationRow is a location registered through the API.
type LocationRow struct {
	ID, Type, Target string
}

// ErrLocationExists is returned by InsertLocation for a known type and target.
var ErrLocationExists = errors.New("location already exists")

// InsertLocation registers a location.
func (s *Store) InsertLocation(ctx context.Context, l LocationRow) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO locations (id, type, target, created_at) VALUES (?, ?, ?, ?)`,
		l.ID, l.Type, l.Target, s.now().UnixMilli())
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return ErrLocationExists
	}
	if err != nil {
		return fmt.Errorf("insert location: %w", err)
	}
	return nil
}

// UpdateLocation changes a location's type and target.
func (s *Store) UpdateLocation(ctx context.Context, l LocationRow) error {
	res, err := s.w.ExecContext(ctx, `UPDATE locations SET type = ?, target = ? WHERE id = ?`, l.Type, l.Target, l.ID)
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return ErrLocationExists
	}
	if err != nil {
		return fmt.Errorf("update location: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteLocation removes a registered location.
func (s *Store) DeleteLocation(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM locations WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete location: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
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
		return err
	})
}
