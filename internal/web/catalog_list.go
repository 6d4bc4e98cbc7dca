package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// catalogView is the catalog page: facet filters beside a table of
// entities, one page of it.
type catalogView struct {
	Layout
	// Heading names what the table shows ("Components", "All entities").
	Heading string
	// Action is the list's own path, where the filter form submits.
	Action string
	State  listState
	// Kinds are the kind picker's options.
	Kinds  []option
	Facets []facetView
	// Active lists the filters in force, each with a link that drops it.
	Active []activeFilter
	// ClearHref drops every filter but the kind.
	ClearHref string
	Table     tableView
	// CanRegister shows the way to register more.
	CanRegister bool
}

// option is a choice of a select or a checkbox list.
type option struct {
	Value, Label string
	Count        int
	Selected     bool
}

// facetView is one facet filter: its values with their counts.
type facetView struct {
	// Param is the filter's name in the URL (filters[<Param>]).
	Param, Label string
	Options      []option
	// Hidden counts the values not listed (the list shows the values with
	// the most entities); FreeText offers an input for them.
	Hidden   int
	FreeText bool
}

// activeFilter is a filter in force, as a removable chip.
type activeFilter struct{ Label, RemoveHref string }

// tableView is a page of an entity table.
type tableView struct {
	Caption string
	Columns []columnView
	Rows    []rowView
	Pager   pager
	// Empty is shown when there are no rows.
	Empty string
}

// columnView is a table column heading; sortable ones link to the list
// sorted by them.
type columnView struct {
	Key, Label string
	SortHref   string
	// Sorted is "ascending" or "descending" on the sorted column (the
	// aria-sort value), else "".
	Sorted string
}

// rowView is one entity of a table.
type rowView struct {
	Entity               entityLink
	Kind                 string
	System               entityLink
	Owners               []entityLink
	Type, Lifecycle      string
	Description          string
	Tags                 []string
	Namespace            string
	Targets              []string
	Providers, Consumers []entityLink
}

// pager is the pagination bar of a table.
type pager struct {
	From, To, Total     int
	FirstHref, PrevHref string
	NextHref, LastHref  string
	// Sizes are the page sizes offered.
	Sizes []option
}

// column keys, as the table template knows them.
var columnLabels = map[string]string{
	"name": "Name", "summary": "Name", "kind": "Kind", "system": "System", "owner": "Owner", "type": "Type",
	"lifecycle": "Lifecycle", "description": "Description", "tags": "Tags", "namespace": "Namespace",
	"targets": "Targets", "providers": "Providers", "consumers": "Consumers",
}

// catalogColumns returns the columns Backstage's catalog table shows for a
// kind ("" for all kinds).
func catalogColumns(st listState) []string {
	showType := len(st.Types) != 1
	typ := func() []string {
		if showType {
			return []string{"type"}
		}
		return nil
	}
	var specific []string
	switch st.Kind {
	case "user":
	case "domain", "system":
		specific = []string{"owner"}
	case "group", "template":
		specific = typ()
	case "location":
		specific = append(typ(), "targets")
	case "":
		specific = append([]string{"kind", "owner"}, typ()...)
	default:
		specific = append(append([]string{"system", "owner"}, typ()...), "lifecycle")
	}
	cols := append([]string{"name"}, specific...)
	if len(st.Namespaces) != 1 && st.Kind != "" {
		// Shown only when the list may span namespaces; the default
		// namespace alone (the common case) needs no column.
		cols = append(cols, "namespace")
	}
	return append(cols, "description", "tags")
}

// catalogList serves /catalog.
func (h *handler) catalogList(w http.ResponseWriter, r *http.Request) error {
	const path, defaultKind = "/catalog", "component"
	st, err := parseListState(r.URL.Query(), defaultKind)
	if err != nil {
		return err
	}
	cols := catalogColumns(st)
	if st.Namespaces == nil && slices.Contains(cols, "namespace") {
		// The namespace column only earns its place if there is more than
		// one namespace; the facet (cached) says so.
		ns, err := h.c.Facets(r.Context(), []string{"metadata.namespace"}, nil)
		if err != nil {
			return err
		}
		if len(ns["metadata.namespace"]) <= 1 {
			cols = slices.DeleteFunc(cols, func(c string) bool { return c == "namespace" })
		}
	}
	table, err := h.entityTable(r.Context(), st, path, defaultKind, cols)
	if err != nil {
		return err
	}
	heading := "All entities"
	if st.Kind != "" {
		heading = pluralKind(st.Kind)
	}
	table.Caption = heading
	v := &catalogView{
		Layout:  h.layout(r, heading, sectionCatalog, crumb{"Catalog", ""}),
		Heading: heading, Action: path, State: st, Table: table,
		CanRegister: h.allowed(r.Context(), permLocationCreate, nil),
	}
	v.Search = st.Text
	v.Notice = notice(r)
	if err := h.listFacets(r.Context(), v, st, path, defaultKind, true); err != nil {
		return err
	}
	return h.views.render(w, http.StatusOK, "catalog", v)
}

// pluralKind names a list of one kind ("Components", "APIs").
func pluralKind(kind string) string {
	k := kindName(kind)
	switch {
	case strings.HasSuffix(k, "s"):
		return k + "es"
	case strings.HasSuffix(k, "y"):
		return k[:len(k)-1] + "ies"
	}
	return k + "s"
}

// facetKeys are the facet filters of a list page, in the order shown.
var facetKeys = []struct{ param, label, key string }{
	{"type", "Type", "spec.type"},
	{"owners", "Owner", "relations.ownedby"},
	{"lifecycles", "Lifecycle", "spec.lifecycle"},
	{"tags", "Tags", "metadata.tags"},
	{"namespace", "Namespace", "metadata.namespace"},
}

// maxFacetOptions is how many values a facet lists; the rest are reached
// by typing them.
const maxFacetOptions = 25

// listFacets fills the kind picker and the facet filters. Facets are
// counted for the chosen kind only, as Backstage's pickers count them, so
// they stay the same while other filters change (and come from the
// store's cache).
func (h *handler) listFacets(ctx context.Context, v *catalogView, st listState, path, defaultKind string, kindPicker bool) error {
	var kindExpr filter.Expr
	if st.Kind != "" {
		kindExpr = filter.Match{Key: "kind", Values: []string{st.Kind}}
	}
	keys := make([]string, len(facetKeys))
	for i, f := range facetKeys {
		keys[i] = f.key
	}
	counts, err := h.c.Facets(ctx, keys, kindExpr)
	if err != nil {
		return err
	}
	if kindPicker {
		kinds, err := h.c.Facets(ctx, []string{"kind"}, nil)
		if err != nil {
			return err
		}
		v.Kinds = kindOptions(kinds["kind"], st.Kind)
	}
	selected := map[string][]string{
		"type": st.Types, "owners": st.Owners, "lifecycles": st.Lifecycles, "tags": st.Tags, "namespace": st.Namespaces,
	}
	for _, f := range facetKeys {
		fv := facetView{Param: f.param, Label: f.label}
		values := slices.Clone(counts[f.key])
		// The values with most entities first, then alphabetically.
		slices.SortStableFunc(values, func(a, b catalog.FacetCount) int { return cmp.Compare(b.Count, a.Count) })
		chosen := selected[f.param]
		isChosen := func(value string) bool {
			for _, c := range chosen {
				if norm(f.param, c) == norm(f.param, value) {
					return true
				}
			}
			return false
		}
		listed := map[string]bool{}
		for i, val := range values {
			sel := isChosen(val.Value)
			if i >= maxFacetOptions && !sel {
				fv.Hidden++
				continue
			}
			label, value := val.Value, val.Value
			if f.param == "owners" {
				label = refLink(val.Value, "group").Label
				value = label
			}
			listed[norm(f.param, val.Value)] = true
			fv.Options = append(fv.Options, option{Value: value, Label: label, Count: val.Count, Selected: sel})
		}
		// A value in the URL that no entity of the kind has stays visible,
		// so it can be unchecked.
		for _, c := range chosen {
			if !listed[norm(f.param, c)] {
				fv.Options = append(fv.Options, option{Value: c, Label: c, Selected: true})
			}
		}
		slices.SortStableFunc(fv.Options, func(a, b option) int {
			return cmp.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label))
		})
		fv.FreeText = fv.Hidden > 0
		if len(fv.Options) == 0 {
			continue
		}
		v.Facets = append(v.Facets, fv)
	}
	v.Active, v.ClearHref = activeFilters(st, path, defaultKind)
	return nil
}

// kindOptions is the kind picker: "All kinds", then each kind with its
// count, and the chosen kind even if no entity has it.
func kindOptions(counts []catalog.FacetCount, chosen string) []option {
	opts := []option{{Value: allKinds, Label: "All kinds", Selected: chosen == ""}}
	seen := false
	for _, k := range counts {
		sel := strings.EqualFold(k.Value, chosen)
		seen = seen || sel
		opts = append(opts, option{Value: strings.ToLower(k.Value), Label: kindName(k.Value), Count: k.Count, Selected: sel})
	}
	if !seen && chosen != "" {
		opts = append(opts, option{Value: chosen, Label: kindName(chosen), Selected: true})
	}
	return opts
}

// norm compares facet values as the filter matches them.
func norm(param, v string) string {
	if param == "owners" {
		return ownerRef(v)
	}
	return strings.ToLower(v)
}

// activeFilters lists the filters in force as chips that drop them.
func activeFilters(st listState, path, defaultKind string) ([]activeFilter, string) {
	var out []activeFilter
	drop := func(label string, change func(s *listState)) {
		s := st
		change(&s)
		out = append(out, activeFilter{Label: label, RemoveHref: s.href(path, defaultKind)})
	}
	without := func(vs []string, v string) []string {
		return slices.DeleteFunc(slices.Clone(vs), func(x string) bool { return x == v })
	}
	for _, v := range st.Types {
		drop("Type: "+v, func(s *listState) { s.Types = without(s.Types, v) })
	}
	for _, v := range st.Owners {
		drop("Owner: "+v, func(s *listState) { s.Owners = without(s.Owners, v) })
	}
	for _, v := range st.Lifecycles {
		drop("Lifecycle: "+v, func(s *listState) { s.Lifecycles = without(s.Lifecycles, v) })
	}
	for _, v := range st.Tags {
		drop("Tag: "+v, func(s *listState) { s.Tags = without(s.Tags, v) })
	}
	for _, v := range st.Namespaces {
		drop("Namespace: "+v, func(s *listState) { s.Namespaces = without(s.Namespaces, v) })
	}
	if st.Text != "" {
		drop("Text: "+st.Text, func(s *listState) { s.Text = "" })
	}
	if st.Orphan {
		drop("Orphans only", func(s *listState) { s.Orphan = false })
	}
	clear := listState{Kind: st.Kind, Sort: st.Sort, Desc: st.Desc, Limit: st.Limit}
	return out, clear.href(path, defaultKind)
}

// entityTable queries one page of the list in state st and builds its
// table with the given columns.
func (h *handler) entityTable(ctx context.Context, st listState, path, defaultKind string, cols []string) (tableView, error) {
	q, cur, err := st.query()
	if err != nil {
		return tableView{}, err
	}
	page, err := h.c.QueryEntities(ctx, q)
	if err != nil {
		return tableView{}, err
	}
	t := tableView{Empty: "No entities match these filters."}
	for _, c := range cols {
		cv := columnView{Key: c, Label: columnLabels[c]}
		sortKey := c
		if c == "summary" {
			sortKey = "name"
		}
		if st.sortable(sortKey) {
			s := st
			s.Sort, s.Desc = sortKey, false
			if st.Sort == sortKey || (st.Sort == "" && sortKey == "name") {
				cv.Sorted = "ascending"
				if st.Desc {
					cv.Sorted = "descending"
				}
				s.Desc = !st.Desc
			}
			cv.SortHref = s.href(path, defaultKind)
		}
		t.Columns = append(t.Columns, cv)
	}
	for _, raw := range page.Items {
		e, err := decodeEntity(raw)
		if err != nil {
			return tableView{}, err
		}
		t.Rows = append(t.Rows, tableRow(e))
	}
	t.Pager = makePager(st, cur, page, path, defaultKind)
	return t, nil
}

// tableRow is the table row of an entity.
func tableRow(e *entityDoc) rowView {
	row := rowView{
		Entity: docLink(e), Kind: kindName(e.Kind),
		Type: e.SpecString("type"), Lifecycle: e.SpecString("lifecycle"),
		Description: e.Metadata.Description, Tags: e.Metadata.Tags, Namespace: e.Metadata.Namespace,
	}
	if sys := e.SpecString("system"); sys != "" {
		row.System = refLink(sys, "system")
	}
	for _, o := range e.Targets(entity.RelationOwnedBy) {
		row.Owners = append(row.Owners, refLink(o, "group"))
	}
	if t := e.SpecString("target"); t != "" {
		row.Targets = append(row.Targets, t)
	}
	row.Targets = append(row.Targets, e.SpecStrings("targets")...)
	for _, p := range e.Targets(entity.RelationAPIProvidedBy) {
		row.Providers = append(row.Providers, refLink(p, "component"))
	}
	for _, c := range e.Targets(entity.RelationAPIConsumedBy) {
		row.Consumers = append(row.Consumers, refLink(c, "component"))
	}
	return row
}

// makePager builds the pagination bar for a page reached through cur.
func makePager(st listState, cur pageCursor, page catalog.Page, path, defaultKind string) pager {
	n := len(page.Items)
	p := pager{Total: page.TotalItems}
	var hasPrev, hasNext bool
	offset := cur.Offset
	switch cur.Dir {
	case "":
		offset, hasNext = 0, page.HasMore
	case cursorNext:
		hasPrev, hasNext = true, page.HasMore
	case cursorPrev:
		hasPrev, hasNext = page.HasMore, true
		if !page.HasMore {
			offset = 0
		}
	case cursorLast:
		hasPrev = page.HasMore
		offset = max(page.TotalItems-n, 0)
	}
	if n > 0 {
		p.From, p.To = offset+1, offset+n
	}
	link := func(c pageCursor) string {
		q := st.values(defaultKind)
		if c.Dir != "" {
			q.Set("cursor", c.encode())
		}
		if s := q.Encode(); s != "" {
			return path + "?" + s
		}
		return path
	}
	if hasPrev && page.First != nil {
		p.FirstHref = link(pageCursor{})
		p.PrevHref = link(pageCursor{Dir: cursorPrev, Value: page.First.Value, ID: page.First.ID, Offset: max(offset-st.Limit, 0)})
	}
	if hasNext && page.Last != nil {
		p.NextHref = link(pageCursor{Dir: cursorNext, Value: page.Last.Value, ID: page.Last.ID, Offset: offset + n})
		p.LastHref = link(pageCursor{Dir: cursorLast})
	}
	for _, size := range pageSizes {
		p.Sizes = append(p.Sizes, option{Value: strconv.Itoa(size), Label: strconv.Itoa(size), Selected: size == st.Limit})
	}
	return p
}
