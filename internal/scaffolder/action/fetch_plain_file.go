package action

import (
	"context"
	"encoding/json"
)

func init() {
	Register(Action{
		ID:          "fetch:plain:file",
		Description: "Downloads single file and places it in the workspace.",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["url", "targetPath"],
  "properties": {
    "url": {"title": "Fetch URL", "description": "Relative path of the file to copy, resolved against the template's location", "type": "string"},
    "targetPath": {"title": "Target Path", "description": "Target path within the working directory to download the file as.", "type": "string"},
    "token": {"title": "Token", "description": "An optional token to use for authentication when reading the resources.", "type": "string"}
  }
}`),
		Examples: []Example{{
			Description: "Copy one file from the template into the workspace.",
			Example: `steps:
  - id: fetch-plain-file
    action: fetch:plain:file
    name: Fetch plain file
    input:
      url: ./files/LICENSE
      targetPath: ./LICENSE
`,
		}},
		Run: runFetchPlainFile,
	})
}

func runFetchPlainFile(ctx context.Context, rc *RunContext) error {
	const id = "fetch:plain:file"
	url, err := requireString(rc.Input, "url")
	if err != nil {
		return errorf(id, "%w", err)
	}
	target, err := requireString(rc.Input, "targetPath")
	if err != nil {
		return errorf(id, "%w", err)
	}
	src, entry, err := openSourceFile(rc, url)
	if err != nil {
		return errorf(id, "%w", err)
	}
	defer src.Close()
	if err := ctx.Err(); err != nil {
		return err
	}
	rc.logger().Info("Fetching plain file", "url", url, "targetPath", target)
	if err := copyEntry(rc, src, entry, target); err != nil {
		return errorf(id, "%w", err)
	}
	return nil
}
