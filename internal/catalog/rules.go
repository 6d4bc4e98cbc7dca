package catalog

import (
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// Rule allows entities of some kinds, optionally only from some locations
// (catalog.rules in app-config.yaml).
type Rule struct {
	// Allow lists the kinds the rule allows.
	Allow []AllowKind
	// Locations, if any, restrict the rule to entities whose location or
	// origin location matches one of them.
	Locations []RuleLocation
}

// AllowKind matches a kind case-insensitively and, if SpecType is set,
// an exact spec.type.
type AllowKind struct {
	Kind     string
	SpecType string
}

// Kinds makes AllowKinds from kind names.
func Kinds(names ...string) []AllowKind {
	out := make([]AllowKind, len(names))
	for i, n := range names {
		out[i] = AllowKind{Kind: n}
	}
	return out
}

// RuleLocation matches a location by type and exact target or glob pattern.
type RuleLocation struct {
	Type    string
	Target  string
	Pattern string
}

// DefaultRules are Backstage's rules when catalog.rules is absent.
var DefaultRules = []Rule{{Allow: Kinds("Component", "API", "Location")}}

// rules decides which kinds may come from which locations.
type rules []Rule

// allowed reports whether an entity of kind and spec.type, read at
// location and originating at origin (both "type:target"), is allowed.
func (rs rules) allowed(kind, specType, location, origin string) bool {
	for _, r := range rs {
		if !r.allowsKind(kind, specType) {
			continue
		}
		if len(r.Locations) == 0 {
			return true
		}
		for _, l := range r.Locations {
			if l.matches(location) || l.matches(origin) {
				return true
			}
		}
	}
	return false
}

func (r Rule) allowsKind(kind, specType string) bool {
	for _, k := range r.Allow {
		if strings.EqualFold(k.Kind, kind) && (k.SpecType == "" || k.SpecType == specType) {
			return true
		}
	}
	return false
}

func (l RuleLocation) matches(ref string) bool {
	typ, target, ok := strings.Cut(ref, ":")
	if !ok || typ != l.Type {
		return false
	}
	if l.Pattern != "" {
		// Glob semantics as Backstage's minimatch: "*" within a path
		// segment, "**" across segments.
		ok, _ := doublestar.Match(strings.ToLower(l.Pattern), strings.ToLower(target))
		return ok
	}
	return l.Target == target
}

func specType(e *entity.Entity) string { return e.SpecString("type") }
