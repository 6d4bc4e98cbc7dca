package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Export writes every event with seq > after to w as JSON lines, in seq
// order, and returns the last seq written.
func Export(ctx context.Context, st Store, after int64, w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	last := after
	err := st.WalkAudit(ctx, after, func(e Event) error {
		if err := enc.Encode(e); err != nil {
			return err
		}
		last = e.Seq
		return nil
	})
	if err != nil {
		return last, err
	}
	return last, bw.Flush()
}

// Sink streams the log to a writer as JSON lines, for SIEM pipelines.
// Replicas share its cursor: one at a time holds the sink's lease and
// writes; if it dies, another takes over where the cursor was saved.
// Delivery is at least once: events written after the last saved cursor
// may be written again, and carry their seq to be deduplicated by.
type Sink struct {
	Store Store
	// Name identifies the sink's cursor, e.g. "file:/var/log/audit.jsonl".
	Name string
	// Owner identifies this replica.
	Owner string
	// Open returns the writer to append to.
	Open func() (io.WriteCloser, error)
	// Poll is how often it looks for new events (default 1 s).
	Poll time.Duration
	Log  *slog.Logger
}

// sinkLease is how long a sink's lease lasts without renewal.
const sinkLease = 30 * time.Second

// Run streams events until ctx ends.
func (s *Sink) Run(ctx context.Context) {
	poll := s.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	var w io.WriteCloser
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	for {
		if err := s.once(ctx, &w); err != nil && ctx.Err() == nil {
			s.Log.Error("audit: sink failed; retrying", "sink", s.Name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// once writes what is new, if this replica holds the lease.
func (s *Sink) once(ctx context.Context, w *io.WriteCloser) error {
	after, ok, err := s.Store.LeaseAuditCursor(ctx, s.Name, s.Owner, sinkLease)
	if err != nil || !ok {
		return err
	}
	if *w == nil {
		if *w, err = s.Open(); err != nil {
			return err
		}
	}
	last, err := Export(ctx, s.Store, after, *w)
	if last > after {
		if serr := s.Store.SetAuditCursor(ctx, s.Name, s.Owner, last); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return err
}

// OpenFileSink opens path for appending JSON lines, creating it and its
// folder if needed.
func OpenFileSink(path string) (io.WriteCloser, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit sink: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit sink: %w", err)
	}
	return f, nil
}

// nopCloser keeps a sink from closing a writer it does not own (stdout).
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// NopCloser returns w with a Close that does nothing.
func NopCloser(w io.Writer) io.WriteCloser { return nopCloser{w} }
