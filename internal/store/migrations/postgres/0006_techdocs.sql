-- TechDocs builds made by the local builder: one row per entity. A replica
-- takes the row's lease (lease_owner, lease_until) before building and
-- renews it while the build runs, so an entity's docs are built once
-- however many replicas are asked for them; the others wait for the lease
-- to end and read what was published. Times are unix ms.
CREATE TABLE techdocs_builds (
    entity_ref  TEXT PRIMARY KEY,  -- lower-cased kind:namespace/name
    lease_owner TEXT,
    lease_until BIGINT,
    etag        TEXT,              -- the source digest of the last successful build
    built_at    BIGINT,                -- when it was published
    error       TEXT,              -- why the last build failed; NULL after a success
    updated_at  BIGINT NOT NULL
);
