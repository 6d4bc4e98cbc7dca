package action

import (
	"context"
	"encoding/json"
	"io/fs"
	"path/filepath"

	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

func init() {
	Register(Action{
		ID:          "fs:readdir",
		Description: "Reads files and directories from the workspace",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["paths"],
  "properties": {
    "paths": {"type": "array", "items": {"type": "string"}, "description": "Directories in the workspace to list"},
    "recursive": {"type": "boolean", "default": false, "description": "List the directories' whole trees"}
  }
}`),
		Output: json.RawMessage(`{
  "type": "object",
  "properties": {
    "files": {"type": "array", "items": {"$ref": "#/definitions/content"}},
    "folders": {"type": "array", "items": {"$ref": "#/definitions/content"}}
  },
  "definitions": {
    "content": {
      "type": "object",
      "properties": {
        "name": {"type": "string", "description": "Name of the file or directory"},
        "path": {"type": "string", "description": "path to the file or directory relative to the workspace"},
        "fullPath": {"type": "string", "description": "full path to the file or directory"}
      }
    }
  }
}`),
		Examples: []Example{{
			Description: "List the workspace's top directory and everything below src.",
			Example: `steps:
  - id: readdir
    action: fs:readdir
    name: Read directories
    input:
      paths:
        - ./
        - ./src
      recursive: false
`,
		}},
		Run: runFSReadDir,
	})
}

// DirContent is one element of fs:readdir's files and folders outputs.
type DirContent struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	FullPath string `json:"fullPath"`
}

func runFSReadDir(ctx context.Context, rc *RunContext) error {
	const id = "fs:readdir"
	paths, err := inputStrings(rc.Input, "paths")
	if err != nil {
		return errorf(id, "%w", err)
	}
	recursive, err := inputBool(rc.Input, "recursive", false)
	if err != nil {
		return errorf(id, "%w", err)
	}
	files, folders := []DirContent{}, []DirContent{}
	for i, p := range paths {
		dir, err := workspace.Clean(p)
		if err != nil {
			return errorf(id, "paths[%d]: %w", i, err)
		}
		err = rc.Workspace.Walk(dir, func(rel string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if rel == dir {
				return nil
			}
			c := DirContent{Name: d.Name(), Path: rel, FullPath: filepath.Join(rc.Workspace.Dir(), filepath.FromSlash(rel))}
			if d.IsDir() {
				folders = append(folders, c)
				if !recursive {
					return fs.SkipDir
				}
			} else {
				files = append(files, c)
			}
			return nil
		})
		if err != nil {
			return errorf(id, "paths[%d]: %w", i, err)
		}
	}
	rc.output("files", files)
	rc.output("folders", folders)
	return nil
}
