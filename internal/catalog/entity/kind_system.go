package entity

// KindSystem is a collection of components, resources and APIs.
const KindSystem = "System"

// systemKind follows System.v1alpha1.schema.json.
func systemKind() KindDef {
	return KindDef{
		Kind:        KindSystem,
		APIVersions: backstageVersions,
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, func(r *reader, s map[string]any) {
				r.str(s, "spec", "owner", true, true)
				r.str(s, "spec", "domain", false, true)
				r.str(s, "spec", "type", false, true)
			})
		},
		Relations: func(e *Entity) ([]Edge, Problems) {
			r := newRelations(e)
			r.emit("owner", KindGroup, RelationOwnedBy, RelationOwnerOf)
			r.emit("domain", KindDomain, RelationPartOf, RelationHasPart)
			return r.result()
		},
	}
}
