-- The audit log: append-only, hash-chained events (see internal/audit).
-- seq is assigned under the audit_head row, so seq order is commit order
-- and each event's prev_hash is the hash of the event before it.
CREATE TABLE audit_events (
    seq       BIGINT PRIMARY KEY,
    time_us   BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    error     TEXT NOT NULL,
    severity  TEXT NOT NULL,
    request   TEXT,
    diff      TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
-- Filtered pages walk one of these backwards from a cursor.
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_target ON audit_events (target, seq);
-- Nearly every event succeeds: only the others are worth an index.
CREATE INDEX audit_events_outcome ON audit_events (outcome, seq) WHERE outcome <> 'succeeded';
-- Times grow with seqs (the head keeps the newest), so this index turns a
-- time range into a range of seqs.
CREATE INDEX audit_events_time ON audit_events (time_us, seq);

-- The chain head (with its time, which the next event's may not precede),
-- and the last event archived and deleted by retention, whose hash the
-- oldest remaining event must chain to.
CREATE TABLE audit_head (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    time_us       BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    hash          TEXT NOT NULL,
    archived_seq  BIGINT NOT NULL,
    archived_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, time_us, seq, hash, archived_seq, archived_hash) VALUES (1, 0, 0, '', 0, '');

-- Each entity's version where its recorded history starts: the version
-- of an entity that existed before the audit log did, or the version left
-- by the last event that retention archived. Its history is this version
-- followed by its events with a greater seq.
CREATE TABLE audit_bases (
    target  TEXT PRIMARY KEY,
    seq     BIGINT NOT NULL,
    time_us BIGINT NOT NULL,
    entity  TEXT NOT NULL
);
-- Entities already in the catalog when the log begins.
INSERT INTO audit_bases (target, seq, time_us, entity)
    SELECT entity_ref, 0, last_updated_at * 1000, final_entity FROM final_entities;

-- How far each export sink has written. One replica at a time holds a
-- sink's lease and writes it; another takes over when the lease expires.
CREATE TABLE audit_cursors (
    name        TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    owner       TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);

-- Diffs are never filtered on (see 0002).
ALTER TABLE audit_events ALTER COLUMN diff SET STATISTICS 0, ALTER COLUMN request SET STATISTICS 0;
