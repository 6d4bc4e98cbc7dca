package catalog

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/atrium-dev/atrium/internal/store"
)

// orphanSweepEvery is how often orphans are deleted with orphanStrategy delete.
const orphanSweepEvery = 30 * time.Second

// Run is the ingestion loop: it processes due entities in batches, stitches
// what changed and deletes orphans, until ctx is cancelled. In-flight work
// finishes before it returns.
func (s *Service) Run(ctx context.Context) error {
	lastSweep := time.Time{}
	for {
		busy, err := s.step(context.WithoutCancel(ctx), time.Since(lastSweep) >= orphanSweepEvery)
		if err != nil {
			s.log.Error("catalog processing failed; retrying", "err", err)
			busy = false
		}
		if time.Since(lastSweep) >= orphanSweepEvery {
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
		busy, err := s.step(ctx, true)
		if err != nil {
			return err
		}
		if !busy {
			return nil
		}
	}
}

// step does one round of work and reports whether there was any.
func (s *Service) step(ctx context.Context, sweep bool) (bool, error) {
	n, err := s.processBatch(ctx)
	if err != nil {
		return false, err
	}
	busy := n > 0
	if !busy {
		// Stitch once processing has caught up, so that an entity touched
		// by many others in one burst is stitched once, not once per batch.
		n, err := s.st.Stitch(ctx, s.opts.BatchSize*4)
		if err != nil {
			return false, fmt.Errorf("stitch: %w", err)
		}
		busy = n > 0
	}
	if !busy && sweep && s.opts.OrphanStrategy == "delete" {
		deleted, err := s.st.DeleteOrphans(ctx)
		if err != nil {
			return false, fmt.Errorf("delete orphans: %w", err)
		}
		if len(deleted) > 0 {
			s.log.Info("deleted orphaned entities", "count", len(deleted))
			busy = true
		}
	}
	return busy, nil
}

// processBatch claims and processes one batch of due entities.
func (s *Service) processBatch(ctx context.Context) (int, error) {
	work, err := s.st.ClaimDue(ctx, s.opts.BatchSize, s.opts.ProcessingInterval)
	if err != nil {
		return 0, err
	}
	if len(work) == 0 {
		return 0, nil
	}
	results := make([]store.Result, len(work))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(s.opts.Workers, len(work)) {
		wg.Go(func() {
			for i := range next {
				results[i] = s.process(ctx, work[i])
			}
		})
	}
	for i := range work {
		next <- i
	}
	close(next)
	wg.Wait()
	conflicts, err := s.st.WriteResults(ctx, results, s.opts.ProcessingInterval)
	if err != nil {
		return 0, err
	}
	s.logConflicts(conflicts)
	return len(work), nil
}
