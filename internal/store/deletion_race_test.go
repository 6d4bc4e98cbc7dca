package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// TestDeletionWaitsForAStitchOfTheSameEntity deletes an entity while a
// stitch that has read it is still to write it, as two replicas may on
// PostgreSQL: the deletion must wait for the stitch to commit and then
// delete what the stitch wrote, leaving no final entity or search row of
// an entity that no longer exists.
func TestDeletionWaitsForAStitchOfTheSameEntity(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		if eng != storetest.Postgres {
			t.Skip("SQLite's one writer runs deletions and stitches one after the other")
		}
		f := newFixture(t, eng)
		ctx := context.Background()
		const ref = "component:default/alpha"

		// The stitch reads its input as Stitch does.
		stitch, err := f.st.w.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer stitch.Rollback()
		var id int64
		if err := stitch.QueryRowContext(ctx, `SELECT rs.id FROM refresh_state rs WHERE rs.entity_ref = $1`+
			postgresDialect.keepsInputs, ref).Scan(&id); err != nil {
			t.Fatal(err)
		}

		deleted := make(chan error, 1)
		go func() {
			_, err := f.st.DeleteByUID(ctx, f.uids["alpha"])
			deleted <- err
		}()
		// The deletion must come to wait for the stitch's lock.
		for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
			var waiting int
			if err := f.st.r.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT id FROM refresh_state WHERE entity_ref =%'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				break
			}
			select {
			case err := <-deleted:
				t.Fatalf("the deletion finished (err %v) while a stitch of the entity was running", err)
			default:
			}
			if time.Since(start) > 30*time.Second {
				t.Fatal("the deletion never waited for the stitch")
			}
		}

		// The stitch writes a new version, with a search row the old one
		// did not have, and commits.
		var body string
		if err := stitch.QueryRowContext(ctx, `SELECT final_entity FROM final_entities WHERE id = $1`, id).Scan(&body); err != nil {
			t.Fatal(err)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatal(err)
		}
		meta := e["metadata"].(map[string]any)
		annotations, _ := meta["annotations"].(map[string]any)
		if annotations == nil {
			annotations = map[string]any{}
		}
		annotations["stitched"] = "late"
		meta["annotations"] = annotations
		next, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stitch.ExecContext(ctx, `UPDATE final_entities SET final_entity = $1 WHERE id = $2`, string(next), id); err != nil {
			t.Fatal(err)
		}
		if _, err := stitch.ExecContext(ctx, `INSERT INTO search (key, value, entity_id, original_value, first)
			VALUES ('metadata.annotations.stitched', 'late', $1, NULL, 1)`, id); err != nil {
			t.Fatal(err)
		}
		if err := stitch.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-deleted; err != nil {
			t.Fatal(err)
		}

		for table, where := range map[string]string{"refresh_state": "id", "final_entities": "id", "search": "entity_id"} {
			var n int
			if err := f.st.r.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE `+where+` = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d rows of the deleted entity are left in %s", n, table)
			}
		}
	})
}
