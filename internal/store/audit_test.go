package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// auditStore returns a store holding n events appended one per
// transaction, an hour apart from 2025-01-01, with actors, actions and
// outcomes that cycle.
func auditStore(t *testing.T, e storetest.Engine, n int) (*Store, *time.Time) {
	t.Helper()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	st := openTestStore(t, e, Options{Now: func() time.Time { return now }})
	for i := range n {
		ev := audit.Event{
			Actor:    []audit.Actor{audit.SystemProcessing, {Kind: "user", ID: "default/jane"}}[i%2],
			Action:   []string{audit.EntityCreated, audit.EntityUpdated, audit.LocationCreated}[i%3],
			Target:   fmt.Sprintf("component:default/c%d", i%4),
			Outcome:  []audit.Outcome{audit.Succeeded, audit.Failed}[i%2],
			Severity: audit.Low,
		}
		if err := st.AppendAudit(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
	}
	return st, &now
}

func TestAuditChainDetectsTampering(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		tests := []struct {
			name    string
			tamper  string // SQL run on the database behind the store's back
			wantSeq int64
		}{
			{"intact", "", 0},
			{"a field edited", `UPDATE audit_events SET actor = 'user:default/mallory' WHERE seq = 4`, 4},
			{"an event's diff edited", `UPDATE audit_events SET diff = '[]' WHERE seq = 2`, 2},
			{"an event deleted", `DELETE FROM audit_events WHERE seq = 5`, 5},
			{"the newest events deleted", `DELETE FROM audit_events WHERE seq >= 9`, 9},
			{"an event rehashed after editing", `UPDATE audit_events SET target = 'x', hash = 'beef' WHERE seq = 3`, 3},
			// Swapping two events' contents (keeping each seq in place) is
			// a reorder: each no longer chains to its predecessor.
			{"two events reordered", `UPDATE audit_events SET seq = CASE seq WHEN 6 THEN -7 ELSE -6 END WHERE seq IN (6, 7);
				UPDATE audit_events SET seq = -seq WHERE seq < 0`, 6},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, _ := auditStore(t, eng, 10)
				ctx := context.Background()
				for stmt := range strings.SplitSeq(tt.tamper, ";") {
					if strings.TrimSpace(stmt) == "" {
						continue
					}
					if _, err := st.w.ExecContext(ctx, stmt); err != nil {
						t.Fatal(err)
					}
				}
				v, err := audit.Verify(ctx, st, nil)
				var br *audit.Break
				switch {
				case tt.wantSeq == 0 && err != nil:
					t.Fatalf("Verify = %v, want it to pass", err)
				case tt.wantSeq == 0:
					if v.Events != 10 || v.From != 1 || v.To != 10 {
						t.Errorf("Verify checked %+v, want events 1 to 10", v)
					}
				case !errors.As(err, &br):
					t.Fatalf("Verify = %v, want a break at %d", err, tt.wantSeq)
				case br.Seq != tt.wantSeq:
					t.Errorf("break at %d (%s), want at %d", br.Seq, br.Reason, tt.wantSeq)
				}
			})
		}
	})
}

func TestAuditCheckpointsMustStillMatch(t *testing.T) {
	st, _ := auditStore(t, storetest.SQLite, 5)
	ctx := context.Background()
	key, err := audit.SigningKey("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := audit.Sign(ctx, st, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !c.VerifySignature() || c.Seq != 5 {
		t.Fatalf("checkpoint %+v does not verify or is not at the head", c)
	}
	if _, err := audit.Verify(ctx, st, map[int64]string{c.Seq: c.Hash}); err != nil {
		t.Fatalf("Verify with its own checkpoint: %v", err)
	}
	// Rewriting the whole chain consistently (as an attacker with the
	// code could) passes the chain check but not the checkpoint.
	var events []audit.Event
	if err := st.WalkAudit(ctx, 0, func(e audit.Event) error { events = append(events, e); return nil }); err != nil {
		t.Fatal(err)
	}
	events[1].Actor = audit.Actor{Kind: "user", ID: "default/mallory"}
	if _, _, err := audit.Seal(events, 0, ""); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if _, err := st.w.ExecContext(ctx, `UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?`,
			e.Actor.String(), e.PrevHash, e.Hash, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	last := events[len(events)-1]
	if _, err := st.w.ExecContext(ctx, `UPDATE audit_head SET hash = ? WHERE id = 1`, last.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(ctx, st, nil); err != nil {
		t.Fatalf("a consistently rewritten chain should pass on its own: %v", err)
	}
	var br *audit.Break
	if _, err := audit.Verify(ctx, st, map[int64]string{c.Seq: c.Hash}); !errors.As(err, &br) || br.Seq != 5 {
		t.Errorf("Verify against the old checkpoint = %v, want a break at 5", err)
	}
	c.Hash = "00"
	if c.VerifySignature() {
		t.Error("a checkpoint with a changed hash still verifies")
	}
}

func TestAuditEventsFiltersAndPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		st, _ := auditStore(t, eng, 30)
		ctx := context.Background()
		seqs := func(q audit.Query) []int64 {
			t.Helper()
			events, err := st.AuditEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, e := range events {
				out = append(out, e.Seq)
			}
			return out
		}
		start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		tests := []struct {
			name string
			q    audit.Query
			want []int64
		}{
			{"newest first", audit.Query{Limit: 3}, []int64{30, 29, 28}},
			{"before a cursor", audit.Query{Limit: 3, Before: 28}, []int64{27, 26, 25}},
			{"after, oldest first", audit.Query{Limit: 3, After: 2}, []int64{3, 4, 5}},
			// seq k has actor k-1 % 2, action k-1 % 3, target c(k-1 % 4).
			{"by actor and action", audit.Query{Actors: []string{"user:default/jane"}, Actions: []string{audit.EntityCreated}, Limit: 10},
				[]int64{28, 22, 16, 10, 4}},
			{"by target", audit.Query{Targets: []string{"component:default/c3"}, Limit: 3}, []int64{28, 24, 20}},
			{"any of two outcomes", audit.Query{Outcomes: []audit.Outcome{audit.Failed, audit.Denied}, Limit: 3}, []int64{30, 28, 26}},
			{"a time range", audit.Query{From: start.Add(2 * time.Hour), To: start.Add(5 * time.Hour), Limit: 10}, []int64{5, 4, 3}},
			{"nothing matches", audit.Query{Actors: []string{"nobody"}}, nil},
			{"a time range, a filter and a cursor", audit.Query{From: start.Add(3 * time.Hour), To: start.Add(20 * time.Hour),
				Outcomes: []audit.Outcome{audit.Failed}, Before: 14, Limit: 3}, []int64{12, 10, 8}},
			{"a range with no events", audit.Query{From: start.Add(100 * time.Hour), Limit: 3}, nil},
			{"succeeded, which has no index", audit.Query{Outcomes: []audit.Outcome{audit.Succeeded}, Actions: []string{audit.LocationCreated}, Limit: 3},
				[]int64{27, 21, 15}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, seqs(tt.q)); diff != "" {
					t.Errorf("seqs (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestAuditRetentionArchivesBeforeDeleting: old events go to the archive
// and only then away; the rest of the chain still verifies; a failing
// archive deletes nothing.
func TestAuditRetentionArchivesBeforeDeleting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		st, now := auditStore(t, eng, 25)
		ctx := context.Background()
		cutoff := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC) // events 1..10 are older

		boom := errors.New("disk full")
		if n, err := st.ArchiveAudit(ctx, cutoff, 4, func([]audit.Event) error { return boom }); !errors.Is(err, boom) || n != 0 {
			t.Fatalf("failing archive: n=%d err=%v", n, err)
		}
		if v, err := audit.Verify(ctx, st, nil); err != nil || v.Events != 25 {
			t.Fatalf("after a failed archive: %+v %v, want all 25 events intact", v, err)
		}

		dir := t.TempDir()
		r := &audit.Retention{Store: st, Keep: now.Sub(cutoff), Dir: dir, Log: discardLog()}
		n, err := r.RunOnce(ctx, *now)
		if err != nil || n != 10 {
			t.Fatalf("RunOnce = %d, %v; want 10 archived", n, err)
		}
		v, err := audit.Verify(ctx, st, nil)
		if err != nil {
			t.Fatalf("after retention: %v", err)
		}
		// Events 11..25 are left, and retention's own event is 26.
		if v.From != 11 || v.To != 26 {
			t.Errorf("verified %+v, want 11 to 26", v)
		}
		archived := readArchive(t, dir)
		if len(archived) != 10 || archived[0].Seq != 1 || archived[9].Seq != 10 {
			t.Fatalf("archive holds %d events, want 1..10", len(archived))
		}
		// The archive continues the chain the store kept.
		for i, e := range archived {
			h, err := audit.ComputeHash(&e)
			if err != nil || h != e.Hash || (i > 0 && e.PrevHash != archived[i-1].Hash) {
				t.Errorf("archived event %d does not verify", e.Seq)
			}
		}
		head, err := st.ReadAuditHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if head.ArchivedSeq != 10 || head.ArchivedHash != archived[9].Hash {
			t.Errorf("archived head = %d %s, want 10 %s", head.ArchivedSeq, head.ArchivedHash, archived[9].Hash)
		}
	})
}

func TestAuditCursorLease(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		st := openTestStore(t, eng, Options{Now: func() time.Time { return now }})
		ctx := context.Background()
		if _, ok, err := st.LeaseAuditCursor(ctx, "file:x", "a", time.Minute); err != nil || !ok {
			t.Fatalf("first lease: %v %v", ok, err)
		}
		if _, ok, _ := st.LeaseAuditCursor(ctx, "file:x", "b", time.Minute); ok {
			t.Fatal("b took a's unexpired lease")
		}
		if err := st.SetAuditCursor(ctx, "file:x", "a", 42); err != nil {
			t.Fatal(err)
		}
		now = now.Add(2 * time.Minute)
		seq, ok, err := st.LeaseAuditCursor(ctx, "file:x", "b", time.Minute)
		if err != nil || !ok || seq != 42 {
			t.Fatalf("b after expiry: seq=%d ok=%v err=%v, want 42 true", seq, ok, err)
		}
		if err := st.SetAuditCursor(ctx, "file:x", "a", 50); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("a writing after losing its lease: %v, want ErrLeaseLost", err)
		}
	})
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func readArchive(t *testing.T, dir string) []audit.Event {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []audit.Event
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var e audit.Event
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, e)
		}
	}
	return out
}

// TestAuditTimesNeverGoBack: an event appended by a replica whose clock is
// behind the last event's gets the last event's time, so that time order
// is seq order.
func TestAuditTimesNeverGoBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		st := openTestStore(t, eng, Options{Now: func() time.Time { return now }})
		ctx := context.Background()
		ev := audit.Event{Actor: audit.SystemProcessing, Action: audit.EntityUpdated, Target: "x", Outcome: audit.Succeeded, Severity: audit.Low}
		if err := st.AppendAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
		now = now.Add(-time.Minute)
		if err := st.AppendAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
		events, err := st.AuditEvents(ctx, audit.Query{After: 0, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || !events[0].Time.Equal(events[1].Time) {
			t.Errorf("times = %v, want the second event at the first one's time", events)
		}
		if _, err := audit.Verify(ctx, st, nil); err != nil {
			t.Error(err)
		}
	})
}
