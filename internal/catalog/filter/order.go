package filter

import (
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// ParseOrder parses the `order` query parameters of GET /entities, each
// `asc:<field>` or `desc:<field>` (Backstage's `^(asc|desc):(.+)$`: the
// direction is case-sensitive and the field is taken as written, then
// lowercased). It returns nil for no values. Errors are
// derrors.ErrInvalid.
func ParseOrder(values []string) ([]Order, error) {
	var orders []Order
	for _, v := range values {
		dir, field, ok := strings.Cut(v, ":")
		if !ok || (dir != "asc" && dir != "desc") || field == "" || strings.ContainsAny(field, lineTerminators) {
			return nil, derrors.Invalid(`Invalid order parameter %s, expected "<asc or desc>:<field name>"`, quote(v))
		}
		if err := checkText("order", field); err != nil {
			return nil, err
		}
		orders = append(orders, Order{Field: strings.ToLower(field), Desc: dir == "desc"})
	}
	return orders, nil
}

// lineTerminators are the characters JavaScript's `.` does not match, so
// Backstage's order regexp rejects a field that contains one.
const lineTerminators = "\n\r\u2028\u2029"

// ParseOrderFields parses the `orderField` query parameters of GET
// /entities/by-query, each `<field>` or `<field>,asc|desc` (ascending when
// the direction is left out). As in Backstage, text after a second comma
// is ignored and the direction is case-sensitive; unlike Backstage, an
// empty field is an error rather than a sort that excludes every entity.
// The field is lowercased. It returns nil for no values. Errors are
// derrors.ErrInvalid.
func ParseOrderFields(values []string) ([]Order, error) {
	var orders []Order
	for _, v := range values {
		parts := strings.SplitN(v, ",", 3)
		field := parts[0]
		desc := false
		if len(parts) > 1 {
			switch parts[1] {
			case "asc":
			case "desc":
				desc = true
			default:
				return nil, derrors.Invalid("Invalid order field order, must be asc or desc (got %s in orderField %s)", quote(parts[1]), quote(v))
			}
		}
		if field == "" {
			return nil, derrors.Invalid("Invalid orderField %s, expected \"<field name>[,asc|desc]\"", quote(v))
		}
		if err := checkText("orderField", field); err != nil {
			return nil, err
		}
		orders = append(orders, Order{Field: strings.ToLower(field), Desc: desc})
	}
	return orders, nil
}
