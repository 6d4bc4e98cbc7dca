package scaffolder

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/scaffolder/action"
	"github.com/atrium-dev/atrium/internal/scaffolder/templating"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

// TaskSpec is what a task runs: a snapshot of its template taken when the
// task was created, with the values the user gave. It is stored as the
// task's spec JSON.
type TaskSpec struct {
	// APIVersion is the template's, TemplateAPIVersion.
	APIVersion string `json:"apiVersion"`
	// TemplateInfo says which template the task came from.
	TemplateInfo TemplateInfo `json:"templateInfo"`
	// Parameters are the values the user filled the form with.
	Parameters map[string]any `json:"parameters"`
	// Steps are the template's steps.
	Steps []Step `json:"steps"`
	// Output is the template's spec.output, unrendered.
	Output map[string]any `json:"output,omitempty"`
	// User is who created the task, as templates see it (user.ref,
	// user.entity).
	User TaskUser `json:"user"`
}

// TemplateInfo says which template a task came from.
type TemplateInfo struct {
	// EntityRef is the template's entity ref.
	EntityRef string `json:"entityRef"`
	// Location is the template's location annotation, from which the
	// runner finds its files (see TemplateDir).
	Location string `json:"location,omitempty"`
}

// TaskUser is the user a task runs for.
type TaskUser struct {
	// Ref is the user's entity ref; empty for a service.
	Ref string `json:"ref,omitempty"`
	// Entity is the user's catalog entity, if found.
	Entity map[string]any `json:"entity,omitempty"`
}

// LogLine is one line of a task's log: the body of a log event.
type LogLine struct {
	// StepID is the step the line belongs to; empty for the task's own.
	StepID string `json:"stepId,omitempty"`
	// Status, on a step's progress lines, is the step's new status:
	// processing, completed, failed, skipped or cancelled.
	Status string `json:"status,omitempty"`
	// Message is the line, with secrets redacted.
	Message string `json:"message"`
	// Output, on the line that completes a step, is the step's output
	// (secrets redacted): a retried task keeps the outputs of the External
	// steps that completed before.
	Output map[string]any `json:"output,omitempty"`
}

// StepError is a step that failed.
type StepError struct {
	// StepID is the step that failed.
	StepID string
	// Err is why, with secrets redacted from its message.
	Err error
}

func (e *StepError) Error() string { return "step " + e.StepID + ": " + e.Err.Error() }

func (e *StepError) Unwrap() error { return e.Err }

// Execution is one run of a task's steps.
type Execution struct {
	// TaskID is the task's id (context.task.id); empty for a dry run.
	TaskID string
	// Spec is what to run.
	Spec *TaskSpec
	// TemplateDir holds the template's files, for the fetch actions.
	TemplateDir string
	// Secrets are the task's secrets (secrets.<name>). Their values are
	// redacted from every log line and error.
	Secrets map[string]string
	// Workspace is the directory the steps work in.
	Workspace *workspace.Workspace
	// DryRun is passed on to the actions.
	DryRun bool
	// Log receives the task's log lines, secrets already redacted. It may
	// be called from the actions' goroutines, but never concurrently.
	Log func(LogLine)
	// Templating bounds the rendering of templates.
	Templating templating.Options
	// Catalog is handed to the catalog:* actions; nil makes them fail.
	Catalog action.Catalog
	// Git is Atrium's own git host, for publish:git; nil if there is none.
	Git *githost.Host
	// AllowFileRemotes lets publish:git push to file:// remotes.
	AllowFileRemotes bool
	// StepDone, if set, is told of every step that ran (not of skipped
	// ones): err is nil when it succeeded, redacted when it failed.
	StepDone func(step Step, err error)
	// Completed are the outputs of the steps that completed in earlier
	// attempts of the task, by step id. Those of External actions are not
	// run again (see action.Action.External).
	Completed map[string]map[string]any
}

// Run runs the steps in order and returns the rendered output. It stops at
// the first step that fails (a *StepError) and before any step once ctx is
// cancelled (ctx's error).
func (x *Execution) Run(ctx context.Context) (map[string]any, error) {
	redact := redactor(x.Secrets)
	var logMu sync.Mutex
	emit := func(l LogLine) {
		l.Message = redact(l.Message)
		if l.Output != nil {
			l.Output = redactValue(l.Output, redact)
		}
		logMu.Lock()
		defer logMu.Unlock()
		if x.Log != nil {
			x.Log(l)
		}
	}
	secrets := map[string]any{}
	for k, v := range x.Secrets {
		secrets[k] = v
	}
	user := map[string]any{"ref": x.Spec.User.Ref}
	if x.Spec.User.Entity != nil {
		user["entity"] = x.Spec.User.Entity
	}
	params := x.Spec.Parameters
	if params == nil {
		params = map[string]any{}
	}
	steps := map[string]any{}
	rctx := map[string]any{
		"parameters": params,
		"steps":      steps,
		"user":       user,
		"secrets":    secrets,
		"context":    map[string]any{"task": map[string]any{"id": x.TaskID}},
	}
	for _, step := range x.Spec.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if out, ok := x.Completed[step.ID]; ok && isExternal(step.Action) {
			emit(LogLine{StepID: step.ID, Status: "completed", Output: out,
				Message: "Skipping step " + stepName(step) + ": it completed in an earlier attempt; its output is kept"})
			steps[step.ID] = map[string]any{"output": out}
			continue
		}
		out, err := x.runStep(ctx, step, rctx, emit)
		if x.StepDone != nil && (out != nil || err != nil) {
			var done error
			if err != nil {
				done = redactedError{err, redact(err.Error())}
			}
			x.StepDone(step, done)
		}
		if err != nil && ctx.Err() != nil {
			// Cancelled or interrupted, not failed: the runner says which.
			emit(LogLine{StepID: step.ID, Status: "cancelled", Message: "Step " + step.ID + " was interrupted"})
			return nil, ctx.Err()
		}
		if err != nil {
			err = &StepError{StepID: step.ID, Err: redactedError{err, redact(err.Error())}}
			emit(LogLine{StepID: step.ID, Status: "failed", Message: err.Error()})
			return nil, err
		}
		if out != nil {
			steps[step.ID] = map[string]any{"output": out}
		}
	}
	if x.Spec.Output == nil {
		return map[string]any{}, nil
	}
	v, err := templating.RenderValue(x.Spec.Output, rctx, x.Templating)
	if err != nil {
		return nil, fmt.Errorf("rendering the output: %w", redactedError{err, redact(err.Error())})
	}
	out, _ := v.(map[string]any)
	return out, nil
}

// redactValue returns v with redact applied to every string in it.
func redactValue(v map[string]any, redact func(string) string) map[string]any {
	var walk func(any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			return redact(v)
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = walk(e)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, e := range v {
				out[k] = walk(e)
			}
			return out
		}
		return v
	}
	return walk(jsonValue(v)).(map[string]any)
}

// isExternal reports whether the action id changes things outside the
// workspace (action.Action.External).
func isExternal(id string) bool {
	a, ok := action.Lookup(id)
	return ok && a.External
}

func stepName(step Step) string {
	if step.Name != "" {
		return step.Name
	}
	return step.ID
}

// runStep runs one step; out is nil for a skipped step.
func (x *Execution) runStep(ctx context.Context, step Step, rctx map[string]any, emit func(LogLine)) (map[string]any, error) {
	name := step.Name
	if name == "" {
		name = step.ID
	}
	if step.If != nil {
		v, err := templating.RenderValue(step.If, rctx, x.Templating)
		if err != nil {
			return nil, fmt.Errorf("if: %w", err)
		}
		if !truthy(v) {
			emit(LogLine{StepID: step.ID, Status: "skipped", Message: "Skipping step " + name + ": its condition is false"})
			return nil, nil
		}
	}
	a, ok := action.Lookup(step.Action)
	if !ok {
		return nil, derrors.Invalid("unknown action %q", step.Action)
	}
	type iteration struct {
		key   string
		value any
	}
	iterations := []iteration{{}}
	if step.Each != nil {
		v, err := templating.RenderValue(step.Each, rctx, x.Templating)
		if err != nil {
			return nil, fmt.Errorf("each: %w", err)
		}
		iterations = nil
		switch v := v.(type) {
		case []any:
			for i, item := range v {
				iterations = append(iterations, iteration{strconv.Itoa(i), item})
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				iterations = append(iterations, iteration{k, v[k]})
			}
		default:
			return nil, derrors.Invalid("each: must give an array or an object, not %T", v)
		}
	}
	emit(LogLine{StepID: step.ID, Status: "processing", Message: "Beginning step " + name})
	var outMu sync.Mutex
	out := map[string]any{}
	logger := slog.New(&logHandler{emit: func(msg string) { emit(LogLine{StepID: step.ID, Message: msg}) }})
	for _, it := range iterations {
		c := rctx
		if step.Each != nil {
			c = make(map[string]any, len(rctx)+1)
			for k, v := range rctx {
				c[k] = v
			}
			c["each"] = map[string]any{"key": it.key, "value": it.value}
			emit(LogLine{StepID: step.ID, Message: fmt.Sprintf("Running %s for each item %s", step.Action, it.key)})
		}
		var input map[string]any
		if step.Input != nil {
			v, err := templating.RenderValue(step.Input, c, x.Templating)
			if err != nil {
				return nil, fmt.Errorf("input: %w", err)
			}
			input, _ = v.(map[string]any)
		}
		if input == nil {
			input = map[string]any{}
		}
		if err := action.ValidateInput(a, input); err != nil {
			return nil, err
		}
		rc := &action.RunContext{
			Catalog:          x.Catalog,
			Git:              x.Git,
			AllowFileRemotes: x.AllowFileRemotes,
			Input:            input,
			Workspace:        x.Workspace,
			Logger:           logger,
			Output: func(name string, value any) {
				value = jsonValue(value)
				outMu.Lock()
				defer outMu.Unlock()
				if step.Each == nil {
					out[name] = value
					return
				}
				list, _ := out[name].([]any)
				out[name] = append(list, value)
			},
			TemplateDir: x.TemplateDir,
			Render: func(src string, values map[string]any) (string, error) {
				return templating.RenderString(src, values, x.Templating)
			},
			RenderCookiecutter: func(src string, values map[string]any) (string, error) {
				opts := x.Templating
				opts.CookiecutterCompat = true
				return templating.RenderString(src, values, opts)
			},
			IsDryRun: x.DryRun,
		}
		if err := a.Run(ctx, rc); err != nil {
			return nil, err
		}
	}
	emit(LogLine{StepID: step.ID, Status: "completed", Message: "Finished step " + name, Output: out})
	return out, nil
}

// truthy is Backstage's truthiness of a step's if: false, "false", "",
// 0, an empty array and undefined are false.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != "" && v != "false"
	case float64:
		return v != 0
	case []any:
		return len(v) > 0
	}
	return true
}

// jsonValue turns an action's output into the JSON-like values templates
// read, as a JSON round trip does.
func jsonValue(v any) any {
	switch v.(type) {
	case nil, string, bool, float64:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// redactor returns a function replacing every secret value with "***".
func redactor(secrets map[string]string) func(string) string {
	var values []string
	for _, v := range secrets {
		if v != "" {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return func(s string) string { return s }
	}
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, "***")
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}

// redactedError keeps an error's kind and chain but shows a redacted
// message.
type redactedError struct {
	err error
	msg string
}

func (e redactedError) Error() string { return e.msg }

func (e redactedError) Unwrap() error { return e.err }

// logHandler turns an action's slog records into log lines: the message
// followed by key=value attributes.
type logHandler struct {
	emit   func(string)
	attrs  []slog.Attr
	prefix string
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(prefix string, a slog.Attr) {
		if a.Equal(slog.Attr{}) {
			return
		}
		fmt.Fprintf(&b, " %s%s=%v", prefix, a.Key, a.Value.Resolve().Any())
	}
	for _, a := range h.attrs {
		write("", a)
	}
	r.Attrs(func(a slog.Attr) bool { write(h.prefix, a); return true })
	h.emit(b.String())
	return nil
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	for _, a := range attrs {
		a.Key = h.prefix + a.Key
		c.attrs = append(append([]slog.Attr(nil), c.attrs...), a)
	}
	return &c
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.prefix = h.prefix + name + "."
	return &c
}
