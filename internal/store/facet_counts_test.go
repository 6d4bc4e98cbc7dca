package store

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// TestFacetCountsFollowTheSearchRows changes a catalog in every way that
// writes search rows and checks after each change that facet_counts holds
// exactly what counting the search rows gives, and that facets and totals
// read from it answer as the same queries over the search rows.
func TestFacetCountsFollowTheSearchRows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		check := func(t *testing.T, step string) {
			t.Helper()
			want := facetCountsFromSearch(t, f.st)
			got := queryFacetRows(t, f.st, `SELECT kind, key, value, original, count FROM facet_counts`)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: facet_counts (-counted from search +kept):\n%s", step, diff)
			}
			var keys []string
			for k := range countedFacets {
				keys = append(keys, k)
			}
			for _, kinds := range [][]string{nil, {"component"}, {"group"}, {"component", "group"}, {"nothing"}} {
				var fast, slow filter.Expr = nil, filter.All{}
				if kinds != nil {
					fast = filter.Match{Key: "kind", Values: kinds}
					slow = filter.All{Exprs: []filter.Expr{fast}} // not a bare match: counted over search rows
				}
				gotFacets, err := f.st.Facets(ctx, keys, fast)
				if err != nil {
					t.Fatal(err)
				}
				wantFacets, err := f.st.Facets(ctx, keys, slow)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(wantFacets, gotFacets); diff != "" {
					t.Errorf("%s: facets of kinds %v (-search rows +facet_counts):\n%s", step, kinds, diff)
				}
				gotPage, err := f.st.QueryEntities(ctx, Query{Filter: fast, CountTotal: true, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				wantPage, err := f.st.QueryEntities(ctx, Query{Filter: slow, CountTotal: true, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				if gotPage.TotalItems != wantPage.TotalItems {
					t.Errorf("%s: total of kinds %v = %d, counted over search rows %d", step, kinds, gotPage.TotalItems, wantPage.TotalItems)
				}
			}
		}
		check(t, "fixture")
		if got := queryFacetRows(t, f.st, `SELECT kind, key, value, original, count FROM facet_counts WHERE key = 'kind'`); len(got) != 2 {
			t.Fatalf("kind rows = %v, want one per kind", got)
		}

		catalog := slices.Clone(fixtureEntities)
		catalog = append(catalog, testEntity{kind: "Component", name: "golf", specType: "Service", tags: []string{"Go", "rust"}, owner: "team-b"})
		f.ingest(t, catalog)
		check(t, "after adding golf, whose type and tag differ in case only")

		i := slices.IndexFunc(catalog, func(e testEntity) bool { return e.name == "alpha" })
		catalog[i].specType, catalog[i].tags, catalog[i].owner = "website", []string{"kafka"}, "team-b"
		f.ingest(t, catalog)
		check(t, "after changing alpha's type, tags and owner")

		catalog = slices.DeleteFunc(catalog, func(e testEntity) bool { return e.name == "bravo" })
		f.ingest(t, catalog)
		if _, err := f.st.DeleteOrphans(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, "after the provider dropped bravo")

		if _, err := f.st.DeleteByUID(ctx, f.uids["charlie"]); err != nil {
			t.Fatal(err)
		}
		check(t, "after deleting charlie by uid")

		if _, err := f.st.DeleteByUID(ctx, f.uids["team-a"]); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := f.st.Stitch(ctx, 100); err != nil {
				t.Fatal(err)
			}
		}
		check(t, "after deleting a group that owned components")
		if got := queryFacetRows(t, f.st, `SELECT kind, key, value, original, count FROM facet_counts WHERE count <= 0`); len(got) != 0 {
			t.Errorf("rows counting nothing are kept: %v", got)
		}

		// The migration fills the table of a catalog stored before it.
		name := "migrations/sqlite/0006_facet_counts.sql"
		if eng == storetest.Postgres {
			name = "migrations/postgres/0007_facet_counts.sql"
		}
		script, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		_, fill, ok := strings.Cut(string(script), "\nINSERT INTO facet_counts")
		if !ok {
			t.Fatalf("%s has no INSERT after its CREATE TABLE", name)
		}
		if _, err := f.st.w.ExecContext(ctx, `DELETE FROM facet_counts`); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.w.ExecContext(ctx, "INSERT INTO facet_counts"+fill); err != nil {
			t.Fatal(err)
		}
		check(t, "after the migration filled an emptied table")
	})
}

// facetCountsFromSearch counts the counted facets over the search rows,
// with each entity's kind from its own kind row.
func facetCountsFromSearch(t *testing.T, st *Store) []facetCountRow {
	t.Helper()
	keys := make([]string, 0, len(countedFacets))
	args := []any{}
	for k := range countedFacets {
		keys = append(keys, "?")
		args = append(args, k)
	}
	args = append(args, filter.LongValue)
	return queryFacetRows(t, st, `SELECT k.value, s.key, s.value, coalesce(s.original_value, s.value), count(*)
		FROM search s JOIN search k ON k.key = 'kind' AND k.entity_id = s.entity_id
		WHERE s.key IN (`+strings.Join(keys, ", ")+`) AND s.value <> ?
		GROUP BY k.value, s.key, s.value, coalesce(s.original_value, s.value)`, args...)
}

type facetCountRow struct {
	Kind, Key, Value, Original string
	Count                      int
}

func queryFacetRows(t *testing.T, st *Store, query string, args ...any) []facetCountRow {
	t.Helper()
	rows, err := st.r.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []facetCountRow{}
	for rows.Next() {
		var r facetCountRow
		if err := rows.Scan(&r.Kind, &r.Key, &r.Value, &r.Original, &r.Count); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b facetCountRow) int {
		return compareFacetRows(facetRow{a.Key, a.Kind, a.Value, a.Original}, facetRow{b.Key, b.Kind, b.Value, b.Original})
	})
	return out
}
