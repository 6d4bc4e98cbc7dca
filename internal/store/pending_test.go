package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// TestPendingCountsClaimedFirstProcessing checks that an entity claimed
// for its first processing counts as pending until its result is written:
// the claim moves its next refresh into the future, and callers waiting
// for the catalog to catch up (the app's warm-up) must not stop there.
func TestPendingCountsClaimedFirstProcessing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		st := openTestStore(t, eng, Options{Now: func() time.Time { return now }})
		iv := Interval{Min: time.Hour, Max: 2 * time.Hour}
		loc := `{"apiVersion":"backstage.io/v1alpha1","kind":"Location","metadata":{"name":"root"},"spec":{"targets":[]}}`
		if _, err := st.ReplaceRoots(ctx, "test", []Child{{Ref: "location:default/root", Entity: json.RawMessage(loc), LocationKey: "test"}}, false); err != nil {
			t.Fatal(err)
		}
		pending := func(step string, want int) {
			t.Helper()
			due, _, err := st.Pending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if due != want {
				t.Errorf("%s: %d due, want %d", step, due, want)
			}
		}
		pending("before the claim", 1)
		work, err := st.ClaimDue(ctx, 10, iv)
		if err != nil || len(work) != 1 {
			t.Fatalf("claimed %v (err %v), want the root", work, err)
		}
		pending("claimed, not yet written", 1)
		if _, err := st.WriteResults(ctx, []Result{{Work: work[0], OK: true, Processed: work[0].Unprocessed, ResultHash: "h"}}, iv); err != nil {
			t.Fatal(err)
		}
		pending("written", 0)

		// Claimed again at its next refresh, it is already served: not pending.
		now = now.Add(3 * time.Hour)
		if work, err = st.ClaimDue(ctx, 10, iv); err != nil || len(work) != 1 {
			t.Fatalf("claimed %v (err %v) at the next refresh", work, err)
		}
		pending("claimed for a refresh", 0)
	})
}
