package entity

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// KindDef defines one entity kind: which apiVersions it accepts, how its
// spec is checked and which relations its spec fields produce. The
// built-in kinds are KindDefs like any other; a custom kind is added by
// registering one more.
type KindDef struct {
	// Kind is the kind exactly as entities spell it ("Component"); lookups
	// are case-sensitive, as in Backstage.
	Kind string
	// APIVersions lists the apiVersions this definition accepts.
	APIVersions []string
	// ValidateSpec checks spec, which is nil when the entity has none.
	// Problem paths are from the entity root ("spec.owner"). Nil means any
	// spec is accepted.
	ValidateSpec func(spec map[string]any) Problems
	// Relations returns the edges the entity's spec declares, both
	// directions. Nil means the kind declares no relations.
	Relations func(e *Entity) ([]Edge, Problems)
}

// KindRegistry holds the kinds the catalog accepts, keyed by kind and
// apiVersion. It is safe for concurrent use.
type KindRegistry struct {
	mu   sync.RWMutex
	defs map[kindKey]KindDef
}

type kindKey struct{ apiVersion, kind string }

// NewKindRegistry returns an empty registry.
func NewKindRegistry() *KindRegistry {
	return &KindRegistry{defs: map[kindKey]KindDef{}}
}

// Register adds a kind. It panics if def has no Kind or no APIVersions, or
// if any of its apiVersion/kind pairs is already registered: two
// definitions of one pair is a wiring bug, found at startup.
func (r *KindRegistry) Register(def KindDef) {
	if def.Kind == "" || len(def.APIVersions) == 0 {
		panic(fmt.Sprintf("entity: KindDef %q needs a Kind and at least one apiVersion", def.Kind))
	}
	def.APIVersions = slices.Clone(def.APIVersions)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range def.APIVersions {
		if _, dup := r.defs[kindKey{v, def.Kind}]; dup {
			panic(fmt.Sprintf("entity: kind %s with apiVersion %s registered twice", def.Kind, v))
		}
	}
	for _, v := range def.APIVersions {
		r.defs[kindKey{v, def.Kind}] = def
	}
}

// Lookup returns the definition for an apiVersion and kind, both matched
// exactly.
func (r *KindRegistry) Lookup(apiVersion, kind string) (KindDef, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	def, ok := r.defs[kindKey{apiVersion, kind}]
	return def, ok
}

// Kinds returns the registered kind names, sorted, each once.
func (r *KindRegistry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for k := range r.defs {
		out = append(out, k.kind)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// The apiVersions of Backstage's built-in catalog kinds.
const (
	APIVersionV1alpha1 = "backstage.io/v1alpha1"
	APIVersionV1beta1  = "backstage.io/v1beta1"
	// APIVersionScaffolderV1beta3 is the apiVersion of Template entities.
	APIVersionScaffolderV1beta3 = "scaffolder.backstage.io/v1beta3"
)

var backstageVersions = []string{APIVersionV1alpha1, APIVersionV1beta1}

// BuiltinKinds returns a new registry holding Backstage's built-in kinds:
// Component, API, Resource, System, Domain, Group, User, Location (all
// backstage.io/v1alpha1 and v1beta1) and Template
// (scaffolder.backstage.io/v1beta3). Callers may Register more kinds on it.
func BuiltinKinds() *KindRegistry {
	r := NewKindRegistry()
	r.Register(componentKind())
	r.Register(apiKind())
	r.Register(resourceKind())
	r.Register(systemKind())
	r.Register(domainKind())
	r.Register(groupKind())
	r.Register(userKind())
	r.Register(locationKind())
	r.Register(templateKind())
	return r
}

// EmitRelations returns the relations e's spec declares, as its kind in
// kinds (nil means the built-in kinds) defines them, in both directions:
// for Component.owner "team-a" that is component -ownedBy-> group:team-a
// and group:team-a -ownerOf-> component. Refs without a namespace take the
// entity's own; refs without a kind take the field's default kind.
// Duplicate edges are dropped, keeping the first. A kind that is not
// registered declares no relations.
//
// Problems name the spec field of each unusable ref (for dependsOn, a ref
// without a kind). Backstage fails the whole entity's processing then;
// callers should do the same with the edges returned alongside.
func EmitRelations(e *Entity, kinds *KindRegistry) ([]Edge, Problems) {
	if e == nil {
		return nil, nil
	}
	if kinds == nil {
		kinds = builtinRegistry()
	}
	def, ok := kinds.Lookup(e.APIVersion, e.Kind)
	if !ok || def.Relations == nil {
		return nil, nil
	}
	edges, probs := def.Relations(e)
	seen := make(map[string]bool, len(edges))
	out := edges[:0:0]
	for _, ed := range edges {
		k := ed.Source.Key() + "\x00" + string(ed.Type) + "\x00" + ed.Target.Key()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, ed)
	}
	return out, probs
}

// relationPairs maps each built-in relation type to its reverse.
var relationPairs = map[RelationType]RelationType{
	RelationOwnedBy:       RelationOwnerOf,
	RelationOwnerOf:       RelationOwnedBy,
	RelationPartOf:        RelationHasPart,
	RelationHasPart:       RelationPartOf,
	RelationDependsOn:     RelationDependencyOf,
	RelationDependencyOf:  RelationDependsOn,
	RelationProvidesAPI:   RelationAPIProvidedBy,
	RelationAPIProvidedBy: RelationProvidesAPI,
	RelationConsumesAPI:   RelationAPIConsumedBy,
	RelationAPIConsumedBy: RelationConsumesAPI,
	RelationMemberOf:      RelationHasMember,
	RelationHasMember:     RelationMemberOf,
	RelationParentOf:      RelationChildOf,
	RelationChildOf:       RelationParentOf,
}

// Reverse returns the relation type that points the other way (ownedBy ->
// ownerOf, ownerOf -> ownedBy); false for a type that is not built in.
func Reverse(t RelationType) (RelationType, bool) {
	r, ok := relationPairs[t]
	return r, ok
}

// specRules is the shared start of every built-in ValidateSpec: the spec
// must be present (the kind schemas list it as required) and be an object.
func specRules(spec map[string]any, check func(r *reader, spec map[string]any)) Problems {
	r := &reader{}
	if spec == nil {
		r.add("spec", "must have required property 'spec'")
		return r.probs
	}
	check(r, spec)
	return r.probs
}

// relations collects the edges of one entity, parsing spec refs with the
// entity's namespace as default, as BuiltinKindsEntityProcessor does.
type relations struct {
	self  Ref
	spec  map[string]any
	edges []Edge
	probs Problems
}

func newRelations(e *Entity) *relations {
	return &relations{self: e.Ref(), spec: e.Spec}
}

// emit adds self -out-> target and target -in-> self for each ref in the
// spec field (a string or an array of strings). defaultKind "" means the
// ref must name its kind.
func (r *relations) emit(field, defaultKind string, out, in RelationType) {
	v, ok := r.spec[field]
	if !ok || v == nil {
		return
	}
	path := "spec." + field
	if s, ok := v.(string); ok {
		if s != "" { // Backstage skips falsy values
			r.one(s, path, defaultKind, out, in)
		}
		return
	}
	l, ok := asList(v)
	if !ok {
		r.probs = append(r.probs, Problem{Path: path, Message: fmt.Sprintf("must be string or array of strings, found %s", typeName(v))})
		return
	}
	for i, item := range l {
		p := indexPath(path, i)
		s, ok := item.(string)
		if !ok {
			r.probs = append(r.probs, Problem{Path: p, Message: fmt.Sprintf("must be string, found %s", typeName(item))})
			continue
		}
		r.one(s, p, defaultKind, out, in)
	}
}

func (r *relations) one(s, path, defaultKind string, out, in RelationType) {
	target, err := ParseRef(s, RefDefaults{Kind: defaultKind, Namespace: r.self.Namespace})
	if err != nil {
		r.probs = append(r.probs, Problem{Path: path, Message: err.Error()})
		return
	}
	r.edges = append(r.edges,
		Edge{Source: r.self, Type: out, Target: target},
		Edge{Source: target, Type: in, Target: r.self})
}

func (r *relations) result() ([]Edge, Problems) { return r.edges, r.probs }

// oneOf reports a string field whose value is not in allowed, in ajv's
// enum wording.
func oneOf(r *reader, obj map[string]any, path, key string, allowed ...string) {
	s, ok := r.str(obj, path, key, false, false)
	if ok && !slices.Contains(allowed, s) {
		r.add(joinPath(path, key), "must be equal to one of the allowed values: %s; found %s",
			strings.Join(allowed, ", "), quoteFound(s))
	}
}

// profile checks the optional profile object of User and Group.
func profile(r *reader, spec map[string]any) {
	if p, ok := r.object(spec, "spec", "profile", false); ok {
		r.str(p, "spec.profile", "displayName", false, true)
		r.str(p, "spec.profile", "email", false, true)
		r.str(p, "spec.profile", "picture", false, true)
	}
}
