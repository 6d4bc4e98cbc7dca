package store

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// TestCountAndFacetCache checks that counts and facets are answered from
// the cache while the catalog is unchanged, and recomputed after every kind
// of change: a new entity, a changed one, one its provider dropped, one
// deleted by uid.
func TestCountAndFacetCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		component := filter.Match{Key: "kind", Values: []string{"component"}}
		service := filter.Match{Key: "spec.type", Values: []string{"service"}}
		counts := []struct {
			name   string
			filter filter.Expr
			keep   func(testEntity) bool
		}{
			{"all", nil, func(testEntity) bool { return true }},
			{"kind=component, driven by the index", component, func(e testEntity) bool { return e.kind == "Component" }},
			{"kind=component or api", filter.Match{Key: "kind", Values: []string{"component", "api"}}, func(e testEntity) bool { return e.kind == "Component" }},
			{"spec.type=service", service, func(e testEntity) bool { return e.specType == "service" }},
			{"component without title", filter.All{Exprs: []filter.Expr{component, filter.Not{Expr: filter.Exists{Key: "metadata.title"}}}},
				func(e testEntity) bool { return e.kind == "Component" && e.title == "" }},
		}
		facets := []string{"kind", "spec.type"}
		// facetsOf computes the facets the store should report for entities.
		facetsOf := func(entities []testEntity) map[string][]FacetCount {
			out := map[string][]FacetCount{}
			for _, facet := range facets {
				n := map[string]int{}
				for _, e := range entities {
					v := e.kind
					if facet == "spec.type" {
						v = e.specType
					}
					if v != "" {
						n[v]++
					}
				}
				counts := []FacetCount{}
				for v, c := range n {
					counts = append(counts, FacetCount{Value: v, Count: c})
				}
				slices.SortFunc(counts, func(a, b FacetCount) int { return strings.Compare(a.Value, b.Value) })
				out[facet] = counts
			}
			return out
		}
		// check asserts the counts and facets the store reports for the
		// catalog entities, twice: computed, then from the cache.
		check := func(t *testing.T, step string, entities []testEntity) {
			t.Helper()
			for range 2 {
				for _, c := range counts {
					want := 0
					for _, e := range entities {
						if c.keep(e) {
							want++
						}
					}
					page, err := f.st.QueryEntities(ctx, Query{Filter: c.filter, CountTotal: true})
					if err != nil {
						t.Fatal(err)
					}
					if page.TotalItems != want {
						t.Errorf("%s: count %s = %d, want %d", step, c.name, page.TotalItems, want)
					}
				}
				got, err := f.st.Facets(ctx, facets, nil)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(facetsOf(entities), got); diff != "" {
					t.Errorf("%s: facets (-want +got):\n%s", step, diff)
				}
			}
		}

		catalog := slices.Clone(fixtureEntities)
		check(t, "start", catalog)

		// The cache answers while the generation stands: a row slipped into the
		// search table behind the store's back goes unseen until a real change.
		teamA := f.uids["team-a"]
		if _, err := f.st.w.ExecContext(ctx, `INSERT INTO search (key, value, entity_id, original_value, first)
		SELECT 'spec.type', 'service', id, NULL, 0 FROM final_entities WHERE uid = ?`, teamA); err != nil {
			t.Fatal(err)
		}
		check(t, "unchanged generation", catalog)
		if _, err := f.st.w.ExecContext(ctx, `DELETE FROM search WHERE key = 'spec.type' AND value = 'service'
		AND entity_id = (SELECT id FROM final_entities WHERE uid = ?)`, teamA); err != nil {
			t.Fatal(err)
		}

		catalog = append(catalog, testEntity{kind: "Component", name: "golf", specType: "service"})
		f.ingest(t, catalog)
		check(t, "after adding golf", catalog)

		i := slices.IndexFunc(catalog, func(e testEntity) bool { return e.name == "delta" })
		catalog[i].specType = "service"
		f.ingest(t, catalog)
		check(t, "after changing delta's type", catalog)

		catalog = slices.DeleteFunc(catalog, func(e testEntity) bool { return e.name == "bravo" })
		f.ingest(t, catalog)
		check(t, "after the provider dropped bravo", catalog)

		if _, err := f.st.DeleteByUID(ctx, f.uids["charlie"]); err != nil {
			t.Fatal(err)
		}
		catalog = slices.DeleteFunc(catalog, func(e testEntity) bool { return e.name == "charlie" })
		check(t, "after deleting charlie by uid", catalog)
	})
}

// TestGenerationBumps checks which writes move the catalog generation:
// those that change final entities or delete entities, and not a stitch
// that rewrites nothing.
func TestGenerationBumps(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		gen := func() int64 {
			t.Helper()
			g, err := f.st.generation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
		g0 := gen()
		if g0 == 0 {
			t.Errorf("generation is 0 after ingesting the fixture")
		}
		f.ingest(t, fixtureEntities)
		if g := gen(); g != g0 {
			t.Errorf("generation %d -> %d after ingesting an unchanged catalog", g0, g)
		}
		if _, err := f.st.DeleteOrphans(ctx); err != nil {
			t.Fatal(err)
		}
		if g := gen(); g != g0 {
			t.Errorf("generation %d -> %d after deleting no orphans", g0, g)
		}
		if _, err := f.st.DeleteByUID(ctx, f.uids["alpha"]); err != nil {
			t.Fatal(err)
		}
		g1 := gen()
		if g1 <= g0 {
			t.Errorf("generation %d -> %d after deleting alpha", g0, g1)
		}
		// A provider dropping an entity deletes it at once, before any stitch.
		var roots []Child
		for _, e := range fixtureEntities {
			if e.name != "alpha" && e.name != "fox_trot" {
				roots = append(roots, Child{Ref: e.ref().Key(), Entity: json.RawMessage(e.json()), LocationKey: "test"})
			}
		}
		if _, err := f.st.ReplaceRoots(ctx, "test", roots, false); err != nil {
			t.Fatal(err)
		}
		if g := gen(); g <= g1 {
			t.Errorf("generation %d -> %d after the provider dropped fox_trot", g1, g)
		}
	})
}

// TestStaleFacets checks that with StaleFacets a change first serves the
// previous counts, then the new ones once the background recomputation
// has landed; and that counts older than StaleFacets are never served.
func TestStaleFacets(t *testing.T) {
	f := newFixture(t, storetest.SQLite)
	ctx := context.Background()
	f.st.staleFacets = time.Hour
	f.st.staleMinCost = 0 // the fixture's facets are cheap
	kinds := func() []FacetCount {
		t.Helper()
		got, err := f.st.Facets(ctx, []string{"kind"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return got["kind"]
	}
	before := kinds()
	if _, err := f.st.DeleteByUID(ctx, f.uids["team-a"]); err != nil {
		t.Fatal(err)
	}
	if got := kinds(); !cmp.Equal(got, before) {
		t.Errorf("first request after a change = %v, want the stale %v", got, before)
	}
	f.st.background.Wait()
	want := []FacetCount{{Value: "Component", Count: 6}, {Value: "Group", Count: 1}}
	if got := kinds(); !cmp.Equal(got, want) {
		t.Errorf("after the background refresh = %v, want %v", got, want)
	}
	// Too cheap to serve stale: computed at once.
	f.st.staleMinCost = time.Hour
	if _, err := f.st.DeleteByUID(ctx, f.uids["team-b"]); err != nil {
		t.Fatal(err)
	}
	want = []FacetCount{{Value: "Component", Count: 6}}
	if got := kinds(); !cmp.Equal(got, want) {
		t.Errorf("with a cheap facet = %v, want %v", got, want)
	}
	// Too old to serve: computed at once.
	f.st.staleMinCost = 0
	f.st.staleFacets = 0
	if _, err := f.st.DeleteByUID(ctx, f.uids["alpha"]); err != nil {
		t.Fatal(err)
	}
	want = []FacetCount{{Value: "Component", Count: 5}}
	if got := kinds(); !cmp.Equal(got, want) {
		t.Errorf("without staleness = %v, want %v", got, want)
	}
}
