package entity

// KindComponent is a unit of software: a service, website or library.
const KindComponent = "Component"

// componentKind follows Component.v1alpha1.schema.json; dependencyOf is
// not in the schema but is in Backstage's ComponentEntity type and emits
// relations, so it is checked like dependsOn.
func componentKind() KindDef {
	return KindDef{
		Kind:        KindComponent,
		APIVersions: backstageVersions,
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, func(r *reader, s map[string]any) {
				r.str(s, "spec", "type", true, true)
				r.str(s, "spec", "lifecycle", true, true)
				r.str(s, "spec", "owner", true, true)
				r.str(s, "spec", "system", false, true)
				r.str(s, "spec", "subcomponentOf", false, true)
				r.strList(s, "spec", "providesApis", false, true)
				r.strList(s, "spec", "consumesApis", false, true)
				r.strList(s, "spec", "dependsOn", false, true)
				r.strList(s, "spec", "dependencyOf", false, true)
			})
		},
		Relations: func(e *Entity) ([]Edge, Problems) {
			r := newRelations(e)
			r.emit("owner", KindGroup, RelationOwnedBy, RelationOwnerOf)
			r.emit("subcomponentOf", KindComponent, RelationPartOf, RelationHasPart)
			r.emit("providesApis", KindAPI, RelationProvidesAPI, RelationAPIProvidedBy)
			r.emit("consumesApis", KindAPI, RelationConsumesAPI, RelationAPIConsumedBy)
			r.emit("dependsOn", "", RelationDependsOn, RelationDependencyOf)
			r.emit("dependencyOf", "", RelationDependencyOf, RelationDependsOn)
			r.emit("system", KindSystem, RelationPartOf, RelationHasPart)
			return r.result()
		},
	}
}
