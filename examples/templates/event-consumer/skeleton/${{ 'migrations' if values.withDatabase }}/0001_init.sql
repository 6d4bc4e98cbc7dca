-- The events ${{ values.name }} has handled, identified as CloudEvents
-- identify them: by source and id. Written after an event is handled and
-- checked before the next one is, so a redelivered event is acknowledged
-- without being handled twice.
CREATE TABLE processed_events (
    source       text        NOT NULL,
    id           text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, id)
);

-- For pruning, once redeliveries that old can no longer happen:
--   DELETE FROM processed_events WHERE processed_at < now() - interval '30 days';
CREATE INDEX processed_events_processed_at ON processed_events (processed_at);
