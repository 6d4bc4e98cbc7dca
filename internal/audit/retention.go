package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Retention archives and deletes events older than Keep. Each batch is
// written to its own JSON-lines file in Dir and synced to disk before the
// batch is deleted, so retention never drops an event it did not archive.
// Deleting the oldest events leaves the chain verifiable: the store keeps
// the hash of the last archived event, which the oldest remaining one
// chains to, and the archive files hold the rest of the chain.
type Retention struct {
	Store Store
	Keep  time.Duration
	Dir   string
	Log   *slog.Logger
}

// retentionBatch is how many events one archive file holds at most.
const retentionBatch = 10000

// RunOnce archives and deletes what is due and returns how many events it
// archived. It records what it did as an event of its own.
func (r *Retention) RunOnce(ctx context.Context, now time.Time) (int, error) {
	if err := os.MkdirAll(r.Dir, 0o750); err != nil {
		return 0, fmt.Errorf("audit archive: %w", err)
	}
	var first, last int64
	n, err := r.Store.ArchiveAudit(ctx, now.Add(-r.Keep), retentionBatch, func(events []Event) error {
		if first == 0 {
			first = events[0].Seq
		}
		last = events[len(events)-1].Seq
		return r.archive(events)
	})
	if n > 0 {
		// The target names the archived range: events first..last.
		e := Event{Actor: SystemRetention, Action: EventsArchived, Target: fmt.Sprintf("audit:%d-%d", first, last),
			Outcome: Succeeded, Severity: Medium}
		if err != nil {
			e.Outcome, e.Error = Failed, "archiving stopped early; see the logs"
		}
		if aerr := r.Store.AppendAudit(ctx, e); aerr != nil {
			r.Log.Error("audit: cannot record retention", "err", aerr)
		}
	}
	return n, err
}

// archive writes one batch to Dir/audit-<first>-<last>.jsonl and syncs it.
func (r *Retention) archive(events []Event) error {
	name := filepath.Join(r.Dir, fmt.Sprintf("audit-%012d-%012d.jsonl", events[0].Seq, events[len(events)-1].Seq))
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// Run applies retention at start and then every hour until ctx ends.
func (r *Retention) Run(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := r.RunOnce(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			r.Log.Error("audit: retention failed; nothing was deleted that was not archived", "archived", n, "err", err)
		case n > 0:
			r.Log.Info("audit: archived and deleted old events", "events", n, "dir", r.Dir)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
