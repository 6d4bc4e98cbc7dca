package store

import (
	"encoding/json"

	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// SortDefault says how a query without Order sorts.
type SortDefault int

const (
	// SortByID sorts by the entity's internal id, which is the order
	// entities were first seen in. Backstage sorts by-query and unpaged
	// /entities by uid, a random but stable order; creation order is as
	// stable, and lets a filtered page be read straight off an index.
	SortByID SortDefault = iota
	// SortByRef sorts by the lowercased entity ref (Backstage's paged /entities).
	SortByRef
)

// Query asks for a page of entities. The store evaluates all of it in SQL.
type Query struct {
	// Filter selects entities; nil selects all.
	Filter filter.Expr
	// Order sorts by these fields' lowercased values, then by internal id
	// (creation order). Entities
	// lacking a field sort last, unless DropMissing.
	Order []filter.Order
	// DropMissing excludes entities that lack the first Order field (from
	// items and from the total), as Backstage's by-query does.
	DropMissing bool
	// Default applies when Order is empty.
	Default SortDefault
	// FullText, if set, keeps entities where any of Fields has a value
	// containing Term (both lowercased).
	FullText *FullText
	// Limit caps the items returned; a negative Limit means no cap and 0
	// returns no items (the total is still counted when asked).
	Limit int
	// Offset skips that many matches first.
	Offset int
	// After and Before resume keyset pagination after (or before) a
	// position previously returned in a Page; at most one is set, and only
	// with at most one Order field.
	After  *Position
	Before *Position
	// CountTotal asks for Page.TotalItems.
	CountTotal bool
}

// FullText is a substring search over some search keys.
type FullText struct {
	Term   string
	Fields []string
}

// Position is a point in a keyset-paginated ordering: the value of the
// (single) order field, nil when the query has no order field or the
// entity lacks it, and the entity's internal id, which breaks ties.
type Position struct {
	Value *string `json:"value,omitempty"`
	ID    int64   `json:"id"`
}

// Page is the answer to a Query.
type Page struct {
	// Items are final entities as stored: JSON served verbatim.
	Items []json.RawMessage
	// TotalItems counts all matches when Query.CountTotal was set.
	TotalItems int
	// First and Last are the positions of the first and last item (nil
	// when Items is empty); HasMore says whether more matches follow Last
	// in the query's direction of travel.
	First, Last *Position
	HasMore     bool
}

// FacetCount is one value of a facet and the number of entities with it.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}
