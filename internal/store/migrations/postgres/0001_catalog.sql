-- The catalog's tables on PostgreSQL: the same model as SQLite's
-- 0001_catalog.sql (read its comments), in PostgreSQL's types. Text that is
-- compared, sorted or paged by uses the "C" collation: byte order, as in
-- SQLite, so both engines sort and page alike whatever the server's locale.

CREATE TABLE locations (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    target     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (type, target)
);

CREATE TABLE refresh_state (
    id                 BIGSERIAL PRIMARY KEY,
    uid                TEXT COLLATE "C" NOT NULL UNIQUE,
    entity_ref         TEXT COLLATE "C" NOT NULL UNIQUE,
    unprocessed_entity TEXT NOT NULL,
    unprocessed_hash   TEXT NOT NULL,
    emit_problems      TEXT,
    processed_entity   TEXT,
    result_hash        TEXT NOT NULL DEFAULT '',
    relations_emitted  TEXT,
    errors             TEXT,
    location_key       TEXT,
    next_update_at     BIGINT NOT NULL,
    last_discovery_at  BIGINT NOT NULL
);
CREATE INDEX refresh_state_next_update ON refresh_state (next_update_at);

CREATE TABLE refresh_state_references (
    source TEXT COLLATE "C" NOT NULL,
    target TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (source, target)
);
CREATE INDEX refresh_refs_target ON refresh_state_references (target);

CREATE TABLE relations (
    source_ref     TEXT COLLATE "C" NOT NULL,
    type           TEXT COLLATE "C" NOT NULL,
    target_ref     TEXT COLLATE "C" NOT NULL,
    originating_id BIGINT NOT NULL,
    PRIMARY KEY (source_ref, type, target_ref, originating_id)
);

CREATE TABLE final_entities (
    id              BIGINT PRIMARY KEY REFERENCES refresh_state (id) ON DELETE CASCADE,
    uid             TEXT COLLATE "C" NOT NULL UNIQUE,
    entity_ref      TEXT COLLATE "C" NOT NULL UNIQUE,
    final_entity    TEXT NOT NULL,
    hash            TEXT NOT NULL,
    last_updated_at BIGINT NOT NULL
);

CREATE TABLE search (
    key            TEXT COLLATE "C" NOT NULL,
    value          TEXT COLLATE "C" NOT NULL,
    entity_id      BIGINT NOT NULL,
    original_value TEXT COLLATE "C",
    first          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, value, entity_id)
);

CREATE TABLE stitch_queue (
    entity_ref     TEXT COLLATE "C" PRIMARY KEY,
    next_stitch_at BIGINT NOT NULL
);
CREATE INDEX stitch_queue_due ON stitch_queue (next_stitch_at);

CREATE TABLE catalog_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO catalog_generation (id, value) VALUES (1, 0);
