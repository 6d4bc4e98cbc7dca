package action

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

func init() {
	Register(Action{
		ID:          "fs:delete",
		Description: "Deletes files and directories from the workspace",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["files"],
  "properties": {
    "files": {"title": "Files", "description": "A list of files and directories that will be deleted. Glob patterns are supported.", "type": "array", "items": {"type": "string"}}
  }
}`),
		Examples: []Example{{
			Description: "Delete a file and every Markdown file below docs.",
			Example: `steps:
  - id: delete-files
    action: fs:delete
    name: Delete files
    input:
      files:
        - ./file.txt
        - docs/**/*.md
`,
		}},
		Run: runFSDelete,
	})
}

func runFSDelete(ctx context.Context, rc *RunContext) error {
	const id = "fs:delete"
	if _, ok := rc.Input["files"]; !ok {
		return errorf(id, "%w", derrors.Invalid("files: required"))
	}
	files, err := inputStrings(rc.Input, "files")
	if err != nil {
		return errorf(id, "%w", err)
	}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := workspace.Clean(f)
		if err != nil {
			return errorf(id, "files[%d]: %w", i, err)
		}
		if p == "." {
			return errorf(id, "files[%d]: %w", i, derrors.Invalid("refusing to delete the whole workspace"))
		}
		matches := []string{p}
		if strings.ContainsAny(p, "*?[{") {
			if !doublestar.ValidatePattern(p) {
				return errorf(id, "files[%d]: %w", i, derrors.Invalid("%q is not a valid glob", f))
			}
			matches, err = doublestar.Glob(rc.Workspace.FS(), p, doublestar.WithNoFollow())
			if err != nil {
				return errorf(id, "files[%d]: %w", i, err)
			}
		}
		for _, m := range matches {
			if m == "." {
				continue
			}
			if err := rc.Workspace.Remove(m); err != nil {
				return errorf(id, "deleting %q: %w", m, err)
			}
			rc.logger().Info("File deleted successfully", "path", m)
		}
	}
	return nil
}
