package entity

// KindResource is infrastructure a system needs: a database, a bucket.
const KindResource = "Resource"

// resourceKind follows Resource.v1alpha1.schema.json.
func resourceKind() KindDef {
	return KindDef{
		Kind:        KindResource,
		APIVersions: backstageVersions,
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, func(r *reader, s map[string]any) {
				r.str(s, "spec", "type", true, true)
				r.str(s, "spec", "owner", true, true)
				r.strList(s, "spec", "dependsOn", false, true)
				r.strList(s, "spec", "dependencyOf", false, true)
				r.str(s, "spec", "system", false, true)
			})
		},
		Relations: func(e *Entity) ([]Edge, Problems) {
			r := newRelations(e)
			r.emit("owner", KindGroup, RelationOwnedBy, RelationOwnerOf)
			r.emit("dependsOn", "", RelationDependsOn, RelationDependencyOf)
			r.emit("dependencyOf", "", RelationDependencyOf, RelationDependsOn)
			r.emit("system", KindSystem, RelationPartOf, RelationHasPart)
			return r.result()
		},
	}
}
