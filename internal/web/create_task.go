package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/techdocs/markdown"
)

// TaskReader reads scaffolder tasks for the task page. A Scaffolder that
// implements it gets the live task page; one that does not, a page that
// links to the task's events.
type TaskReader interface {
	Task(ctx context.Context, id string) (store.ScaffolderTask, error)
	Events(ctx context.Context, id string, afterID int64) ([]store.TaskEvent, error)
}

// createTaskView is a task's page: its steps with their status, its log,
// and when it has ended, its output links and texts.
type createTaskView struct {
	Layout
	ID, EventsHref string
	// Known says the task could be read (the Scaffolder is a TaskReader).
	Known     bool
	Status    string
	CreatedBy string
	CreatedAt stamp
	Steps     []taskStep
	Log       []taskLogLine
	Links     []taskLink
	Texts     []taskText
	Error     string
	// StreamHref follows the task live while it runs; LastEvent is the
	// id of the last event the page shows, where the stream resumes.
	StreamHref string
	LastEvent  int64
}

// taskStep is a step's line: its status, and once it has ended, how long
// it took ("1.2s").
type taskStep struct{ ID, Name, Status, Duration string }

type taskLogLine struct{ Step, Message string }

type taskLink struct{ Title, Href string }

// taskText is an output text; HTML is its Markdown, rendered and
// sanitized as docs are.
type taskText struct {
	Title string
	HTML  template.HTML
}

// createTask serves GET /create/tasks/{id}: the task's steps, log and
// output as they are now; a small script follows the event stream and
// reloads the page when the task ends (without JavaScript, reload it).
func (h *handler) createTask(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	v := &createTaskView{
		Layout:     h.layout(r, "Task "+id, sectionCreate, crumb{"Create", "/create"}, crumb{"Task", ""}),
		ID:         id,
		EventsHref: "/api/scaffolder/v2/tasks/" + url.PathEscape(id) + "/events",
	}
	tr, ok := h.opts.Scaffolder.(TaskReader)
	if !ok {
		return h.views.render(w, http.StatusOK, "create_task", v)
	}
	task, err := tr.Task(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return derrors.NotFound("There is no task %s.", id)
	}
	if err != nil {
		return err
	}
	events, err := tr.Events(r.Context(), id, 0)
	if err != nil {
		return err
	}
	v.Known, v.Status, v.CreatedBy, v.CreatedAt = true, string(task.Status), task.CreatedBy, newStamp(task.CreatedAt)
	var spec struct {
		Steps []struct{ ID, Name string } `json:"steps"`
	}
	_ = json.Unmarshal(task.Spec, &spec)
	index := map[string]int{}
	for i, s := range spec.Steps {
		name := s.Name
		if name == "" {
			name = s.ID
		}
		v.Steps = append(v.Steps, taskStep{ID: s.ID, Name: name, Status: "open"})
		index[s.ID] = i
	}
	started := make([]time.Time, len(v.Steps))
	for _, e := range events {
		v.LastEvent = e.ID
		var body struct {
			StepID  string     `json:"stepId"`
			Status  string     `json:"status"`
			Message string     `json:"message"`
			Error   string     `json:"error"`
			Output  taskOutput `json:"output"`
		}
		_ = json.Unmarshal(e.Body, &body)
		switch e.Type {
		case store.TaskEventLog:
			if i, ok := index[body.StepID]; ok && body.Status != "" {
				v.Steps[i].Status = body.Status
				switch body.Status {
				case "processing":
					started[i], v.Steps[i].Duration = e.CreatedAt, ""
				case "completed", "failed", "cancelled":
					if !started[i].IsZero() {
						v.Steps[i].Duration = formatDuration(e.CreatedAt.Sub(started[i]))
					}
				}
			}
			v.Log = append(v.Log, taskLogLine{Step: body.StepID, Message: body.Message})
		case store.TaskEventCompletion:
			v.Error = body.Error
			v.Links, v.Texts = body.Output.view()
		}
	}
	if !store.TaskStatus(v.Status).Ended() {
		v.StreamHref = "/api/scaffolder/v2/tasks/" + url.PathEscape(id) + "/eventstream?after=" + strconv.FormatInt(v.LastEvent, 10)
	}
	return h.views.render(w, http.StatusOK, "create_task", v)
}

// taskOutput is the part of a template's rendered output the pages show.
type taskOutput struct {
	Links []struct{ Title, URL, EntityRef string } `json:"links"`
	Text  []struct{ Title, Content string }        `json:"text"`
}

// view is the output's links (entity refs to their pages; links that
// are not http(s) dropped) and texts.
func (o taskOutput) view() (links []taskLink, texts []taskText) {
	for _, l := range o.Links {
		href := safeLink(l.URL)
		if l.EntityRef != "" {
			if ref, err := entity.ParseRef(l.EntityRef, entity.RefDefaults{Namespace: entity.DefaultNamespace}); err == nil {
				href = entityHref(ref)
			}
		}
		title := l.Title
		if title == "" {
			title = l.URL + l.EntityRef
		}
		if href != "" {
			links = append(links, taskLink{Title: title, Href: href})
		}
	}
	for _, t := range o.Text {
		texts = append(texts, taskText{Title: t.Title, HTML: renderMarkdown(t.Content)})
	}
	return links, texts
}

// safeLink keeps http(s) links and drops anything else (javascript:, data:).
func safeLink(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.String()
}

// formatDuration writes a step's duration to a tenth of a second, or in
// minutes and seconds past a minute.
func formatDuration(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// renderMarkdown renders an output text as Backstage does (Markdown),
// through the docs renderer and its sanitizer; text it refuses is shown
// escaped.
func renderMarkdown(src string) template.HTML {
	p, err := markdown.Render([]byte(src), markdown.Options{NoRawHTML: true})
	if err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(p.HTML) // sanitized by markdown.Render
}
