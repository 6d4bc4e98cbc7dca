package entity

import (
	"fmt"
	"strings"
)

// Ref identifies an entity: kind, namespace and name. Compare refs with
// Key, which is case-insensitive as Backstage's catalog is.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns "kind:namespace/name" with the kind lowercased and the
// namespace and name as given ("component:default/Petstore"), so names keep
// their case for display and the result parses back to the same entity.
// Backstage's stringifyEntityRef lowercases all three parts; that
// canonical form, used in relations' targetRef, storage and filters, is Key.
func (r Ref) String() string {
	ns := r.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return strings.ToLower(r.Kind) + ":" + ns + "/" + r.Name
}

// Key returns the fully lowercased form used for identity, storage, filters
// and targetRef: Backstage's stringifyEntityRef.
func (r Ref) Key() string { return strings.ToLower(r.String()) }

// Equal reports whether two refs name the same entity (case-insensitively).
func (r Ref) Equal(o Ref) bool { return r.Key() == o.Key() }

// RefDefaults supplies the kind and namespace for a reference that omits them.
type RefDefaults struct {
	Kind      string
	Namespace string
}

// ParseRef parses "[<kind>:][<namespace>/]<name>" as Backstage's
// parseEntityRef does: the first ':' and the first '/' split it, a '/'
// before the ':' means the colon belongs to the name, and the name is
// everything after (it may contain ':' or '/'). A missing kind takes
// d.Kind and is an error if that is empty; a missing namespace takes
// d.Namespace, else "default".
func ParseRef(s string, d RefDefaults) (Ref, error) {
	if s == "" {
		return Ref{}, fmt.Errorf("entity reference must not be empty")
	}
	var kind, ns, name string
	hasKind, hasNS := false, false
	rest := s
	colon := strings.IndexByte(rest, ':')
	slash := strings.IndexByte(rest, '/')
	if colon >= 0 && (slash < 0 || colon < slash) {
		kind, rest, hasKind = rest[:colon], rest[colon+1:], true
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		ns, rest, hasNS = rest[:i], rest[i+1:], true
	}
	name = rest
	if (hasKind && kind == "") || (hasNS && ns == "") || name == "" {
		return Ref{}, fmt.Errorf("entity reference %q was not on the form [<kind>:][<namespace>/]<name>", s)
	}
	if !hasKind {
		if d.Kind == "" {
			return Ref{}, fmt.Errorf("entity reference %q had missing or empty kind (e.g. did not start with \"component:\" or similar)", s)
		}
		kind = d.Kind
	}
	if !hasNS {
		ns = d.Namespace
		if ns == "" {
			ns = DefaultNamespace
		}
	}
	return Ref{Kind: kind, Namespace: ns, Name: name}, nil
}

// MustParseRef is ParseRef for refs known to be valid, such as constants in tests.
func MustParseRef(s string) Ref {
	r, err := ParseRef(s, RefDefaults{})
	if err != nil {
		panic(err)
	}
	return r
}
