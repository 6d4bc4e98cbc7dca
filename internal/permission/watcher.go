package permission

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReloadInterval is how often a Watcher looks at its file when
// WatcherOptions.Interval is zero.
const DefaultReloadInterval = 5 * time.Second

// WatcherOptions tune a Watcher.
type WatcherOptions struct {
	// Interval is how often the file's modification time and size are
	// checked. Zero means DefaultReloadInterval.
	Interval time.Duration
	// Logger receives reloads and reload errors; nil means slog.Default().
	Logger *slog.Logger
	// OnError, if set, is called with each reload error, after it is
	// logged; the Watcher keeps serving the last good policy.
	OnError func(error)
}

// Watcher serves the policy in a file and reloads it when the file
// changes. A file that no longer parses (or has gone) leaves the last good
// policy in place. It is safe for concurrent use.
type Watcher struct {
	path    string
	opts    WatcherOptions
	current atomic.Pointer[Policy]

	mu   sync.Mutex  // serializes Check; guards err and seen
	err  error       // of the last load; nil when the file is what is served
	seen os.FileInfo // of the file last loaded or tried; nil when it was missing
}

// NewWatcher loads the policy at path. An error here is fatal to the
// caller: there is no last good policy yet to fall back on.
func NewWatcher(path string, opts WatcherOptions) (*Watcher, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultReloadInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("permission: %w", err)
	}
	pol, err := Load(path)
	if err != nil {
		return nil, err
	}
	w := &Watcher{path: path, opts: opts, seen: fi}
	w.current.Store(pol)
	return w, nil
}

// Current returns the policy being served.
func (w *Watcher) Current() *Policy { return w.current.Load() }

// Err returns the error of the last reload, or nil when the file on disk
// is the policy being served. Health checks can report it.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Run checks the file every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Check()
		}
	}
}

// Check reloads the file if its modification time, size or identity (a
// file replaced by a rename, as editors and Kubernetes config maps do)
// changed since it was last read, and reports whether it loaded a new
// policy. Run calls it; tests and a SIGHUP handler may too.
func (w *Watcher) Check() bool {
	pol, err := w.check()
	if err != nil {
		w.opts.Logger.Error("permission: policy not reloaded; still serving the last good one", "file", w.path, "err", err)
		if w.opts.OnError != nil {
			w.opts.OnError(err)
		}
		return false
	}
	if pol == nil {
		return false
	}
	w.opts.Logger.Info("permission: policy reloaded", "file", w.path, "rules", len(pol.Rules))
	return true
}

// check loads the file if it changed, returning the new policy (nil when
// the file did not change) or the error to report.
func (w *Watcher) check() (*Policy, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fi, err := os.Stat(w.path)
	if err != nil {
		if w.seen == nil {
			return nil, nil // still missing: reported already
		}
		w.seen, w.err = nil, fmt.Errorf("permission: %w", err)
		return nil, w.err
	}
	if w.seen != nil && fi.ModTime().Equal(w.seen.ModTime()) && fi.Size() == w.seen.Size() && os.SameFile(fi, w.seen) {
		return nil, nil
	}
	w.seen = fi
	pol, err := Load(w.path)
	if err != nil {
		w.err = err
		return nil, err
	}
	w.current.Store(pol)
	w.err = nil
	return pol, nil
}
