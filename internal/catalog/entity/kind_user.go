package entity

// KindUser is a person.
const KindUser = "User"

// userKind follows User.v1alpha1.schema.json: memberOf must be present
// even when empty.
func userKind() KindDef {
	return KindDef{
		Kind:        KindUser,
		APIVersions: backstageVersions,
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, func(r *reader, s map[string]any) {
				profile(r, s)
				r.strList(s, "spec", "memberOf", true, true)
			})
		},
		Relations: func(e *Entity) ([]Edge, Problems) {
			r := newRelations(e)
			r.emit("memberOf", KindGroup, RelationMemberOf, RelationHasMember)
			return r.result()
		},
	}
}
