package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/techdocs"
)

// docsListView is /docs: the entities that have docs, filtered by kind,
// owner and text like the catalog list (and with its URL parameters), one
// page of them, each with the state of its docs.
type docsListView struct {
	Layout
	// Action is where the filter form submits; State the filters in force.
	Action string
	State  listState
	// Kinds and Facets are the filter form's options (the "filters"
	// partial renders them); Active the filters in force as chips.
	Kinds     []option
	Facets    []facetView
	Active    []activeFilter
	ClearHref string
	Table     docsTable
}

// docsTable is a page of the docs list.
type docsTable struct {
	Rows  []docsRow
	Pager pager
	// Empty is shown when there are no rows.
	Empty string
}

// docsRow is one entity with docs.
type docsRow struct {
	// Href opens the docs; Entity is the entity itself.
	Href   string
	Entity entityLink
	Kind   string
	Owners []entityLink
	State  docsState
}

// docsFilter matches the entities that name a docs source.
var docsFilter filter.Expr = filter.Exists{Key: "metadata.annotations." + techdocs.RefAnnotation}

// docsList serves /docs.
func (h *handler) docsList(w http.ResponseWriter, r *http.Request) error {
	const path = sectionDocs
	st, err := parseListState(r.URL.Query(), "")
	if err != nil {
		return err
	}
	q, cur, err := st.query()
	if err != nil {
		return err
	}
	// The facet filters go first: the most selective drives the query.
	q.Filter = andExpr(q.Filter, docsFilter)
	ctx := r.Context()
	page, err := h.c.QueryEntities(ctx, q)
	if err != nil {
		return err
	}
	v := &docsListView{
		Layout: h.layout(r, "Docs", sectionDocs, crumb{"Docs", ""}),
		Action: path, State: st,
		Table: docsTable{Empty: "No documentation matches these filters.", Pager: makePager(st, cur, page, path, "")},
	}
	if st.expr() == nil && st.Text == "" {
		v.Table.Empty = "No entity in the catalog has documentation yet: add the backstage.io/techdocs-ref annotation to one."
	}
	var rows []*entityDoc
	var refs []entity.Ref
	for _, raw := range page.Items {
		e, err := decodeEntity(raw)
		if err != nil {
			return err
		}
		rows, refs = append(rows, e), append(refs, e.Ref())
	}
	states, err := h.opts.Docs.States(ctx, refs)
	if err != nil {
		h.log.Warn("web: read docs states", "err", err)
	}
	for _, e := range rows {
		v.Table.Rows = append(v.Table.Rows, newDocsRow(e, states))
	}
	if err := h.docsFacets(ctx, v); err != nil {
		return err
	}
	v.Active, v.ClearHref = activeFilters(st, path, "")
	return h.views.render(w, http.StatusOK, "docs", v)
}

// newDocsRow builds the row of an entity; a state that could not be read
// is shown as unavailable: one broken site must not hide the others.
func newDocsRow(e *entityDoc, states map[string]techdocs.State) docsRow {
	row := docsRow{Href: docsHref(e.Ref()), Entity: docLink(e), Kind: kindName(e.Kind)}
	for _, o := range e.Targets(entity.RelationOwnedBy) {
		row.Owners = append(row.Owners, refLink(o, "group"))
	}
	if s, ok := states[e.Ref().Key()]; ok {
		row.State = newDocsState(s)
	} else {
		row.State = docsState{Label: "Unavailable", Class: "unknown"}
	}
	return row
}

// docsFacets fills the kind picker and the owner filter with the values
// the entities with docs have.
func (h *handler) docsFacets(ctx context.Context, v *docsListView) error {
	const ownerKey = "relations.ownedby"
	counts, err := h.c.Facets(ctx, []string{"kind", ownerKey}, docsFilter)
	if err != nil {
		return err
	}
	st := v.State
	v.Kinds = kindOptions(counts["kind"], st.Kind)
	owners := facetView{Param: "owners", Label: "Owner"}
	listed := map[string]bool{}
	values := slices.Clone(counts[ownerKey])
	slices.SortStableFunc(values, func(a, b catalog.FacetCount) int { return cmp.Compare(b.Count, a.Count) })
	for i, val := range values {
		sel := slices.ContainsFunc(st.Owners, func(o string) bool { return ownerRef(o) == ownerRef(val.Value) })
		if i >= maxFacetOptions && !sel {
			owners.Hidden++
			continue
		}
		label := refLink(val.Value, "group").Label
		listed[ownerRef(val.Value)] = true
		owners.Options = append(owners.Options, option{Value: label, Label: label, Count: val.Count, Selected: sel})
	}
	for _, o := range st.Owners {
		if !listed[ownerRef(o)] {
			owners.Options = append(owners.Options, option{Value: o, Label: o, Selected: true})
		}
	}
	slices.SortStableFunc(owners.Options, func(a, b option) int {
		return cmp.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label))
	})
	owners.FreeText = owners.Hidden > 0
	if len(owners.Options) > 0 {
		v.Facets = append(v.Facets, owners)
	}
	return nil
}

// andExpr joins filter expressions; nil ones match everything.
func andExpr(exprs ...filter.Expr) filter.Expr {
	var all []filter.Expr
	for _, e := range exprs {
		switch e := e.(type) {
		case nil:
		case filter.All:
			all = append(all, e.Exprs...)
		default:
			all = append(all, e)
		}
	}
	switch len(all) {
	case 0:
		return nil
	case 1:
		return all[0]
	}
	return filter.All{Exprs: all}
}
