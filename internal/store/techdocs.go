package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// DocsBuild is what the database knows of an entity's docs builds.
type DocsBuild struct {
	// Etag is the source digest of the last successful build, BuiltAt
	// when it was published.
	Etag    string
	BuiltAt time.Time
	// Error is why the last build failed; "" after a success.
	Error string
	// Building is set while some replica holds the build lease.
	Building bool
}

// AcquireDocsBuild takes the build lease of ref's docs for owner, for
// lease; ok is false if another replica holds it.
func (s *Store) AcquireDocsBuild(ctx context.Context, ref, owner string, lease time.Duration) (ok bool, err error) {
	now := s.now().UnixMilli()
	err = s.tx(ctx, func(ctx context.Context, tx *txn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO techdocs_builds (entity_ref, lease_owner, lease_until, updated_at)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (entity_ref) DO UPDATE SET lease_owner = excluded.lease_owner,
				lease_until = excluded.lease_until, updated_at = excluded.updated_at
			WHERE techdocs_builds.lease_until IS NULL OR techdocs_builds.lease_until <= ?`,
			ref, owner, now+lease.Milliseconds(), now, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("acquire the docs build of %s: %w", ref, err)
	}
	return ok, nil
}

// RenewDocsBuild extends owner's build lease of ref; ErrLeaseLost if
// owner no longer holds it.
func (s *Store) RenewDocsBuild(ctx context.Context, ref, owner string, lease time.Duration) error {
	now := s.now().UnixMilli()
	var n int64
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE techdocs_builds SET lease_until = ?, updated_at = ?
			WHERE entity_ref = ? AND lease_owner = ? AND lease_until > ?`, now+lease.Milliseconds(), now, ref, owner, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("renew the docs build of %s: %w", ref, err)
	}
	if n == 0 {
		return fmt.Errorf("renew the docs build of %s: %w", ref, ErrLeaseLost)
	}
	return nil
}

// FinishDocsBuild ends owner's build of ref and releases the lease:
// buildErr "" records a success with etag, published now; otherwise the
// failure, keeping the last success's etag.
func (s *Store) FinishDocsBuild(ctx context.Context, ref, owner, etag, buildErr string) error {
	now := s.now().UnixMilli()
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		if buildErr != "" {
			_, err := tx.ExecContext(ctx, `UPDATE techdocs_builds SET lease_owner = NULL, lease_until = NULL, error = ?, updated_at = ?
				WHERE entity_ref = ? AND lease_owner = ?`, buildErr, now, ref, owner)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE techdocs_builds SET lease_owner = NULL, lease_until = NULL, error = NULL,
			etag = ?, built_at = ?, updated_at = ? WHERE entity_ref = ? AND lease_owner = ?`, etag, now, now, ref, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish the docs build of %s: %w", ref, err)
	}
	return nil
}

// DocsBuildState returns what is known of ref's builds; ok is false if
// it was never built here.
func (s *Store) DocsBuildState(ctx context.Context, ref string) (b DocsBuild, ok bool, err error) {
	m, err := s.DocsBuildStates(ctx, []string{ref})
	if err != nil {
		return DocsBuild{}, false, err
	}
	b, ok = m[ref]
	return b, ok, nil
}

// DocsBuildStates returns what is known of the builds of refs, in one
// query, by ref; refs never built are absent.
func (s *Store) DocsBuildStates(ctx context.Context, refs []string) (map[string]DocsBuild, error) {
	out := make(map[string]DocsBuild, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(refs)+1)
	for _, r := range refs {
		args = append(args, r)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT entity_ref, etag, built_at, error, lease_until FROM techdocs_builds
		WHERE entity_ref IN (?`+strings.Repeat(", ?", len(refs)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read docs builds: %w", err)
	}
	defer rows.Close()
	now := s.now().UnixMilli()
	for rows.Next() {
		var (
			ref               string
			etag, buildErr    sql.NullString
			builtAt, leaseEnd sql.NullInt64
		)
		if err := rows.Scan(&ref, &etag, &builtAt, &buildErr, &leaseEnd); err != nil {
			return nil, fmt.Errorf("read docs builds: %w", err)
		}
		b := DocsBuild{Etag: etag.String, Error: buildErr.String, Building: leaseEnd.Valid && leaseEnd.Int64 > now}
		if builtAt.Valid {
			b.BuiltAt = time.UnixMilli(builtAt.Int64)
		}
		out[ref] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read docs builds: %w", err)
	}
	return out, nil
}
