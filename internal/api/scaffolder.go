package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder"
	"github.com/atrium-dev/atrium/internal/scaffolder/action"
	"github.com/atrium-dev/atrium/internal/store"
)

// ScaffolderPrefix is where the app mounts the scaffolder API, at
// Backstage's version 2 paths.
const ScaffolderPrefix = "/api/scaffolder/v2"

// Scaffolder is the scaffolder service as the REST API uses it.
type Scaffolder interface {
	CreateTask(ctx context.Context, templateRef entity.Ref, values map[string]any, secrets map[string]string) (string, error)
	Task(ctx context.Context, id string) (store.ScaffolderTask, error)
	Events(ctx context.Context, id string, afterID int64) ([]store.TaskEvent, error)
	Cancel(ctx context.Context, id string) (store.TaskStatus, error)
	Retry(ctx context.Context, id string, secrets map[string]string) error
	DryRun(ctx context.Context, templateJSON json.RawMessage, values map[string]any, files map[string][]byte) (*scaffolder.DryRunResult, error)
	ListTasks(ctx context.Context, createdBy string, status store.TaskStatus, limit, offset int) ([]store.ScaffolderTask, error)
}

// scaffolderHandler serves /api/scaffolder/v2.
type scaffolderHandler struct {
	s         Scaffolder
	templates EntityLoader
	maxBody   int64
	// poll is how often the event stream looks for new events.
	poll time.Duration
}

// NewScaffolderHandler returns the handler for Backstage's scaffolder v2
// API over s, reading templates through templates.
func NewScaffolderHandler(s Scaffolder, templates EntityLoader, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &scaffolderHandler{s: s, templates: templates, maxBody: 10 << 20, poll: 500 * time.Millisecond}
	return newPrefixRouter(ScaffolderPrefix, &errorAdapter{logger: logger}, h.routeTable())
}

// routeTable is the scaffolder API's route table.
func (h *scaffolderHandler) routeTable() []route {
	return []route{
		{"GET /actions", h.getActions},
		{"GET /templates/{namespace}/{kind}/{name}/parameter-schema", h.getParameterSchema},
		{"POST /tasks", h.postTask},
		{"GET /tasks", h.getTasks},
		{"GET /tasks/{id}", h.getTask},
		{"GET /tasks/{id}/events", h.getEvents},
		{"GET /tasks/{id}/eventstream", h.getEventStream},
		{"POST /tasks/{id}/cancel", h.postCancel},
		{"POST /tasks/{id}/retry", h.postRetry},
		{"POST /dry-run", h.postDryRun},
	}
}

// actionInfo is one action as Backstage's GET /v2/actions lists it.
type actionInfo struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Schema      struct {
		Input  json.RawMessage `json:"input,omitempty"`
		Output json.RawMessage `json:"output,omitempty"`
	} `json:"schema"`
	Examples []actionExample `json:"examples,omitempty"`
}

type actionExample struct {
	Description string `json:"description"`
	Example     string `json:"example"`
}

// getActions serves GET /actions: every registered action with its input
// and output schemas and examples, sorted by id.
func (h *scaffolderHandler) getActions(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	actions := action.List()
	out := make([]actionInfo, 0, len(actions))
	for _, a := range actions {
		info := actionInfo{ID: a.ID, Description: a.Description}
		info.Schema.Input, info.Schema.Output = a.Input, a.Output
		for _, e := range a.Examples {
			info.Examples = append(info.Examples, actionExample{Description: e.Description, Example: e.Example})
		}
		out = append(out, info)
	}
	return writeJSON(w, http.StatusOK, out)
}

// getParameterSchema serves the template's form, as Backstage's
// {title, description, steps: [{title, description, schema}]}.
func (h *scaffolderHandler) getParameterSchema(w http.ResponseWriter, r *http.Request) error {
	ref := pathRef(r)
	body, err := h.templates.EntityByRef(r.Context(), ref)
	if err != nil {
		return err
	}
	t, err := scaffolder.ParseTemplate(body)
	if err != nil {
		return err
	}
	var meta struct {
		Metadata struct{ Title, Description string } `json:"metadata"`
	}
	_ = json.Unmarshal(body, &meta)
	type step struct {
		Title       string          `json:"title"`
		Description string          `json:"description,omitempty"`
		Schema      json.RawMessage `json:"schema"`
	}
	out := struct {
		Title       string `json:"title"`
		Description string `json:"description,omitempty"`
		Steps       []step `json:"steps"`
	}{Title: meta.Metadata.Title, Description: meta.Metadata.Description, Steps: []step{}}
	if out.Title == "" {
		out.Title = ref.Name
	}
	for _, p := range t.Parameters {
		var head struct{ Title, Description string }
		_ = json.Unmarshal(p, &head)
		if head.Title == "" {
			head.Title = "Please enter the following information"
		}
		out.Steps = append(out.Steps, step{Title: head.Title, Description: head.Description, Schema: p})
	}
	return writeJSON(w, http.StatusOK, out)
}

// taskJSON is a task as Backstage's API shows it.
type taskJSON struct {
	ID              string          `json:"id"`
	Spec            json.RawMessage `json:"spec"`
	Status          string          `json:"status"`
	CreatedAt       string          `json:"createdAt"`
	LastHeartbeatAt string          `json:"lastHeartbeatAt,omitempty"`
	CreatedBy       string          `json:"createdBy,omitempty"`
}

func newTaskJSON(t store.ScaffolderTask) taskJSON {
	out := taskJSON{ID: t.ID, Spec: t.Spec, Status: string(t.Status), CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339Nano),
		CreatedBy: t.CreatedBy}
	if !t.LastHeartbeatAt.IsZero() {
		out.LastHeartbeatAt = t.LastHeartbeatAt.UTC().Format(time.RFC3339Nano)
	}
	return out
}

// eventJSON is a task event as Backstage's API shows it.
type eventJSON struct {
	ID        int64           `json:"id"`
	TaskID    string          `json:"taskId"`
	Type      string          `json:"type"`
	Body      json.RawMessage `json:"body"`
	CreatedAt string          `json:"createdAt"`
}

func newEventJSON(e store.TaskEvent) eventJSON {
	return eventJSON{ID: e.ID, TaskID: e.TaskID, Type: string(e.Type), Body: e.Body, CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339Nano)}
}

// postTask serves POST /tasks: {templateRef, values, secrets} → 201 {id}.
func (h *scaffolderHandler) postTask(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		TemplateRef string            `json:"templateRef"`
		Values      map[string]any    `json:"values"`
		Secrets     map[string]string `json:"secrets"`
	}
	if err := h.decode(w, r, &req); err != nil {
		return err
	}
	ref, err := entity.ParseRef(req.TemplateRef, entity.RefDefaults{Kind: "template", Namespace: entity.DefaultNamespace})
	if err != nil || req.TemplateRef == "" {
		return invalid("Invalid templateRef '%s': expected a template ref such as template:default/go-service", req.TemplateRef)
	}
	if req.Values == nil {
		req.Values = map[string]any{}
	}
	id, err := h.s.CreateTask(r.Context(), ref, req.Values, req.Secrets)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

// getTasks serves GET /tasks?createdBy=&status=&limit=&offset=.
func (h *scaffolderHandler) getTasks(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "createdBy", "status", "limit", "offset")
	if err != nil {
		return err
	}
	limit, offset := 100, 0
	for _, p := range []struct {
		name string
		into *int
		max  int
	}{{"limit", &limit, 1000}, {"offset", &offset, 1 << 30}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > p.max {
				return invalid("Invalid %s '%s'", p.name, v)
			}
			*p.into = n
		}
	}
	tasks, err := h.s.ListTasks(r.Context(), q.Get("createdBy"), store.TaskStatus(q.Get("status")), limit, offset)
	if err != nil {
		return err
	}
	out := struct {
		Tasks []taskJSON `json:"tasks"`
	}{Tasks: []taskJSON{}}
	for _, t := range tasks {
		out.Tasks = append(out.Tasks, newTaskJSON(t))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *scaffolderHandler) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := h.s.Task(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundTask(err, r.PathValue("id"))
	}
	return writeJSON(w, http.StatusOK, newTaskJSON(t))
}

func notFoundTask(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return derrors.NotFound("Task with id %s does not exist", id)
	}
	return err
}

// afterParam reads ?after=<event id>.
func afterParam(r *http.Request) (int64, error) {
	q, err := queryParams(r, "after")
	if err != nil {
		return 0, err
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, invalid("Invalid after '%s'", v)
		}
		return n, nil
	}
	return 0, nil
}

// getEvents serves GET /tasks/{id}/events?after=.
func (h *scaffolderHandler) getEvents(w http.ResponseWriter, r *http.Request) error {
	after, err := afterParam(r)
	if err != nil {
		return err
	}
	events, err := h.s.Events(r.Context(), r.PathValue("id"), after)
	if err != nil {
		return notFoundTask(err, r.PathValue("id"))
	}
	out := make([]eventJSON, 0, len(events))
	for _, e := range events {
		out = append(out, newEventJSON(e))
	}
	return writeJSON(w, http.StatusOK, out)
}

// getEventStream serves GET /tasks/{id}/eventstream: the task's events as
// server-sent events ("event: log" or "event: completion", data the
// event's JSON), live, until the task ends or the client goes.
func (h *scaffolderHandler) getEventStream(w http.ResponseWriter, r *http.Request) error {
	after, err := afterParam(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := h.s.Task(r.Context(), id); err != nil {
		return notFoundTask(err, id)
	}
	rc := http.NewResponseController(w) // reaches Flush through the middleware's writers
	flush := func() { _ = rc.Flush() }
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flush()
	t := time.NewTicker(h.poll)
	defer t.Stop()
	for {
		events, err := h.s.Events(r.Context(), id, after)
		if err != nil {
			return nil // the stream has started: the client sees it end
		}
		for _, e := range events {
			b, _ := json.Marshal(newEventJSON(e))
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b)
			after = e.ID
			if e.Type == store.TaskEventCompletion || e.Type == store.TaskEventCancelled {
				flush()
				return nil
			}
		}
		flush()
		select {
		case <-r.Context().Done():
			return nil
		case <-t.C:
		}
	}
}

// postCancel serves POST /tasks/{id}/cancel → {status}.
func (h *scaffolderHandler) postCancel(w http.ResponseWriter, r *http.Request) error {
	st, err := h.s.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundTask(err, r.PathValue("id"))
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": string(st)})
}

// postRetry serves POST /tasks/{id}/retry with optional {secrets}.
func (h *scaffolderHandler) postRetry(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Secrets map[string]string `json:"secrets"`
	}
	if r.ContentLength != 0 {
		if err := h.decode(w, r, &req); err != nil {
			return err
		}
	}
	id := r.PathValue("id")
	if err := h.s.Retry(r.Context(), id, req.Secrets); err != nil {
		return notFoundTask(err, id)
	}
	return writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

// postDryRun serves POST /dry-run: {template, values, secrets,
// directoryContents: [{path, base64Content}]} → {log, directoryContents,
// output}, as Backstage's template editor uses it.
func (h *scaffolderHandler) postDryRun(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Template          json.RawMessage `json:"template"`
		Values            map[string]any  `json:"values"`
		DirectoryContents []struct {
			Path          string `json:"path"`
			Base64Content string `json:"base64Content"`
		} `json:"directoryContents"`
	}
	if err := h.decode(w, r, &req); err != nil {
		return err
	}
	if len(req.Template) == 0 {
		return invalid("Malformed request: 'template' is required")
	}
	files := map[string][]byte{}
	for i, f := range req.DirectoryContents {
		b, err := base64.StdEncoding.DecodeString(f.Base64Content)
		if err != nil {
			return invalid("directoryContents[%d].base64Content: not base64", i)
		}
		files[f.Path] = b
	}
	res, err := h.s.DryRun(r.Context(), req.Template, req.Values, files)
	if res == nil {
		return err
	}
	type logJSON struct {
		Body scaffolder.LogLine `json:"body"`
	}
	type fileJSON struct {
		Path          string `json:"path"`
		Base64Content string `json:"base64Content"`
	}
	out := struct {
		Log               []logJSON      `json:"log"`
		DirectoryContents []fileJSON     `json:"directoryContents"`
		Output            map[string]any `json:"output"`
		Error             string         `json:"error,omitempty"`
	}{Log: []logJSON{}, DirectoryContents: []fileJSON{}, Output: res.Output}
	for _, l := range res.Log {
		out.Log = append(out.Log, logJSON{Body: l})
	}
	for p, b := range res.Files {
		out.DirectoryContents = append(out.DirectoryContents, fileJSON{Path: p, Base64Content: base64.StdEncoding.EncodeToString(b)})
	}
	if err != nil {
		c := derrors.Classify(err)
		out.Error = c.Message
		if c.Kind == nil {
			out.Error = "the dry run failed; see the log"
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// decode reads a JSON body into v, within the size limit.
func (h *scaffolderHandler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{status: http.StatusRequestEntityTooLarge, name: "PayloadTooLargeError", message: "Request body too large"}
		}
		return invalid("Malformed request body: %s", err.Error())
	}
	return nil
}
