package permission_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// openCatalog returns a store holding entities (final entities in JSON,
// whose relations become the stored edges), ingested through the store's
// own processing and stitching, and the final entities it serves.
func openCatalog(t *testing.T, e storetest.Engine, entities []string) (*store.Store, []*entity.Entity) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := store.Options{Now: func() time.Time { return now }}
	var st *store.Store
	var err error
	if e == storetest.Postgres {
		st, err = store.OpenPostgres(ctx, storetest.PostgresURL(t), opts)
	} else {
		st, err = store.Open(ctx, storetest.SQLitePath(t), opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	var roots []store.Child
	edges := map[string][]entity.Edge{}
	for _, raw := range entities {
		ent := parseEntity(t, raw)
		ref := ent.Ref()
		for _, r := range ent.Relations {
			edges[ref.Key()] = append(edges[ref.Key()], entity.Edge{Source: ref, Type: r.Type, Target: entity.MustParseRef(r.TargetRef)})
		}
		ent.Relations = nil
		body, err := json.Marshal(ent)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, store.Child{Ref: ref.Key(), Entity: body, LocationKey: "test"})
	}
	if _, err := st.ReplaceRoots(ctx, "test", roots, false); err != nil {
		t.Fatal(err)
	}
	iv := store.Interval{Min: time.Hour, Max: 2 * time.Hour}
	work, err := st.ClaimDue(ctx, 100, iv)
	if err != nil {
		t.Fatal(err)
	}
	var results []store.Result
	for _, w := range work {
		results = append(results, store.Result{Work: w, OK: true, Processed: w.Unprocessed, ResultHash: fmt.Sprintf("h-%d", len(w.Unprocessed)), Relations: edges[w.Ref]})
	}
	if _, err := st.WriteResults(ctx, results, iv); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		stats, err := st.Stitch(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Consumed == 0 {
			break
		}
		if i == 10 {
			t.Fatal("stitch queue does not drain")
		}
	}
	page, err := st.QueryEntities(ctx, store.Query{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != len(entities) {
		t.Fatalf("store serves %d entities, want %d", len(page.Items), len(entities))
	}
	var final []*entity.Entity
	for _, b := range page.Items {
		final = append(final, parseEntity(t, string(b)))
	}
	return st, final
}

// TestFilterAndMatchesAgree checks that every sample condition selects the
// same entities as a filter in the real store's SQL as Matches does on
// each entity the store serves, and that both select what the table says.
func TestFilterAndMatchesAgree(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		st, final := openCatalog(t, e, sampleEntities)
		for _, tt := range sampleConditions {
			t.Run(tt.name, func(t *testing.T) {
				f, err := tt.c.Filter()
				if err != nil {
					t.Fatal(err)
				}
				page, err := st.QueryEntities(context.Background(), store.Query{Filter: f, Limit: -1})
				if err != nil {
					t.Fatal(err)
				}
				var inSQL []string
				for _, b := range page.Items {
					inSQL = append(inSQL, parseEntity(t, string(b)).Metadata.Name)
				}
				var matched []string
				for _, ent := range final {
					ok, err := tt.c.Matches(bob, ent)
					if err != nil {
						t.Fatal(err)
					}
					if ok {
						matched = append(matched, ent.Metadata.Name)
					}
				}
				want := slices.Sorted(slices.Values(tt.want))
				slices.Sort(inSQL)
				slices.Sort(matched)
				if diff := cmp.Diff(want, inSQL); diff != "" {
					t.Errorf("store with Filter() mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(inSQL, matched); diff != "" {
					t.Errorf("Matches disagrees with the store (-store +Matches):\n%s", diff)
				}
			})
		}
	})
}
