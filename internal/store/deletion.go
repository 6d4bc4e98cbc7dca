package store

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/atrium-dev/atrium/internal/catalog/filter"

	"github.com/atrium-dev/atrium/internal/audit"
)

// pruneIfUnreferenced deletes each of refs that no reference keeps alive
// any more, together with its descendants that nothing outside the
// deleted set keeps alive (Backstage's eager pruning).
func (w *writer) pruneIfUnreferenced(refs []string) error {
	doomed := map[string]bool{}
	queue := append([]string(nil), refs...)
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		if doomed[ref] {
			continue
		}
		alive, err := w.hasLiveParent(ref, doomed)
		if err != nil {
			return err
		}
		if alive {
			continue
		}
		doomed[ref] = true
		kids, err := w.refsFrom(ref)
		if err != nil {
			return err
		}
		queue = append(queue, kids...)
	}
	list := make([]string, 0, len(doomed))
	for ref := range doomed {
		list = append(list, ref)
	}
	return w.deleteEntities(list)
}

// hasLiveParent reports whether ref has an incoming reference from a
// provider or from an entity not in doomed.
func (w *writer) hasLiveParent(ref string, doomed map[string]bool) (bool, error) {
	sources, err := w.strings(`SELECT source FROM refresh_state_references WHERE target = ?`, ref)
	if err != nil {
		return false, err
	}
	for _, src := range sources {
		if isProviderSource(src) || !doomed[src] {
			return true, nil
		}
	}
	return false, nil
}

// deleteEntities removes entities by ref with everything that hangs off
// them, and queues a stitch for every surviving entity whose relations or
// orphan state change as a result.
func (w *writer) deleteEntities(refs []string) error {
	if len(refs) == 0 {
		return nil
	}
	if err := bumpGeneration(w.ctx, w.tx); err != nil {
		return err
	}
	gone := make(map[string]bool, len(refs))
	for _, r := range refs {
		gone[r] = true
	}
	for _, ref := range refs {
		// Locking the entity first waits for a stitch that holds it (see
		// keepsInputs) to commit, so that what follows reads, and deletes,
		// the final entity and search rows that stitch wrote.
		var id int64
		if err := w.tx.QueryRowContext(w.ctx, `SELECT id FROM refresh_state WHERE entity_ref = ?`+w.tx.d.forUpdate, ref).Scan(&id); err != nil {
			if err == sql.ErrNoRows {
				continue
			}
			return err
		}
		var served bool
		if err := w.tx.QueryRowContext(w.ctx, `SELECT EXISTS (SELECT 1 FROM final_entities WHERE id = ?)`, id).Scan(&served); err != nil {
			return err
		}
		if served {
			// An entity that was never stitched was never seen, and has
			// no history to end.
			w.events.entity(audit.EntityDeleted, ref, audit.SystemProcessing, deletedDiff)
		}
		rels, err := w.emittedRelations(`id = ?`, id)
		if err != nil {
			return err
		}
		var peers []string
		for _, k := range rels {
			peers = append(peers, k.source)
			if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM relations WHERE source_ref = ? AND type = ? AND target_ref = ? AND originating_id = ?`,
				k.source, k.typ, k.target, id); err != nil {
				return fmt.Errorf("delete relation: %w", err)
			}
		}
		if err := w.deleteSearchRows(ref); err != nil {
			return err
		}
		kids, err := w.refsFrom(ref)
		if err != nil {
			return err
		}
		for _, p := range append(peers, kids...) {
			if !gone[p] {
				w.queueStitch(p)
			}
		}
		for _, q := range []string{
			`DELETE FROM refresh_state_references WHERE source = ? OR target = ?`,
		} {
			if _, err := w.tx.ExecContext(w.ctx, q, ref, ref); err != nil {
				return fmt.Errorf("delete %s: %w", ref, err)
			}
		}
		for _, q := range []string{`DELETE FROM final_entities WHERE id = ?`, `DELETE FROM refresh_state WHERE id = ?`} {
			if _, err := w.tx.ExecContext(w.ctx, q, id); err != nil {
				return fmt.Errorf("delete %s: %w", ref, err)
			}
		}
		if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM stitch_queue WHERE entity_ref = ?`, ref); err != nil {
			return fmt.Errorf("delete %s: %w", ref, err)
		}
		delete(w.stitch, ref)
	}
	return nil
}

// strings runs a query of one text column in the writer's transaction.
func (w *writer) strings(q string, args ...any) ([]string, error) {
	return queryStrings(w.ctx, w.tx, q, args...)
}

// DeleteOrphans deletes entities that no provider or parent emits any more
// (catalog.orphanStrategy: delete) and returns their refs.
func (s *Store) DeleteOrphans(ctx context.Context) ([]string, error) {
	var deleted []string
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		// One replica sweeps at a time; the others find nothing left.
		if err := tx.lock(ctx, "orphan-sweep"); err != nil {
			return err
		}
		w := newWriter(audit.WithActor(ctx, audit.SystemOrphanCleanup), tx, s.now())
		defer w.close()
		refs, err := w.strings(`SELECT entity_ref FROM refresh_state s
			WHERE NOT EXISTS (SELECT 1 FROM refresh_state_references r WHERE r.target = s.entity_ref)`)
		if err != nil {
			return err
		}
		if err := w.pruneIfUnreferenced(refs); err != nil {
			return err
		}
		deleted = refs
		return w.finish(s)
	})
	return deleted, err
}

// DeleteByUID deletes one entity. Its parents are asked to refresh at once,
// so an entity still present in its source comes back, as in Backstage.
func (s *Store) DeleteByUID(ctx context.Context, uid string) (ref string, err error) {
	err = s.tx(ctx, func(ctx context.Context, tx *txn) error {
		if err := tx.QueryRowContext(ctx, `SELECT entity_ref FROM refresh_state WHERE uid = ?`, uid).Scan(&ref); err != nil {
			if err == sql.ErrNoRows {
				return ErrNotFound
			}
			return err
		}
		w := newWriter(ctx, tx, s.now())
		defer w.close()
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_state SET result_hash = 'child-was-deleted', next_update_at = ?
			WHERE entity_ref IN (SELECT source FROM refresh_state_references WHERE target = ?)`,
			w.now, ref); err != nil {
			return err
		}
		if err := w.deleteEntities([]string{ref}); err != nil {
			return err
		}
		return w.finish(s)
	})
	return ref, err
}

// deleteSearchRows removes an entity's search rows, recomputed from its
// final entity (the search table has no per-entity index, by design).
func (w *writer) deleteSearchRows(ref string) error {
	var id int64
	var body string
	err := w.tx.QueryRowContext(w.ctx, `SELECT id, final_entity FROM final_entities WHERE entity_ref = ?`, ref).Scan(&id, &body)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	rows, err := filter.SearchRows([]byte(body))
	if err != nil {
		return err
	}
	w.facets.add(facetChanges(kindOfRef(ref), rows, nil))
	for _, r := range rows {
		if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM search WHERE key = ? AND value = ? AND entity_id = ?`, r.Key, r.Value, id); err != nil {
			return fmt.Errorf("delete search row: %w", err)
		}
	}
	return nil
}
