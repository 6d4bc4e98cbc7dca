package store

import (
	"context"
	"encoding/json"
	"fmt"
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
				for _, key := range keys {
					// Ordered by a key, leaving out the entities lacking it.
					order := []filter.Order{{Field: key}}
					n, err := f.st.count(ctx, Query{Filter: fast, Order: order, DropMissing: true}, false)
					if err != nil {
						t.Fatal(err)
					}
					var b sqlBuilder
					b.where("key = "+b.arg(key), "first = 1", b.compile(slow, "entity_id"))
					var want int
					if err := f.st.r.QueryRowContext(ctx, `SELECT count(*) FROM search`+b.whereSQL(), b.args...).Scan(&want); err != nil {
						t.Fatal(err)
					}
					if n != want {
						t.Errorf("%s: kinds %v having %s = %d, counted over search rows %d", step, kinds, key, n, want)
					}
				}
			}
		}
		check(t, "fixture")
		if got := queryFacetRows(t, f.st, `SELECT kind, key, value, original, count FROM facet_counts WHERE key = 'kind' AND value = kind`); len(got) != 2 {
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
	args = append(append(args, filter.LongValue, filter.LongValue), args...)
	return queryFacetRows(t, st, `SELECT k.value, s.key, s.value, coalesce(s.original_value, s.value), count(*)
		FROM search s JOIN search k ON k.key = 'kind' AND k.entity_id = s.entity_id
		WHERE s.key IN (`+strings.Join(keys, ", ")+`) AND s.value <> ?
		GROUP BY k.value, s.key, s.value, coalesce(s.original_value, s.value)
		UNION ALL
		SELECT k.value, s.key, ?, ?, count(DISTINCT s.entity_id)
		FROM search s JOIN search k ON k.key = 'kind' AND k.entity_id = s.entity_id
		WHERE s.key IN (`+strings.Join(keys, ", ")+`) AND s.value <> ?
		GROUP BY k.value, s.key`, args...)
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

// TestCountByLists holds the merged id lists to SQL's count of the same
// filter, on both engines.
func TestCountByLists(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		kind := func(k ...string) filter.Expr { return filter.Match{Key: "kind", Values: k} }
		filters := []filter.Expr{
			filter.All{Exprs: []filter.Expr{kind("component"), filter.Match{Key: "spec.type", Values: []string{"service"}}}},
			filter.All{Exprs: []filter.Expr{kind("component", "group"), filter.Exists{Key: "metadata.tags"}}},
			filter.All{Exprs: []filter.Expr{filter.Match{Key: "metadata.tags", Values: []string{"go", "kafka", "zig"}}, filter.Exists{Key: "metadata.title"}}},
			filter.All{Exprs: []filter.Expr{kind("component"), filter.HasPrefix{Key: "metadata.name", Prefix: "e"}}},
			filter.All{Exprs: []filter.Expr{kind("component"), filter.All{Exprs: []filter.Expr{filter.Exists{Key: "relations.ownedby"}, filter.Match{Key: "spec.type", Values: []string{"service", "website"}}}}}},
			filter.All{Exprs: []filter.Expr{kind("group"), filter.Match{Key: "spec.type", Values: []string{"service"}}}},
		}
		for _, flt := range filters {
			terms, ok := listTerms(flt, nil)
			if !ok {
				t.Fatalf("%v is not a conjunction", flt)
			}
			got, err := f.st.intersectCount(ctx, terms)
			if err != nil {
				t.Fatal(err)
			}
			var b sqlBuilder
			b.where(b.compile(flt, "fe.id"))
			var want int
			if err := f.st.r.QueryRowContext(ctx, `SELECT count(*) FROM final_entities fe`+b.whereSQL(), b.args...).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%v: merged lists count %d, SQL %d", flt, got, want)
			}
			if want == 0 && !strings.Contains(fmt.Sprint(flt), "group") {
				t.Errorf("%v matches nothing: a weak case", flt)
			}
			page, err := f.st.QueryEntities(ctx, Query{Filter: flt, CountTotal: true, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if page.TotalItems != want {
				t.Errorf("%v: TotalItems %d, want %d", flt, page.TotalItems, want)
			}
		}
		// A kind beside a type only that kind has is not read.
		for _, tt := range []struct {
			kinds []string
			typ   string
			want  int
		}{
			{[]string{"component"}, "service", 1},
			{[]string{"component", "group"}, "team", 1},
			{[]string{"component"}, "team", 2},
		} {
			terms, _ := listTerms(filter.All{Exprs: []filter.Expr{kind(tt.kinds...), filter.Match{Key: "spec.type", Values: []string{tt.typ}}}}, nil)
			got, err := f.st.withoutRedundantKind(ctx, terms)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("kinds %v beside type %s: %d terms left, want %d", tt.kinds, tt.typ, len(got), tt.want)
			}
		}
		for _, tt := range []struct{ a, b, want []int64 }{
			{[]int64{1, 3, 5, 7}, []int64{2, 3, 7, 9}, []int64{3, 7}},
			{[]int64{1, 2}, nil, []int64{}},
			{[]int64{5}, []int64{1, 2, 3, 4, 5}, []int64{5}},
		} {
			if got := intersectSorted(slices.Clone(tt.a), tt.b); !slices.Equal(got, tt.want) {
				t.Errorf("intersectSorted(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		}
	})
}

// TestRelationsFollowTheirEntity changes and deletes an entity that emits
// relations and checks both ends: an entity's stored list of the rows it
// emitted (which names the entity itself in short) must find every one of
// them again.
func TestRelationsFollowTheirEntity(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		relationsOf := func(name, kind string) []string {
			t.Helper()
			body, err := f.st.EntityByRef(ctx, strings.ToLower(kind)+":default/"+name)
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Relations []struct{ Type, TargetRef string }
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range e.Relations {
				out = append(out, r.Type+" "+r.TargetRef)
			}
			slices.Sort(out)
			return out
		}
		if got := relationsOf("alpha", "component"); !slices.Equal(got, []string{"ownedBy group:default/team-a"}) {
			t.Fatalf("alpha's relations = %v", got)
		}
		catalog := slices.Clone(fixtureEntities)
		i := slices.IndexFunc(catalog, func(e testEntity) bool { return e.name == "alpha" })
		catalog[i].owner, catalog[i].title = "team-b", "Alpha, moved" // a new input, processed again
		f.ingest(t, catalog)
		if got := relationsOf("alpha", "component"); !slices.Equal(got, []string{"ownedBy group:default/team-b"}) {
			t.Errorf("alpha's relations after changing its owner = %v", got)
		}
		if got := relationsOf("team-a", "group"); slices.Contains(got, "ownerOf component:default/alpha") {
			t.Errorf("team-a still owns alpha: %v", got)
		}
		if _, err := f.st.DeleteByUID(ctx, f.uids["alpha"]); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := f.st.Stitch(ctx, 100); err != nil {
				t.Fatal(err)
			}
		}
		if got := relationsOf("team-b", "group"); slices.Contains(got, "ownerOf component:default/alpha") {
			t.Errorf("team-b still owns the deleted alpha: %v", got)
		}
		var left int
		if err := f.st.r.QueryRowContext(ctx, `SELECT count(*) FROM relations WHERE source_ref = ? OR target_ref = ?`,
			"component:default/alpha", "component:default/alpha").Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%d relation rows of the deleted alpha are left", left)
		}
	})
}
