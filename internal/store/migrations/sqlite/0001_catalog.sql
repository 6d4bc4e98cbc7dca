-- The catalog's tables. Shaped for reads at scale: final entities are served
-- verbatim; filters, facets and sorting run on the flattened search rows.

-- Locations registered through the API. Locations from configuration are
-- not stored here; they are a provider's roots in refresh_state.
CREATE TABLE locations (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    target     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (type, target)
);

-- One row per entity known to the ingestion loop, processed or not.
CREATE TABLE refresh_state (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: cursors carry it
    uid                TEXT NOT NULL UNIQUE,
    entity_ref         TEXT NOT NULL UNIQUE,  -- lowercased kind:namespace/name
    unprocessed_entity TEXT NOT NULL,         -- JSON as emitted by its parent or provider
    unprocessed_hash   TEXT NOT NULL,
    emit_problems      TEXT,                  -- JSON: problems its parent found, with file positions
    processed_entity   TEXT,                  -- JSON of the last successful processing
    result_hash        TEXT NOT NULL DEFAULT '',
    relations_emitted  TEXT,                  -- JSON [[source, type, target], ...] it wrote to relations
    errors             TEXT,                  -- JSON status items of the last processing
    location_key       TEXT,                  -- who may emit this ref; the first one wins
    next_update_at     INTEGER NOT NULL,      -- unix ms
    last_discovery_at  INTEGER NOT NULL
);
CREATE INDEX refresh_state_next_update ON refresh_state (next_update_at);

-- Edges of the ingestion tree: from a provider ("provider:<name>", which
-- cannot be an entity ref: refs always hold a '/') or from the entity that
-- emitted the target. An entity without any incoming edge is an orphan.
CREATE TABLE refresh_state_references (
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (source, target)
) WITHOUT ROWID;
CREATE INDEX refresh_refs_target ON refresh_state_references (target);

-- Relations emitted by processing, both directions of every pair. Each row
-- is shown on its source entity; it belongs to the entity that emitted it
-- (originating_id), which lists the rows it wrote in relations_emitted, so
-- they are replaced and deleted by primary key: one b-tree, no second index.
CREATE TABLE relations (
    source_ref     TEXT NOT NULL,   -- lowercased
    type           TEXT NOT NULL,
    target_ref     TEXT NOT NULL,   -- lowercased, as Backstage's targetRef
    originating_id INTEGER NOT NULL,
    PRIMARY KEY (source_ref, type, target_ref, originating_id)
) WITHOUT ROWID;

-- The served entities.
CREATE TABLE final_entities (
    id              INTEGER PRIMARY KEY REFERENCES refresh_state (id) ON DELETE CASCADE,
    uid             TEXT NOT NULL UNIQUE,
    entity_ref      TEXT NOT NULL UNIQUE,
    final_entity    TEXT NOT NULL,
    hash            TEXT NOT NULL,
    last_updated_at INTEGER NOT NULL
);

-- Flattened (key, value) rows of every final entity, for filters, facets
-- and sorting. Keys and values are lowercased; value is '\x01' where the
-- original was too long (or null) to match on, so only existence works for
-- it; original_value keeps the case for facets and is NULL where it equals
-- value; first is 1 on the least matchable value of each (entity, key), the
-- one an entity sorts by. One b-tree and no per-entity index keeps writes
-- cheap: the stitcher deletes an entity's rows by recomputing them from its
-- previous final entity.
CREATE TABLE search (
    key            TEXT NOT NULL,
    value          TEXT NOT NULL,
    entity_id      INTEGER NOT NULL,
    original_value TEXT,
    first          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, value, entity_id)
) WITHOUT ROWID;

-- Entities whose final form must be recomputed.
CREATE TABLE stitch_queue (
    entity_ref     TEXT PRIMARY KEY,
    next_stitch_at INTEGER NOT NULL
);

-- A counter bumped by every transaction that changes what queries see
-- (final entities and their search rows). Counts and facets are cached
-- per generation: a catalog at rest answers them from memory, and any
-- change, by any process sharing the database, invalidates them.
CREATE TABLE catalog_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO catalog_generation (id, value) VALUES (1, 0);
