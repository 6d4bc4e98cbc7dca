package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
)

// Entity changes are audited inside the transactions that make them, so a
// change and its event commit together or not at all. A transaction
// collects its events in an auditBatch and appends them last, under the
// chain head's row lock: seq order is then commit order, and every event
// chains to the one committed before it, across replicas.

// auditBatch collects the events of one transaction.
type auditBatch struct {
	ctx    context.Context
	events []audit.Event
}

func newAuditBatch(ctx context.Context) *auditBatch { return &auditBatch{ctx: ctx} }

// entity records a change to an entity, by the actor ctx carries or else
// fallback, with its JSON Patch.
func (b *auditBatch) entity(action, ref string, fallback audit.Actor, diff json.RawMessage) {
	sev := audit.Low
	if action == audit.EntityDeleted || action == audit.EntityOrphaned {
		sev = audit.Medium
	}
	b.add(audit.Event{Actor: audit.ActorFrom(b.ctx, fallback), Action: action, Target: ref,
		Outcome: audit.Succeeded, Severity: sev, Diff: diff})
}

// entityCanonical is entity with a diff already in canonical form.
func (b *auditBatch) entityCanonical(action, ref string, fallback audit.Actor, diff audit.CanonicalDiff) {
	b.entity(action, ref, fallback, nil)
	b.events[len(b.events)-1].SetDiff(diff)
}

// add records e.
func (b *auditBatch) add(e audit.Event) { b.events = append(b.events, e) }

// createdDiff is the patch that creates a document: no parsing needed.
func createdDiff(body []byte) json.RawMessage {
	out := make([]byte, 0, len(body)+32)
	out = append(out, `[{"op":"add","path":"","value":`...)
	out = append(out, body...)
	return append(out, "}]"...)
}

// deletedDiff is the patch that removes a document.
var deletedDiff = json.RawMessage(`[{"op":"remove","path":""}]`)

// flush appends the batch's events to the log within tx.
func (b *auditBatch) flush(s *Store, tx *txn) error {
	if len(b.events) == 0 || s.noAudit {
		b.events = nil
		return nil
	}
	err := s.appendAudit(b.ctx, tx, b.events)
	b.events = nil
	return err
}

// appendAudit seals events onto the chain and inserts them within tx. It
// takes the chain head's row lock, which PostgreSQL holds until tx ends,
// so it belongs at the end of a transaction.
func (s *Store) appendAudit(ctx context.Context, tx *txn, events []audit.Event) error {
	var seq, headUs int64
	var hash string
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash, time_us FROM audit_head WHERE id = 1`+tx.d.forUpdate).Scan(&seq, &hash, &headUs); err != nil {
		return fmt.Errorf("read audit chain head: %w", err)
	}
	// Times never go back along the chain, even when replicas' clocks
	// disagree a little, so that a time range is a range of seqs.
	now := s.now().UTC().Truncate(time.Microsecond)
	if head := time.UnixMicro(headUs).UTC(); now.Before(head) {
		now = head
	}
	req := audit.RequestFrom(ctx)
	for i := range events {
		if events[i].Time.IsZero() || events[i].Time.Before(now) {
			events[i].Time = now
		}
		now = events[i].Time
		if events[i].Request == nil {
			events[i].Request = req
		}
	}
	seq, hash, err := audit.Seal(events, seq, hash)
	if err != nil {
		return err
	}
	ins := newBulk(ctx, tx, "audit_events", []string{"seq", "time_us", "actor", "action", "target", "outcome",
		"error", "severity", "request", "diff", "prev_hash", "hash"}, "")
	defer ins.close()
	for _, e := range events {
		var req, diff any
		if e.Request != nil {
			b, err := json.Marshal(e.Request)
			if err != nil {
				return err
			}
			req = string(b)
		}
		if len(e.Diff) > 0 {
			diff = string(e.Diff)
		}
		if err := ins.add(e.Seq, e.Time.UnixMicro(), e.Actor.String(), e.Action, e.Target, string(e.Outcome),
			e.Error, string(e.Severity), req, diff, e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("append audit events: %w", err)
		}
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("append audit events: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ?, time_us = ? WHERE id = 1`, seq, hash, now.UnixMicro()); err != nil {
		return fmt.Errorf("move audit chain head: %w", err)
	}
	return nil
}

// AppendAudit appends events that no other store write carries: requests
// that failed or were denied, and work outside the catalog's tables. It
// fills in each event's time, seq, hashes and, from ctx, its request.
func (s *Store) AppendAudit(ctx context.Context, events ...audit.Event) error {
	if s.noAudit || len(events) == 0 {
		return nil
	}
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		// A retried transaction seals a fresh copy.
		return s.appendAudit(ctx, tx, slices.Clone(events))
	})
}

// AuditEvents returns one page of events matching q, newest first (oldest
// first when q.After is set).
//
// A page reads one index backwards from the cursor and stops after a
// page of matches, so the index must be the one that finds them soonest.
// A time range becomes a range of seqs (times grow with seqs, see
// appendAudit), which every index ends in. Of the equality filters, the
// one with the fewest events in that range drives the scan (counted with
// a bounded probe of its index); when every filter matches many events,
// walking the log itself backwards finds a page soonest.
func (s *Store) AuditEvents(ctx context.Context, q audit.Query) ([]audit.Event, error) {
	lo, hi, empty, err := s.seqRange(ctx, q)
	if err != nil || empty {
		return nil, err
	}
	outcomes := make([]string, len(q.Outcomes))
	for i, o := range q.Outcomes {
		outcomes[i] = string(o)
	}
	filters := []auditFilter{{"actor", q.Actors, "audit_events_actor", ""}, {"action", q.Actions, "audit_events_action", ""},
		{"target", q.Targets, "audit_events_target", ""}, {"outcome", outcomes, "audit_events_outcome", ""}}
	if !slices.Contains(outcomes, string(audit.Succeeded)) {
		// The outcome index holds only the events that did not succeed.
		filters[3].extra = " AND outcome <> 'succeeded'"
	} else {
		filters[3].index = ""
	}
	drive, err := s.drivingFilter(ctx, filters, lo, hi)
	if err != nil {
		return nil, err
	}
	var b sqlBuilder
	for _, f := range filters {
		if len(f.values) > 0 {
			// Only the driving filter may use its index: PostgreSQL's
			// planner, like SQLite's, can otherwise prefer another.
			b.where(f.cond(&b, drive == planner || (f.index == drive && drive != "")))
		}
	}
	b.where("seq BETWEEN " + b.arg(lo) + " AND " + b.arg(hi))
	if drive == "audit_events_outcome" || (drive == planner && filters[3].extra != "" && len(outcomes) > 0) {
		b.where("outcome <> 'succeeded'")
	}
	order := " ORDER BY seq DESC"
	if q.After > 0 {
		order = " ORDER BY seq"
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if drive == planner {
		drive = ""
	}
	return s.auditRows(ctx, `SELECT `+auditColumns+` FROM audit_events`+s.d.indexedBy(drive)+b.whereSQL()+order+` LIMIT `+b.arg(limit), b.args...)
}

// auditFilter is one equality filter of an audit query.
type auditFilter struct {
	col    string
	values []string
	index  string // the index on (col, seq), "" if it cannot serve
	extra  string // a condition the index's WHERE needs spelled out
}

// cond is the filter's condition; unless indexed, written so that no
// index on the column can serve it (col || ” is the column's value, but
// not the column).
func (f auditFilter) cond(b *sqlBuilder, indexed bool) string {
	ph := make([]string, len(f.values))
	for i, v := range f.values {
		ph[i] = b.arg(v)
	}
	col := f.col
	if !indexed {
		col = "(" + col + " || '')"
	}
	return col + " IN (" + strings.Join(ph, ", ") + ")"
}

// planner, as the driving filter, leaves the choice to the database's
// planner: PostgreSQL's statistics know each value's share of the log.
const planner = "(planner)"

// probeCap bounds the index entries drivingFilter counts per filter.
const probeCap = 20000

// drivingFilter returns the index of the filter with the fewest events in
// seqs lo..hi, or "" to walk the log itself: when there is no filter, or
// every filter matches more than probeCap events.
func (s *Store) drivingFilter(ctx context.Context, filters []auditFilter, lo, hi int64) (string, error) {
	if s.d.plansByStatistics {
		return planner, nil
	}
	best, bestN := "", probeCap
	for _, f := range filters {
		if len(f.values) == 0 || f.index == "" {
			continue
		}
		var b sqlBuilder
		b.where(f.cond(&b, true), "seq BETWEEN "+b.arg(lo)+" AND "+b.arg(hi))
		var n int
		err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM audit_events`+s.d.indexedBy(f.index)+
			b.whereSQL()+f.extra+` LIMIT `+b.arg(probeCap)+`) probe`, b.args...).Scan(&n)
		if err != nil {
			return "", fmt.Errorf("probe audit filter on %s: %w", f.col, err)
		}
		if n < bestN {
			best, bestN = f.index, n
		}
	}
	return best, nil
}

// seqRange turns q's cursor and time range into the range of seqs to
// read; empty says no event can match.
func (s *Store) seqRange(ctx context.Context, q audit.Query) (lo, hi int64, empty bool, err error) {
	lo, hi = 1, math.MaxInt64
	if q.After > 0 {
		lo = q.After + 1
	}
	if q.Before > 0 {
		hi = q.Before - 1
	}
	bound := func(query string, t time.Time) (int64, bool, error) {
		var seq int64
		err := s.r.QueryRowContext(ctx, query, t.UnixMicro()).Scan(&seq)
		if err == sql.ErrNoRows {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("find audit events by time: %w", err)
		}
		return seq, true, nil
	}
	if !q.From.IsZero() {
		first, ok, err := bound(`SELECT seq FROM audit_events WHERE time_us >= ? ORDER BY time_us, seq LIMIT 1`, q.From)
		if err != nil || !ok {
			return 0, 0, true, err
		}
		lo = max(lo, first)
	}
	if !q.To.IsZero() {
		last, ok, err := bound(`SELECT seq FROM audit_events WHERE time_us < ? ORDER BY time_us DESC, seq DESC LIMIT 1`, q.To)
		if err != nil || !ok {
			return 0, 0, true, err
		}
		hi = min(hi, last)
	}
	return lo, hi, lo > hi, nil
}

const auditColumns = `seq, time_us, actor, action, target, outcome, error, severity, request, diff, prev_hash, hash`

func (s *Store) auditRows(ctx context.Context, q string, args ...any) ([]audit.Event, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit events: %w", err)
	}
	defer rows.Close()
	var out []audit.Event
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit events: %w", err)
	}
	return out, nil
}

func scanAudit(rows *sql.Rows) (audit.Event, error) {
	var e audit.Event
	var us int64
	var actor, outcome, severity string
	var req, diff sql.NullString
	if err := rows.Scan(&e.Seq, &us, &actor, &e.Action, &e.Target, &outcome, &e.Error, &severity,
		&req, &diff, &e.PrevHash, &e.Hash); err != nil {
		return e, fmt.Errorf("read audit event: %w", err)
	}
	e.Time = time.UnixMicro(us).UTC()
	e.Actor = audit.ParseActor(actor)
	e.Outcome = audit.Outcome(outcome)
	e.Severity = audit.Severity(severity)
	if req.Valid {
		e.Request = &audit.Request{}
		if err := json.Unmarshal([]byte(req.String), e.Request); err != nil {
			return e, fmt.Errorf("audit event %d: request: %w", e.Seq, err)
		}
	}
	if diff.Valid {
		e.Diff = json.RawMessage(diff.String)
	}
	return e, nil
}

// EntityVersions returns the events that changed the entity with ref key
// (created, updated, orphaned, deleted), oldest first, up to and including
// time at (zero: all). It reads all the entity's events off the target
// index and keeps the changes here: an entity has few events, and the
// planner, asked to filter on action too, may walk the action index.
func (s *Store) EntityVersions(ctx context.Context, ref string, at time.Time) ([]audit.Event, error) {
	var b sqlBuilder
	b.where("target = " + b.arg(ref))
	if !at.IsZero() {
		b.where("time_us <= " + b.arg(at.UnixMicro()))
	}
	events, err := s.auditRows(ctx, `SELECT `+auditColumns+` FROM audit_events`+s.d.indexedBy("audit_events_target")+
		b.whereSQL()+` ORDER BY seq`, b.args...)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(events, func(e audit.Event) bool {
		return e.Outcome != audit.Succeeded || !audit.IsEntityChange(e.Action)
	}), nil
}

// AuditBase returns the version of the entity with ref key where its
// recorded history starts, if it has one.
func (s *Store) AuditBase(ctx context.Context, ref string) (audit.Base, bool, error) {
	var b audit.Base
	var us int64
	var body string
	err := s.r.QueryRowContext(ctx, `SELECT seq, time_us, entity FROM audit_bases WHERE target = ?`, ref).Scan(&b.Seq, &us, &body)
	if err == sql.ErrNoRows {
		return b, false, nil
	}
	if err != nil {
		return b, false, fmt.Errorf("read audit base of %s: %w", ref, err)
	}
	b.Time = time.UnixMicro(us).UTC()
	b.Entity = json.RawMessage(body)
	return b, true, nil
}

// moveBases advances the bases of the entities whose events in archived
// (a batch about to be deleted, in seq order) changed them: each base
// becomes the version the last of those events left. An entity whose
// last archived event deleted it, or whose version cannot be rebuilt (a
// gap in its history), loses its base.
func moveBases(ctx context.Context, tx *txn, archived []audit.Event) error {
	byTarget := map[string][]audit.Event{}
	var order []string
	for _, e := range archived {
		if e.Outcome != audit.Succeeded || !audit.IsEntityChange(e.Action) {
			continue
		}
		if _, ok := byTarget[e.Target]; !ok {
			order = append(order, e.Target)
		}
		byTarget[e.Target] = append(byTarget[e.Target], e)
	}
	for _, target := range order {
		var doc []byte
		var body sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT entity FROM audit_bases WHERE target = ?`, target).Scan(&body)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("read audit base of %s: %w", target, err)
		}
		if body.Valid {
			doc = []byte(body.String)
		}
		for _, e := range byTarget[target] {
			if e.Action == audit.EntityDeleted {
				doc = nil
				continue
			}
			if doc, err = audit.Apply(doc, e.Diff); err != nil {
				doc = nil
			}
		}
		last := byTarget[target][len(byTarget[target])-1]
		if doc == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM audit_bases WHERE target = ?`, target)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO audit_bases (target, seq, time_us, entity) VALUES (?, ?, ?, ?)
				ON CONFLICT (target) DO UPDATE SET seq = excluded.seq, time_us = excluded.time_us, entity = excluded.entity`,
				target, last.Seq, last.Time.UnixMicro(), string(doc))
		}
		if err != nil {
			return fmt.Errorf("move audit base of %s: %w", target, err)
		}
	}
	return nil
}

// ReadAuditHead returns the chain's head.
func (s *Store) ReadAuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := s.r.QueryRowContext(ctx, `SELECT seq, hash, archived_seq, archived_hash FROM audit_head WHERE id = 1`).
		Scan(&h.Seq, &h.Hash, &h.ArchivedSeq, &h.ArchivedHash)
	if err != nil {
		return h, fmt.Errorf("read audit chain head: %w", err)
	}
	return h, nil
}

// WalkAudit calls fn for every event with seq > after, in seq order,
// reading in pages so that memory stays flat however long the log is.
// fn's error stops the walk and is returned.
func (s *Store) WalkAudit(ctx context.Context, after int64, fn func(audit.Event) error) error {
	const page = 1000
	for {
		events, err := s.auditRows(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, page)
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(events) < page {
			return nil
		}
	}
}

// ErrStopArchive, returned by ArchiveAudit's archive function, ends the
// archiving without error.
var ErrStopArchive = errors.New("stop archiving")

// ArchiveAudit deletes events older than before, oldest first, in batches
// of up to batch events: each batch is first given to archive, which must
// have stored it durably (retention never drops what it did not archive),
// then the bases of the entities it changed move past it (so their
// history can still be rebuilt), it is deleted, and the chain's archived
// head moves to its last event. It
// returns how many events it archived. Only one replica archives at a time.
func (s *Store) ArchiveAudit(ctx context.Context, before time.Time, batch int, archive func([]audit.Event) error) (int, error) {
	total := 0
	for {
		n := 0
		err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
			n = 0
			if err := tx.lock(ctx, "audit-retention"); err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE time_us < ? ORDER BY seq LIMIT ?`,
				before.UnixMicro(), batch)
			if err != nil {
				return fmt.Errorf("read audit events to archive: %w", err)
			}
			var events []audit.Event
			for rows.Next() {
				e, err := scanAudit(rows)
				if err != nil {
					rows.Close()
					return err
				}
				events = append(events, e)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(events) == 0 {
				return nil
			}
			if err := archive(events); err != nil {
				return fmt.Errorf("archive audit events: %w", err)
			}
			if err := moveBases(ctx, tx, events); err != nil {
				return err
			}
			last := events[len(events)-1]
			if _, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE seq <= ?`, last.Seq); err != nil {
				return fmt.Errorf("delete archived audit events: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET archived_seq = ?, archived_hash = ? WHERE id = 1`,
				last.Seq, last.Hash); err != nil {
				return fmt.Errorf("move archived audit head: %w", err)
			}
			n = len(events)
			return nil
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

// LeaseAuditCursor takes or renews owner's lease on the export sink
// name for ttl and returns how far the sink has written. ok is false when
// another owner holds an unexpired lease.
func (s *Store) LeaseAuditCursor(ctx context.Context, name, owner string, ttl time.Duration) (seq int64, ok bool, err error) {
	now := s.now().UnixMilli()
	err = s.tx(ctx, func(ctx context.Context, tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_cursors (name, seq, owner, lease_until) VALUES (?, 0, '', 0)
			ON CONFLICT (name) DO NOTHING`, name); err != nil {
			return err
		}
		var holder string
		var until int64
		if err := tx.QueryRowContext(ctx, `SELECT seq, owner, lease_until FROM audit_cursors WHERE name = ?`+tx.d.forUpdate, name).
			Scan(&seq, &holder, &until); err != nil {
			return err
		}
		if ok = holder == owner || until < now; !ok {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE audit_cursors SET owner = ?, lease_until = ? WHERE name = ?`,
			owner, now+ttl.Milliseconds(), name)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("lease audit cursor %s: %w", name, err)
	}
	return seq, ok, nil
}

// SetAuditCursor records that the export sink name has written every
// event up to seq. It fails with ErrLeaseLost if owner no longer holds the
// sink's lease.
func (s *Store) SetAuditCursor(ctx context.Context, name, owner string, seq int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE audit_cursors SET seq = ? WHERE name = ? AND owner = ?`, seq, name, owner)
	if err != nil {
		return fmt.Errorf("write audit cursor %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// ErrLeaseLost says another replica took over a lease.
var ErrLeaseLost = errors.New("lease lost to another replica")
