package entity

// KindGroup is a team, business unit or other group of users.
const KindGroup = "Group"

// groupKind follows Group.v1alpha1.schema.json: children must be present
// even when empty.
func groupKind() KindDef {
	return KindDef{
		Kind:        KindGroup,
		APIVersions: backstageVersions,
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, func(r *reader, s map[string]any) {
				r.str(s, "spec", "type", true, true)
				profile(r, s)
				r.str(s, "spec", "parent", false, true)
				r.strList(s, "spec", "children", true, true)
				r.strList(s, "spec", "members", false, true)
			})
		},
		Relations: func(e *Entity) ([]Edge, Problems) {
			r := newRelations(e)
			r.emit("parent", KindGroup, RelationChildOf, RelationParentOf)
			r.emit("children", KindGroup, RelationParentOf, RelationChildOf)
			r.emit("members", KindUser, RelationHasMember, RelationMemberOf)
			return r.result()
		},
	}
}
