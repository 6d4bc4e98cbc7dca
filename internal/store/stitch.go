package store

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// rejectedURL replaces javascript: view and edit URLs, as Backstage does.
const rejectedURL = "https://backstage.io/annotation-rejected-for-security-reasons"

// Stitch computes the final form of up to limit queued entities: the
// processed entity, its relations from both ends, its processing errors as
// status items and its orphan mark; then rewrites its search rows. An
// unchanged final entity writes nothing. It returns how many queue entries
// it consumed.
func (s *Store) Stitch(ctx context.Context, limit int) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		refs, err := queryStrings(ctx, tx, `SELECT entity_ref FROM stitch_queue WHERE next_stitch_at <= ? ORDER BY next_stitch_at LIMIT ?`,
			s.now().UnixMilli(), limit)
		if err != nil {
			return err
		}
		n = len(refs)
		st, err := newStitcher(ctx, tx, s.now().UnixMilli())
		if err != nil {
			return err
		}
		defer st.close()
		for _, ref := range refs {
			if err := st.stitch(ref); err != nil {
				return fmt.Errorf("stitch %s: %w", ref, err)
			}
		}
		return st.flushSearch()
	})
	return n, err
}

type stitcher struct {
	ctx                       context.Context
	tx                        *sql.Tx
	now                       int64
	load, rels, orphan, final *sql.Stmt
	upsert, delSearch         *sql.Stmt
	dequeue                   *sql.Stmt
	insSearch                 *bulk
	pending                   []pendingRow
}

func newStitcher(ctx context.Context, tx *sql.Tx, now int64) (*stitcher, error) {
	st := &stitcher{ctx: ctx, tx: tx, now: now,
		insSearch: newBulk(ctx, tx, `INSERT OR REPLACE INTO search (key, value, entity_id, original_value, first) VALUES `, "", 5)}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.load, `SELECT id, uid, processed_entity, errors FROM refresh_state WHERE entity_ref = ?`},
		{&st.rels, `SELECT DISTINCT type, target_ref FROM relations WHERE source_ref = ? ORDER BY type, target_ref`},
		{&st.orphan, `SELECT NOT EXISTS (SELECT 1 FROM refresh_state_references WHERE target = ?)`},
		{&st.final, `SELECT hash, final_entity FROM final_entities WHERE id = ?`},
		{&st.upsert, `INSERT INTO final_entities (id, uid, entity_ref, final_entity, hash, last_updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET final_entity = excluded.final_entity, hash = excluded.hash,
				last_updated_at = excluded.last_updated_at`},
		{&st.delSearch, `DELETE FROM search WHERE key = ? AND value = ? AND entity_id = ?`},
		{&st.dequeue, `DELETE FROM stitch_queue WHERE entity_ref = ?`},
	} {
		s, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare stitch: %w", err)
		}
		*p.dst = s
	}
	return st, nil
}

func (st *stitcher) close() {
	st.insSearch.close()
	for _, s := range []*sql.Stmt{st.load, st.rels, st.orphan, st.final, st.upsert, st.delSearch, st.dequeue} {
		if s != nil {
			s.Close()
		}
	}
}

func (st *stitcher) stitch(ref string) error {
	if _, err := st.dequeue.ExecContext(st.ctx, ref); err != nil {
		return err
	}
	var id int64
	var uid string
	var processed, errorsJSON sql.NullString
	err := st.load.QueryRowContext(st.ctx, ref).Scan(&id, &uid, &processed, &errorsJSON)
	if err == sql.ErrNoRows {
		return nil // deleted since it was queued; the cascade removed its final form
	}
	if err != nil {
		return err
	}
	if !processed.Valid {
		return nil // never processed successfully: nothing to serve yet
	}
	var e entity.Entity
	if err := json.Unmarshal([]byte(processed.String), &e); err != nil {
		return fmt.Errorf("decode processed entity: %w", err)
	}
	rows, err := st.rels.QueryContext(st.ctx, ref)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r entity.Relation
		if err := rows.Scan(&r.Type, &r.TargetRef); err != nil {
			rows.Close()
			return err
		}
		e.Relations = append(e.Relations, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if e.Relations == nil {
		e.Relations = []entity.Relation{}
	}
	if errorsJSON.Valid && errorsJSON.String != "null" {
		var items []entity.StatusItem
		if err := json.Unmarshal([]byte(errorsJSON.String), &items); err != nil {
			return fmt.Errorf("decode errors: %w", err)
		}
		if len(items) > 0 {
			e.Status = &entity.Status{Items: items}
		}
	}
	var orphan bool
	if err := st.orphan.QueryRowContext(st.ctx, ref).Scan(&orphan); err != nil {
		return err
	}
	if orphan {
		e.SetAnnotation(entity.AnnotationOrphan, "true")
	}
	for _, k := range []string{entity.AnnotationViewURL, entity.AnnotationEditURL} {
		if v, ok := e.Metadata.Annotations[k]; ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "javascript:") {
			e.Metadata.Annotations[k] = rejectedURL
		}
	}
	e.Metadata.UID = uid
	e.Metadata.Etag = ""
	body, err := json.Marshal(&e)
	if err != nil {
		return err
	}
	sum := sha1.Sum(body)
	hash := hex.EncodeToString(sum[:])

	var oldHash, oldBody string
	err = st.final.QueryRowContext(st.ctx, id).Scan(&oldHash, &oldBody)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return err
	case oldHash == hash:
		return nil
	}
	e.Metadata.Etag = hash
	body, err = json.Marshal(&e)
	if err != nil {
		return err
	}
	if _, err := st.upsert.ExecContext(st.ctx, id, uid, ref, string(body), hash, st.now); err != nil {
		return fmt.Errorf("write final entity: %w", err)
	}
	return st.writeSearch(id, oldBody, body)
}

// writeSearch brings the entity's search rows from those of oldBody (the
// previous final entity, "" if none) to those of body, touching only rows
// that differ: a re-stitch usually changes a relation or two, not 30 rows.
func (st *stitcher) writeSearch(id int64, oldBody string, body []byte) error {
	next, err := SearchRows(body)
	if err != nil {
		return err
	}
	var prev []SearchRow
	if oldBody != "" {
		if prev, err = SearchRows([]byte(oldBody)); err != nil {
			return err
		}
	}
	want := make(map[[2]string]SearchRow, len(next))
	for _, r := range next {
		want[[2]string{r.Key, r.Value}] = r
	}
	have := make(map[[2]string]SearchRow, len(prev))
	for _, r := range prev {
		have[[2]string{r.Key, r.Value}] = r
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			if _, err := st.delSearch.ExecContext(st.ctx, k[0], k[1], id); err != nil {
				return fmt.Errorf("delete search row: %w", err)
			}
		}
	}
	for k, row := range want {
		if o, ok := have[k]; ok && o == row {
			continue
		}
		st.pending = append(st.pending, pendingRow{row, id})
	}
	return nil
}

// pendingRow is a search row waiting to be written.
type pendingRow struct {
	SearchRow
	id int64
}

// flushSearch writes the pending search rows in index order: inserting
// into the b-tree in key order touches each page once instead of at random.
func (st *stitcher) flushSearch() error {
	sort.Slice(st.pending, func(i, j int) bool {
		a, b := st.pending[i], st.pending[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		return a.id < b.id
	})
	for _, r := range st.pending {
		if err := st.insSearch.add(r.Key, r.Value, r.id, nullIfEmpty(r.Original), r.First); err != nil {
			return fmt.Errorf("insert search row: %w", err)
		}
	}
	st.pending = st.pending[:0]
	return st.insSearch.flush()
}

func queryStrings(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
