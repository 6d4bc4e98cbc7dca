-- Entity documents are never filtered, joined or sorted on, so planner
-- statistics on them are useless, and gathering them (detoasting and
-- comparing kilobytes of JSON per sampled row) was most of what ANALYZE
-- cost while a large catalog loads.
ALTER TABLE refresh_state
    ALTER COLUMN unprocessed_entity SET STATISTICS 0,
    ALTER COLUMN processed_entity SET STATISTICS 0,
    ALTER COLUMN relations_emitted SET STATISTICS 0,
    ALTER COLUMN emit_problems SET STATISTICS 0,
    ALTER COLUMN errors SET STATISTICS 0;
ALTER TABLE final_entities ALTER COLUMN final_entity SET STATISTICS 0;
