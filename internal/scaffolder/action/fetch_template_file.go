package action

import (
	"context"
	"encoding/json"
)

func init() {
	Register(Action{
		ID:          "fetch:template:file",
		Description: "Downloads a single file, templates variables into its content, and places the result in the workspace.",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["url", "targetPath"],
  "properties": {
    "url": {"title": "Fetch URL", "description": "Relative path of the template file, resolved against the template's location", "type": "string"},
    "targetPath": {"title": "Target Path", "description": "Target path within the working directory to write the rendered file to.", "type": "string"},
    "values": {"title": "Template Values", "description": "Values to pass on to the templating engine", "type": "object"},
    "cookiecutterCompat": {"title": "Cookiecutter compatibility mode", "description": "Enable features to maximise compatibility with templates built for fetch:cookiecutter (not supported)", "type": "boolean"},
    "replace": {"title": "Replace file", "description": "If set, replace the file at targetPath instead of skipping it if it exists.", "type": "boolean"},
    "trimBlocks": {"title": "Trim Blocks", "description": "If set, the first newline after a block is removed (block, not variable tag).", "type": "boolean"},
    "lstripBlocks": {"title": "Lstrip Blocks", "description": "If set, leading spaces and tabs are stripped from the start of a line to a block.", "type": "boolean"},
    "token": {"title": "Token", "description": "An optional token to use for authentication when reading the resources.", "type": "string"}
  }
}`),
		Examples: []Example{{
			Description: "Render one file with the form's values.",
			Example: `steps:
  - id: fetch-template-file
    action: fetch:template:file
    input:
      url: ./files/catalog-info.yaml
      targetPath: ./catalog-info.yaml
      values:
        name: ${{ parameters.name }}
`,
		}},
		Run: runFetchTemplateFile,
	})
}

func runFetchTemplateFile(ctx context.Context, rc *RunContext) error {
	const id = "fetch:template:file"
	url, err := requireString(rc.Input, "url")
	if err != nil {
		return errorf(id, "%w", err)
	}
	target, err := requireString(rc.Input, "targetPath")
	if err != nil {
		return errorf(id, "%w", err)
	}
	opts, err := templateInputs(rc)
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
	if exists, err := rc.Workspace.Exists(target); err != nil {
		return errorf(id, "%w", err)
	} else if exists && !opts.replace {
		rc.logger().Info("Skipping file that already exists", "path", target)
		return nil
	}
	rc.logger().Info("Fetching template file", "url", url, "targetPath", target)
	if err := writeTemplated(rc, src, entry, target, true, opts); err != nil {
		return errorf(id, "%w", err)
	}
	return nil
}
