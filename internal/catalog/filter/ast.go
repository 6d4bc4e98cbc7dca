// Package filter owns the catalog's query language: Backstage's GET
// `filter=` parameters and POST predicate queries, parsed into one small
// expression tree that the store compiles to SQL over its flattened
// (key, value) search rows. Keys and values in the tree are lowercased,
// because catalog matching is case-insensitive.
package filter

// Expr is a node of a filter expression. The concrete types are All, Any,
// Not, Match, Exists and HasPrefix; a nil Expr matches every entity.
type Expr interface{ isExpr() }

// All matches entities that match every child; an empty All matches all.
type All struct{ Exprs []Expr }

// Any matches entities that match at least one child; an empty Any matches none.
type Any struct{ Exprs []Expr }

// Not matches entities that do not match Expr.
type Not struct{ Expr Expr }

// Match matches entities that have a search row Key whose value is one of
// Values. Key is a lowercased dotted path ("spec.type",
// "metadata.annotations.backstage.io/orphan", "relations.ownedby"); values
// are lowercased.
type Match struct {
	Key    string
	Values []string
}

// Exists matches entities that have any search row for Key.
type Exists struct{ Key string }

// HasPrefix matches entities with a search row Key whose value starts with
// Prefix (lowercased).
type HasPrefix struct {
	Key    string
	Prefix string
}

func (All) isExpr()       {}
func (Any) isExpr()       {}
func (Not) isExpr()       {}
func (Match) isExpr()     {}
func (Exists) isExpr()    {}
func (HasPrefix) isExpr() {}

// Order is one sort field of a query.
type Order struct {
	// Field is a lowercased dotted path, as in Match.Key.
	Field string
	Desc  bool
}
