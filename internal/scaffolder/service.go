package scaffolder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
	"github.com/atrium-dev/atrium/internal/store"
)

// Templates finds catalog entities by ref (the catalog service): Template
// entities, and the user entity a task runs for.
type Templates interface {
	EntityByRef(ctx context.Context, ref entity.Ref) (json.RawMessage, error)
}

// Service creates scaffolder tasks and answers about them; a Runner runs
// them.
type Service struct {
	st        *store.Store
	templates Templates
	authz     Authorizer // nil: everything allowed
	git       *githost.Host
}

// NewService returns a service storing tasks in st and reading templates
// from templates.
func NewService(st *store.Store, templates Templates) *Service {
	return &Service{st: st, templates: templates}
}

// SetGit gives dry runs Atrium's own git host, so that publish:git
// reports the URLs a real run would publish to.
func (s *Service) SetGit(h *githost.Host) { s.git = h }

// CreateTask checks values against the parameters of the template
// templateRef and stores a task running it for the identity ctx carries.
// Secrets are kept until the task ends and never logged.
func (s *Service) CreateTask(ctx context.Context, templateRef entity.Ref, values map[string]any, secrets map[string]string) (string, error) {
	target := "template:" + strings.ToLower(templateRef.Namespace+"/"+templateRef.Name)
	if err := s.authorize(ctx, TaskCreate, AuditTaskCreated, target); err != nil {
		return "", err
	}
	raw, err := s.templates.EntityByRef(ctx, templateRef)
	if err != nil {
		return "", err
	}
	t, err := ParseTemplate(raw)
	if err != nil {
		return "", err
	}
	if len(t.Steps) > 0 {
		if err := s.authorize(ctx, ActionExecute, AuditTaskCreated, target); err != nil {
			return "", err
		}
	}
	if values, err = checkValues(t.Parameters, values); err != nil {
		return "", err
	}
	spec := TaskSpec{APIVersion: TemplateAPIVersion, Parameters: values, Steps: t.Steps, Output: t.Output,
		TemplateInfo: TemplateInfo{EntityRef: strings.ToLower(t.Ref.String()), Location: t.Location}}
	actor := audit.ActorFrom(ctx, audit.Actor{Kind: "anonymous"})
	if id, ok := auth.IdentityFrom(ctx); ok {
		actor = id.Actor()
		if id.UserRef != "" {
			spec.User.Ref = id.UserRef
			if spec.User.Entity, err = s.userEntity(ctx, id.UserRef); err != nil {
				return "", err
			}
		}
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	var secretsJSON json.RawMessage
	if len(secrets) > 0 {
		if secretsJSON, err = json.Marshal(secrets); err != nil {
			return "", err
		}
	}
	id, err := s.st.CreateTask(ctx, specJSON, actor.String(), secretsJSON)
	if err != nil {
		return "", err
	}
	return id, s.audit(ctx, AuditTaskCreated, id)
}

// userEntity reads the user's entity; a user missing from the catalog has
// none.
func (s *Service) userEntity(ctx context.Context, ref string) (map[string]any, error) {
	r, err := entity.ParseRef(ref, entity.RefDefaults{Kind: "User"})
	if err != nil {
		return nil, nil
	}
	raw, err := s.templates.EntityByRef(ctx, r)
	if errors.Is(err, derrors.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the user's entity: %w", err)
	}
	var e map[string]any
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("reading the user's entity: %w", err)
	}
	return e, nil
}

func (s *Service) audit(ctx context.Context, action, id string) error {
	return s.st.AppendAudit(ctx, s.auditEvent(ctx, action, id))
}

// auditEvent is the audit event of a successful action on task id by the
// caller.
func (s *Service) auditEvent(ctx context.Context, action, id string) audit.Event {
	return audit.Event{Actor: audit.ActorFrom(ctx, audit.Actor{Kind: "anonymous"}), Action: action,
		Target: auditTarget(id), Outcome: audit.Succeeded, Severity: audit.Low}
}

// Task returns task id (without its secrets).
func (s *Service) Task(ctx context.Context, id string) (store.ScaffolderTask, error) {
	if err := s.authorize(ctx, TaskRead, "", ""); err != nil {
		return store.ScaffolderTask{}, err
	}
	return s.st.Task(ctx, id)
}

// Events returns task id's events after the event afterID, oldest first.
func (s *Service) Events(ctx context.Context, id string, afterID int64) ([]store.TaskEvent, error) {
	if err := s.authorize(ctx, TaskRead, "", ""); err != nil {
		return nil, err
	}
	return s.st.TaskEvents(ctx, id, afterID)
}

// Cancel cancels task id: at once if no runner has started it, otherwise
// at the runner's next heartbeat. It returns the task's status afterwards.
func (s *Service) Cancel(ctx context.Context, id string) (store.TaskStatus, error) {
	if err := s.authorize(ctx, TaskCancel, AuditTaskCancelled, auditTarget(id)); err != nil {
		return "", err
	}
	return s.st.RequestCancel(ctx, id, s.auditEvent(ctx, AuditTaskCancelled, id))
}

// Retry runs a failed or cancelled task again, with secrets (those it had
// were cleared when it ended). Steps run again from the first, to rebuild
// the workspace, except those of External actions (publish:git,
// catalog:register) that completed before: their outputs are kept, so the
// retry goes on from the step that failed without publishing twice.
func (s *Service) Retry(ctx context.Context, id string, secrets map[string]string) error {
	if err := s.authorize(ctx, TaskCreate, AuditTaskRetried, auditTarget(id)); err != nil {
		return err
	}
	var secretsJSON json.RawMessage
	if len(secrets) > 0 {
		var err error
		if secretsJSON, err = json.Marshal(secrets); err != nil {
			return err
		}
	}
	if err := s.st.RetryTask(ctx, id, secretsJSON); err != nil {
		return err
	}
	return s.audit(ctx, AuditTaskRetried, id)
}

// ListTasks lists tasks newest first, filtered by creator (an actor
// string such as "user:default/jane") and status when given.
func (s *Service) ListTasks(ctx context.Context, createdBy string, status store.TaskStatus, limit, offset int) ([]store.ScaffolderTask, error) {
	if err := s.authorize(ctx, TaskRead, "", ""); err != nil {
		return nil, err
	}
	return s.st.ListTasks(ctx, createdBy, status, limit, offset)
}

// DryRunResult is what a dry run produced.
type DryRunResult struct {
	// Log is the run's log.
	Log []LogLine
	// Output is the rendered output; nil if a step failed.
	Output map[string]any
	// Files are the workspace's regular files at the end, by
	// slash-separated path.
	Files map[string][]byte
}

// DryRun runs a template (the entity's JSON) with values and the
// template's files (by slash-separated path) in temporary folders, with
// actions told it is a dry run, and stores nothing. A step that fails
// gives the result so far with the error.
func (s *Service) DryRun(ctx context.Context, templateJSON json.RawMessage, values map[string]any, files map[string][]byte) (*DryRunResult, error) {
	if err := s.authorize(ctx, ActionExecute, "", ""); err != nil {
		return nil, err
	}
	t, err := ParseTemplate(templateJSON)
	if err != nil {
		return nil, err
	}
	if values, err = checkValues(t.Parameters, values); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "atrium-dry-run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	templateDir := filepath.Join(tmp, "template")
	tw, err := workspace.New(templateDir, workspace.Limits{})
	if err != nil {
		return nil, err
	}
	defer tw.Close()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rel, err := workspace.Clean(name)
		if err != nil || rel == "." {
			return nil, derrors.Invalid("files: %q must be a relative path inside the template", name)
		}
		if dir := filepath.ToSlash(filepath.Dir(rel)); dir != "." {
			if err := tw.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
		if err := tw.WriteFile(rel, files[name], 0o644); err != nil {
			return nil, derrors.Invalid("files: %q: %v", name, err)
		}
	}
	ws, err := workspace.New(filepath.Join(tmp, "workspace"), workspace.Limits{})
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	spec := TaskSpec{APIVersion: TemplateAPIVersion, Parameters: values, Steps: t.Steps, Output: t.Output,
		TemplateInfo: TemplateInfo{EntityRef: strings.ToLower(t.Ref.String())}}
	if id, ok := auth.IdentityFrom(ctx); ok {
		spec.User.Ref = id.UserRef
	}
	res := &DryRunResult{Files: map[string][]byte{}}
	x := &Execution{Spec: &spec, TemplateDir: templateDir, Workspace: ws, DryRun: true, Git: s.git,
		Log: func(l LogLine) { res.Log = append(res.Log, l) }}
	out, runErr := x.Run(ctx)
	res.Output = out
	err = fs.WalkDir(ws.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := ws.ReadFile(p)
		res.Files[p] = b
		return err
	})
	if runErr != nil {
		return res, runErr
	}
	if err != nil {
		return res, fmt.Errorf("reading the workspace: %w", err)
	}
	return res, nil
}

// checkValues checks values against the required fields and property
// types of the parameter schemas, and returns them as JSON values.
func checkValues(params []json.RawMessage, values map[string]any) (map[string]any, error) {
	if values == nil {
		values = map[string]any{}
	}
	norm, ok := jsonValue(values).(map[string]any)
	if !ok {
		return nil, derrors.Invalid("values: must be an object")
	}
	var problems []string
	for _, p := range params {
		var schema struct {
			Required   []string `json:"required"`
			Properties map[string]struct {
				Type any `json:"type"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(p, &schema); err != nil {
			return nil, derrors.Invalid("spec.parameters: %v", err)
		}
		for _, name := range schema.Required {
			if v, ok := norm[name]; !ok || v == nil || v == "" {
				problems = append(problems, name+": required")
			}
		}
		names := make([]string, 0, len(schema.Properties))
		for name := range schema.Properties {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			v, ok := norm[name]
			if !ok || v == nil {
				continue
			}
			var types []string
			switch t := schema.Properties[name].Type.(type) {
			case string:
				types = []string{t}
			case []any:
				for _, e := range t {
					if s, ok := e.(string); ok {
						types = append(types, s)
					}
				}
			}
			if len(types) > 0 && !hasType(v, types) {
				problems = append(problems, fmt.Sprintf("%s: must be %s", name, strings.Join(types, " or ")))
			}
		}
	}
	if len(problems) > 0 {
		return nil, derrors.Invalid("invalid values: %s", strings.Join(problems, "; "))
	}
	return norm, nil
}

// hasType reports whether the JSON value v is of one of the JSON Schema
// types.
func hasType(v any, types []string) bool {
	for _, t := range types {
		switch x := v.(type) {
		case string:
			if t == "string" {
				return true
			}
		case bool:
			if t == "boolean" {
				return true
			}
		case float64:
			if t == "number" || t == "integer" && x == float64(int64(x)) {
				return true
			}
		case []any:
			if t == "array" {
				return true
			}
		case map[string]any:
			if t == "object" {
				return true
			}
		case nil:
			if t == "null" {
				return true
			}
		}
	}
	return false
}
