package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// logStore is an in-memory log with one shared sink cursor and lease.
type logStore struct {
	Store
	mu     sync.Mutex
	events []Event
	seq    int64
	owner  string
}

func (l *logStore) WalkAudit(_ context.Context, after int64, fn func(Event) error) error {
	l.mu.Lock()
	events := append([]Event(nil), l.events...)
	l.mu.Unlock()
	for _, e := range events {
		if e.Seq > after {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *logStore) LeaseAuditCursor(_ context.Context, _, owner string, _ time.Duration) (int64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owner != "" && l.owner != owner {
		return 0, false, nil
	}
	l.owner = owner
	return l.seq, true, nil
}

func (l *logStore) SetAuditCursor(_ context.Context, _, owner string, seq int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq = seq
	return nil
}

func (l *logStore) add(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		l.events = append(l.events, Event{Seq: int64(len(l.events) + 1), Action: EntityUpdated})
	}
}

type buffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *buffer) seqs(t *testing.T) []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int64
	for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("sink line %q: %v", line, err)
		}
		out = append(out, e.Seq)
	}
	return out
}

// TestSinkStreamsOnceWithTheLease: the replica holding the lease writes
// each event once, in order, as it arrives; another replica writes nothing.
func TestSinkStreamsOnceWithTheLease(t *testing.T) {
	st := &logStore{}
	st.add(3)
	var a, b buffer
	sink := func(owner string, w io.Writer) *Sink {
		return &Sink{Store: st, Name: "file:x", Owner: owner, Poll: 5 * time.Millisecond,
			Open: func() (io.WriteCloser, error) { return NopCloser(w), nil }, Log: slog.New(slog.DiscardHandler)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { sink("a", &a).Run(ctx) })
	waitUntil(t, func() bool { return len(a.seqs(t)) == 3 })
	wg.Go(func() { sink("b", &b).Run(ctx) })
	st.add(2)
	waitUntil(t, func() bool { return len(a.seqs(t)) == 5 })
	time.Sleep(20 * time.Millisecond)
	cancel()
	wg.Wait()
	if got := a.seqs(t); len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Errorf("lease holder wrote %v, want 1..5", got)
	}
	if got := b.seqs(t); len(got) != 0 {
		t.Errorf("the other replica wrote %v", got)
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
