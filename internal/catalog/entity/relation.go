package entity

// RelationType names a directed relation, such as ownedBy.
type RelationType string

// The built-in relation types, in forward/reverse pairs.
const (
	RelationOwnedBy       RelationType = "ownedBy"
	RelationOwnerOf       RelationType = "ownerOf"
	RelationPartOf        RelationType = "partOf"
	RelationHasPart       RelationType = "hasPart"
	RelationDependsOn     RelationType = "dependsOn"
	RelationDependencyOf  RelationType = "dependencyOf"
	RelationProvidesAPI   RelationType = "providesApi"
	RelationAPIProvidedBy RelationType = "apiProvidedBy"
	RelationConsumesAPI   RelationType = "consumesApi"
	RelationAPIConsumedBy RelationType = "apiConsumedBy"
	RelationMemberOf      RelationType = "memberOf"
	RelationHasMember     RelationType = "hasMember"
	RelationParentOf      RelationType = "parentOf"
	RelationChildOf       RelationType = "childOf"
)

// Edge is one emitted relation between two entities. The catalog stores
// edges and shows each on its source entity's relations list.
type Edge struct {
	Source Ref
	Type   RelationType
	Target Ref
}
