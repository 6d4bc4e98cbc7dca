package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/store"
)

// taskScaffolder is a Scaffolder that is also a TaskReader, with one task.
type taskScaffolder struct {
	fakeScaffolder
	status store.TaskStatus
	events []store.TaskEvent
}

func (f *taskScaffolder) Task(_ context.Context, id string) (store.ScaffolderTask, error) {
	if id != "t-1" {
		return store.ScaffolderTask{}, store.ErrNotFound
	}
	return store.ScaffolderTask{ID: id, Status: f.status, CreatedBy: "user:default/jane",
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Spec:      json.RawMessage(`{"steps":[{"id":"fetch","name":"Render the skeleton"},{"id":"publish","name":"Publish"}]}`)}, nil
}

func (f *taskScaffolder) Events(_ context.Context, id string, after int64) ([]store.TaskEvent, error) {
	return f.events, nil
}

func logEvent(id int64, step, status, msg string) store.TaskEvent {
	b, _ := json.Marshal(map[string]string{"stepId": step, "status": status, "message": msg})
	return store.TaskEvent{ID: id, TaskID: "t-1", Type: store.TaskEventLog, Body: b}
}

func TestTaskPage(t *testing.T) {
	running := &taskScaffolder{status: store.TaskProcessing, events: []store.TaskEvent{
		logEvent(1, "fetch", "processing", "Beginning step Render the skeleton"),
		logEvent(2, "fetch", "completed", "Fetched <script>alert(1)</script> files"),
	}}
	site := newCreateSite(t, running)
	code, body := site.get(t, "/create/tasks/t-1")
	if code != http.StatusOK {
		t.Fatalf("task page: %d", code)
	}
	for _, w := range []string{`data-task-stream="/api/scaffolder/v2/tasks/t-1/eventstream?after=2"`,
		`<span class="step-status step-status-completed" data-step-status>completed</span>`,
		`step-status-open" data-step-status>open</span>`, "Render the skeleton", "&lt;script&gt;alert(1)&lt;/script&gt;", "user:default/jane"} {
		if !strings.Contains(body, w) {
			t.Errorf("running task page lacks %q", w)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("a log line is not escaped")
	}

	done, _ := json.Marshal(map[string]any{"message": "Run completed with status: completed", "output": map[string]any{
		"links": []map[string]string{{"title": "Repository", "url": "https://git.example/acme/billing"},
			{"title": "Evil", "url": "javascript:alert(1)"}, {"title": "In the catalog", "entityRef": "component:default/billing"}},
		"text": []map[string]string{{"title": "Next", "content": "Run **make** <b>now</b>"}}}})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	begin, end := logEvent(1, "fetch", "processing", "Beginning"), logEvent(2, "fetch", "completed", "done")
	begin.CreatedAt, end.CreatedAt = t0, t0.Add(1500*time.Millisecond)
	finished := &taskScaffolder{status: store.TaskCompleted, events: []store.TaskEvent{
		begin, end, {ID: 3, TaskID: "t-1", Type: store.TaskEventCompletion, Body: done}}}
	site = newCreateSite(t, finished)
	_, body = site.get(t, "/create/tasks/t-1")
	for _, w := range []string{`<a href="https://git.example/acme/billing">Repository</a>`,
		`<a href="/catalog/default/component/billing">In the catalog</a>`, "Run <strong>make</strong>", "task-status-completed",
		`<span class="step-duration">1.5s</span>`} {
		if !strings.Contains(body, w) {
			t.Errorf("finished task page lacks %q", w)
		}
	}
	if strings.Contains(body, "data-task-stream") || strings.Contains(body, "javascript:") || strings.Contains(body, ">Evil<") ||
		strings.Contains(body, "<b>now</b>") {
		t.Error("a finished task still streams, or shows a javascript: link")
	}
	if code, _ := site.get(t, "/create/tasks/nope"); code != http.StatusNotFound {
		t.Errorf("an unknown task: %d, want 404", code)
	}
}
