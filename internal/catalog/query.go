// Package catalog owns the software catalog service: locations, the
// ingestion loop (read, parse, process, stitch), and the queries the REST API
// and UI answer from. Entities themselves are modelled in package entity;
// storage lives in package store.
package catalog

import (
	"encoding/json"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/store"
)

// Query types are defined next to the SQL that answers them, in package
// store; these aliases let callers of the catalog name them here.
type (
	SortDefault = store.SortDefault
	Query       = store.Query
	FullText    = store.FullText
	Position    = store.Position
	Page        = store.Page
	FacetCount  = store.FacetCount
)

// The default sort orders.
const (
	SortByID  = store.SortByID
	SortByRef = store.SortByRef
)

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
	// Problems, on dry runs, lists by entity ref key what ingestion would
	// refuse in each entity, as "file:line:col: message". It is not part of
	// Backstage's response, so it is not serialised.
	Problems map[string][]string `json:"-"`
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
