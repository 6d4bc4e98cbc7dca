package action

import (
	"context"
	"encoding/json"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func init() {
	Register(Action{
		ID:          "fs:rename",
		Description: "Renames files and directories within the workspace",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["files"],
  "properties": {
    "files": {
      "title": "Files",
      "description": "A list of file and directory names that will be renamed",
      "type": "array",
      "items": {
        "type": "object",
        "required": ["from", "to"],
        "properties": {
          "from": {"type": "string", "title": "The source location of the file to be renamed"},
          "to": {"type": "string", "title": "The destination of the new file"},
          "overwrite": {"type": "boolean", "title": "Overwrite existing file or directory, default is false"}
        }
      }
    }
  }
}`),
		Examples: []Example{{
			Description: "Rename a file, replacing the destination if it exists.",
			Example: `steps:
  - id: rename-files
    action: fs:rename
    name: Rename files
    input:
      files:
        - from: file1.txt
          to: file1Renamed.txt
          overwrite: true
`,
		}},
		Run: runFSRename,
	})
}

func runFSRename(ctx context.Context, rc *RunContext) error {
	const id = "fs:rename"
	list, ok := rc.Input["files"].([]any)
	if !ok {
		return errorf(id, "%w", derrors.Invalid("files: must be an array of {from, to, overwrite}"))
	}
	for i, e := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, ok := e.(map[string]any)
		if !ok {
			return errorf(id, "%w", derrors.Invalid("files[%d]: must be object, not %s", i, typeName(e)))
		}
		from, err1 := requireString(m, "from")
		to, err2 := requireString(m, "to")
		if err1 != nil || err2 != nil {
			return errorf(id, "%w", derrors.Invalid("files[%d]: each file must have a from and to property", i))
		}
		overwrite, err := inputBool(m, "overwrite", false)
		if err != nil {
			return errorf(id, "files[%d].%w", i, err)
		}
		if err := rc.Workspace.Rename(from, to, overwrite); err != nil {
			return errorf(id, "files[%d]: %w", i, err)
		}
		rc.logger().Info("File renamed", "from", from, "to", to)
	}
	return nil
}
