-- The keys that sign user tokens (ES256, see internal/auth). One key signs
-- at a time, the same on every replica: the newest whose retire_at is
-- still ahead. Its public half is published at
-- /api/auth/.well-known/jwks.json until expires_at, when the last token
-- it signed has expired; the row is deleted some time after that. Times
-- are unix ms.
CREATE TABLE auth_signing_keys (
    kid         TEXT PRIMARY KEY,
    private_key TEXT NOT NULL, -- PKCS#8 PEM
    created_at  INTEGER NOT NULL,
    retire_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- Browser sessions, shared by every replica. The cookie holds a random id;
-- only its SHA-256 is stored, so a copy of this table signs no one in.
CREATE TABLE auth_sessions (
    id_hash        TEXT PRIMARY KEY, -- hex SHA-256 of the cookie's id
    user_ref       TEXT NOT NULL,
    ownership_refs TEXT NOT NULL,    -- JSON array of entity refs
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    revoked        BOOLEAN NOT NULL DEFAULT FALSE
);
-- Expired sessions are deleted in bulk.
CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);
