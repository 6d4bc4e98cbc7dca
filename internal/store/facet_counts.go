package store

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// countedFacets are the search keys whose values are counted per kind in
// facet_counts: the facets the catalog pages (and Backstage's pickers) ask
// for on every view. Adding one needs a migration that fills its rows.
var countedFacets = map[string]bool{
	"kind": true, "spec.type": true, "spec.lifecycle": true,
	"metadata.namespace": true, "metadata.tags": true, "relations.ownedby": true,
}

// facetRow identifies one row of facet_counts.
type facetRow struct {
	key, kind, value, original string
}

func compareFacetRows(a, b facetRow) int {
	return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.kind, b.kind),
		cmp.Compare(a.value, b.value), cmp.Compare(a.original, b.original))
}

// facetDelta is a change of one facet_counts row.
type facetDelta struct {
	row facetRow
	n   int
}

// kindOfRef returns the lowercased kind of a lowercased entity ref key.
func kindOfRef(ref string) string {
	kind, _, _ := strings.Cut(ref, ":")
	return kind
}

// facetRowOf returns the facet_counts row a search row counts in, if any.
func facetRowOf(kind string, r filter.SearchRow) (facetRow, bool) {
	if !countedFacets[r.Key] || r.Value == filter.LongValue {
		return facetRow{}, false
	}
	original := r.Original
	if original == "" {
		original = r.Value
	}
	return facetRow{key: r.Key, kind: kind, value: r.Value, original: original}, true
}

// facetChanges lists how an entity of kind changes the counts when its
// search rows go from prev to next.
func facetChanges(kind string, prev, next []filter.SearchRow) []facetDelta {
	was, is := facetRowsOf(kind, prev), facetRowsOf(kind, next)
	var out []facetDelta
	for fr := range is {
		if !was[fr] {
			out = append(out, facetDelta{fr, 1})
		}
	}
	for fr := range was {
		if !is[fr] {
			out = append(out, facetDelta{fr, -1})
		}
	}
	return out
}

// facetRowsOf returns the facet_counts rows an entity of kind with these
// search rows counts in: one per counted value, and for each counted key
// it has a value of, the key's hasValue row.
func facetRowsOf(kind string, rows []filter.SearchRow) map[facetRow]bool {
	out := map[facetRow]bool{}
	for _, r := range rows {
		if fr, ok := facetRowOf(kind, r); ok {
			out[fr] = true
			out[facetRow{key: r.Key, kind: kind, value: hasValue, original: hasValue}] = true
		}
	}
	return out
}

// hasValue is the value and original of the row that counts the entities
// having any value of a key (the count of a query ordered by the key
// that leaves out entities lacking it). It is filter.LongValue, which no
// counted value can be.
const hasValue = filter.LongValue

// facetTally sums the changes a transaction makes to facet_counts.
type facetTally map[facetRow]int

func (t facetTally) add(ds []facetDelta) {
	for _, d := range ds {
		t[d.row] += d.n
	}
}

// flush applies the tally in its transaction, in key order (so that
// concurrent transactions on PostgreSQL lock the rows in one order), and
// deletes the rows it brought to zero.
func (t facetTally) flush(ctx context.Context, tx *txn) error {
	rows := slices.SortedFunc(maps.Keys(t), compareFacetRows)
	up := newBulk(ctx, tx, "facet_counts", []string{"kind", "key", "value", "original", "count"},
		` ON CONFLICT (key, kind, value, original) DO UPDATE SET count = facet_counts.count + excluded.count`)
	defer up.close()
	var emptied []facetRow
	for _, r := range rows {
		n := t[r]
		if n == 0 {
			continue
		}
		if err := up.add(r.kind, r.key, r.value, r.original, n); err != nil {
			return fmt.Errorf("count facets: %w", err)
		}
		if n < 0 {
			emptied = append(emptied, r)
		}
	}
	if err := up.flush(); err != nil {
		return fmt.Errorf("count facets: %w", err)
	}
	for _, r := range emptied {
		if _, err := tx.ExecContext(ctx, `DELETE FROM facet_counts WHERE key = ? AND kind = ? AND value = ? AND original = ? AND count <= 0`,
			r.key, r.kind, r.value, r.original); err != nil {
			return fmt.Errorf("count facets: %w", err)
		}
	}
	clear(t)
	return nil
}

// countedKinds reports whether f is answered from facet_counts: no filter,
// or a match on kinds alone. It returns the kinds, nil for all.
func countedKinds(f filter.Expr) ([]string, bool) {
	switch t := f.(type) {
	case nil:
		return nil, true
	case filter.Match:
		if t.Key == "kind" && len(t.Values) > 0 {
			return t.Values, true
		}
	}
	return nil, false
}

// countedFacetQuery is the facet_counts query of a facet key for kinds (nil
// for all), answering as the query over the search rows does.
func countedFacetQuery(key string, kinds []string) (string, []any) {
	var b sqlBuilder
	b.where("key = "+b.arg(key), "value <> "+b.arg(hasValue))
	if kinds != nil {
		b.where(b.in("kind", kinds))
	}
	return `SELECT original, CAST(sum(count) AS BIGINT) FROM facet_counts` + b.whereSQL() + ` GROUP BY original ORDER BY original`, b.args
}

// countedTotal is the facet_counts query for the number of entities of
// kinds (nil for all) that have a value of key: every entity has one
// "kind", so with that key it counts the entities.
func countedTotal(key string, kinds []string) (string, []any) {
	var b sqlBuilder
	b.where("key = "+b.arg(key), "value = "+b.arg(hasValue))
	if kinds != nil {
		b.where(b.in("kind", kinds))
	}
	return `SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM facet_counts` + b.whereSQL(), b.args
}
