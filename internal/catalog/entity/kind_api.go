package entity

// KindAPI is an interface a component provides or consumes.
const KindAPI = "API"

// apiKind follows API.v1alpha1.schema.json: definition is the API
// document itself, as a string.
func apiKind() KindDef {
	return KindDef{
		Kind:        KindAPI,
		APIVersions: backstageVersions,
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, func(r *reader, s map[string]any) {
				r.str(s, "spec", "type", true, true)
				r.str(s, "spec", "lifecycle", true, true)
				r.str(s, "spec", "owner", true, true)
				r.str(s, "spec", "definition", true, true)
				r.str(s, "spec", "system", false, true)
			})
		},
		Relations: func(e *Entity) ([]Edge, Problems) {
			r := newRelations(e)
			r.emit("owner", KindGroup, RelationOwnedBy, RelationOwnerOf)
			r.emit("system", KindSystem, RelationPartOf, RelationHasPart)
			return r.result()
		},
	}
}
