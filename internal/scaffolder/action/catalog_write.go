package action

import (
	"context"
	"encoding/json"

	"go.yaml.in/yaml/v3"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func init() {
	Register(Action{
		ID:          "catalog:write",
		Description: "Writes the catalog-info.yaml for your template",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["entity"],
  "properties": {
    "filePath": {"type": "string", "title": "Catalog file path", "description": "Defaults to catalog-info.yaml"},
    "entity": {"type": "object", "title": "Entity info to write catalog-info.yaml", "description": "You can provide the same values used in the Entity schema."}
  }
}`),
		Examples: []Example{{
			Description: "Write a catalog-info.yaml file",
			Example: `steps:
  - id: create-catalog-info-file
    action: catalog:write
    input:
      entity:
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: ${{ parameters.name }}
        spec:
          type: service
          lifecycle: production
          owner: ${{ parameters.owner }}
`,
		}},
		Run: runCatalogWrite,
	})
}

func runCatalogWrite(ctx context.Context, rc *RunContext) error {
	const id = "catalog:write"
	path := "catalog-info.yaml"
	if p, ok := rc.Input["filePath"].(string); ok && p != "" {
		path = p
	}
	entity, ok := rc.Input["entity"].(map[string]any)
	if !ok {
		return errorf(id, "%w", derrors.Invalid("entity: must be an object"))
	}
	b, err := yaml.Marshal(entity)
	if err != nil {
		return errorf(id, "encode the entity: %w", err)
	}
	rc.Logger.Info("Writing " + path)
	if err := rc.Workspace.WriteFile(path, b, 0o644); err != nil {
		return errorf(id, "%w", err)
	}
	return nil
}
