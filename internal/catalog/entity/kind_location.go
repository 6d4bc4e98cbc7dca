package entity

// KindLocation points the catalog at more places to read entities from.
const KindLocation = "Location"

// The values of a Location's spec.presence.
const (
	PresenceRequired = "required"
	PresenceOptional = "optional"
)

// locationKind follows Location.v1alpha1.schema.json. A Location declares
// no relations: the catalog turns its targets into child entities instead.
func locationKind() KindDef {
	return KindDef{
		Kind:        KindLocation,
		APIVersions: backstageVersions,
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, func(r *reader, s map[string]any) {
				r.str(s, "spec", "type", false, true)
				r.str(s, "spec", "target", false, true)
				r.strList(s, "spec", "targets", false, true)
				oneOf(r, s, "spec", "presence", PresenceRequired, PresenceOptional)
			})
		},
	}
}
