package filter

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// Limits on the size of a parsed query. They keep one request from turning
// into an SQL statement the database refuses (SQLite caps expression depth
// and bound parameters) or spends seconds planning.
const (
	// maxDepth bounds how deeply predicate operators ($all, $any, $not,
	// $contains) may nest.
	maxDepth = 32
	// maxNodes bounds the number of expression nodes (objects and
	// statements) in one filter or predicate.
	maxNodes = 1000
	// maxValues bounds the number of values to match, summed over the whole
	// filter or predicate ($in lists, repeated filter keys).
	maxValues = 10000
)

// ParseParams parses the `filter` query parameters of Backstage's GET
// /entities, /entities/by-query and /entity-facets.
//
// Each filter string is a comma-separated set of statements that must all
// hold: `key=value` (both trimmed; the value may itself contain '=') or a
// bare `key`, which asks that the key exist. A key repeated within one set
// matches any of its values (`kind=component,kind=api`); a key given both
// bare and with values just matches the values. Several filter strings
// match entities that match any of them. Keys and values are lowercased.
//
// Statements are grouped by their key exactly as written, before
// lowercasing, as Backstage does: `Kind=a,kind=b` is two statements that
// must both hold.
//
// ParseParams returns nil when there is nothing to filter on (no filter
// strings, or only empty ones). It collapses single-child All and Any
// nodes, so `filter=kind=api` gives Match{Key: "kind", Values: ["api"]}.
// Errors are derrors.ErrInvalid.
func ParseParams(filters []string) (Expr, error) {
	var (
		anyOf  []Expr
		nodes  int
		values int
	)
	for _, fs := range filters {
		if err := checkText("filter", fs); err != nil {
			return nil, err
		}
		allOf, err := parseFilterString(fs, &nodes, &values)
		if err != nil {
			return nil, err
		}
		if len(allOf) > 0 {
			anyOf = append(anyOf, collapseAll(allOf))
		}
	}
	switch len(anyOf) {
	case 0:
		return nil, nil
	case 1:
		return anyOf[0], nil
	}
	return Any{Exprs: anyOf}, nil
}

// parseFilterString parses one AND-set of statements, counting nodes and
// values against the limits.
func parseFilterString(fs string, nodes, values *int) ([]Expr, error) {
	type group struct {
		key    string
		values []string
	}
	var (
		groups []*group
		byKey  = map[string]*group{}
	)
	for _, stmt := range strings.Split(fs, ",") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		key, value, hasValue := strings.Cut(stmt, "=")
		key = strings.TrimSpace(key)
		if key == "" {
			return nil, derrors.Invalid("Invalid filter, %s is not a valid statement (expected a string on the form a=b or a= or a)", quote(stmt))
		}
		g := byKey[key]
		if g == nil {
			*nodes++
			if *nodes > maxNodes {
				return nil, derrors.Invalid("Invalid filter, more than %d statements", maxNodes)
			}
			g = &group{key: strings.ToLower(key)}
			byKey[key] = g
			groups = append(groups, g)
		}
		if hasValue {
			*values++
			if *values > maxValues {
				return nil, derrors.Invalid("Invalid filter, more than %d values", maxValues)
			}
			g.values = appendUniqueBounded(g.values, strings.ToLower(strings.TrimSpace(value)))
		}
	}
	exprs := make([]Expr, 0, len(groups))
	for _, g := range groups {
		if g.values == nil {
			exprs = append(exprs, Exists{Key: g.key})
		} else {
			exprs = append(exprs, Match{Key: g.key, Values: g.values})
		}
	}
	return exprs, nil
}

// collapseAll returns the conjunction of exprs, without a wrapper for a
// single child.
func collapseAll(exprs []Expr) Expr {
	if len(exprs) == 1 {
		return exprs[0]
	}
	return All{Exprs: exprs}
}

// collapseAny returns the disjunction of exprs, without a wrapper for a
// single child.
func collapseAny(exprs []Expr) Expr {
	if len(exprs) == 1 {
		return exprs[0]
	}
	return Any{Exprs: exprs}
}

// appendUnique appends v to vs unless it is already there. Value lists are
// short, and a linear scan keeps their order as given.
func appendUnique(vs []string, v string) []string {
	for _, have := range vs {
		if have == v {
			return vs
		}
	}
	return append(vs, v)
}

// checkText rejects text the database cannot store or compare: invalid
// UTF-8 (PostgreSQL refuses it) and NUL bytes (neither dialect keeps them
// in text). Rejecting them here gives the client a 400 instead of a 500.
func checkText(param, s string) error {
	if !utf8.ValidString(s) {
		return derrors.Invalid("Invalid %s, %s is not valid UTF-8", param, quote(s))
	}
	if strings.IndexByte(s, 0) >= 0 {
		return derrors.Invalid("Invalid %s, %s contains a NUL character", param, quote(s))
	}
	return nil
}

// maxQuoted bounds how much of a client's input an error message repeats.
const maxQuoted = 100

// quote returns s Go-quoted for an error message (so control characters
// and invalid UTF-8 are escaped), shortened to maxQuoted bytes without
// splitting a UTF-8 sequence.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
