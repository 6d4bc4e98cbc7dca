-- Entities never processed; see the SQLite migration of the same name.
CREATE INDEX refresh_state_never_processed ON refresh_state (id) WHERE result_hash = '';
