package store

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// rejectedURL replaces javascript: view and edit URLs, as Backstage does.
const rejectedURL = "https://backstage.io/annotation-rejected-for-security-reasons"

// stitchChunk is how many entities one round of batched reads covers.
const stitchChunk = 500

// Stitch computes the final form of up to limit queued entities: the
// processed entity, its relations from both ends, its processing errors as
// status items and its orphan mark; then rewrites its search rows. An
// unchanged final entity writes nothing. It reports how many queue entries
// it consumed, how many final entities it changed and how long claiming
// the queue entries took.
//
// Each chunk is read with a few batched queries, built in parallel (JSON
// and flattening are CPU work), and written by the one writer connection.
func (s *Store) Stitch(ctx context.Context, limit int) (StitchStats, error) {
	var n, changed int
	var claim time.Duration
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		claimStart := time.Now()
		// On PostgreSQL the claimed queue rows stay locked until this
		// transaction ends: other replicas stitch other entities, and a
		// replica that dies releases its claim with its connection.
		refs, err := queryStrings(ctx, tx, `SELECT entity_ref FROM stitch_queue WHERE next_stitch_at <= ?
			ORDER BY next_stitch_at LIMIT ?`+s.d.skipLocked, s.now().UnixMilli(), limit)
		if err != nil {
			return err
		}
		claim = time.Since(claimStart)
		n = len(refs)
		st, err := newStitcher(ctx, tx, s.now().UnixMilli())
		if err != nil {
			return err
		}
		st.audit = !s.noAudit
		defer st.close()
		// A pipeline: while the workers build one chunk, this goroutine
		// (the only one that may use the transaction) reads the next chunk
		// and writes the previous one.
		//
		// On SQLite, whose one writer nobody waits on, each chunk's audit
		// events are appended as it is written, instead of all at the end
		// holding every new entity's first version in memory meanwhile.
		// On PostgreSQL appending takes the chain head's lock until commit,
		// so it waits for the end, keeping concurrent stitches apart for
		// as short a time as it can.
		write := func(b *build) error {
			if err := st.write(b); err != nil {
				return err
			}
			if s.d == postgresDialect {
				return nil
			}
			return st.events.flush(s, tx)
		}
		var prev *build
		for chunk := range slices.Chunk(refs, stitchChunk) {
			inputs, err := st.read(chunk)
			if err != nil {
				return err
			}
			next := startBuild(inputs, st.audit)
			if prev != nil {
				if err := write(prev); err != nil {
					return err
				}
			}
			prev = next
		}
		if prev != nil {
			if err := write(prev); err != nil {
				return err
			}
		}
		if err := st.flushSearch(); err != nil {
			return err
		}
		if err := st.events.flush(s, tx); err != nil {
			return err
		}
		if err := st.facets.flush(ctx, tx); err != nil {
			return err
		}
		changed = st.changed
		if st.changed > 0 {
			return bumpGeneration(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return StitchStats{}, err
	}
	s.analyzeAfter(changed, n < limit)
	return StitchStats{Consumed: n, Changed: changed, Claim: claim}, nil
}

// StitchStats is what one Stitch did.
type StitchStats struct {
	// Consumed is how many stitch-queue entries it took.
	Consumed int
	// Changed is how many final entities it rewrote.
	Changed int
	// Claim is how long taking the queue entries took.
	Claim time.Duration
}

// analyzeEvery is the fewest written entities that make PostgreSQL's
// statistics worth refreshing ourselves.
const analyzeEvery = 1000

// analyzeAfter refreshes PostgreSQL's planner statistics after the catalog
// has grown: whenever the entities written since the last refresh are as
// many as all written before it (so a load of any size costs a handful of
// ANALYZEs), and when the stitch queue drains after at least analyzeEvery.
// Autovacuum does it too, but a minute or more later and by fixed
// fractions: meanwhile a catalog loading into empty tables is planned as
// if they were still empty, with sequential scans of a million relation
// rows per batch, and a fresh catalog's facet queries take seconds.
//
// The refresh runs in the background, one at a time: sampling the tables
// takes 2 to 3 seconds at a million entities, which the writer that asked
// for it used to wait out, a dozen times per load. A refresh asked for
// while one runs runs once it ends, so the last one of a load covers
// everything the load wrote; Close lets it finish (see closeGrace), and
// Settle waits for it.
func (s *Store) analyzeAfter(written int, drained bool) {
	if s.d != postgresDialect {
		return
	}
	s.analyzeMu.Lock()
	defer s.analyzeMu.Unlock()
	s.sinceAnalyze += written
	if s.sinceAnalyze < analyzeEvery || (!drained && s.sinceAnalyze < s.analyzedAt) {
		return
	}
	if s.analyzing {
		s.analyzeAgain = true
		return
	}
	s.analyzing = true
	s.analyzed = make(chan struct{})
	s.analyses.Go(s.analyzeInBackground)
}

// analyzeInBackground runs the refreshes analyzeAfter asks for until none
// is pending, or one fails (only the plans suffer; the next write asks
// again), or the store closes.
func (s *Store) analyzeInBackground() {
	for {
		s.analyzeMu.Lock()
		counted := s.sinceAnalyze
		s.analyzeAgain = false
		s.analyzeMu.Unlock()
		err := s.Analyze(s.closing)
		s.analyzeMu.Lock()
		if err == nil {
			s.analyzedAt += counted
			s.sinceAnalyze -= counted
		}
		if err != nil || !s.analyzeAgain {
			s.analyzing = false
			close(s.analyzed)
			s.analyzeMu.Unlock()
			return
		}
		s.analyzeMu.Unlock()
	}
}

// Analyze refreshes PostgreSQL's planner statistics on the tables that
// grow with the catalog and its audit log. On SQLite it does nothing: the
// store's queries are written for SQLite's planner without statistics.
func (s *Store) Analyze(ctx context.Context) error {
	if s.d != postgresDialect {
		return nil
	}
	_, err := s.w.ExecContext(ctx, `ANALYZE refresh_state, refresh_state_references, relations, final_entities, search, audit_events`)
	return err
}

type stitcher struct {
	ctx       context.Context
	tx        *txn
	now       int64
	delSearch *sql.Stmt
	// Entities stitched before are upserted; new ones are inserted, which
	// on PostgreSQL means COPYed straight into the table. Should a new
	// entity's row exist after all (another replica got there first), the
	// insert fails, the transaction is retried, and the retry reads the
	// entity as stitched before.
	upsert, insSearch       *bulk
	insertNew, insSearchNew *bulk
	runs                    [][]pendingRow // sorted runs of new search rows, one per chunk
	changed                 int            // final entities written
	// audit says to record each change with its diff in events.
	audit  bool
	events *auditBatch
	// facets sums the changes to facet_counts.
	facets facetTally
}

func newStitcher(ctx context.Context, tx *txn, now int64) (*stitcher, error) {
	st := &stitcher{ctx: ctx, tx: tx, now: now, events: newAuditBatch(ctx), facets: facetTally{},
		insSearch: newBulk(ctx, tx, "search", []string{"key", "value", "entity_id", "original_value", "first"},
			` ON CONFLICT (key, value, entity_id) DO UPDATE SET original_value = excluded.original_value, first = excluded.first`)}
	finalCols := []string{"id", "uid", "entity_ref", "final_entity", "hash", "last_updated_at"}
	st.upsert = newBulk(ctx, tx, "final_entities", finalCols,
		` ON CONFLICT (id) DO UPDATE SET final_entity = excluded.final_entity, hash = excluded.hash, last_updated_at = excluded.last_updated_at`)
	st.insertNew = newBulk(ctx, tx, "final_entities", finalCols, "")
	st.insSearchNew = newBulk(ctx, tx, "search", []string{"key", "value", "entity_id", "original_value", "first"}, "")
	var err error
	if st.delSearch, err = tx.PrepareContext(ctx, `DELETE FROM search WHERE key = ? AND value = ? AND entity_id = ?`); err != nil {
		st.close()
		return nil, fmt.Errorf("prepare stitch: %w", err)
	}
	return st, nil
}

func (st *stitcher) close() {
	for _, b := range []*bulk{st.insSearch, st.upsert, st.insertNew, st.insSearchNew} {
		b.close()
	}
	if st.delSearch != nil {
		st.delSearch.Close()
	}
}

// stitchInput is what stitching one entity reads.
type stitchInput struct {
	ref, uid          string
	id                int64
	processed, errors sql.NullString
	orphan            bool
	oldHash, oldBody  sql.NullString
	relations         []entity.Relation
}

// stitchOutput is what stitching one entity writes.
type stitchOutput struct {
	skip      bool
	body      []byte
	hash      string
	add, drop []filter.SearchRow
	facets    []facetDelta
	// action and diff are the audit event of the change, when auditing;
	// the diff is made canonical here, on the workers, rather than when
	// the one writer seals the events.
	action string
	diff   audit.CanonicalDiff
}

// read dequeues a chunk of refs and reads their stitching inputs.
func (st *stitcher) read(refs []string) ([]stitchInput, error) {
	ph, args := inList(refs)
	if _, err := st.tx.ExecContext(st.ctx, `DELETE FROM stitch_queue WHERE entity_ref IN (`+ph+`)`, args...); err != nil {
		return nil, fmt.Errorf("dequeue stitches: %w", err)
	}
	return st.load(ph, args)
}

// build is a chunk of final entities being built in parallel.
type build struct {
	inputs  []stitchInput
	outputs []stitchOutput
	errs    []error
	// rows are the chunk's new search rows in index order: a run that
	// flushSearch merges with the other chunks' runs.
	rows  []pendingRow
	ready chan struct{}
}

// startBuild builds the final entities of inputs on worker goroutines,
// then sorts the chunk's new search rows.
func startBuild(inputs []stitchInput, audited bool) *build {
	b := &build{inputs: inputs, outputs: make([]stitchOutput, len(inputs)), errs: make([]error, len(inputs)),
		ready: make(chan struct{})}
	workers := min(runtime.GOMAXPROCS(0), len(inputs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(inputs); i += workers {
				b.outputs[i], b.errs[i] = buildFinal(inputs[i], audited)
			}
		})
	}
	go func() {
		wg.Wait()
		n := 0
		for _, out := range b.outputs {
			n += len(out.add)
		}
		b.rows = make([]pendingRow, 0, n)
		for i, out := range b.outputs {
			for _, r := range out.add {
				b.rows = append(b.rows, pendingRow{r, b.inputs[i].id, !b.inputs[i].oldBody.Valid})
			}
		}
		slices.SortFunc(b.rows, comparePending)
		close(b.ready)
	}()
	return b
}

func comparePending(a, b pendingRow) int {
	// Not cmp.Or, which would compare every field of every pair: this
	// runs some twenty times per search row, and keys mostly differ.
	if c := strings.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	if c := strings.Compare(a.Value, b.Value); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// write waits for a built chunk and writes what changed.
func (st *stitcher) write(b *build) error {
	<-b.ready
	for i, in := range b.inputs {
		if b.errs[i] != nil {
			return fmt.Errorf("stitch %s: %w", in.ref, b.errs[i])
		}
		out := b.outputs[i]
		if out.skip {
			continue
		}
		st.changed++
		b := st.upsert
		if !in.oldBody.Valid {
			b = st.insertNew
		}
		if err := b.add(in.id, in.uid, in.ref, string(out.body), out.hash, st.now); err != nil {
			return fmt.Errorf("write final entities: %w", err)
		}
		st.facets.add(out.facets)
		if out.action != "" {
			st.events.entityCanonical(out.action, in.ref, audit.SystemProcessing, out.diff)
		}
		for _, r := range out.drop {
			if _, err := st.delSearch.ExecContext(st.ctx, r.Key, r.Value, in.id); err != nil {
				return fmt.Errorf("delete search row: %w", err)
			}
		}
	}
	if len(b.rows) > 0 {
		st.runs = append(st.runs, b.rows)
	}
	for _, b := range []*bulk{st.upsert, st.insertNew} {
		if err := b.flush(); err != nil {
			return fmt.Errorf("write final entities: %w", err)
		}
	}
	return nil
}

// load reads the stitching inputs of the refs in the IN list.
func (st *stitcher) load(ph string, args []any) ([]stitchInput, error) {
	rows, err := st.tx.QueryContext(st.ctx, `
		SELECT rs.entity_ref, rs.id, rs.uid,
			CASE WHEN rs.processed_entity = '' THEN rs.unprocessed_entity ELSE rs.processed_entity END,
			rs.errors, fe.hash, fe.final_entity,
			NOT EXISTS (SELECT 1 FROM refresh_state_references r WHERE r.target = rs.entity_ref)
		FROM refresh_state rs LEFT JOIN final_entities fe ON fe.id = rs.id
		WHERE rs.entity_ref IN (`+ph+`)`+st.tx.d.keepsInputs, args...)
	if err != nil {
		return nil, fmt.Errorf("read stitch inputs: %w", err)
	}
	var inputs []stitchInput
	index := map[string]int{}
	for rows.Next() {
		var in stitchInput
		if err := rows.Scan(&in.ref, &in.id, &in.uid, &in.processed, &in.errors, &in.oldHash, &in.oldBody, &in.orphan); err != nil {
			rows.Close()
			return nil, err
		}
		index[in.ref] = len(inputs)
		inputs = append(inputs, in)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = st.tx.QueryContext(st.ctx, `SELECT DISTINCT source_ref, type, target_ref FROM relations
		WHERE source_ref IN (`+ph+`) ORDER BY source_ref, type, target_ref`, args...)
	if err != nil {
		return nil, fmt.Errorf("read relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var src string
		var r entity.Relation
		if err := rows.Scan(&src, &r.Type, &r.TargetRef); err != nil {
			return nil, err
		}
		if i, ok := index[src]; ok {
			inputs[i].relations = append(inputs[i].relations, r)
		}
	}
	return inputs, rows.Err()
}

// buildFinal assembles one final entity and the search rows to change,
// and when audited the change's audit action and diff. It is pure, so
// chunks are built in parallel.
func buildFinal(in stitchInput, audited bool) (stitchOutput, error) {
	if !in.processed.Valid {
		return stitchOutput{skip: true}, nil // never processed successfully: nothing to serve yet
	}
	body, ok := spliceFinal(in)
	if !ok {
		var err error
		if body, err = decodeFinal(in); err != nil {
			return stitchOutput{}, err
		}
	}
	sum := sha1.Sum(body)
	hash := hex.EncodeToString(sum[:])
	if in.oldHash.Valid && in.oldHash.String == hash {
		return stitchOutput{skip: true}, nil
	}
	body, err := withEtag(body, in.uid, hash)
	if err != nil {
		return stitchOutput{}, err
	}
	out := stitchOutput{body: body, hash: hash}
	out.add, out.drop, out.facets, err = diffSearchRows(kindOfRef(in.ref), in.oldBody.String, body)
	if err != nil || !audited {
		return out, err
	}
	var diff json.RawMessage
	switch {
	case !in.oldBody.Valid:
		out.action, diff = audit.EntityCreated, createdDiff(body)
	case in.orphan && !strings.Contains(in.oldBody.String, orphanMark):
		out.action = audit.EntityOrphaned
	default:
		out.action = audit.EntityUpdated
	}
	if diff == nil {
		if diff, err = audit.Diff([]byte(in.oldBody.String), body); err != nil {
			return out, err
		}
		diff = withEtagTest(diff, in.oldHash.String)
	}
	if out.diff, err = audit.Canonicalize(diff); err != nil {
		return out, fmt.Errorf("audit diff: %w", err)
	}
	return out, nil
}

// decodeFinal assembles the final entity of in by decoding its processed
// entity, for the cases spliceFinal leaves: processing errors, orphans,
// rejected URLs and anything not encoded as the catalog encodes.
func decodeFinal(in stitchInput) ([]byte, error) {
	var e entity.Entity
	if err := json.Unmarshal([]byte(in.processed.String), &e); err != nil {
		return nil, fmt.Errorf("decode processed entity: %w", err)
	}
	e.Relations = in.relations
	if e.Relations == nil {
		e.Relations = []entity.Relation{}
	}
	if in.errors.Valid && in.errors.String != "null" {
		var items []entity.StatusItem
		if err := json.Unmarshal([]byte(in.errors.String), &items); err != nil {
			return nil, fmt.Errorf("decode errors: %w", err)
		}
		if len(items) > 0 {
			e.Status = &entity.Status{Items: items}
		}
	}
	if in.orphan {
		e.SetAnnotation(entity.AnnotationOrphan, "true")
	}
	for _, k := range []string{entity.AnnotationViewURL, entity.AnnotationEditURL} {
		if v, ok := e.Metadata.Annotations[k]; ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "javascript:") {
			e.Metadata.Annotations[k] = rejectedURL
		}
	}
	e.Metadata.UID = in.uid
	e.Metadata.Etag = ""
	return json.Marshal(&e)
}

// withEtagTest puts a test of the previous version's etag before the ops
// of diff, so that replaying history notices a version it does not have
// (a change made while the audit log was off) instead of patching the
// wrong document.
func withEtagTest(diff json.RawMessage, etag string) json.RawMessage {
	test := `[{"op":"test","path":"/metadata/etag","value":` + strconv.Quote(etag) + `}`
	if string(diff) == "[]" {
		return json.RawMessage(test + "]")
	}
	return json.RawMessage(test + "," + string(diff[1:]))
}

// orphanMark is how the orphan annotation reads in a final entity's JSON.
var orphanMark = `"` + entity.AnnotationOrphan + `":"true"`

// withEtag adds "etag" right after "uid" in an entity marshalled without
// one, which is where Metadata's MarshalJSON puts it: the same bytes as
// marshalling again with Etag set, without marshalling again.
func withEtag(body []byte, uid, etag string) ([]byte, error) {
	uidField := []byte(`"uid":"` + uid + `"`)
	i := bytes.Index(body, uidField)
	if i < 0 {
		return nil, fmt.Errorf("entity JSON has no uid %q to put the etag after", uid)
	}
	at := i + len(uidField)
	out := make([]byte, 0, len(body)+len(etag)+10)
	out = append(out, body[:at]...)
	out = append(out, `,"etag":"`...)
	out = append(out, etag...)
	out = append(out, '"')
	return append(out, body[at:]...), nil
}

// diffSearchRows compares the search rows of the previous final entity
// (oldBody, "" if none) with those of body: a re-stitch usually changes a
// relation or two, not all thirty rows. It also returns how the entity, of
// kind, changes facet_counts.
func diffSearchRows(kind, oldBody string, body []byte) (add, drop []filter.SearchRow, facets []facetDelta, err error) {
	next, err := filter.SearchRows(body)
	if err != nil {
		return nil, nil, nil, err
	}
	if oldBody == "" {
		return next, nil, facetChanges(kind, nil, next), nil
	}
	prev, err := filter.SearchRows([]byte(oldBody))
	if err != nil {
		return nil, nil, nil, err
	}
	have := make(map[[2]string]filter.SearchRow, len(prev))
	for _, r := range prev {
		have[[2]string{r.Key, r.Value}] = r
	}
	for _, r := range next {
		k := [2]string{r.Key, r.Value}
		if o, ok := have[k]; !ok || o != r {
			add = append(add, r)
		}
		delete(have, k)
	}
	for _, r := range have {
		drop = append(drop, r)
	}
	return add, drop, facetChanges(kind, prev, next), nil
}

// inList returns "?, ?, ..." for values and the values as arguments.
func inList(values []string) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", "), args
}

// pendingRow is a search row waiting to be written.
type pendingRow struct {
	filter.SearchRow
	id int64
	// fresh says the entity has never been stitched: it has no search
	// rows yet (ids are never reused), so its rows need no ON CONFLICT.
	fresh bool
}

// flushSearch writes the pending search rows in index order, merging the
// chunks' sorted runs: inserting into the b-tree in key order touches each
// page once instead of at random. The merge runs on a goroutine of its
// own and hands over rows ready to bind, so that the transaction's one
// goroutine spends its time writing: merging and boxing the values took a
// fifth of what writing the rows did.
func (st *stitcher) flushSearch() error {
	type batch struct {
		fresh bool
		args  []any
	}
	const cols = 5 // key, value, entity_id, original_value, first
	runs := st.runs
	st.runs = nil
	out := make(chan batch, 8)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(out)
		var pending [2][]any // rows of entities stitched before, and of fresh ones
		send := func(fresh int) bool {
			if len(pending[fresh]) == 0 {
				return true
			}
			select {
			case out <- batch{fresh == 1, pending[fresh]}:
				pending[fresh] = make([]any, 0, bulkRows*cols)
				return true
			case <-stop:
				return false
			}
		}
		h := &runHeap{}
		for _, r := range runs {
			heap.Push(h, r)
		}
		for h.Len() > 0 {
			run := (*h)[0]
			r := run[0]
			fresh := 0
			if r.fresh {
				fresh = 1
			}
			pending[fresh] = append(pending[fresh], r.Key, r.Value, r.id, nullIfEmpty(r.Original), r.First)
			if len(pending[fresh]) >= bulkRows*cols && !send(fresh) {
				return
			}
			if len(run) == 1 {
				heap.Pop(h)
			} else {
				(*h)[0] = run[1:]
				heap.Fix(h, 0)
			}
		}
		_ = send(0) && send(1)
	}()
	for b := range out {
		ins := st.insSearch
		if b.fresh {
			ins = st.insSearchNew
		}
		if err := ins.addRows(b.args); err != nil {
			return fmt.Errorf("insert search row: %w", err)
		}
	}
	if err := st.insSearch.flush(); err != nil {
		return err
	}
	return st.insSearchNew.flush()
}

// runHeap orders sorted runs of search rows by their first row.
type runHeap [][]pendingRow

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return comparePending(h[i][0], h[j][0]) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.([]pendingRow)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	return queryColumn[string](ctx, q, query, args...)
}

// querier runs queries: a pool or a transaction.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// queryColumn reads the single column of a query's rows.
func queryColumn[T any](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
