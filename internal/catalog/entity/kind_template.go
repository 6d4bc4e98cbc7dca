package entity

import (
	"maps"
	"slices"
)

// KindTemplate is a software template run by the scaffolder.
const KindTemplate = "Template"

// templateKind follows plugins/scaffolder-common Template.v1beta3.schema.json.
// Only the shape is checked here; the scaffolder checks step actions and
// template expressions when it loads the template.
func templateKind() KindDef {
	return KindDef{
		Kind:        KindTemplate,
		APIVersions: []string{APIVersionScaffolderV1beta3},
		ValidateSpec: func(spec map[string]any) Problems {
			return specRules(spec, checkTemplateSpec)
		},
		// ScaffolderEntitiesProcessor emits only the owner relation.
		Relations: func(e *Entity) ([]Edge, Problems) {
			r := newRelations(e)
			r.emit("owner", KindGroup, RelationOwnedBy, RelationOwnerOf)
			return r.result()
		},
	}
}

func checkTemplateSpec(r *reader, s map[string]any) {
	const p = "spec"
	r.str(s, p, "type", true, true)
	r.str(s, p, "owner", false, true)
	r.str(s, p, "lifecycle", false, true)

	// parameters: one JSON Schema object, or a list of them (one per form page).
	if v, ok := r.get(s, p, "parameters", false); ok {
		pp := joinPath(p, "parameters")
		if obj, ok := asObject(v); ok {
			permissions(r, obj, pp)
		} else if l, ok := asList(v); ok {
			for i, item := range l {
				if obj, ok := objectItem(r, item, indexPath(pp, i)); ok {
					permissions(r, obj, indexPath(pp, i))
				}
			}
		} else {
			r.add(pp, "must be object or array, found %s", typeName(v))
		}
	}

	if sec, ok := r.object(s, p, "secrets", false); ok {
		r.object(sec, "spec.secrets", "schema", false)
	}
	if pres, ok := r.object(s, p, "presentation", false); ok {
		if bl, ok := r.object(pres, "spec.presentation", "buttonLabels", false); ok {
			for _, k := range []string{"backButtonText", "createButtonText", "reviewButtonText"} {
				r.str(bl, "spec.presentation.buttonLabels", k, false, false)
			}
		}
	}
	if rec, ok := r.object(s, p, "EXPERIMENTAL_recovery", false); ok {
		r.str(rec, "spec.EXPERIMENTAL_recovery", "EXPERIMENTAL_strategy", false, false)
	}
	if decs, ok := r.list(s, p, "EXPERIMENTAL_formDecorators", false); ok {
		for i, item := range decs {
			ip := indexPath("spec.EXPERIMENTAL_formDecorators", i)
			if d, ok := objectItem(r, item, ip); ok {
				r.str(d, ip, "id", false, false)
				r.object(d, ip, "input", false)
			}
		}
	}

	if steps, ok := r.list(s, p, "steps", true); ok {
		for i, item := range steps {
			ip := indexPath("spec.steps", i)
			st, ok := objectItem(r, item, ip)
			if !ok {
				continue
			}
			r.str(st, ip, "id", false, false)
			r.str(st, ip, "name", false, false)
			r.str(st, ip, "action", true, false)
			r.object(st, ip, "input", false)
			condition(r, st, ip)
			permissions(r, st, ip)
		}
	}

	if out, ok := r.object(s, p, "output", false); ok {
		const op = "spec.output"
		for _, k := range slices.Sorted(maps.Keys(out)) {
			switch k {
			case "links":
				links, ok := r.list(out, op, "links", false)
				if !ok {
					continue
				}
				for i, item := range links {
					ip := indexPath(op+".links", i)
					if l, ok := objectItem(r, item, ip); ok {
						condition(r, l, ip)
						for _, f := range []string{"url", "entityRef", "title", "icon"} {
							r.str(l, ip, f, false, true)
						}
					}
				}
			case "text":
				texts, ok := r.list(out, op, "text", false)
				if !ok {
					continue
				}
				for i, item := range texts {
					ip := indexPath(op+".text", i)
					if t, ok := objectItem(r, item, ip); ok {
						condition(r, t, ip)
						r.str(t, ip, "title", false, true)
						r.str(t, ip, "icon", false, true)
						r.str(t, ip, "content", false, false)
					}
				}
			default:
				// Other outputs are templated strings.
				r.str(out, op, k, false, false)
			}
		}
	}
}

// objectItem checks that an array item is an object.
func objectItem(r *reader, item any, path string) (map[string]any, bool) {
	if _, bad := item.(badValue); bad {
		return nil, false
	}
	obj, ok := asObject(item)
	if !ok {
		r.add(path, "must be object, found %s", typeName(item))
	}
	return obj, ok
}

// condition checks an optional "if", which is a template string or a boolean.
func condition(r *reader, obj map[string]any, path string) {
	v, ok := r.get(obj, path, "if", false)
	if !ok {
		return
	}
	switch v.(type) {
	case string, bool:
	default:
		r.add(joinPath(path, "if"), "must be string or boolean, found %s", typeName(v))
	}
}

// permissions checks an optional "backstage:permissions" object.
func permissions(r *reader, obj map[string]any, path string) {
	if perm, ok := r.object(obj, path, "backstage:permissions", false); ok {
		r.strList(perm, joinPath(path, "backstage:permissions"), "tags", false, false)
	}
}
