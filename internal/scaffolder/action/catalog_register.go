package action

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func init() {
	Register(Action{
		ID:          "catalog:register",
		Description: "Registers entities from a catalog descriptor file in the software catalog",
		Input: json.RawMessage(`{
  "type": "object",
  "properties": {
    "catalogInfoUrl": {"type": "string", "title": "Catalog Info URL", "description": "An absolute URL pointing to the catalog info file location"},
    "repoContentsUrl": {"type": "string", "title": "Repository Contents URL", "description": "An absolute URL pointing to the root of a repository directory tree"},
    "catalogInfoPath": {"type": "string", "title": "Fetch URL", "description": "A relative path from the repo root pointing to the catalog info file, defaults to /catalog-info.yaml"},
    "optional": {"type": "boolean", "title": "Optional", "description": "Permit the registered location to optionally exist. Default: false"}
  }
}`),
		Output: json.RawMessage(`{
  "type": "object",
  "properties": {
    "entityRef": {"type": "string"},
    "catalogInfoUrl": {"type": "string"}
  }
}`),
		Examples: []Example{{
			Description: "Register the repository that publish:git created",
			Example: `steps:
  - id: register
    action: catalog:register
    input:
      repoContentsUrl: ${{ steps['publish'].output.repoContentsUrl }}
      catalogInfoPath: /catalog-info.yaml
`,
		}},
		Run:      runCatalogRegister,
		External: true,
	})
}

func runCatalogRegister(ctx context.Context, rc *RunContext) error {
	const id = "catalog:register"
	url, _ := rc.Input["catalogInfoUrl"].(string)
	if url == "" {
		base, _ := rc.Input["repoContentsUrl"].(string)
		if base == "" {
			return errorf(id, "%w", derrors.Invalid("give catalogInfoUrl, or repoContentsUrl with an optional catalogInfoPath"))
		}
		path, _ := rc.Input["catalogInfoPath"].(string)
		if path == "" {
			path = "/catalog-info.yaml"
		}
		url = strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(path, "/")
	}
	if rc.IsDryRun {
		rc.Logger.Info("Dry run: would register " + url)
		rc.Output("catalogInfoUrl", url)
		return nil
	}
	if rc.Catalog == nil {
		return errorf(id, "%w", derrors.New(derrors.ErrUnavailable, "the catalog is not available to this task"))
	}
	rc.Logger.Info("Registering " + url + " in the catalog")
	refs, err := rc.Catalog.RegisterLocation(ctx, url)
	if err != nil {
		if optional, _ := rc.Input["optional"].(bool); optional {
			rc.Logger.Warn("Could not register " + url + " (optional): " + err.Error())
			rc.Output("catalogInfoUrl", url)
			return nil
		}
		return errorf(id, "%w", err)
	}
	rc.Output("catalogInfoUrl", url)
	// As Backstage: the first entity that is not the Location itself.
	for _, r := range refs {
		if !strings.HasPrefix(r, "location:") {
			rc.Output("entityRef", r)
			return nil
		}
	}
	if len(refs) > 0 {
		rc.Output("entityRef", refs[0])
	}
	return nil
}
