package action

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
)

func init() {
	Register(Action{
		ID:          "catalog:fetch",
		Description: "Returns entity or entities from the catalog by entity reference(s)",
		Input: json.RawMessage(`{
  "type": "object",
  "properties": {
    "entityRef": {"type": "string", "description": "Entity reference of the entity to get"},
    "entityRefs": {"type": "array", "items": {"type": "string"}, "description": "Entity references of the entities to get"},
    "optional": {"type": "boolean", "description": "Allow the entity or entities to optionally exist. Default: false"},
    "defaultKind": {"type": "string", "description": "The default kind"},
    "defaultNamespace": {"type": "string", "description": "The default namespace"}
  }
}`),
		Output: json.RawMessage(`{
  "type": "object",
  "properties": {
    "entity": {"type": "object", "description": "Object containing same values used in the Entity schema. Only when used with entityRef parameter."},
    "entities": {"type": "array", "items": {"type": "object"}, "description": "Array containing objects with same values used in the Entity schema. Only when used with entityRefs parameter."}
  }
}`),
		Examples: []Example{{
			Description: "Fetch the owner group of the new component",
			Example: `steps:
  - id: fetch-owner
    action: catalog:fetch
    input:
      entityRef: ${{ parameters.owner }}
      defaultKind: group
`,
		}},
		Run: runCatalogFetch,
	})
}

func runCatalogFetch(ctx context.Context, rc *RunContext) error {
	const id = "catalog:fetch"
	if rc.Catalog == nil {
		return errorf(id, "%w", derrors.New(derrors.ErrUnavailable, "the catalog is not available to this task"))
	}
	optional, _ := rc.Input["optional"].(bool)
	defaults := entity.RefDefaults{Namespace: entity.DefaultNamespace}
	if k, _ := rc.Input["defaultKind"].(string); k != "" {
		defaults.Kind = k
	}
	if ns, _ := rc.Input["defaultNamespace"].(string); ns != "" {
		defaults.Namespace = ns
	}
	fetch := func(raw string) (any, error) {
		ref, err := entity.ParseRef(raw, defaults)
		if err != nil {
			return nil, derrors.Invalid("entity ref %q: %v", raw, err)
		}
		body, err := rc.Catalog.EntityByRef(ctx, strings.ToLower(ref.String()))
		if errors.Is(err, derrors.ErrNotFound) {
			if optional {
				return nil, nil
			}
			return nil, derrors.NotFound("Entity %s not found", ref.String())
		}
		if err != nil {
			return nil, err
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, err
		}
		return v, nil
	}
	if one, _ := rc.Input["entityRef"].(string); one != "" {
		v, err := fetch(one)
		if err != nil {
			return errorf(id, "%w", err)
		}
		rc.Output("entity", v)
		return nil
	}
	list, ok := rc.Input["entityRefs"].([]any)
	if !ok {
		return errorf(id, "%w", derrors.Invalid("give entityRef or entityRefs"))
	}
	out := make([]any, 0, len(list))
	for _, r := range list {
		s, ok := r.(string)
		if !ok {
			return errorf(id, "%w", derrors.Invalid("entityRefs: must be strings"))
		}
		v, err := fetch(s)
		if err != nil {
			return errorf(id, "%w", err)
		}
		out = append(out, v)
	}
	rc.Output("entities", out)
	return nil
}
