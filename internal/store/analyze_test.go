package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// TestStatisticsRefreshRunsInTheBackground holds up a statistics refresh
// on PostgreSQL with a lock ANALYZE waits for: the write that asked for it
// must not wait, and a refresh asked for meanwhile must run after it, so
// that the statistics end up covering everything written.
func TestStatisticsRefreshRunsInTheBackground(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		if eng != storetest.Postgres {
			t.Skip("SQLite's planner works without statistics")
		}
		f := newFixture(t, eng)
		st := f.st
		st.Settle() // whatever the fixture's load started
		st.analyzeMu.Lock()
		total := st.sinceAnalyze + st.analyzedAt
		st.analyzeMu.Unlock()

		hold := holdAnalyze(t, st)

		done := make(chan struct{})
		go func() {
			st.analyzeAfter(1500, false)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("asking for a statistics refresh waited for it")
		}
		// The next request must come while the refresh runs.
		waitForHeldAnalyze(t, st)
		st.analyzeAfter(600, true)
		if err := hold.Commit(); err != nil {
			t.Fatal(err)
		}
		st.Settle()

		st.analyzeMu.Lock()
		defer st.analyzeMu.Unlock()
		if st.analyzing {
			t.Error("a refresh is still marked running after the background work ended")
		}
		if st.sinceAnalyze != 0 || st.analyzedAt != total+2100 {
			t.Errorf("after the refreshes: %d entities written since the last, %d before it; want 0 and %d",
				st.sinceAnalyze, st.analyzedAt, total+2100)
		}
	})
}

// TestCloseLetsAStatisticsRefreshFinish: a refresh cancelled halfway
// leaves PostgreSQL planning for a catalog a fraction of its size, so
// Close waits for a running one instead of cancelling it.
func TestCloseLetsAStatisticsRefreshFinish(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		if eng != storetest.Postgres {
			t.Skip("SQLite's planner works without statistics")
		}
		f := newFixture(t, eng)
		st := f.st
		st.Settle()

		hold := holdAnalyze(t, st)
		st.analyzeAfter(1500, true)
		waitForHeldAnalyze(t, st)

		closed := make(chan struct{})
		go func() {
			st.Close()
			close(closed)
		}()
		select {
		case <-closed:
			t.Fatal("Close returned while a statistics refresh was running")
		case <-time.After(300 * time.Millisecond):
		}
		if err := hold.Commit(); err != nil {
			t.Fatal(err)
		}
		<-closed
		st.analyzeMu.Lock()
		defer st.analyzeMu.Unlock()
		if st.sinceAnalyze != 0 {
			t.Errorf("%d entities written since the last refresh after Close: the running one did not finish", st.sinceAnalyze)
		}
	})
}

// holdAnalyze starts a transaction holding a lock that ANALYZE of the
// store's tables waits for, until it ends.
func holdAnalyze(t *testing.T, st *Store) *sql.Tx {
	t.Helper()
	hold, err := st.w.db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hold.Rollback() })
	if _, err := hold.Exec(`LOCK TABLE audit_events IN SHARE UPDATE EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return hold
}

// waitForHeldAnalyze waits until a statistics refresh waits for the lock
// holdAnalyze takes.
func waitForHeldAnalyze(t *testing.T, st *Store) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		var waiting int
		if err := st.r.db.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'ANALYZE%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("no statistics refresh started")
		}
	}
}
