package action

import (
	"context"
	"encoding/json"
)

func init() {
	Register(Action{
		ID:          "fetch:plain",
		Description: "Downloads content and places it in the workspace, or optionally in a subdirectory specified by the targetPath input option.",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["url"],
  "properties": {
    "url": {"title": "Fetch URL", "description": "Relative path of the directory to copy, resolved against the template's location", "type": "string"},
    "targetPath": {"title": "Target Path", "description": "Target path within the working directory to download the contents to.", "type": "string"},
    "token": {"title": "Token", "description": "An optional token to use for authentication when reading the resources.", "type": "string"}
  }
}`),
		Examples: []Example{{
			Description: "Copy the template's skeleton directory into the workspace.",
			Example: `steps:
  - id: fetch-plain
    action: fetch:plain
    name: Fetch plain
    input:
      url: ./skeleton
      targetPath: ./app
`,
		}},
		Run: runFetchPlain,
	})
}

func runFetchPlain(ctx context.Context, rc *RunContext) error {
	const id = "fetch:plain"
	url, err := requireString(rc.Input, "url")
	if err != nil {
		return errorf(id, "%w", err)
	}
	target, err := inputString(rc.Input, "targetPath", "./")
	if err != nil {
		return errorf(id, "%w", err)
	}
	src, dir, err := openSource(rc, url)
	if err != nil {
		return errorf(id, "%w", err)
	}
	defer src.Close()
	entries, err := src.walk(dir)
	if err != nil {
		return errorf(id, "%w", err)
	}
	rc.logger().Info("Fetching plain content", "url", url, "targetPath", target)
	if err := rc.Workspace.MkdirAll(target, 0o755); err != nil {
		return errorf(id, "%w", err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := copyEntry(rc, src, e, targetJoin(target, e.rel)); err != nil {
			return errorf(id, "%w", err)
		}
	}
	return nil
}

// copyEntry copies one file or directory from the template to dst in the
// workspace, keeping its permission bits.
func copyEntry(rc *RunContext, src *templateSource, e sourceEntry, dst string) error {
	if e.info.IsDir() {
		return rc.Workspace.MkdirAll(dst, e.info.Mode().Perm()|0o700)
	}
	f, err := src.fsys.Open(e.full)
	if err != nil {
		return err
	}
	defer f.Close()
	return rc.Workspace.WriteFrom(dst, f, e.info.Mode().Perm())
}
