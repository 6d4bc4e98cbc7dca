// Package catalog owns the software catalog service: locations, the
// ingestion loop (read, parse, process, stitch), and the queries the REST API
// and UI answer from. Entities themselves are modelled in package entity;
// storage lives in package store.
package catalog

import (
	"encoding/json"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// SortDefault says how a query without Order sorts.
type SortDefault int

const (
	// SortByUID sorts by entity uid (Backstage's by-query and unpaged /entities).
	SortByUID SortDefault = iota
	// SortByRef sorts by the lowercased entity ref (Backstage's paged /entities).
	SortByRef
)

// Query asks for a page of entities. The store evaluates all of it in SQL.
type Query struct {
	// Filter selects entities; nil selects all.
	Filter filter.Expr
	// Order sorts by these fields' lowercased values, then by uid. Entities
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
// entity lacks it, and the uid that breaks ties.
type Position struct {
	Value *string `json:"value,omitempty"`
	UID   string  `json:"uid"`
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

// Ancestry is the chain of entities that produced an entity, for
// GET .../by-name/{kind}/{namespace}/{name}/ancestry.
type Ancestry struct {
	RootEntityRef string         `json:"rootEntityRef"`
	Items         []AncestryItem `json:"items"`
}

// AncestryItem is one entity of an Ancestry and the refs of its parents.
type AncestryItem struct {
	Entity           json.RawMessage `json:"entity"`
	ParentEntityRefs []string        `json:"parentEntityRefs"`
}

// Location is a registered location: a place the catalog reads entities from.
type Location struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Target string `json:"target"`
}

// AddLocationResult answers POST /locations.
type AddLocationResult struct {
	Location Location         `json:"location"`
	Entities []*entity.Entity `json:"entities"`
	// Exists is set on dry runs: whether the location was already registered.
	Exists *bool `json:"exists,omitempty"`
}

// AddLocationOptions modify AddLocation.
type AddLocationOptions struct {
	// DryRun processes the location in memory and writes nothing.
	DryRun bool
	// OnConflict is "reject" (the default: 409 for a known location) or
	// "refresh" (return the existing location and refresh it).
	OnConflict string
}

// ValidationError carries the problems found by ValidateEntity.
type ValidationError struct {
	Problems entity.Problems
}

func (e *ValidationError) Error() string { return e.Problems.Error() }

// AnalyzeResult answers POST /analyze-location.
type AnalyzeResult struct {
	ExistingEntityFiles []AnalyzedFile    `json:"existingEntityFiles"`
	GenerateEntities    []GeneratedEntity `json:"generateEntities"`
}

// AnalyzedFile is a catalog file found at an analyzed location.
type AnalyzedFile struct {
	Entity       *entity.Entity `json:"entity"`
	IsRegistered bool           `json:"isRegistered"`
	Location     Location       `json:"location"`
}

// GeneratedEntity is an entity proposed for a location that has none.
type GeneratedEntity struct {
	Entity map[string]any `json:"entity"`
	Fields []any          `json:"fields"`
}
