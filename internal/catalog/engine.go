package catalog

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atrium-dev/atrium/internal/events"
	"github.com/atrium-dev/atrium/internal/store"
)

// orphanSweepEvery is how often orphans are deleted with orphanStrategy delete.
const orphanSweepEvery = 30 * time.Second

// stitchEvery is the longest stitching waits while processing stays busy.
const stitchEvery = 5 * time.Second

// Run is the ingestion loop: it processes due entities in batches, stitches
// what changed and deletes orphans, until ctx is cancelled. In-flight work
// finishes before it returns.
func (s *Service) Run(ctx context.Context) error {
	lastSweep := time.Time{}
	for {
		busy, swept, err := s.step(context.WithoutCancel(ctx), time.Since(lastSweep) >= orphanSweepEvery)
		if err != nil {
			s.log.Error("catalog processing failed; retrying", "err", err)
			busy = false
		}
		if swept {
			lastSweep = time.Now()
		}
		if ctx.Err() != nil {
			return nil
		}
		if busy {
			continue
		}
		t := time.NewTimer(s.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Sync runs the loop until no entity is due and nothing waits to be
// stitched or swept: the catalog then reflects its inputs. Tests, benchmarks
// and one-shot commands use it.
func (s *Service) Sync(ctx context.Context) error {
	for {
		busy, _, err := s.step(ctx, true)
		if err != nil {
			return err
		}
		if !busy {
			return nil
		}
	}
}

// step does one round of work and reports whether there was any, and
// whether it swept orphans (which it does only when asked and otherwise
// idle, so a busy loop keeps asking until it gets there).
func (s *Service) step(ctx context.Context, sweep bool) (busy, swept bool, err error) {
	start := time.Now()
	n, err := s.processBatch(ctx)
	if err != nil {
		return false, false, err
	}
	busy = n > 0
	if busy {
		s.log.Debug("processed entities", "count", n, "duration", time.Since(start))
	}
	// Stitch once processing has caught up, so that an entity touched by
	// many others in one burst is stitched once, not once per batch; but at
	// least every stitchEvery, so a loop that never catches up still serves
	// what it processed.
	if !busy || time.Since(s.lastStitch) >= stitchEvery {
		s.lastStitch = time.Now()
		stats, err := s.stitch(ctx, s.opts.BatchSize*20)
		if err != nil {
			return false, false, fmt.Errorf("stitch: %w", err)
		}
		if s.opts.ObserveClaim != nil {
			s.opts.ObserveClaim("stitching", stats.Claim)
		}
		if stats.Changed > 0 {
			s.publishChanged(ctx, stats.Changed)
		}
		n := stats.Consumed
		if n > 0 {
			s.log.Debug("stitched entities", "count", n, "duration", time.Since(s.lastStitch))
		}
		busy = busy || n > 0
	}
	if !busy && sweep && s.opts.OrphanStrategy == "delete" {
		swept = true
		deleted, err := s.st.DeleteOrphans(ctx)
		if err != nil {
			return false, swept, fmt.Errorf("delete orphans: %w", err)
		}
		if len(deleted) > 0 {
			s.log.Info("deleted orphaned entities", "count", len(deleted))
			busy = true
		}
	}
	return busy, swept, nil
}

// stitch stitches up to limit queued entities, in as many concurrent
// transactions as the store writes well (see store.Writers): each claims
// its own share of the queue, as replicas do.
func (s *Service) stitch(ctx context.Context, limit int) (store.StitchStats, error) {
	writers := s.st.Writers()
	if writers == 1 {
		return s.st.Stitch(ctx, limit)
	}
	var mu sync.Mutex
	var total store.StitchStats
	var errs []error
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			stats, err := s.st.Stitch(ctx, max(1, limit/writers))
			mu.Lock()
			defer mu.Unlock()
			total.Consumed += stats.Consumed
			total.Changed += stats.Changed
			total.Claim = max(total.Claim, stats.Claim)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// maxPendingChildren bounds how many emitted children processing holds in
// memory before writing them: a batch of large Location entities can emit
// hundreds of thousands.
const maxPendingChildren = 5000

// processBatch claims one batch of due entities, processes them in
// parallel and writes the results as they come, in transactions of at most
// about maxPendingChildren emitted children.
func (s *Service) processBatch(ctx context.Context) (int, error) {
	claimStart := time.Now()
	work, err := s.st.ClaimDue(ctx, s.opts.BatchSize, s.opts.ProcessingInterval)
	if err != nil {
		return 0, err
	}
	if s.opts.ObserveClaim != nil {
		s.opts.ObserveClaim("processing", time.Since(claimStart))
	}
	if len(work) == 0 {
		return 0, nil
	}
	next := make(chan store.Work)
	// Buffered so workers keep processing while results are written; one
	// result per worker bounds what waits in memory.
	done := make(chan store.Result, s.opts.Workers)
	var wg sync.WaitGroup
	for range min(s.opts.Workers, len(work)) {
		wg.Go(func() {
			for w := range next {
				r := s.process(ctx, w)
				store.Prepare(&r)
				done <- r
			}
		})
	}
	go func() {
		for _, w := range work {
			next <- w
		}
		close(next)
		wg.Wait()
		close(done)
	}()
	// Results are written in transactions of about maxPendingChildren
	// children, shared among as many at once as the store writes well, so
	// that what waits in memory stays the same.
	writers := s.st.Writers()
	var pending []store.Result
	children := 0
	var (
		writing  sync.WaitGroup
		slots    = make(chan struct{}, writers)
		mu       sync.Mutex
		writeErr error
	)
	flush := func() {
		batch, n := pending, children
		pending, children = nil, 0
		if len(batch) == 0 {
			return
		}
		slots <- struct{}{}
		writing.Go(func() {
			defer func() { <-slots }()
			mu.Lock()
			failed := writeErr != nil
			mu.Unlock()
			if failed {
				return
			}
			start := time.Now()
			conflicts, err := s.st.WriteResults(ctx, batch, s.opts.ProcessingInterval)
			s.logConflicts(conflicts)
			s.log.Debug("wrote processing results", "results", len(batch), "children", n, "duration", time.Since(start))
			if err != nil {
				mu.Lock()
				writeErr = cmp.Or(writeErr, err)
				mu.Unlock()
			}
		})
		if writers == 1 {
			// With one writer, results wait for it instead of piling up
			// in memory while it writes.
			writing.Wait()
		}
	}
	for r := range done {
		pending = append(pending, r)
		children += len(r.Children)
		if children >= maxPendingChildren/writers {
			flush()
			continue
		}
		if writers == 1 && len(done) == 0 && children >= maxPendingChildren/10 {
			// The one writer is idle (flush waits for it) and no other
			// result is ready: write what there is rather than wait for
			// more. A load's first write then starts after its first file
			// instead of its first five, and later writes take what the
			// workers produced meanwhile. Results with few children (a
			// refresh of ordinary entities) still share one transaction.
			flush()
		}
	}
	flush()
	writing.Wait()
	if writeErr != nil {
		return 0, writeErr
	}
	return len(work), nil
}

// TopicEntitiesChanged is the event published when stitching changed
// served entities; its payload is {"count": n}. Caches of catalog query
// results and live views listen for it, on every replica.
const TopicEntitiesChanged events.Topic = "catalog.entities.changed"

// publishChanged tells every replica that count entities changed. A lost
// event costs a listener some freshness, never correctness, so a failure
// is only logged.
func (s *Service) publishChanged(ctx context.Context, count int) {
	if s.opts.Events == nil {
		return
	}
	payload, _ := json.Marshal(struct {
		Count int `json:"count"`
	}{count})
	if err := s.opts.Events.Publish(ctx, events.Event{Topic: TopicEntitiesChanged, Payload: payload}); err != nil {
		s.log.Warn("could not publish catalog change", "err", err)
	}
}
