-- Entities never processed (result_hash is set by the first processing,
-- successful or not): the few Locations and provider roots waiting for or
-- in their first read. Store.Pending counts them, so that a claimed batch
-- not yet written still counts as work to do. Entities processed as they
-- are emitted never enter it.
CREATE INDEX refresh_state_never_processed ON refresh_state (id) WHERE result_hash = '';
