package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// QueryEntities answers a Query in SQL: filter, full text, order, keyset or
// offset pagination and, if asked, the total count.
//
// Pages are read straight off an index where the query allows it, so a
// page costs the same at the start of a million-entity catalog as of a
// small one: an order field drives from the search rows of that field, and
// the default order with a single-valued match (kind=component) drives
// from that match's rows, which the search b-tree keeps in entity order.
func (s *Store) QueryEntities(ctx context.Context, q Query) (Page, error) {
	return s.queryEntities(ctx, q, part{})
}

// part narrows a query to one part of a sorted query (see querySparse):
// lacking restricts it to entities without a sortable value for that key,
// idDesc sorts them by descending id, and fromEnd travels backward from
// the end when Query.Before is nil.
type part struct {
	lacking string
	idDesc  bool
	fromEnd bool
}

func (s *Store) queryEntities(ctx context.Context, q Query, pt part) (Page, error) {
	if q.After != nil && q.Before != nil {
		return Page{}, derrors.Invalid("a query cannot resume both after and before a position")
	}
	if (q.After != nil || q.Before != nil) && len(q.Order) > 1 {
		return Page{}, derrors.Invalid("cursor pagination supports a single order field")
	}
	b := sqlBuilder{d: s.d}
	if err := s.resolveText(ctx, &b, q.FullText); err != nil {
		return Page{}, err
	}
	from := "final_entities fe"
	tie := "fe.id" // the column that breaks ties, in the sort direction
	sortExpr := "" // SQL of the order value; "" sorts by tie alone
	// nullable says whether sortExpr can be NULL. When it cannot, the
	// ORDER BY is exactly the driving index's order and a page is read
	// off the index with no sort.
	nullable := false
	desc := false
	rest := q.Filter
	driven := false // the page is read off the rows of a single-valued match
	var extraSort []string
	selective, err := s.selectiveSort(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("count entities: %w", err)
	}
	if sparseSort && selective == "" && len(q.Order) == 1 && !q.DropMissing && !alwaysPresent[q.Order[0].Field] {
		return s.querySparse(ctx, q)
	}
	if pt.lacking != "" {
		b.where("fe.id NOT IN (SELECT entity_id FROM search WHERE key = " + b.arg(pt.lacking) + " AND first = 1)")
	}
	switch {
	case selective != "":
		// Few entities match: read them off the filter and sort them by
		// the value taken from the entity row, instead of reading the
		// whole field in order and testing every entity against the filter.
		sortExpr, desc, nullable = selective, q.Order[0].Desc, !q.DropMissing
		if q.DropMissing {
			b.where(sortExpr + " IS NOT NULL")
		}
	case len(q.Order) > 0 && q.DropMissing:
		// first = 1 picks one row per entity (an array field sorts by its
		// least item).
		o := q.Order[0]
		from = "search o0 JOIN final_entities fe ON fe.id = o0.entity_id"
		b.where("o0.key = "+b.arg(o.Field), "o0.first = 1")
		sortExpr, desc, tie = "o0.value", o.Desc, "o0.entity_id"
	case len(q.Order) > 0:
		// Entities lacking a field sort last: outer joins, one per field.
		var joins []string
		for i, o := range q.Order {
			alias := fmt.Sprintf("o%d", i)
			joins = append(joins, fmt.Sprintf(" LEFT JOIN search %[1]s ON %[1]s.key = %[2]s AND %[1]s.first = 1 AND %[1]s.entity_id = fe.id",
				alias, b.arg(o.Field)))
			if i == 0 {
				sortExpr, desc, nullable = alias+".value", o.Desc, true
				continue
			}
			dir := "ASC"
			if o.Desc {
				dir = "DESC"
			}
			extraSort = append(extraSort, alias+".value IS NULL", alias+".value "+dir)
		}
		from += strings.Join(joins, "")
	case q.Default == SortByRef:
		sortExpr = "fe.entity_ref"
	default:
		desc = pt.idDesc
		if m, others, ok := drivingMatch(q.Filter); ok {
			driven = true
			from = "search d JOIN final_entities fe ON fe.id = d.entity_id"
			b.where("d.key = "+b.arg(m.Key), "d.value = "+b.arg(m.Values[0]))
			tie, rest = "d.entity_id", others
		}
	}
	var page Page
	if q.CountTotal {
		n, err := s.count(ctx, q, driven)
		if err != nil {
			return Page{}, fmt.Errorf("count entities: %w", err)
		}
		page.TotalItems = n
	}
	// Probe per row where the page is read off an index in order.
	b.probe = len(q.Order) > 0 && q.DropMissing && selective == "" || driven
	switch {
	case selective != "":
		// The few matches are read off one list: the text search's, else
		// the filter's most selective match (an owner, not the kind
		// beside it). The rest of the filter is probed per match: as
		// lists they would be built in full (a kind's 100,000 ids) and
		// might drive the page instead.
		driver, others := filter.Expr(nil), rest
		if m, o, ok := drivingMatch(rest); ok {
			switch {
			case q.FullText == nil:
				driver, others = m, o
			case b.textIDs != nil:
				// Keep the listed matches that satisfy m, with a probe of
				// the search index each, before fetching them.
				ids, err := s.entityIDs(ctx, `SELECT entity_id FROM search WHERE key = ? AND value = ? AND `+
					idList("entity_id", *b.textIDs), []any{m.Key, m.Values[0]})
				if err != nil {
					return Page{}, fmt.Errorf("query entities: %w", err)
				}
				b.textIDs, others = &ids, o
			}
		}
		b.matching(driver, q.FullText, "fe.id")
		b.probe = true
		b.matching(others, nil, "fe.id")
		b.probe = false
	default:
		b.matching(rest, nil, "fe.id")
		// On the driving rows' id: the planner then keeps reading them in
		// order and tests each against a listed full-text match, instead
		// of driving from the list and searching the rows for each.
		b.matching(nil, q.FullText, tie)
	}
	if q.Limit == 0 {
		return page, nil
	}
	// Keyset position and direction of travel. The logical order is: the
	// sort value (NULLs last) in its direction, then the tie column in the
	// same direction; travelling backward reverses all of it.
	backward := q.Before != nil || pt.fromEnd
	pos := q.After
	if backward {
		pos = q.Before
	}
	if pos != nil {
		b.where(keyset(&b, sortExpr, nullable, tie, pos, desc, backward))
	}
	dir, nulls := "ASC", "ASC"
	if desc != backward {
		dir = "DESC"
	}
	if backward {
		nulls = "DESC"
	}
	order := []string{}
	if sortExpr != "" && nullable {
		order = append(order, sortExpr+" IS NULL "+nulls)
	}
	if sortExpr != "" {
		order = append(order, sortExpr+" "+dir)
	}
	order = append(order, extraSort...)
	order = append(order, tie+" "+dir)
	sel := "fe.final_entity, fe.id, "
	if sortExpr != "" {
		sel += sortExpr
	} else {
		sel += "NULL"
	}
	query := "SELECT " + sel + " FROM " + from + b.whereSQL() + " ORDER BY " + strings.Join(order, ", ")
	args := b.args
	if q.Limit > 0 {
		query += " LIMIT ? OFFSET ?"
		args = append(args, q.Limit+1, q.Offset)
	} else if q.Offset > 0 {
		query += " LIMIT " + s.d.noLimit + " OFFSET ?"
		args = append(args, q.Offset)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("query entities: %w", err)
	}
	defer rows.Close()
	var positions []Position
	for rows.Next() {
		var body string
		var p Position
		var v sql.NullString
		if err := rows.Scan(&body, &p.ID, &v); err != nil {
			return Page{}, err
		}
		if v.Valid {
			val := v.String
			p.Value = &val
		}
		page.Items = append(page.Items, json.RawMessage(body))
		positions = append(positions, p)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if q.Limit > 0 && len(page.Items) > q.Limit {
		page.Items, positions, page.HasMore = page.Items[:q.Limit], positions[:q.Limit], true
	}
	if backward {
		for i, j := 0, len(page.Items)-1; i < j; i, j = i+1, j-1 {
			page.Items[i], page.Items[j] = page.Items[j], page.Items[i]
			positions[i], positions[j] = positions[j], positions[i]
		}
	}
	if len(positions) > 0 {
		page.First, page.Last = &positions[0], &positions[len(positions)-1]
	}
	return page, nil
}

// sparseSort enables querySparse; tests turn it off to compare with the
// outer join it replaces.
var sparseSort = true

// countPart counts the entities of one part of a sorted query.
func (s *Store) countPart(ctx context.Context, q Query, pt part) (int, error) {
	all := Query{Filter: q.Filter, FullText: q.FullText}
	if pt.lacking == "" {
		all.Order, all.DropMissing = q.Order, q.DropMissing
		return s.count(ctx, all, false)
	}
	// Those lacking the field are all the matches but those having it.
	total, err := s.count(ctx, all, false)
	if err != nil {
		return 0, err
	}
	all.Order, all.DropMissing = []filter.Order{{Field: pt.lacking}}, true
	having, err := s.count(ctx, all, false)
	return total - having, err
}

// querySparse answers a query sorted by one field that some entities may
// lack, which sort last. An outer join of every entity to its sort value
// would need the sort value of each entity looked up by entity, which the
// search table's index cannot do: a scan of the field per entity. Instead
// the page is put together from two ordered parts, each read off an index:
// the entities having the field, in its order (the DropMissing query), then
// those lacking it, in id order (in the same direction).
func (s *Store) querySparse(ctx context.Context, q Query) (Page, error) {
	var page Page
	if q.CountTotal {
		n, err := s.count(ctx, Query{Filter: q.Filter, FullText: q.FullText}, false)
		if err != nil {
			return Page{}, fmt.Errorf("count entities: %w", err)
		}
		page.TotalItems = n
	}
	if q.Limit == 0 {
		return page, nil
	}
	type query struct {
		q  Query
		pt part
	}
	present := &query{q: Query{Filter: q.Filter, FullText: q.FullText, Order: q.Order, DropMissing: true}}
	lacking := &query{q: Query{Filter: q.Filter, FullText: q.FullText}, pt: part{lacking: q.Order[0].Field, idDesc: q.Order[0].Desc}}
	// first and second are the parts in the direction of travel; pos is
	// where the page starts within first.
	first, second := present, lacking
	pos := q.After
	if q.Before != nil {
		first, second, pos = lacking, present, q.Before
		second.pt.fromEnd = true
	}
	if pos != nil {
		inLacking := pos.Value == nil
		switch {
		case q.Before == nil && inLacking: // forward, past every present entity
			first, second = lacking, nil
		case q.Before != nil && !inLacking: // backward, before every lacking entity
			first, second = present, nil
		}
		p := *pos
		if q.Before != nil {
			first.q.Before, first.pt.fromEnd = &p, false
		} else {
			first.q.After = &p
		}
	}
	first.q.Offset = q.Offset
	if q.Offset > 0 && second != nil {
		n, err := s.countPart(ctx, first.q, first.pt)
		if err != nil {
			return Page{}, fmt.Errorf("count entities: %w", err)
		}
		if q.Offset >= n {
			first, second = second, nil
			first.q.Offset = q.Offset - n
		}
	}
	first.q.Limit = q.Limit
	a, err := s.queryEntities(ctx, first.q, first.pt)
	if err != nil {
		return Page{}, err
	}
	hasMore := a.HasMore
	var b Page
	if second != nil && !a.HasMore {
		second.q.Limit = -1
		if q.Limit > 0 {
			// A full page only needs to know whether the second part
			// follows: one row tells.
			second.q.Limit = max(q.Limit-len(a.Items), 1)
		}
		if b, err = s.queryEntities(ctx, second.q, second.pt); err != nil {
			return Page{}, err
		}
		hasMore = b.HasMore
		if q.Limit > 0 && len(a.Items) == q.Limit {
			hasMore, b = len(b.Items) > 0, Page{}
		}
	}
	// Each part's items are in logical order; backward, the part read
	// second comes first.
	early, late := a, b
	if q.Before != nil {
		early, late = b, a
	}
	page.Items = append(append([]json.RawMessage{}, early.Items...), late.Items...)
	page.First, page.Last = early.First, late.Last
	if page.First == nil {
		page.First = late.First
	}
	if page.Last == nil {
		page.Last = early.Last
	}
	page.HasMore = hasMore
	return page, nil
}

// selectiveSortMax is the most matching entities a sorted page is read
// off its filter for (see selectiveSort) when the sort value comes from
// the entity's JSON: sorting them costs less than reading the field's
// whole index in order. Values cut from the ref cost far less to compute,
// so refSortFactor times as many qualify.
var selectiveSortMax = 2000

const refSortFactor = 10

// selectiveSort returns, for a query sorted by one field and filtered down
// to at most selectiveSortMax entities, an SQL expression of the sort
// value computed from the final_entities row fe; "" when the query does
// not qualify or the engine has no need.
//
// SQLite reads a sorted page off the search rows of the order field, in
// order, testing each entity against the filter: fast when most entities
// match, a scan of the whole field when few do. Looking up one entity's
// sort value would need a second index on the search table, which would
// slow every write; instead the value is computed from the entity row,
// for the fields it is cheap and exact for: identity fields from the ref
// (lowercased, as search values are), a few string fields from the JSON.
// PostgreSQL's planner already drives such pages from the filter.
func (s *Store) selectiveSort(ctx context.Context, q Query) (string, error) {
	if s.d != sqliteDialect || len(q.Order) != 1 || (q.Filter == nil && q.FullText == nil) {
		return "", nil
	}
	limit := selectiveSortMax * refSortFactor
	expr, ok := refSortValue[q.Order[0].Field]
	if !ok {
		limit = selectiveSortMax
		path, ok := jsonSortPath[q.Order[0].Field]
		if !ok {
			return "", nil
		}
		// As the search rows have it: a string, lowercased, or the
		// long-value marker past filter.MaxValueLen bytes.
		v := "json_extract(fe.final_entity, '" + path + "')"
		expr = fmt.Sprintf("(CASE WHEN json_type(fe.final_entity, '%s') = 'text' THEN "+
			"(CASE WHEN length(CAST(%s AS BLOB)) > %d THEN char(1) ELSE lower(%s) END) END)",
			path, v, filter.MaxValueLen, v)
	}
	n, err := s.count(ctx, Query{Filter: q.Filter, FullText: q.FullText}, false)
	if err != nil || n > limit {
		return "", err
	}
	return expr, nil
}

// refSortValue computes identity fields' search values from the
// lowercased ref kind:namespace/name.
var refSortValue = map[string]string{
	"kind":               "substr(fe.entity_ref, 1, instr(fe.entity_ref, ':') - 1)",
	"metadata.namespace": "substr(fe.entity_ref, instr(fe.entity_ref, ':') + 1, instr(fe.entity_ref, '/') - instr(fe.entity_ref, ':') - 1)",
	"metadata.name":      "substr(fe.entity_ref, instr(fe.entity_ref, '/') + 1)",
}

// jsonSortPath maps string fields the catalog sorts by to their JSON paths.
var jsonSortPath = map[string]string{
	"metadata.title": "$.metadata.title",
	"spec.type":      "$.spec.type",
	"spec.lifecycle": "$.spec.lifecycle",
	"spec.owner":     "$.spec.owner",
	"spec.system":    "$.spec.system",
}

// count counts the entities a query matches. It reads search rows only,
// never the wide final_entities rows: the same driving rows as the page
// query where there are some, else each entity's single "kind" row.
func (s *Store) count(ctx context.Context, q Query, driven bool) (int, error) {
	b := sqlBuilder{d: s.d}
	if err := s.resolveText(ctx, &b, q.FullText); err != nil {
		return 0, err
	}
	rest := q.Filter
	if !driven {
		_, _, driven = drivingMatch(q.Filter)
	}
	dropsMissing := len(q.Order) > 0 && q.DropMissing && !alwaysPresent[q.Order[0].Field]
	if b.textIDs != nil && q.Filter == nil && !dropsMissing {
		// Every listed id has search rows, so it is a served entity.
		return len(*b.textIDs), nil
	}
	if kinds, ok := countedKinds(q.Filter); ok && (q.FullText == nil || q.FullText.Term == "") {
		switch {
		case !dropsMissing:
			query, args := countedTotal("kind", kinds)
			return s.cachedCount(ctx, query, args)
		case countedFacets[q.Order[0].Field]:
			query, args := countedTotal(q.Order[0].Field, kinds)
			return s.cachedCount(ctx, query, args)
		}
	}
	if n, ok, err := s.countByLists(ctx, q, dropsMissing); ok || err != nil {
		return n, err
	}
	switch {
	case dropsMissing:
		b.where("c.key = "+b.arg(q.Order[0].Field), "c.first = 1")
	case driven:
		var m filter.Match
		m, rest, _ = drivingMatch(q.Filter)
		b.where("c.key = "+b.arg(m.Key), "c.value = "+b.arg(m.Values[0]))
		// Few driving rows (an owner's): probe each against the rest of
		// the filter rather than build the rest's lists in full (a kind's
		// 100,000 ids). Many: the lists are cheaper than a probe per row.
		n, err := s.cachedCount(ctx, s.rowsOf(m.Key), []any{m.Key, m.Values[0]})
		if err != nil {
			return 0, err
		}
		b.probe = n <= probeMax
	default:
		b.where("c.key = 'kind'")
	}
	b.matching(rest, q.FullText, "c.entity_id")
	return s.cachedCount(ctx, "SELECT count(*) FROM search c"+b.whereSQL(), b.args)
}

// countByLists counts a conjunction of two or more terms by merging their
// id lists (intersectCount), unless a single-valued match has so few rows
// that probing the others per row is cheaper; ok=false leaves the count
// to SQL.
func (s *Store) countByLists(ctx context.Context, q Query, dropsMissing bool) (n int, ok bool, err error) {
	if q.FullText != nil && q.FullText.Term != "" {
		return 0, false, nil
	}
	terms, plain := listTerms(q.Filter, nil)
	if dropsMissing {
		terms = append(terms, listTerm{"key = ? AND first = 1", []any{q.Order[0].Field}, nil})
	}
	if !plain || len(terms) < 2 {
		return 0, false, nil
	}
	if m, _, driven := drivingMatch(q.Filter); driven {
		rows, err := s.cachedCount(ctx, s.rowsOf(m.Key), []any{m.Key, m.Values[0]})
		if err != nil || rows <= probeMax {
			return 0, false, err
		}
	}
	if terms, err = s.withoutRedundantKind(ctx, terms); err != nil {
		return 0, false, err
	}
	var key strings.Builder
	key.WriteString("lists")
	for _, t := range terms {
		key.WriteString("\x00" + cacheKey(t.where, t.args))
	}
	n, err = s.cachedCountOf(ctx, key.String(), func() (int, error) { return s.intersectCount(ctx, terms) })
	return n, err == nil, err
}

// rowsOf is the query counting the search rows of a key and value.
func (s *Store) rowsOf(key string) string {
	if countedFacets[key] {
		return `SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM facet_counts WHERE key = ? AND value = ?`
	}
	return `SELECT count(*) FROM search WHERE key = ? AND value = ?`
}

// probeMax is the most driving rows a count probes one by one.
const probeMax = 5000

// alwaysPresent are the search keys every entity has with a sortable value
// (their formats cap them well under the 200-character limit), so ordering
// by one of them leaves no entity out and does not change the count.
var alwaysPresent = map[string]bool{
	"kind": true, "metadata.name": true, "metadata.namespace": true, "metadata.uid": true,
}

// matching adds the conditions of a filter and a full-text search on the
// entity id column idCol.
func (b *sqlBuilder) matching(f filter.Expr, ft *FullText, idCol string) {
	if f != nil {
		b.where(b.compile(f, idCol))
	}
	if ft == nil || ft.Term == "" {
		return
	}
	if len(ft.Fields) == 0 {
		b.where("1 = 0") // no field to search in: nothing matches
		return
	}
	if b.textIDs != nil {
		b.where(idList(idCol, *b.textIDs))
		return
	}
	cond, args := textCondition(b.d, ft)
	b.args = append(b.args, args...)
	b.where(idCol + " IN (SELECT entity_id FROM search WHERE " + cond + ")")
}

// textCondition is the condition on search rows of a full-text search with
// fields: a field's value contains the term.
func textCondition(d *dialect, ft *FullText) (string, []any) {
	var b sqlBuilder
	keys := make([]string, len(ft.Fields))
	for i, f := range ft.Fields {
		keys[i] = b.arg(strings.ToLower(f))
	}
	term := strings.ToLower(strings.TrimSpace(ft.Term))
	var contains string
	if d == sqliteDialect {
		// SQLite's GLOB (case-sensitive, as the lowercased values need)
		// tests a 100,000-row scan in half LIKE's time.
		contains = "value GLOB " + b.arg("*"+escapeGlob(term)+"*")
	} else {
		contains = "value LIKE " + b.arg("%"+escapeLike(term)+"%") + ` ESCAPE '\'`
	}
	return "key IN (" + strings.Join(keys, ", ") + ") AND " + contains, b.args
}

// idList is the condition that idCol is one of ids, written out: the ids
// are the store's own integers.
func idList(idCol string, ids []int64) string {
	if len(ids) == 0 {
		return "1 = 0"
	}
	var sb strings.Builder
	sb.WriteString(idCol + " IN (")
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatInt(id, 10))
	}
	sb.WriteByte(')')
	return sb.String()
}

// drivingMatch finds a single-valued match that every result must satisfy
// (the filter itself, or a direct child of a top-level All), and returns it
// with the rest of the filter.
func drivingMatch(f filter.Expr) (filter.Match, filter.Expr, bool) {
	switch t := f.(type) {
	case filter.Match:
		if len(t.Values) == 1 {
			return t, nil, true
		}
	case filter.All:
		// Any single-valued match will do; a kind is the least selective
		// (half a catalog may be components), so another wins: the page
		// and its count then read that match's few rows, not the kind's.
		best := -1
		for i, c := range t.Exprs {
			if m, ok := c.(filter.Match); ok && len(m.Values) == 1 {
				if best < 0 || (m.Key != "kind" && t.Exprs[best].(filter.Match).Key == "kind") {
					best = i
				}
			}
		}
		if best >= 0 {
			others := append(append([]filter.Expr{}, t.Exprs[:best]...), t.Exprs[best+1:]...)
			if len(others) == 0 {
				return t.Exprs[best].(filter.Match), nil, true
			}
			return t.Exprs[best].(filter.Match), filter.All{Exprs: others}, true
		}
	}
	return filter.Match{}, nil, false
}

// keyset returns the condition for rows strictly after pos in the logical
// order (sort value in its direction with NULLs last, then the tie column),
// or strictly before it when backward.
func keyset(b *sqlBuilder, sortExpr string, nullable bool, tie string, pos *Position, desc, backward bool) string {
	// beyond is the comparison that moves in the direction of travel.
	beyond := ">"
	if desc != backward {
		beyond = "<"
	}
	if sortExpr == "" {
		return tie + " " + beyond + " " + b.arg(pos.ID)
	}
	if pos.Value == nil {
		if backward { // every non-NULL, and the NULLs before pos
			return fmt.Sprintf("(%s IS NOT NULL OR %s %s %s)", sortExpr, tie, beyond, b.arg(pos.ID))
		}
		return fmt.Sprintf("(%s IS NULL AND %s %s %s)", sortExpr, tie, beyond, b.arg(pos.ID))
	}
	// Placeholders are positional, so each gets its own argument.
	cond := fmt.Sprintf("(%[1]s %[2]s %[3]s OR (%[1]s = %[4]s AND %[6]s %[2]s %[5]s))",
		sortExpr, beyond, b.arg(*pos.Value), b.arg(*pos.Value), b.arg(pos.ID), tie)
	if !nullable {
		return cond
	}
	if backward {
		return "(" + sortExpr + " IS NOT NULL AND " + cond + ")"
	}
	return "(" + sortExpr + " IS NULL OR " + cond + ")"
}

// Facets counts, for each facet key, the entities matching f per value.
// Results are cached per catalog generation.
func (s *Store) Facets(ctx context.Context, facets []string, f filter.Expr) (map[string][]FacetCount, error) {
	gen, err := s.generation(ctx)
	if err != nil {
		return nil, fmt.Errorf("facets: %w", err)
	}
	out := make(map[string][]FacetCount, len(facets))
	kinds, counted := countedKinds(f)
	for _, facet := range facets {
		var b sqlBuilder
		var query string
		if counted && countedFacets[strings.ToLower(facet)] {
			query, b.args = countedFacetQuery(strings.ToLower(facet), kinds)
		} else {
			b.where("s.key = "+b.arg(strings.ToLower(facet)), "s.value <> "+b.arg(filter.LongValue))
			if f != nil {
				b.where(b.compile(f, "s.entity_id"))
			}
			query = `SELECT coalesce(s.original_value, s.value) AS v, count(*) FROM search s` + b.whereSQL() + ` GROUP BY v ORDER BY v`
		}
		key := cacheKey(query, b.args)
		if counts, ok, refresh := s.facets.getStale(key, gen, s.staleFacets, s.staleMinCost, s.now()); ok {
			out[facet] = slices.Clone(counts) // the cached slice stays ours
			if refresh {
				s.refreshFacet(key, gen, query, b.args)
			}
			continue
		}
		started := s.now()
		counts, err := s.facetCounts(ctx, query, b.args)
		if err != nil {
			return nil, fmt.Errorf("facet %s: %w", facet, err)
		}
		s.facets.put(key, gen, slices.Clone(counts), started, s.now())
		out[facet] = counts
	}
	return out, nil
}

// refreshFacet recomputes a facet whose cached counts were served stale,
// in the background; Close waits for it.
func (s *Store) refreshFacet(key string, gen int64, query string, args []any) {
	s.background.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		started := s.now()
		counts, err := s.facetCounts(ctx, query, args)
		if err != nil {
			return // the stale entry stays until it is too old; the next request computes it
		}
		s.facets.put(key, gen, counts, started, s.now())
	})
}

func (s *Store) facetCounts(ctx context.Context, query string, args []any) ([]FacetCount, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := []FacetCount{}
	for rows.Next() {
		var c FacetCount
		if err := rows.Scan(&c.Value, &c.Count); err != nil {
			return nil, err
		}
		counts = append(counts, c)
	}
	return counts, rows.Err()
}

// EntityByRef returns the final entity with the lowercased ref key.
func (s *Store) EntityByRef(ctx context.Context, key string) (json.RawMessage, error) {
	return s.oneEntity(ctx, `SELECT final_entity FROM final_entities WHERE entity_ref = ?`, key)
}

// EntityByUID returns the final entity with the uid.
func (s *Store) EntityByUID(ctx context.Context, uid string) (json.RawMessage, error) {
	return s.oneEntity(ctx, `SELECT final_entity FROM final_entities WHERE uid = ?`, uid)
}

func (s *Store) oneEntity(ctx context.Context, q string, arg string) (json.RawMessage, error) {
	var body string
	err := s.r.QueryRowContext(ctx, q, arg).Scan(&body)
	if err == sql.ErrNoRows {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read entity: %w", err)
	}
	return json.RawMessage(body), nil
}

// EntitiesByRefs returns the final entities for the lowercased ref keys, in
// the same order, with nil for refs that are missing or do not match f.
func (s *Store) EntitiesByRefs(ctx context.Context, keys []string, f filter.Expr) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(keys))
	index := make(map[string][]int, len(keys))
	for i, k := range keys {
		index[k] = append(index[k], i)
	}
	const chunk = 500
	for start := 0; start < len(keys); start += chunk {
		end := min(start+chunk, len(keys))
		var b sqlBuilder
		ph := make([]string, 0, end-start)
		for _, k := range keys[start:end] {
			ph = append(ph, b.arg(k))
		}
		b.where("fe.entity_ref IN (" + strings.Join(ph, ", ") + ")")
		if f != nil {
			b.where(b.compile(f, "fe.id"))
		}
		rows, err := s.r.QueryContext(ctx, `SELECT fe.entity_ref, fe.final_entity FROM final_entities fe`+b.whereSQL(), b.args...)
		if err != nil {
			return nil, fmt.Errorf("entities by refs: %w", err)
		}
		for rows.Next() {
			var ref, body string
			if err := rows.Scan(&ref, &body); err != nil {
				rows.Close()
				return nil, err
			}
			for _, i := range index[ref] {
				out[i] = json.RawMessage(body)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Parents returns the refs of the entities that emit the entity with the
// given ref key (empty for provider roots).
func (s *Store) Parents(ctx context.Context, key string) ([]string, error) {
	return queryStrings(ctx, s.r, `SELECT source FROM refresh_state_references
		WHERE target = ? AND source LIKE '%/%' ORDER BY source`, key)
}

// Children returns the lowercased refs of the entities the entity with ref
// key emits, sorted.
func (s *Store) Children(ctx context.Context, key string) ([]string, error) {
	return queryStrings(ctx, s.r, `SELECT target FROM refresh_state_references WHERE source = ? ORDER BY target`, key)
}

// sqlBuilder collects WHERE conditions and their arguments.
type sqlBuilder struct {
	// d is the dialect, where the SQL differs by engine; nil writes SQL
	// both understand.
	d *dialect
	// textIDs, when set, are the entities the full-text search matches,
	// read beforehand (Store.resolveText).
	textIDs *[]int64
	conds   []string
	args    []any
	// probe compiles matches as a primary-key probe per candidate row
	// instead of a list of every matching id built up front. A page read
	// off an index in order stops after a page, so it should check only
	// the rows it reads; a count reads them all, and a list is cheaper.
	probe bool
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "?"
}

func (b *sqlBuilder) where(conds ...string) { b.conds = append(b.conds, conds...) }

// in is the condition that col is one of values.
func (b *sqlBuilder) in(col string, values []string) string {
	ph := make([]string, len(values))
	for i, v := range values {
		ph[i] = b.arg(v)
	}
	return col + " IN (" + strings.Join(ph, ", ") + ")"
}

func (b *sqlBuilder) whereSQL() string {
	if len(b.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.conds, " AND ")
}

// compile turns a filter expression into a SQL condition on the entity id
// column idCol.
func (b *sqlBuilder) compile(e filter.Expr, idCol string) string {
	switch t := e.(type) {
	case nil:
		// "1 = 1" rather than "1": PostgreSQL has no integer truth.
		return "1 = 1"
	case filter.All:
		if len(t.Exprs) == 0 {
			return "1 = 1"
		}
		parts := make([]string, len(t.Exprs))
		for i, c := range t.Exprs {
			parts[i] = b.compile(c, idCol)
		}
		return "(" + strings.Join(parts, " AND ") + ")"
	case filter.Any:
		if len(t.Exprs) == 0 {
			return "1 = 0"
		}
		parts := make([]string, len(t.Exprs))
		for i, c := range t.Exprs {
			parts[i] = b.compile(c, idCol)
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	case filter.Not:
		return "NOT " + b.compile(t.Expr, idCol)
	case filter.Match:
		if len(t.Values) == 0 {
			return "1 = 0"
		}
		key := b.arg(t.Key)
		vals := make([]string, len(t.Values))
		for i, v := range t.Values {
			vals[i] = b.arg(v)
		}
		if b.probe {
			return fmt.Sprintf("EXISTS (SELECT 1 FROM search x WHERE x.key = %s AND x.value IN (%s) AND x.entity_id = %s)",
				key, strings.Join(vals, ", "), idCol)
		}
		return fmt.Sprintf("%s IN (SELECT entity_id FROM search WHERE key = %s AND value IN (%s))", idCol, key, strings.Join(vals, ", "))
	case filter.Exists:
		return fmt.Sprintf("%s IN (SELECT entity_id FROM search WHERE key = %s)", idCol, b.arg(t.Key))
	case filter.HasPrefix:
		return fmt.Sprintf("%s IN (SELECT entity_id FROM search WHERE key = %s AND value >= %s AND value < %s)",
			idCol, b.arg(t.Key), b.arg(t.Prefix), b.arg(t.Prefix+"\U0010FFFF"))
	default:
		panic(fmt.Sprintf("store: unknown filter node %T", e))
	}
}

// escapeGlob makes s match itself in a GLOB pattern: each of its
// wildcard characters becomes a one-character class.
func escapeGlob(s string) string {
	return strings.NewReplacer("*", "[*]", "?", "[?]", "[", "[[]").Replace(s)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
