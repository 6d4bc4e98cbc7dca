package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// Work is an entity claimed for processing.
type Work struct {
	ID  int64
	UID string
	// Ref is the lowercased entity ref.
	Ref          string
	Unprocessed  json.RawMessage
	EmitProblems json.RawMessage // null or a JSON array of positioned problems
	LocationKey  string
	ResultHash   string
}

// Child is an entity emitted by a parent entity or a provider.
type Child struct {
	// Ref is the child's lowercased entity ref.
	Ref    string
	Entity json.RawMessage
	// LocationKey says who emits the ref; an existing ref with another key
	// is a conflict and is not overwritten.
	LocationKey string
	// EmitProblems, if any, are problems found while reading the child,
	// with file positions; its processing fails with them.
	EmitProblems json.RawMessage
	// Result, if set, is the child's processing result, computed while
	// reading it: the child is stored processed and due only at its next
	// periodic refresh instead of at once.
	Result *Result

	hash string // of Entity and EmitProblems; filled by Prepare
}

// Result is the outcome of processing one claimed entity.
type Result struct {
	Work Work
	// OK is false when processing failed: only Errors and ResultHash are
	// stored, and the last processed entity, its relations and its children
	// stay as they were.
	OK         bool
	Processed  json.RawMessage
	ResultHash string
	// Errors is a JSON array of entity.StatusItem, or nil.
	Errors    json.RawMessage
	Relations []entity.Edge
	Children  []Child
	// KeepChildren leaves the entity's children as they were: its sources
	// could not be read this time, which must not orphan what they held.
	KeepChildren bool

	// Filled by Prepare.
	prepared bool
	relRows  []relKey // distinct relation rows of Relations
	relJSON  string   // relRows as refresh_state.relations_emitted
}

// Prepare computes what writing r will need that is pure CPU work — its
// relation rows, its children's hashes — so that processing workers do it
// in parallel instead of the one writer. WriteResults prepares any result
// that was not.
func Prepare(r *Result) { prepare(r, r.Work.Ref) }

// prepare is Prepare for the result of the entity self (its ref key, ""
// if not known).
func prepare(r *Result, self string) {
	if r.prepared {
		return
	}
	r.relRows = make([]relKey, 0, len(r.Relations))
	seen := make(map[relKey]bool, len(r.Relations))
	triples := make([][3]string, 0, len(r.Relations))
	short := func(ref string) string {
		if ref == self {
			return ""
		}
		return ref
	}
	for _, e := range r.Relations {
		k := relKey{e.Source.Key(), string(e.Type), e.Target.Key()}
		if !seen[k] {
			seen[k] = true
			r.relRows = append(r.relRows, k)
			triples = append(triples, [3]string{short(k.source), k.typ, short(k.target)})
		}
	}
	b, err := json.Marshal(triples)
	if err != nil {
		panic(fmt.Sprintf("store: encode relation rows: %v", err)) // [][3]string always encodes
	}
	r.relJSON = string(b)
	for i := range r.Children {
		c := &r.Children[i]
		sum := sha1.Sum(append(append([]byte{}, c.Entity...), c.EmitProblems...))
		c.hash = hex.EncodeToString(sum[:])
		if c.Result != nil {
			prepare(c.Result, c.Ref)
		}
	}
	r.prepared = true
}

// Conflict reports an emitted ref that another location already owns.
type Conflict struct {
	EntityRef           string
	ExistingLocationKey string
	NewLocationKey      string
}

// Interval chooses when claimed work is due again.
type Interval struct {
	Min, Max time.Duration
}

// ClaimDue claims up to limit entities whose refresh is due, moving their
// next refresh to a random point in the interval so that refreshes spread out.
func (s *Store) ClaimDue(ctx context.Context, limit int, iv Interval) ([]Work, error) {
	ctx = context.WithoutCancel(ctx) // see tx
	now := s.now().UnixMilli()
	span := (iv.Max - iv.Min).Milliseconds()
	if span < 1 {
		span = 1
	}
	// The new next_update_at is also the claim's lease: a replica that dies
	// before writing the result leaves the entity to be claimed again by
	// another once it falls due.
	rows, err := s.w.QueryContext(ctx, `
		UPDATE refresh_state
		SET next_update_at = ? + `+s.d.randomBelow("?")+`
		WHERE id IN (SELECT id FROM refresh_state WHERE next_update_at <= ? ORDER BY next_update_at LIMIT ?`+s.d.skipLocked+`)
		RETURNING id, uid, entity_ref, unprocessed_entity, emit_problems, coalesce(location_key, ''), result_hash`,
		now+iv.Min.Milliseconds(), span, now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim due entities: %w", err)
	}
	defer rows.Close()
	var out []Work
	for rows.Next() {
		var w Work
		var unprocessed string
		var problems sql.NullString
		if err := rows.Scan(&w.ID, &w.UID, &w.Ref, &unprocessed, &problems, &w.LocationKey, &w.ResultHash); err != nil {
			return nil, err
		}
		w.Unprocessed = json.RawMessage(unprocessed)
		if problems.Valid {
			w.EmitProblems = json.RawMessage(problems.String)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Pending counts entities due for processing, or claimed for their first
// processing and not yet written, and entities waiting to be stitched;
// both zero means the catalog has caught up with its inputs. (A claim
// moves an entity's next refresh into the future, so an entity being
// processed again is not counted: the catalog already serves it.)
func (s *Store) Pending(ctx context.Context) (due, stitch int, err error) {
	now := s.now().UnixMilli()
	err = s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM refresh_state WHERE next_update_at <= ?) +
		(SELECT count(*) FROM refresh_state`+s.d.indexedBy("refresh_state_never_processed")+` WHERE result_hash = '' AND next_update_at > ?),
		(SELECT count(*) FROM stitch_queue)`, now, now).Scan(&due, &stitch)
	return due, stitch, err
}

// EntityStates counts entities by processing state.
type EntityStates struct {
	// Processed entities are served as last processed without errors.
	Processed int
	// Failed entities have processing errors (and are served as last
	// processed, if ever).
	Failed int
	// Orphaned entities are no longer emitted by any parent or provider.
	Orphaned int
	// Unprocessed entities have never been processed successfully.
	Unprocessed int
}

// EntityStates counts the catalog's entities by processing state. An
// orphan also counts in one of the other states.
func (s *Store) EntityStates(ctx context.Context) (EntityStates, error) {
	var st EntityStates
	err := s.r.QueryRowContext(ctx, `SELECT
		coalesce(sum(CASE WHEN processed_entity IS NOT NULL AND errors IS NULL THEN 1 ELSE 0 END), 0),
		coalesce(sum(CASE WHEN errors IS NOT NULL THEN 1 ELSE 0 END), 0),
		coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM refresh_state_references r WHERE r.target = s.entity_ref) THEN 1 ELSE 0 END), 0),
		coalesce(sum(CASE WHEN processed_entity IS NULL THEN 1 ELSE 0 END), 0)
		FROM refresh_state s`).Scan(&st.Processed, &st.Failed, &st.Orphaned, &st.Unprocessed)
	if err != nil {
		return EntityStates{}, fmt.Errorf("count entity states: %w", err)
	}
	return st, nil
}

// WriteResults stores processing results in one transaction and queues the
// stitching they make necessary. Unchanged results write nothing.
func (s *Store) WriteResults(ctx context.Context, results []Result, iv Interval) ([]Conflict, error) {
	var conflicts []Conflict
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		conflicts = nil // a retried transaction starts over
		w := newWriter(ctx, tx, s.now())
		w.interval = iv
		defer w.close()
		for _, r := range results {
			c, err := w.writeResult(r)
			if err != nil {
				return fmt.Errorf("write result for %s: %w", r.Work.Ref, err)
			}
			conflicts = append(conflicts, c...)
		}
		return w.finish(s)
	})
	if err == nil {
		written := len(results)
		for _, r := range results {
			written += len(r.Children)
		}
		s.analyzeAfter(written, false)
	}
	return conflicts, err
}

// ReplaceRoots makes roots the complete set of entities that provider
// sourceKey supplies: new ones are added, changed ones updated, and ones no
// longer supplied are removed along with descendants nothing else keeps.
// With auditRoots, each root added or removed is recorded as a
// catalog.location.created or .deleted event on its ref: that is how
// configured locations, which no API call registers, reach the audit log.
func (s *Store) ReplaceRoots(ctx context.Context, sourceKey string, roots []Child, auditRoots bool) ([]Conflict, error) {
	var conflicts []Conflict
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		conflicts = nil // a retried transaction starts over
		// Replicas starting together all load the configured locations:
		// one at a time, so they agree on the provider's roots.
		if err := tx.lock(ctx, "provider:"+sourceKey); err != nil {
			return err
		}
		w := newWriter(ctx, tx, s.now())
		defer w.close()
		source := providerSource(sourceKey)
		old, err := w.refsFrom(source)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		had := make(map[string]bool, len(old))
		for _, ref := range old {
			had[ref] = true
		}
		for _, c := range roots {
			ok, conflict, err := w.upsertChild(c)
			if err != nil {
				return err
			}
			if conflict != nil {
				conflicts = append(conflicts, *conflict)
				continue
			}
			if ok {
				keep[c.Ref] = true
				if auditRoots && !had[c.Ref] {
					w.events.add(audit.Event{Actor: audit.ActorFrom(ctx, audit.SystemConfig), Action: audit.LocationCreated,
						Target: c.Ref, Outcome: audit.Succeeded, Severity: audit.Medium, Diff: createdDiff(c.Entity)})
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_state_references WHERE source = ?`, source); err != nil {
			return err
		}
		if err := w.insertRefs(source, keep); err != nil {
			return err
		}
		w.stitchChangedParents(old, keep)
		var removed []string
		for _, ref := range old {
			if !keep[ref] {
				removed = append(removed, ref)
				if auditRoots {
					w.events.add(audit.Event{Actor: audit.ActorFrom(ctx, audit.SystemConfig), Action: audit.LocationDeleted,
						Target: ref, Outcome: audit.Succeeded, Severity: audit.Medium, Diff: deletedDiff})
				}
			}
		}
		if err := w.pruneIfUnreferenced(removed); err != nil {
			return err
		}
		return w.finish(s)
	})
	return conflicts, err
}

// writer holds the prepared statements of one write transaction.
type writer struct {
	ctx      context.Context
	tx       *txn
	now      int64
	interval Interval
	stitch   map[string]bool
	upsert   *sql.Stmt
	// insRel writes relation rows; insRelNew those of entities inserted
	// by this transaction, which cannot exist yet (no ON CONFLICT: on
	// PostgreSQL a straight COPY).
	insRel, insRelNew *bulk
	pendingRels       []relRow
	stmts             []*sql.Stmt
	prepErr           error
	// events are the transaction's audit events.
	events *auditBatch
	// facets sums the transaction's changes to facet_counts.
	facets facetTally
}

func newWriter(ctx context.Context, tx *txn, now time.Time) *writer {
	w := &writer{ctx: ctx, tx: tx, now: now.UnixMilli(), stitch: map[string]bool{}, events: newAuditBatch(ctx), facets: facetTally{}}
	w.upsert = w.prepare(`
		INSERT INTO refresh_state (uid, entity_ref, unprocessed_entity, unprocessed_hash, emit_problems,
			location_key, next_update_at, last_discovery_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (entity_ref) DO UPDATE SET
			unprocessed_entity = excluded.unprocessed_entity,
			unprocessed_hash = excluded.unprocessed_hash,
			emit_problems = excluded.emit_problems,
			location_key = excluded.location_key,
			processed_entity = CASE WHEN refresh_state.processed_entity = ''
				AND refresh_state.unprocessed_hash <> excluded.unprocessed_hash
				THEN refresh_state.unprocessed_entity ELSE refresh_state.processed_entity END,
			next_update_at = CASE WHEN refresh_state.unprocessed_hash = excluded.unprocessed_hash
				THEN refresh_state.next_update_at ELSE excluded.next_update_at END,
			last_discovery_at = excluded.last_discovery_at
		WHERE refresh_state.location_key IS NULL OR refresh_state.location_key = excluded.location_key
		RETURNING id, result_hash`)
	relCols := []string{"source_ref", "type", "target_ref", "originating_id"}
	w.insRel = newBulk(ctx, tx, "relations", relCols, ` ON CONFLICT DO NOTHING`)
	w.insRelNew = newBulk(ctx, tx, "relations", relCols, "")
	return w
}

func (w *writer) prepare(q string) *sql.Stmt {
	if w.prepErr != nil {
		return nil
	}
	st, err := w.tx.PrepareContext(w.ctx, q)
	if err != nil {
		w.prepErr = fmt.Errorf("prepare: %w", err)
		return nil
	}
	w.stmts = append(w.stmts, st)
	return st
}

func (w *writer) close() {
	w.insRel.close()
	w.insRelNew.close()
	for _, st := range w.stmts {
		st.Close()
	}
}

func (w *writer) queueStitch(refs ...string) {
	for _, r := range refs {
		w.stitch[r] = true
	}
}

// flushRelations writes the queued relation rows in primary-key order, so
// the b-tree is filled page by page instead of at random.
func (w *writer) flushRelations() error {
	slices.SortFunc(w.pendingRels, func(a, b relRow) int {
		if c := strings.Compare(a.source, b.source); c != 0 {
			return c
		}
		if c := strings.Compare(a.typ, b.typ); c != 0 {
			return c
		}
		if c := strings.Compare(a.target, b.target); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	for _, r := range w.pendingRels {
		b := w.insRel
		if r.fresh {
			b = w.insRelNew
		}
		if err := b.add(r.source, r.typ, r.target, r.id); err != nil {
			return fmt.Errorf("insert relation: %w", err)
		}
	}
	w.pendingRels = w.pendingRels[:0]
	if err := w.insRel.flush(); err != nil {
		return err
	}
	return w.insRelNew.flush()
}

// flushStitches writes what the transaction queued: relations, then
// stitch requests.
// finish ends the writer's work in its transaction: it queues the
// stitches and appends the audit events the changes made necessary.
func (w *writer) finish(s *Store) error {
	if err := w.flushStitches(); err != nil {
		return err
	}
	if err := w.events.flush(s, w.tx); err != nil {
		return err
	}
	return w.facets.flush(w.ctx, w.tx)
}

func (w *writer) flushStitches() error {
	if err := w.flushRelations(); err != nil {
		return err
	}
	if len(w.stitch) == 0 {
		return nil
	}
	refs := slices.Sorted(maps.Keys(w.stitch))
	// DO UPDATE, not DO NOTHING: a row another replica is stitching is
	// locked, and DO UPDATE locks the row it finds (whether its WHERE
	// holds or not), so it waits until that stitch commits and deletes it,
	// then queues the entity again; DO NOTHING would let the stitch (which
	// read the entity before this transaction's changes) drop the request.
	// A row found unlocked is already due, and stays locked until this
	// transaction commits, so it is left as it is: on PostgreSQL, rewriting
	// it made a new row version and index entries for each of the four or
	// so times a load queues the average entity.
	q := newBulk(w.ctx, w.tx, "stitch_queue", []string{"entity_ref", "next_stitch_at"},
		` ON CONFLICT (entity_ref) DO UPDATE SET next_stitch_at = excluded.next_stitch_at
			WHERE stitch_queue.next_stitch_at > excluded.next_stitch_at`)
	defer q.close()
	for _, ref := range refs {
		if err := q.add(ref, w.now); err != nil {
			return fmt.Errorf("queue stitch: %w", err)
		}
	}
	w.stitch = map[string]bool{}
	return q.flush()
}

// insertRefs records that source emits each of targets, in key order. The
// callers have just deleted source's references in the same transaction,
// and targets is a set, so no row can exist yet.
func (w *writer) insertRefs(source string, targets map[string]bool) error {
	b := newBulk(w.ctx, w.tx, "refresh_state_references", []string{"source", "target"}, "")
	defer b.close()
	for _, t := range slices.Sorted(maps.Keys(targets)) {
		if err := b.add(source, t); err != nil {
			return fmt.Errorf("insert reference: %w", err)
		}
	}
	return b.flush()
}

// stitchChangedParents queues a stitch for every entity that gained or lost
// this parent: one it lost may now be an orphan, and one it gained may have
// been an orphan until now (orphanStrategy: keep).
func (w *writer) stitchChangedParents(old []string, keep map[string]bool) {
	had := make(map[string]bool, len(old))
	for _, ref := range old {
		had[ref] = true
		if !keep[ref] {
			w.queueStitch(ref)
		}
	}
	for ref := range keep {
		if !had[ref] {
			w.queueStitch(ref)
		}
	}
}

// providerSource is the reference source of a provider's roots. It holds no
// '/', so it can never equal an entity ref.
func providerSource(name string) string { return "provider:" + name }

// isProviderSource reports whether a reference source is a provider.
func isProviderSource(source string) bool { return !strings.Contains(source, "/") }

// refsFrom lists the targets of the references from source.
func (w *writer) refsFrom(source string) ([]string, error) {
	return w.strings(`SELECT target FROM refresh_state_references WHERE source = ?`, source)
}

// upsertChild inserts or updates an emitted entity. It reports ok=false
// with a conflict when another location owns the ref.
func (w *writer) upsertChild(c Child) (ok bool, conflict *Conflict, err error) {
	if w.prepErr != nil {
		return false, nil, w.prepErr
	}
	hash := c.hash
	if hash == "" { // a root from a provider: not prepared by a worker
		sum := sha1.Sum(append(append([]byte{}, c.Entity...), c.EmitProblems...))
		hash = hex.EncodeToString(sum[:])
	}
	var problems any
	if len(c.EmitProblems) > 0 {
		problems = string(c.EmitProblems)
	}
	due := w.now
	if c.Result != nil {
		due = w.now + w.interval.Min.Milliseconds() + rand.Int64N(max(1, (w.interval.Max-w.interval.Min).Milliseconds()))
	}
	var id int64
	var oldHash string
	// Version 7 uuids grow with time, so the unique uid indexes of
	// refresh_state and final_entities are appended to, not written at random.
	uid, err := uuid.NewV7()
	if err != nil {
		return false, nil, err
	}
	err = w.upsert.QueryRowContext(w.ctx, uid.String(), c.Ref, string(c.Entity), hash, problems,
		nullIfEmpty(c.LocationKey), due, w.now).Scan(&id, &oldHash)
	if err == sql.ErrNoRows {
		var existing sql.NullString
		if err := w.tx.QueryRowContext(w.ctx, `SELECT location_key FROM refresh_state WHERE entity_ref = ?`, c.Ref).Scan(&existing); err != nil {
			return false, nil, err
		}
		return false, &Conflict{EntityRef: c.Ref, ExistingLocationKey: existing.String, NewLocationKey: c.LocationKey}, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("upsert %s: %w", c.Ref, err)
	}
	if c.Result != nil {
		r := *c.Result
		r.Work = Work{ID: id, Ref: c.Ref, ResultHash: oldHash, Unprocessed: c.Entity}
		if _, err := w.writeResult(r); err != nil {
			return false, nil, err
		}
	}
	return true, nil, nil
}

func (w *writer) writeResult(r Result) ([]Conflict, error) {
	if w.prepErr != nil {
		return nil, w.prepErr
	}
	if r.ResultHash != "" && r.ResultHash == r.Work.ResultHash {
		return nil, nil
	}
	var errorsJSON any
	if len(r.Errors) > 0 {
		errorsJSON = string(r.Errors)
	}
	if !r.OK {
		if _, err := w.tx.ExecContext(w.ctx, `UPDATE refresh_state SET errors = ?, result_hash = ? WHERE id = ?`,
			errorsJSON, r.ResultHash, r.Work.ID); err != nil {
			return nil, err
		}
		w.queueStitch(r.Work.Ref)
		return nil, nil
	}
	// An entity never processed before has no relations to replace.
	Prepare(&r)
	emitted, err := w.replaceRelations(r.Work.ID, r.relRows, r.relJSON, r.Work.ResultHash != "")
	if err != nil {
		return nil, err
	}
	// Only Location entities emit children, and the kind is part of the
	// ref, so an entity of another kind never had any to replace.
	var conflicts []Conflict
	if !r.KeepChildren && (strings.HasPrefix(r.Work.Ref, "location:") || len(r.Children) > 0) {
		var err error
		if conflicts, err = w.replaceChildren(r.Work.Ref, r.Children); err != nil {
			return nil, err
		}
	}
	if len(conflicts) > 0 {
		// The losing location shows what it could not emit.
		var items []entity.StatusItem
		if len(r.Errors) > 0 {
			if err := json.Unmarshal(r.Errors, &items); err != nil {
				return nil, fmt.Errorf("decode errors: %w", err)
			}
		}
		for _, c := range conflicts {
			msg := fmt.Sprintf("Detected conflicting entityRef %s already referenced by %s and now also %s",
				c.EntityRef, c.ExistingLocationKey, c.NewLocationKey)
			w.events.add(audit.Event{Actor: audit.ActorFrom(w.ctx, audit.SystemProcessing), Action: audit.EntityConflict,
				Target: c.EntityRef, Outcome: audit.Failed, Error: msg, Severity: audit.Medium})
			items = append(items, entity.StatusItem{Type: entity.StatusTypeProcessing, Level: "warning",
				Message: "ConflictError: " + msg, Error: &entity.StatusError{Name: "ConflictError", Message: msg}})
		}
		b, err := json.Marshal(items)
		if err != nil {
			return nil, err
		}
		errorsJSON = string(b)
	}
	if _, err := w.tx.ExecContext(w.ctx, `UPDATE refresh_state SET processed_entity = ?, errors = ?, result_hash = ?,
		relations_emitted = ? WHERE id = ?`,
		storedProcessed(r.Processed, r.Work.Unprocessed), errorsJSON, r.ResultHash, emitted, r.Work.ID); err != nil {
		return nil, err
	}
	w.queueStitch(r.Work.Ref)
	return conflicts, nil
}

type relKey struct{ source, typ, target string }

// relRow is a relation row waiting to be written.
type relRow struct {
	relKey
	id int64
	// fresh says the originating entity was inserted by this transaction.
	fresh bool
}

// replaceRelations swaps the relations an entity emits, queueing a stitch
// for every entity whose relations list changes as a result. It returns the
// JSON list of rows the entity now owns, for refresh_state.relations_emitted.
func (w *writer) replaceRelations(id int64, next []relKey, nextJSON string, hadAny bool) (string, error) {
	if !hadAny {
		for _, k := range next {
			w.queueStitch(k.source)
			w.pendingRels = append(w.pendingRels, relRow{k, id, false})
		}
		return nextJSON, nil
	}
	old, err := w.emittedRelations(`id = ?`, id)
	if err != nil {
		return "", err
	}
	seen := make(map[relKey]bool, len(next))
	for _, k := range next {
		seen[k] = true
	}
	had := make(map[relKey]bool, len(old))
	for _, k := range old {
		had[k] = true
		if !seen[k] {
			w.queueStitch(k.source)
			if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM relations WHERE source_ref = ? AND type = ? AND target_ref = ? AND originating_id = ?`,
				k.source, k.typ, k.target, id); err != nil {
				return "", fmt.Errorf("delete relation: %w", err)
			}
		}
	}
	for _, k := range next {
		if !had[k] {
			w.queueStitch(k.source)
			w.pendingRels = append(w.pendingRels, relRow{k, id, false})
		}
	}
	return nextJSON, nil
}

// emittedRelations returns the relation rows owned by the refresh_state row
// matching where. relations_emitted holds [source, type, target] triples,
// with "" for the entity's own ref (most rows have it at one end: a third
// of the bytes).
func (w *writer) emittedRelations(where string, arg any) ([]relKey, error) {
	var raw sql.NullString
	var self string
	err := w.tx.QueryRowContext(w.ctx, `SELECT relations_emitted, entity_ref FROM refresh_state WHERE `+where, arg).Scan(&raw, &self)
	if err == sql.ErrNoRows || !raw.Valid {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var triples [][3]string
	if err := json.Unmarshal([]byte(raw.String), &triples); err != nil {
		return nil, fmt.Errorf("decode relations_emitted: %w", err)
	}
	full := func(ref string) string {
		if ref == "" {
			return self
		}
		return ref
	}
	out := make([]relKey, len(triples))
	for i, t := range triples {
		out[i] = relKey{full(t[0]), t[1], full(t[2])}
	}
	return out, nil
}

// replaceChildren makes children the complete set of entities parent
// emits; children it no longer emits lose this parent's reference, which
// may orphan them.
func (w *writer) replaceChildren(parent string, children []Child) ([]Conflict, error) {
	old, err := w.refsFrom(parent)
	if err != nil {
		return nil, err
	}
	if len(old) == 0 && len(children) == 0 {
		return nil, nil
	}
	var conflicts []Conflict
	keep := make(map[string]bool, len(children))
	rest, err := w.insertNew(children, keep)
	if err != nil {
		return nil, err
	}
	for _, c := range rest {
		ok, conflict, err := w.upsertChild(c)
		if err != nil {
			return nil, err
		}
		if conflict != nil {
			conflicts = append(conflicts, *conflict)
		}
		if ok {
			keep[c.Ref] = true
		}
	}
	if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM refresh_state_references WHERE source = ?`, parent); err != nil {
		return nil, err
	}
	if err := w.insertRefs(parent, keep); err != nil {
		return nil, err
	}
	w.stitchChangedParents(old, keep)
	return conflicts, nil
}

// insertNew writes the children whose refs the catalog does not know yet
// with multi-row statements, marks them in keep, and returns the others for
// upsertChild to write one by one. When a location is read for the first
// time, that is all of them: a bulk load then costs a few hundred
// statements instead of two per entity.
func (w *writer) insertNew(children []Child, keep map[string]bool) (rest []Child, err error) {
	known := make(map[string]bool)
	for chunk := range slices.Chunk(children, 500) {
		refs := make([]string, len(chunk))
		for i, c := range chunk {
			refs[i] = c.Ref
		}
		ph, args := inList(refs)
		found, err := w.strings(`SELECT entity_ref FROM refresh_state WHERE entity_ref IN (`+ph+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, r := range found {
			known[r] = true
		}
	}
	ids := idAllocator{w: w}
	ins := newBulk(w.ctx, w.tx, "refresh_state", []string{"id", "uid", "entity_ref", "unprocessed_entity", "unprocessed_hash",
		"emit_problems", "location_key", "next_update_at", "last_discovery_at", "processed_entity", "errors", "result_hash", "relations_emitted"}, "")
	defer ins.close()
	for _, c := range children {
		r := c.Result
		if known[c.Ref] || (r != nil && (!r.OK || r.KeepChildren || len(r.Children) > 0)) {
			rest = append(rest, c)
			continue
		}
		known[c.Ref] = true // a second document with the same ref goes to upsertChild
		hash := c.hash
		if hash == "" {
			sum := sha1.Sum(append(append([]byte{}, c.Entity...), c.EmitProblems...))
			hash = hex.EncodeToString(sum[:])
		}
		uid, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		next, err := ids.next()
		if err != nil {
			return nil, err
		}
		var processed, errorsJSON, relJSON any
		resultHash, due := "", w.now
		if r != nil {
			Prepare(r)
			processed, resultHash, relJSON = storedProcessed(r.Processed, c.Entity), r.ResultHash, r.relJSON
			if len(r.Errors) > 0 {
				errorsJSON = string(r.Errors)
			}
			due = w.now + w.interval.Min.Milliseconds() + rand.Int64N(max(1, (w.interval.Max-w.interval.Min).Milliseconds()))
			for _, k := range r.relRows {
				w.queueStitch(k.source)
				w.pendingRels = append(w.pendingRels, relRow{k, next, true})
			}
			w.queueStitch(c.Ref)
		}
		var problems any
		if len(c.EmitProblems) > 0 {
			problems = string(c.EmitProblems)
		}
		if err := ins.add(next, uid.String(), c.Ref, string(c.Entity), hash, problems, nullIfEmpty(c.LocationKey),
			due, w.now, processed, errorsJSON, resultHash, relJSON); err != nil {
			return nil, fmt.Errorf("insert entities: %w", err)
		}
		keep[c.Ref] = true
	}
	return rest, ins.flush()
}

// storedProcessed is what refresh_state.processed_entity holds for a
// processed entity: "" when it is the same as its input, which is the case
// for every entity but a Location (see catalog's emit), so that each
// entity's document is stored once. An upsert that changes the input
// copies the old input into processed_entity first, so that a new input
// that fails processing leaves the last good version in place.
func storedProcessed(processed, unprocessed []byte) string {
	if bytes.Equal(processed, unprocessed) {
		return ""
	}
	return string(processed)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// idAllocator hands out refresh_state ids for multi-row inserts, which
// cannot use RETURNING to learn them.
type idAllocator struct {
	w    *writer
	free []int64 // reserved and not yet handed out
	last int64   // SQLite: the last id handed out
}

// idBlock is how many ids one PostgreSQL round trip reserves. Unused ones
// are gaps in the sequence, which nothing minds.
const idBlock = 500

func (a *idAllocator) next() (int64, error) {
	if a.w.tx.d == sqliteDialect {
		// The transaction is SQLite's only writer, so ids can be counted
		// here; AUTOINCREMENT moves its sequence past explicit ids.
		if a.last == 0 {
			if err := a.w.tx.QueryRowContext(a.w.ctx, `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'refresh_state'), 0),
				coalesce((SELECT max(id) FROM refresh_state), 0))`).Scan(&a.last); err != nil {
				return 0, fmt.Errorf("next entity id: %w", err)
			}
		}
		a.last++
		return a.last, nil
	}
	if len(a.free) == 0 {
		// Other replicas draw from the same sequence at the same time.
		rows, err := a.w.tx.QueryContext(a.w.ctx, `SELECT nextval('refresh_state_id_seq') FROM generate_series(1, ?)`, idBlock)
		if err != nil {
			return 0, fmt.Errorf("reserve entity ids: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return 0, err
			}
			a.free = append(a.free, id)
		}
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	id := a.free[0]
	a.free = a.free[1:]
	return id, nil
}
