-- How many entities of each kind have each value of the facet keys that
-- pages ask for on every view (store.countedFacets), kept by the
-- transactions that write search rows. See the SQLite migration of the
-- same name.
CREATE TABLE facet_counts (
    kind     TEXT COLLATE "C" NOT NULL,
    key      TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    original TEXT COLLATE "C" NOT NULL,
    count    BIGINT NOT NULL,
    PRIMARY KEY (key, kind, value, original)
);

INSERT INTO facet_counts (kind, key, value, original, count)
SELECT split_part(fe.entity_ref, ':', 1), s.key, s.value, coalesce(s.original_value, s.value), count(*)
FROM search s JOIN final_entities fe ON fe.id = s.entity_id
WHERE s.key IN ('kind', 'spec.type', 'spec.lifecycle', 'metadata.namespace', 'metadata.tags', 'relations.ownedby')
  AND s.value <> chr(1)
GROUP BY 1, 2, 3, 4;

-- Per kind and key, the entities having any counted value of the key,
-- under the value and original chr(1), which no counted value can be.
INSERT INTO facet_counts (kind, key, value, original, count)
SELECT split_part(fe.entity_ref, ':', 1), s.key, chr(1), chr(1), count(DISTINCT s.entity_id)
FROM search s JOIN final_entities fe ON fe.id = s.entity_id
WHERE s.key IN ('kind', 'spec.type', 'spec.lifecycle', 'metadata.namespace', 'metadata.tags', 'relations.ownedby')
  AND s.value <> chr(1)
GROUP BY 1, 2;
