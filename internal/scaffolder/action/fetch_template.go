package action

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

func init() {
	Register(Action{
		ID:          "fetch:template",
		Description: "Downloads a skeleton, templates variables into file and directory names and content, and places the result in the workspace, or optionally in a subdirectory specified by the targetPath input option.",
		Input: json.RawMessage(`{
  "type": "object",
  "required": ["url"],
  "properties": {
    "url": {"title": "Fetch URL", "description": "Relative path of the skeleton directory, resolved against the template's location", "type": "string"},
    "targetPath": {"title": "Target Path", "description": "Target path within the working directory to generate contents to. Defaults to the working directory root.", "type": "string"},
    "values": {"title": "Template Values", "description": "Values to pass on to the templating engine", "type": "object"},
    "copyWithoutRender": {"title": "[Deprecated] Copy Without Render", "description": "An array of glob patterns. Any files or directories which match are copied without being processed as templates.", "type": "array", "items": {"type": "string"}},
    "copyWithoutTemplating": {"title": "Copy Without Templating", "description": "An array of glob patterns. Contents of matched files or directories are copied without being processed, but paths are subject to rendering.", "type": "array", "items": {"type": "string"}},
    "cookiecutterCompat": {"title": "Cookiecutter compatibility mode", "description": "Enable features to maximise compatibility with templates built for fetch:cookiecutter: {{ cookiecutter.name }} instead of ${{ values.name }}, and the jsonify filter", "type": "boolean"},
    "templateFileExtension": {"title": "Template File Extension", "description": "If set, only files with the given extension will be templated. If set to true, the default extension .njk is used.", "type": ["string", "boolean"]},
    "replace": {"title": "Replace files", "description": "If set, replace files in targetPath instead of skipping existing ones.", "type": "boolean"},
    "trimBlocks": {"title": "Trim Blocks", "description": "If set, the first newline after a block is removed (block, not variable tag).", "type": "boolean"},
    "lstripBlocks": {"title": "Lstrip Blocks", "description": "If set, leading spaces and tabs are stripped from the start of a line to a block.", "type": "boolean"},
    "token": {"title": "Token", "description": "An optional token to use for authentication when reading the resources.", "type": "string"}
  }
}`),
		Examples: []Example{{
			Description: "Render the skeleton directory with the form's values.",
			Example: `steps:
  - id: fetch-template
    action: fetch:template
    name: Fetch template
    input:
      url: ./skeleton
      targetPath: ./app
      values:
        name: ${{ parameters.name }}
        owner: ${{ parameters.owner }}
      copyWithoutTemplating:
        - .github/workflows/*
`,
		}, {
			Description: "Template only the files ending in .njk, and strip the extension.",
			Example: `steps:
  - id: fetch-template
    action: fetch:template
    input:
      url: ./skeleton
      templateFileExtension: true
      values:
        name: ${{ parameters.name }}
`,
		}},
		Run: runFetchTemplate,
	})
}

// binarySniffLen is how much of a file is looked at for a NUL byte to
// decide it is binary and must be copied untouched.
const binarySniffLen = 8 << 10

type templateOptions struct {
	values  map[string]any
	replace bool
	// cookiecutter renders "{{ cookiecutter.x }}" (cookiecutterCompat).
	cookiecutter bool
	extension    string   // "" means every file is templated
	verbatim     []string // globs copied without templating
}

func runFetchTemplate(ctx context.Context, rc *RunContext) error {
	const id = "fetch:template"
	url, err := requireString(rc.Input, "url")
	if err != nil {
		return errorf(id, "%w", err)
	}
	target, err := inputString(rc.Input, "targetPath", "./")
	if err != nil {
		return errorf(id, "%w", err)
	}
	opts, err := templateInputs(rc)
	if err != nil {
		return errorf(id, "%w", err)
	}
	withoutRender, err := inputStrings(rc.Input, "copyWithoutRender")
	if err != nil {
		return errorf(id, "%w", err)
	}
	withoutTemplating, err := inputStrings(rc.Input, "copyWithoutTemplating")
	if err != nil {
		return errorf(id, "%w", err)
	}
	if len(withoutRender) > 0 && len(withoutTemplating) > 0 {
		return errorf(id, "%w", derrors.Invalid("copyWithoutRender and copyWithoutTemplating cannot be used together; use copyWithoutTemplating"))
	}
	opts.verbatim = append(withoutRender, withoutTemplating...)
	for i, g := range opts.verbatim {
		g = strings.TrimPrefix(g, "./")
		if !doublestar.ValidatePattern(g) {
			return errorf(id, "%w", derrors.Invalid("copyWithoutTemplating[%d]: %q is not a valid glob", i, g))
		}
		opts.verbatim[i] = g
	}
	switch ext := rc.Input["templateFileExtension"].(type) {
	case nil:
	case bool:
		if ext {
			opts.extension = ".njk"
		}
	case string:
		if ext != "" && !strings.HasPrefix(ext, ".") {
			ext = "." + ext
		}
		opts.extension = ext
	default:
		return errorf(id, "%w", derrors.Invalid("templateFileExtension: must be string or boolean, not %s", typeName(ext)))
	}
	if opts.extension != "" && len(withoutRender) > 0 {
		return errorf(id, "%w", derrors.Invalid("templateFileExtension cannot be used with copyWithoutRender"))
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
	rc.logger().Info("Fetching template content", "url", url, "targetPath", target)
	if err := rc.Workspace.MkdirAll(target, 0o755); err != nil {
		return errorf(id, "%w", err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := templateEntry(rc, src, e, target, opts); err != nil {
			return errorf(id, "%q: %w", e.rel, err)
		}
	}
	rc.logger().Info("Template result written", "targetPath", target)
	return nil
}

// templateInputs reads the inputs fetch:template and fetch:template:file
// share.
func templateInputs(rc *RunContext) (templateOptions, error) {
	var opts templateOptions
	var err error
	if opts.values, err = inputObject(rc.Input, "values"); err != nil {
		return opts, err
	}
	if opts.replace, err = inputBool(rc.Input, "replace", false); err != nil {
		return opts, err
	}
	if opts.cookiecutter, err = inputBool(rc.Input, "cookiecutterCompat", false); err != nil {
		return opts, err
	}
	if opts.cookiecutter && rc.RenderCookiecutter == nil {
		return opts, derrors.New(derrors.ErrUnavailable, "no cookiecutter-compatible templating engine is available")
	}
	for _, k := range []string{"trimBlocks", "lstripBlocks"} {
		if on, err := inputBool(rc.Input, k, false); err != nil {
			return opts, err
		} else if on {
			rc.logger().Warn("input is not supported and has no effect", "input", k)
		}
	}
	if rc.Render == nil {
		return opts, derrors.New(derrors.ErrUnavailable, "no templating engine is available")
	}
	return opts, nil
}

// render renders s with the values under "values", as Backstage templates
// expect (${{ values.name }}), or with cookiecutterCompat under
// "cookiecutter" ({{ cookiecutter.name }}).
func (o templateOptions) render(rc *RunContext, s string) (string, error) {
	if o.cookiecutter {
		return rc.RenderCookiecutter(s, map[string]any{"cookiecutter": o.values})
	}
	return rc.Render(s, map[string]any{"values": o.values})
}

func (o templateOptions) isVerbatim(rel string, dir bool) bool {
	for _, g := range o.verbatim {
		if ok, _ := doublestar.Match(g, rel); ok {
			return true
		}
		if dir {
			if ok, _ := doublestar.Match(g, rel+"/"); ok {
				return true
			}
		}
	}
	return false
}

// templateEntry renders one entry's path and, for text files, contents.
func templateEntry(rc *RunContext, src *templateSource, e sourceEntry, target string, o templateOptions) error {
	name := e.rel
	renderName, renderContents := true, true
	if o.isVerbatim(e.rel, e.info.IsDir()) {
		renderName, renderContents = false, false
	} else if o.extension != "" {
		renderContents = !e.info.IsDir() && strings.HasSuffix(name, o.extension) && len(name) > len(o.extension)
		if renderContents {
			name = strings.TrimSuffix(name, o.extension)
		}
	}
	if renderName {
		var err error
		if name, err = o.render(rc, name); err != nil {
			return fmt.Errorf("rendering path: %w", err)
		}
	}
	// A path that renders to an empty name (or an empty directory name)
	// is how templates make files conditional.
	if name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		rc.logger().Info("Skipping entry whose path rendered empty", "path", e.rel)
		return nil
	}
	if _, err := workspace.Clean(name); err != nil {
		return derrors.Invalid("rendered path %q leaves the target path", name)
	}
	dst := targetJoin(target, name)
	if e.info.IsDir() {
		return rc.Workspace.MkdirAll(dst, e.info.Mode().Perm()|0o700)
	}
	if exists, err := rc.Workspace.Exists(dst); err != nil {
		return err
	} else if exists && !o.replace {
		rc.logger().Info("Skipping file that already exists", "path", dst)
		return nil
	}
	return writeTemplated(rc, src, e, dst, renderContents, o)
}

// writeTemplated writes the template file e to dst in the workspace,
// rendered if renderContents is set and the file is not binary (a NUL byte
// in its first 8 KiB), keeping its permission bits.
func writeTemplated(rc *RunContext, src *templateSource, e sourceEntry, dst string, renderContents bool, o templateOptions) error {
	f, err := src.fsys.Open(e.full)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, binarySniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	head = head[:n]
	mode := e.info.Mode().Perm()
	if !renderContents || bytes.IndexByte(head, 0) >= 0 {
		return rc.Workspace.WriteFrom(dst, io.MultiReader(bytes.NewReader(head), f), mode)
	}
	if max := rc.Workspace.Limits().MaxBytes; e.info.Size() > max {
		return fmt.Errorf("template file is %d bytes, more than the workspace's %d: %w", e.info.Size(), max, workspace.ErrLimit)
	}
	rest, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	out, err := o.render(rc, string(head)+string(rest))
	if err != nil {
		return fmt.Errorf("rendering contents: %w", err)
	}
	return rc.Workspace.WriteFile(dst, []byte(out), mode)
}
