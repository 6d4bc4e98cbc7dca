package bench

import "github.com/atrium-dev/atrium/internal/catalog/filter"

func kindFilter(kind string) filter.Expr {
	return filter.Match{Key: "kind", Values: []string{kind}}
}
