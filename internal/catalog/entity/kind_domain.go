package entity

// KindDomain groups systems that share a bounded context.
const KindDomain = "Domain"

// domainKind follows Domain.v1alpha1.schema.json.
func domainKind() KindDef {
	return KindDef{
		Kind:        KindDomain,
		APIVersions: backstageVersions,
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, func(r *reader, s map[string]any) {
				r.str(s, "spec", "owner", true, true)
				r.str(s, "spec", "subdomainOf", false, true)
				r.str(s, "spec", "type", false, true)
			})
		},
		Relations: func(e *Entity) ([]Edge, Problems) {
			r := newRelations(e)
			r.emit("owner", KindGroup, RelationOwnedBy, RelationOwnerOf)
			r.emit("subdomainOf", KindDomain, RelationPartOf, RelationHasPart)
			return r.result()
		},
	}
}
