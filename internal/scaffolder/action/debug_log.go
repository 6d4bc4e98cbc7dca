package action

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func init() {
	Register(Action{
		ID:          "debug:log",
		Description: "Writes a message into the log and/or lists all files in the workspace.",
		Input: json.RawMessage(`{
  "type": "object",
  "properties": {
    "message": {"title": "Message to output.", "type": "string"},
    "listWorkspace": {"title": "List all files in the workspace, if true.", "description": "true or \"with-filenames\" lists file names; \"with-contents\" also logs each file's contents", "type": ["boolean", "string"], "enum": [true, false, "with-filenames", "with-contents"]},
    "extra": {"title": "Extra info"}
  }
}`),
		Examples: []Example{{
			Description: "Write a message and the workspace's file names to the task log.",
			Example: `steps:
  - id: log-message
    action: debug:log
    name: Log message
    input:
      message: Hello, ${{ parameters.name }}!
      listWorkspace: with-filenames
`,
		}},
		Run: runDebugLog,
	})
}

// maxLoggedContent caps how much of one file debug:log writes to the log.
const maxLoggedContent = 64 << 10

func runDebugLog(ctx context.Context, rc *RunContext) error {
	const id = "debug:log"
	log := rc.logger()
	msg, err := inputString(rc.Input, "message", "")
	if err != nil {
		return errorf(id, "%w", err)
	}
	if msg != "" {
		log.Info(msg)
	}
	var names, contents bool
	switch v := rc.Input["listWorkspace"].(type) {
	case nil:
	case bool:
		names = v
	case string:
		switch v {
		case "with-filenames":
			names = true
		case "with-contents":
			names, contents = true, true
		default:
			return errorf(id, "%w", derrors.Invalid("listWorkspace: must be true, false, \"with-filenames\" or \"with-contents\""))
		}
	default:
		return errorf(id, "%w", derrors.Invalid("listWorkspace: must be boolean or string, not %s", typeName(v)))
	}
	if !names {
		return nil
	}
	var lines []string
	err = rc.Workspace.Walk(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		line := "  - " + p
		if contents && d.Type().IsRegular() {
			b, err := rc.Workspace.ReadFile(p)
			if err != nil {
				return err
			}
			if len(b) > maxLoggedContent {
				b = append(b[:maxLoggedContent:maxLoggedContent], "\n[truncated]"...)
			}
			line += ":\n" + string(b)
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		return errorf(id, "listing workspace: %w", err)
	}
	log.Info("Workspace:\n" + strings.Join(lines, "\n"))
	return nil
}
