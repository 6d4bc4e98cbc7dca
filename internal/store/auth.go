package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// The auth tables hold what every replica must agree on for sign-in to
// work behind a load balancer: the key that signs user tokens, and the
// browser sessions. internal/auth decides lifetimes; these methods take
// the times it computed and only store and compare them.

// SigningKey is a key that signs user tokens.
type SigningKey struct {
	// KID is the key's id, the "kid" of the tokens it signs.
	KID string
	// PrivateKey is the key in PKCS#8 PEM.
	PrivateKey string
	// CreatedAt is when the key was made.
	CreatedAt time.Time
	// RetireAt is when the key stops signing.
	RetireAt time.Time
	// ExpiresAt is when the key stops being published: every token it
	// signed has expired by then.
	ExpiresAt time.Time
}

// signingKeyLock is the lock under which replicas choose the current key.
const signingKeyLock = "auth_signing_keys"

// CurrentSigningKey returns the key that signs at now: the newest whose
// RetireAt is after now. When there is none it inserts the one newKey
// makes, and deletes the keys that expired by now. The choice is made
// under a lock (PostgreSQL) or the single writer (SQLite), so replicas
// asking together get the same key. newKey may be called more than once
// if the transaction is retried.
func (s *Store) CurrentSigningKey(ctx context.Context, now time.Time, newKey func() (SigningKey, error)) (SigningKey, error) {
	var k SigningKey
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		if err := tx.lock(ctx, signingKeyLock); err != nil {
			return err
		}
		var err error
		k, err = scanSigningKey(tx.QueryRowContext(ctx, `SELECT kid, private_key, created_at, retire_at, expires_at
			FROM auth_signing_keys WHERE retire_at > ? ORDER BY created_at DESC, kid LIMIT 1`, now.UnixMilli()))
		if err != sql.ErrNoRows {
			return err
		}
		if k, err = newKey(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_signing_keys WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
			return fmt.Errorf("delete expired signing keys: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_signing_keys (kid, private_key, created_at, retire_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, k.KID, k.PrivateKey, k.CreatedAt.UnixMilli(), k.RetireAt.UnixMilli(), k.ExpiresAt.UnixMilli()); err != nil {
			return fmt.Errorf("insert signing key: %w", err)
		}
		return nil
	})
	if err != nil {
		return SigningKey{}, fmt.Errorf("current signing key: %w", err)
	}
	return k, nil
}

// SigningKey returns the key with that id, expired or not.
func (s *Store) SigningKey(ctx context.Context, kid string) (SigningKey, error) {
	k, err := scanSigningKey(s.r.QueryRowContext(ctx, `SELECT kid, private_key, created_at, retire_at, expires_at
		FROM auth_signing_keys WHERE kid = ?`, kid))
	if err == sql.ErrNoRows {
		return SigningKey{}, fmt.Errorf("signing key %q: %w", kid, ErrNotFound)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("read signing key: %w", err)
	}
	return k, nil
}

// SigningKeys returns the keys published at now (ExpiresAt after now),
// newest first.
func (s *Store) SigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kid, private_key, created_at, retire_at, expires_at
		FROM auth_signing_keys WHERE expires_at > ? ORDER BY created_at DESC, kid`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		k, err := scanSigningKey(rows)
		if err != nil {
			return nil, fmt.Errorf("read signing keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	return out, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanSigningKey(row scanner) (SigningKey, error) {
	var k SigningKey
	var created, retire, expires int64
	if err := row.Scan(&k.KID, &k.PrivateKey, &created, &retire, &expires); err != nil {
		return SigningKey{}, err
	}
	k.CreatedAt, k.RetireAt, k.ExpiresAt = unixMilli(created), unixMilli(retire), unixMilli(expires)
	return k, nil
}

// Session is a browser session.
type Session struct {
	// IDHash is the hex SHA-256 of the session's id. The id itself, which
	// only the browser's cookie holds, is never stored.
	IDHash string
	// UserRef is the signed-in user's entity ref.
	UserRef string
	// OwnershipRefs are the user's ownership entity refs at sign-in.
	OwnershipRefs []string
	// CreatedAt is when the user signed in.
	CreatedAt time.Time
	// ExpiresAt is when the session ends unless it is used before.
	ExpiresAt time.Time
	// LastSeenAt is when the session was last used (to the minute or so).
	LastSeenAt time.Time
	// Revoked is set when the user signed out.
	Revoked bool
}

// InsertSession stores a new session.
func (s *Store) InsertSession(ctx context.Context, sess Session) error {
	own, err := json.Marshal(nonNil(sess.OwnershipRefs))
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO auth_sessions
		(id_hash, user_ref, ownership_refs, created_at, expires_at, last_seen_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sess.IDHash, sess.UserRef, string(own), sess.CreatedAt.UnixMilli(), sess.ExpiresAt.UnixMilli(),
		sess.LastSeenAt.UnixMilli(), sess.Revoked)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByHash returns the session whose id hashes to idHash, whether
// or not it has expired or been revoked.
func (s *Store) SessionByHash(ctx context.Context, idHash string) (Session, error) {
	var sess Session
	var own string
	var created, expires, seen int64
	err := s.r.QueryRowContext(ctx, `SELECT id_hash, user_ref, ownership_refs, created_at, expires_at, last_seen_at, revoked
		FROM auth_sessions WHERE id_hash = ?`, idHash).
		Scan(&sess.IDHash, &sess.UserRef, &own, &created, &expires, &seen, &sess.Revoked)
	if err == sql.ErrNoRows {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	if err := json.Unmarshal([]byte(own), &sess.OwnershipRefs); err != nil {
		return Session{}, fmt.Errorf("read session: ownership refs: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt, sess.LastSeenAt = unixMilli(created), unixMilli(expires), unixMilli(seen)
	return sess, nil
}

// TouchSession records that a session was used at seen and now expires
// at expires. It returns a wrapped ErrNotFound for a session that does
// not exist or was revoked.
func (s *Store) TouchSession(ctx context.Context, idHash string, seen, expires time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE auth_sessions SET last_seen_at = ?, expires_at = ?
		WHERE id_hash = ? AND NOT revoked`, seen.UnixMilli(), expires.UnixMilli(), idHash)
	return oneRow(res, err, "touch session")
}

// RevokeSession ends a session. It returns a wrapped ErrNotFound for a
// session that does not exist.
func (s *Store) RevokeSession(ctx context.Context, idHash string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE auth_sessions SET revoked = TRUE WHERE id_hash = ?`, idHash)
	return oneRow(res, err, "revoke session")
}

// DeleteExpiredSessions deletes the sessions that expired by now,
// revoked or not, and returns how many it deleted.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// oneRow turns the result of an UPDATE of one row by key into an error:
// a wrapped ErrNotFound when no row matched.
func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// unixMilli is time.UnixMilli in UTC.
func unixMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nonNil returns s, or an empty slice for nil, so that it encodes as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
