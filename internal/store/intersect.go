package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// listTerm is one condition of a conjunction, read as the list of the
// entity ids whose search rows satisfy it.
type listTerm struct {
	where string
	args  []any
	// match is the term's filter when it is a match.
	match *filter.Match
}

// listTerms breaks f into the terms of a conjunction of matches,
// existences and prefixes, reporting false for anything else (Not, Any,
// a match of no value).
func listTerms(f filter.Expr, out []listTerm) ([]listTerm, bool) {
	switch t := f.(type) {
	case nil:
		return out, true
	case filter.All:
		for _, e := range t.Exprs {
			var ok bool
			if out, ok = listTerms(e, out); !ok {
				return nil, false
			}
		}
		return out, true
	case filter.Match:
		if len(t.Values) == 0 {
			return nil, false
		}
		args := []any{t.Key}
		for _, v := range t.Values {
			args = append(args, v)
		}
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(t.Values)), ", ")
		return append(out, listTerm{"key = ? AND value IN (" + ph + ")", args, &t}), true
	case filter.Exists:
		return append(out, listTerm{"key = ?", []any{t.Key}, nil}), true
	case filter.HasPrefix:
		return append(out, listTerm{"key = ? AND value >= ? AND value < ?",
			[]any{t.Key, t.Prefix, t.Prefix + "\U0010FFFF"}, nil}), true
	}
	return nil, false
}

// intersectCount counts the entities in every term's list. Each list is
// one range of the search index read in order; merging sorted id lists
// costs a few milliseconds per 100,000 ids, where SQL builds a temporary
// index of every list but the first (several times slower) or probes the
// index once per id of the first.
//
// The lists are read by separate statements, so a write committed in
// between can make the count mix two states of the catalog. The count is
// cached under the generation read before it, which that write moved on:
// only requests concurrent with the write can see it.
func (s *Store) intersectCount(ctx context.Context, terms []listTerm) (int, error) {
	var acc []int64
	for i, t := range terms {
		ids, err := s.entityIDs(ctx, `SELECT entity_id FROM search WHERE `+t.where, t.args)
		if err != nil {
			return 0, err
		}
		// In id order on SQLite's index, but no engine promises an order
		// without ORDER BY (PostgreSQL's bitmap scans return heap order);
		// sorting sorted ids costs a pass.
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if i == 0 {
			acc = ids
		} else {
			acc = intersectSorted(acc, ids)
		}
		if len(acc) == 0 {
			break
		}
	}
	return len(acc), nil
}

func (s *Store) entityIDs(ctx context.Context, query string, args []any) ([]int64, error) {
	return queryColumn[int64](ctx, s.r, query, args...)
}

// intersectSorted keeps the ids of a that are in b, both sorted and
// without duplicates, reusing a's array.
func intersectSorted(a, b []int64) []int64 {
	out := a[:0]
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) {
			break
		}
		if b[j] == x {
			out = append(out, x)
		}
	}
	return out
}

// withoutRedundantKind drops the kind term of a conjunction when another
// term, a single-valued match on a counted facet, matches only entities
// of those kinds (spec.type=service beside kind=component): facet_counts
// says so, and the kind's list is then read for nothing.
func (s *Store) withoutRedundantKind(ctx context.Context, terms []listTerm) ([]listTerm, error) {
	k := slices.IndexFunc(terms, func(t listTerm) bool { return t.match != nil && t.match.Key == "kind" })
	if k < 0 {
		return terms, nil
	}
	kinds := terms[k].match.Values
	for i, t := range terms {
		if i == k || t.match == nil || len(t.match.Values) != 1 || !countedFacets[t.match.Key] {
			continue
		}
		all, err := s.cachedCount(ctx, s.rowsOf(t.match.Key), []any{t.match.Key, t.match.Values[0]})
		if err != nil {
			return nil, err
		}
		var b sqlBuilder
		b.where("key = "+b.arg(t.match.Key), "value = "+b.arg(t.match.Values[0]), b.in("kind", kinds))
		ofKinds, err := s.cachedCount(ctx, `SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM facet_counts`+b.whereSQL(), b.args)
		if err != nil {
			return nil, err
		}
		if ofKinds == all {
			return slices.Delete(slices.Clone(terms), k, k+1), nil
		}
	}
	return terms, nil
}

// maxTextRows is the most search rows a full-text search reads into a
// list of ids (resolveText); a term matching more is left to SQL, as a
// subquery of each statement. Tests lower it.
var maxTextRows = 20000

// maxTextsCached bounds the cached full-text matches: each may hold
// maxTextRows ids.
const maxTextsCached = 64

// textMatch is what a full-text search matches: the sorted entity ids, or
// too many to list.
type textMatch struct {
	ids     []int64
	tooMany bool
}

// resolveText reads the entities a full-text search matches into b, once
// per catalog generation: a page, its count and the choice of its plan
// then use the list instead of each scanning every name and title (45 ms
// at 100,000 components). A term matching more than maxTextRows rows
// leaves b unchanged.
func (s *Store) resolveText(ctx context.Context, b *sqlBuilder, ft *FullText) error {
	if ft == nil || ft.Term == "" || len(ft.Fields) == 0 {
		return nil
	}
	gen, err := s.generation(ctx)
	if err != nil {
		return err
	}
	cond, args := textCondition(s.d, ft)
	key := cacheKey(cond, args)
	m, ok := s.texts.get(key, gen)
	if !ok {
		started := s.now()
		term := strings.ToLower(strings.TrimSpace(ft.Term))
		ids, tooMany, indexed := s.textMatchesIndexed(ft.Fields, term, gen)
		if !indexed {
			var err error
			ids, err = s.entityIDs(ctx, `SELECT entity_id FROM search WHERE `+cond+` LIMIT `+strconv.Itoa(maxTextRows+1), args)
			if err != nil {
				return fmt.Errorf("full-text search: %w", err)
			}
			tooMany = len(ids) > maxTextRows
		}
		if tooMany {
			m.tooMany = true
		} else {
			slices.Sort(ids)
			m.ids = slices.Compact(ids)
		}
		s.texts.put(key, gen, m, started, s.now())
	}
	if !m.tooMany {
		ids := m.ids
		b.textIDs = &ids
	}
	return nil
}
