// Package action owns the scaffolder's action registry and the built-in
// actions: those that work on the task's workspace (fetch:plain,
// fetch:template, fs:delete, fs:rename, fs:readdir, debug:log, debug:wait)
// and publish:git, which pushes it to a git remote. Each action
// lives in its own file and registers itself in init; the ids, inputs and
// outputs are Backstage's, so existing templates run unchanged.
package action

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

// Action is one step type a template can use ("action: fetch:plain").
type Action struct {
	// ID is the Backstage action id, such as "fetch:plain".
	ID string
	// Description is shown in the action list.
	Description string
	// Input and Output are JSON Schemas, as listed by
	// GET /api/scaffolder/v2/actions. Output may be nil.
	Input, Output json.RawMessage
	// Examples show the action in a template step.
	Examples []Example
	// Run performs the action. The runner has templated rc.Input and
	// checked it with ValidateInput.
	Run func(ctx context.Context, rc *RunContext) error
	// External is set for actions that change something outside the
	// task's workspace (a git host, the catalog): when a task is retried
	// or recovered, such a step that completed before is not run again
	// and its output is kept. Steps of other actions are run again, to
	// rebuild the workspace, which does not outlive an attempt.
	External bool
}

// Example is a documented use of an action.
type Example struct {
	Description string
	// Example is the YAML of a template step.
	Example string
}

// RunContext is what an action gets to work with for one step.
type RunContext struct {
	// Input is the step's input, already templated.
	Input map[string]any
	// Workspace is the task's working directory.
	Workspace *workspace.Workspace
	// Logger receives the task's log lines.
	Logger *slog.Logger
	// Output records a step output (steps.<id>.output.<name>).
	Output func(name string, value any)
	// TemplateDir is the directory holding the template's files; fetch
	// actions resolve their url against it and never read outside it.
	TemplateDir string
	// Render renders a template string with a context; fetch:template
	// passes {"values": <values input>}. Nil means no templating engine
	// is available and actions that need one fail.
	Render func(src string, values map[string]any) (string, error)
	// RenderCookiecutter is Render for fetch:template's cookiecutterCompat:
	// "{{ }}" output and the jsonify filter.
	RenderCookiecutter func(src string, values map[string]any) (string, error)
	// IsDryRun is set when the task is a dry run of a template.
	IsDryRun bool
	// Catalog is the software catalog, for the catalog:* actions; nil
	// makes them fail with a clear error.
	Catalog Catalog
	// Git is the git host Atrium keeps itself: publish:git writes to it
	// when the repository URL names it. nil if there is none.
	Git *githost.Host
	// AllowFileRemotes lets publish:git push to file:// remotes, that is
	// to any repository on the server's disk the process can write
	// (scaffolder.allowFileRemotes; off by default).
	AllowFileRemotes bool
}

// Catalog is the catalog as the catalog:* actions use it, with the
// task creator's permissions.
type Catalog interface {
	// EntityByRef returns the entity's JSON, or an error wrapping
	// derrors.ErrNotFound.
	EntityByRef(ctx context.Context, ref string) (json.RawMessage, error)
	// RegisterLocation registers a url location and returns the refs of
	// the entities it emits, its Location entity's first.
	RegisterLocation(ctx context.Context, target string) ([]string, error)
}

var registry = struct {
	sync.RWMutex
	m map[string]Action
}{m: map[string]Action{}}

// Register adds a to the registry. It panics if the id is empty or taken,
// Run is nil, or a schema is not a JSON object: these are programming
// errors found at start-up.
func Register(a Action) {
	if a.ID == "" {
		panic("action: Register with empty id")
	}
	if a.Run == nil {
		panic(fmt.Sprintf("action: %s: Run is nil", a.ID))
	}
	if _, err := parseSchema(a.Input); err != nil {
		panic(fmt.Sprintf("action: %s: input schema: %v", a.ID, err))
	}
	if a.Output != nil {
		if _, err := parseSchema(a.Output); err != nil {
			panic(fmt.Sprintf("action: %s: output schema: %v", a.ID, err))
		}
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[a.ID]; dup {
		panic(fmt.Sprintf("action: %s registered twice", a.ID))
	}
	registry.m[a.ID] = a
}

// Lookup returns the action registered under id.
func Lookup(id string) (Action, bool) {
	registry.RLock()
	defer registry.RUnlock()
	a, ok := registry.m[id]
	return a, ok
}

// List returns all registered actions sorted by id.
func List() []Action {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Action, 0, len(registry.m))
	for _, a := range registry.m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// logger returns rc.Logger, or a logger that drops everything.
func (rc *RunContext) logger() *slog.Logger {
	if rc.Logger != nil {
		return rc.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// output records an output if the runner listens for them.
func (rc *RunContext) output(name string, value any) {
	if rc.Output != nil {
		rc.Output(name, value)
	}
}
