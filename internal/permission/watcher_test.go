package permission_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/permission"
)

const (
	goodPolicy   = "rules:\n  - name: first\n    principals: ['*']\n    permissions: ['*']\n    decision: allow\n"
	brokenPolicy = "rules:\n  - name: broken\n    principals: ['*']\n    permissions: ['*']\n    decision: perhaps\n"
	otherGood    = "rules:\n  - name: second\n    principals: ['*']\n    permissions: [catalog.entity.read]\n    decision: deny\n"
)

// writePolicy writes src to path with a modification time of base+n
// seconds, so that every write looks like a change even on file systems
// with coarse timestamps.
func writePolicy(t *testing.T, path, src string, n int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2025, 1, 1, 0, 0, n, 0, time.UTC)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func ruleNames(p *permission.Policy) string {
	var names []string
	for _, r := range p.Rules {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestWatcherReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writePolicy(t, path, goodPolicy, 0)
	var reported []error
	w, err := permission.NewWatcher(path, permission.WatcherOptions{
		Logger:  quiet(),
		OnError: func(err error) { reported = append(reported, err) },
	})
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name        string
		write       func()
		wantLoaded  bool
		wantRules   string
		wantErr     string // of Err(), "" for none
		wantReports int
	}{
		{"unchanged", func() {}, false, "first", "", 0},
		{"broken keeps the good policy", func() { writePolicy(t, path, brokenPolicy, 1) }, false, "first",
			path + `:5:15: rules[0].decision: unknown decision "perhaps"; expected allow, deny or conditional`, 1},
		{"broken and unchanged is reported once", func() {}, false, "first",
			path + `:5:15: rules[0].decision: unknown decision "perhaps"; expected allow, deny or conditional`, 1},
		{"good again", func() { writePolicy(t, path, otherGood, 2) }, true, "second", "", 1},
		{"removed keeps the good policy", func() { os.Remove(path) }, false, "second",
			"permission: stat " + path + ": no such file or directory", 2},
		{"still removed is reported once", func() {}, false, "second",
			"permission: stat " + path + ": no such file or directory", 2},
		{"back", func() { writePolicy(t, path, goodPolicy, 3) }, true, "first", "", 2},
		{"same size, new time", func() { writePolicy(t, path, strings.Replace(goodPolicy, "first", "third", 1), 4) }, true, "third", "", 2},
		{"replaced by rename", func() {
			tmp := path + ".new"
			writePolicy(t, tmp, strings.Replace(goodPolicy, "first", "fifth", 1), 4) // same size and time
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, true, "fifth", "", 2},
	}
	for _, s := range steps {
		s.write()
		loaded := w.Check()
		var gotErr string
		if err := w.Err(); err != nil {
			gotErr = err.Error()
		}
		if loaded != s.wantLoaded || ruleNames(w.Current()) != s.wantRules || gotErr != s.wantErr || len(reported) != s.wantReports {
			t.Errorf("%s: Check() = %v, rules %q, Err() %q, %d reports; want %v, %q, %q, %d",
				s.name, loaded, ruleNames(w.Current()), gotErr, len(reported), s.wantLoaded, s.wantRules, s.wantErr, s.wantReports)
		}
	}
}

func TestNewWatcherNeedsAGoodFile(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	writePolicy(t, broken, brokenPolicy, 0)
	for _, path := range []string{broken, filepath.Join(dir, "missing.yaml")} {
		if _, err := permission.NewWatcher(path, permission.WatcherOptions{Logger: quiet()}); err == nil {
			t.Errorf("NewWatcher(%s) succeeded", filepath.Base(path))
		}
	}
}

// TestWatcherRun checks that Run reloads on its own while other
// goroutines read the policy, and stops when its context ends.
func TestWatcherRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writePolicy(t, path, goodPolicy, 0)
	w, err := permission.NewWatcher(path, permission.WatcherOptions{Interval: time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for ctx.Err() == nil {
				_ = w.Current().Decide(bob, permission.CatalogEntityRead)
			}
		})
	}
	writePolicy(t, path, otherGood, 1)
	deadline := time.After(10 * time.Second)
	for ruleNames(w.Current()) != "second" {
		select {
		case <-deadline:
			t.Fatal("Run did not reload the changed file")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	<-done
	readers.Wait()
}
