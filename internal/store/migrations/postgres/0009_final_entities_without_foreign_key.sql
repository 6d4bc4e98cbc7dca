-- final_entities.id no longer references refresh_state. The foreign key's
-- check ran a trigger, and a locking lookup, for every final entity
-- written: half of what writing them cost while a catalog loads. What it
-- guarded is now kept by the code that writes and deletes: the stitcher
-- reads its inputs FOR KEY SHARE, which keeps them from being deleted
-- until it commits, and deleting an entity locks it first and deletes its
-- final entity itself. SQLite, where one writer serialises everything,
-- keeps the key (dropping it would mean rebuilding the table).
ALTER TABLE final_entities DROP CONSTRAINT IF EXISTS final_entities_id_fkey;
