package scaffolder

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/githost/githosttest"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeCatalog serves entities by ref key.
type fakeCatalog map[string]json.RawMessage

func (c fakeCatalog) EntityByRef(_ context.Context, ref entity.Ref) (json.RawMessage, error) {
	if e, ok := c[ref.Key()]; ok {
		return e, nil
	}
	return nil, derrors.NotFound("no entity %s", ref)
}

type fixture struct {
	st    *store.Store
	clock *fakeClock
	cat   fakeCatalog
	svc   *Service
	ctx   context.Context // as user:default/jane
	loc   string
}

func newFixture(t *testing.T, e storetest.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts := store.Options{Now: clock.Now}
	var st *store.Store
	var err error
	if e == storetest.Postgres {
		st, err = store.OpenPostgres(ctx, storetest.PostgresURL(t), opts)
	} else {
		st, err = store.Open(ctx, storetest.SQLitePath(t), opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat := fakeCatalog{
		"user:default/jane": json.RawMessage(`{"kind":"User","metadata":{"name":"jane"},"spec":{"profile":{"displayName":"Jane"}}}`),
	}
	return &fixture{st: st, clock: clock, cat: cat, svc: NewService(st, cat),
		ctx: auth.WithIdentity(ctx, auth.User("user:default/jane", nil)), loc: "file:" + writeSkeleton(t)}
}

// template stores a template named name and returns its ref.
func (f *fixture) template(t *testing.T, name string, params any, steps []map[string]any, output map[string]any) entity.Ref {
	t.Helper()
	raw := templateJSON(t, f.loc, params, steps, output)
	ref := entity.Ref{Kind: "Template", Namespace: "default", Name: name}
	var e map[string]any
	_ = json.Unmarshal(raw, &e)
	e["metadata"].(map[string]any)["name"] = name
	raw, _ = json.Marshal(e)
	f.cat[ref.Key()] = raw
	return ref
}

func (f *fixture) runner(opts RunnerOptions) *Runner {
	opts.PollInterval = 5 * time.Millisecond
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = 5 * time.Millisecond
	}
	opts.Lease = time.Minute
	return NewRunner(f.st, opts)
}

// start runs r until the test ends or the returned stop is called.
func start(t *testing.T, r *Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) status(t *testing.T, id string) store.TaskStatus {
	t.Helper()
	task, err := f.svc.Task(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return task.Status
}

func (f *fixture) events(t *testing.T, id string) ([]store.TaskEvent, string) {
	t.Helper()
	evs, err := f.svc.Events(f.ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(string(e.Type) + " " + string(e.Body) + "\n")
	}
	return evs, b.String()
}

func (f *fixture) auditActions(t *testing.T, id string) []string {
	t.Helper()
	evs, err := f.st.AuditEvents(f.ctx, audit.Query{Targets: []string{auditTarget(id)}, After: -1, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Actor.String() != "user:default/jane" {
			t.Errorf("audit %s by %s, want user:default/jane", e.Action, e.Actor)
		}
		out = append(out, e.Action)
	}
	slices.Reverse(out) // oldest first
	return out
}

func TestRunnerCompletes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		f := newFixture(t, e)
		params := map[string]any{"required": []any{"name"}, "properties": map[string]any{"name": map[string]any{"type": "string"},
			"items": map[string]any{"type": "array"}}}
		ref := f.template(t, "demo", params, engineSteps, engineOutput)

		// Values are checked against the parameters.
		if _, err := f.svc.CreateTask(f.ctx, ref, map[string]any{"items": "x"}, nil); !errors.Is(err, derrors.ErrInvalid) ||
			!strings.Contains(err.Error(), "name: required") || !strings.Contains(err.Error(), "items: must be array") {
			t.Errorf("CreateTask with bad values = %v, want invalid naming name and items", err)
		}
		id, err := f.svc.CreateTask(f.ctx, ref, map[string]any{"name": "World", "items": []string{"a", "b"}},
			map[string]string{"token": "s3cret"})
		if err != nil {
			t.Fatal(err)
		}
		start(t, f.runner(RunnerOptions{}))
		waitFor(t, "the task to complete", func() bool { return f.status(t, id) == store.TaskCompleted })

		task, _ := f.svc.Task(f.ctx, id)
		var out map[string]any
		if err := json.Unmarshal(task.Output, &out); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]any{
			"links": []any{map[string]any{"title": "First", "url": "https://example.com/0=a"}},
			"text":  []any{map[string]any{"title": "Count", "content": float64(2)}},
		}, out); diff != "" {
			t.Errorf("output (-want +got):\n%s", diff)
		}
		if task.CreatedBy != "user:default/jane" {
			t.Errorf("created by %q", task.CreatedBy)
		}
		evs, text := f.events(t, id)
		if last := evs[len(evs)-1]; last.Type != store.TaskEventCompletion || !strings.Contains(string(last.Body), `"status":"completed"`) {
			t.Errorf("last event = %s %s, want a completion", last.Type, last.Body)
		}
		if strings.Contains(text, "s3cret") || !strings.Contains(text, "token *** for user:default/jane in "+id) {
			t.Errorf("log not redacted as expected:\n%s", text)
		}
		if diff := cmp.Diff([]string{AuditTaskCreated, AuditActionPrefix + "fetch:template", AuditActionPrefix + "fs:rename", AuditActionPrefix + "debug:log", AuditActionPrefix + "test:echo", AuditActionPrefix + "test:echo", AuditActionPrefix + "debug:log", AuditTaskCompleted}, f.auditActions(t, id)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestRunnerFailsAndRetries(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		f := newFixture(t, e)
		ref := f.template(t, "failing", nil, []map[string]any{
			{"id": "hello", "action": "debug:log", "input": map[string]any{"message": "hello ${{ user.entity.spec.profile.displayName }}"}},
			{"id": "boom", "action": "test:fail", "input": map[string]any{"message": "broken ${{ secrets.token }}"}},
		}, nil)
		id, err := f.svc.CreateTask(f.ctx, ref, nil, map[string]string{"token": "s3cret"})
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, f.runner(RunnerOptions{}))
		waitFor(t, "the task to fail", func() bool { return f.status(t, id) == store.TaskFailed })
		stop()
		_, text := f.events(t, id)
		for _, want := range []string{"hello Jane", `"stepId":"boom","status":"failed","message":"step boom: broken ***"`, `"status":"failed"`} {
			if !strings.Contains(text, want) {
				t.Errorf("events lack %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "s3cret") {
			t.Errorf("the secret is in the events:\n%s", text)
		}

		evs, err := f.st.AuditEvents(f.ctx, audit.Query{Targets: []string{auditTarget(id)}, After: -1, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Action == AuditActionPrefix+"test:fail" && (ev.Outcome != audit.Failed || ev.Error != "step boom: broken ***") {
				t.Errorf("the failed action's audit event = %+v", ev)
			}
		}
		if err := f.svc.Retry(f.ctx, id, map[string]string{"token": "again"}); err != nil {
			t.Fatal(err)
		}
		if got := f.status(t, id); got != store.TaskOpen {
			t.Errorf("status after retry = %s, want open", got)
		}
		if diff := cmp.Diff([]string{AuditTaskCreated, AuditActionPrefix + "debug:log", AuditActionPrefix + "test:fail", AuditTaskFailed, AuditTaskRetried}, f.auditActions(t, id)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

// TestRunnerRetryKeepsExternalSteps retries a task whose step after a
// publish failed: the workspace steps run again, the publish does not,
// and its output reaches the steps after it and the task's output.
func TestRunnerRetryKeepsExternalSteps(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		publishCalls.Store(0)
		failOnceCalls.Store(0)
		f := newFixture(t, e)
		ref := f.template(t, "publishing", nil, []map[string]any{
			{"id": "prepare", "name": "Prepare", "action": "debug:log", "input": map[string]any{"message": "preparing"}},
			{"id": "publish", "name": "Publish", "action": "test:publish", "input": map[string]any{"name": "app"}},
			{"id": "register", "action": "test:fail-once", "input": map[string]any{"url": "${{ steps.publish.output.url }}"}},
		}, map[string]any{"links": []any{map[string]any{"title": "Repo", "url": "${{ steps.register.output.registered }}"}}})
		id, err := f.svc.CreateTask(f.ctx, ref, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, f.runner(RunnerOptions{}))
		waitFor(t, "the task to fail", func() bool { return f.status(t, id) == store.TaskFailed })
		if err := f.svc.Retry(f.ctx, id, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the retried task to complete", func() bool { return f.status(t, id) == store.TaskCompleted })
		stop()
		if n := publishCalls.Load(); n != 1 {
			t.Errorf("the publish step ran %d times, want once", n)
		}
		task, _ := f.svc.Task(f.ctx, id)
		if want := `{"links":[{"title":"Repo","url":"https://git.example/app?call=1"}]}`; string(task.Output) != want {
			t.Errorf("output = %s, want %s", task.Output, want)
		}
		_, text := f.events(t, id)
		if n := strings.Count(text, "preparing"); n != 2 {
			t.Errorf("the workspace step ran %d times, want twice:\n%s", n, text)
		}
		if !strings.Contains(text, "Skipping step Publish: it completed in an earlier attempt; its output is kept") {
			t.Errorf("the log does not say the publish step was kept:\n%s", text)
		}
	})
}

func TestRunnerCancel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		f := newFixture(t, e)
		ref := f.template(t, "slow", nil, []map[string]any{
			{"id": "wait", "action": "debug:wait", "input": map[string]any{"seconds": 30}},
			{"id": "after", "action": "debug:log", "input": map[string]any{"message": "not reached"}},
		}, nil)
		id, err := f.svc.CreateTask(f.ctx, ref, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		start(t, f.runner(RunnerOptions{}))
		waitFor(t, "the wait step to start", func() bool {
			_, text := f.events(t, id)
			return strings.Contains(text, "Waiting")
		})
		if status, err := f.svc.Cancel(f.ctx, id); err != nil || status != store.TaskProcessing {
			t.Fatalf("Cancel = %v, %v", status, err)
		}
		waitFor(t, "the task to be cancelled", func() bool { return f.status(t, id) == store.TaskCancelled })
		evs, text := f.events(t, id)
		if last := evs[len(evs)-1]; last.Type != store.TaskEventCancelled {
			t.Errorf("last event = %s, want cancelled", last.Type)
		}
		if strings.Contains(text, "not reached") {
			t.Errorf("a step ran after the cancel:\n%s", text)
		}
		if diff := cmp.Diff([]string{AuditTaskCreated, AuditTaskCancelled, AuditActionPrefix + "debug:wait"}, f.auditActions(t, id)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestRunnerRecovery(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		blockCalls.Store(0)
		f := newFixture(t, e)
		ref := f.template(t, "recover", nil, []map[string]any{
			{"id": "first", "action": "debug:log", "input": map[string]any{"message": "first step"}},
			{"id": "block", "action": "test:block"},
		}, map[string]any{"text": []any{map[string]any{"title": "t", "content": "done"}}})
		id, err := f.svc.CreateTask(f.ctx, ref, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Runner a never heartbeats within the test; it dies mid-step,
		// leaving its claim behind.
		a := f.runner(RunnerOptions{Owner: "a", HeartbeatInterval: time.Hour})
		a.abandon = true
		stopA := start(t, a)
		waitFor(t, "runner a to block", func() bool { return blockCalls.Load() == 1 })
		stopA()
		if got := f.status(t, id); got != store.TaskProcessing {
			t.Fatalf("status after runner a died = %s, want processing", got)
		}

		// Runner b leaves the task alone while a's lease lasts.
		b := f.runner(RunnerOptions{Owner: "b"})
		stopB := start(t, b)
		time.Sleep(50 * time.Millisecond)
		if task, _ := f.svc.Task(f.ctx, id); task.LeaseOwner != "a" {
			t.Fatalf("lease owner before expiry = %q, want a", task.LeaseOwner)
		}
		f.clock.Advance(2 * time.Minute)
		waitFor(t, "runner b to complete the task", func() bool { return f.status(t, id) == store.TaskCompleted })
		stopB()
		_, text := f.events(t, id)
		if n := strings.Count(text, `"message":"first step"`); n != 2 {
			t.Errorf("the first step ran %d times, want 2 (from the start again):\n%s", n, text)
		}
		for _, want := range []string{`"stepId":"block","status":"cancelled"`, "recovered ", "Steps that publish or register and had completed are not run again"} {
			if !strings.Contains(text, want) {
				t.Errorf("events lack %q:\n%s", want, text)
			}
		}
	})
}

func TestRunnerReleasesOnShutdown(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		f := newFixture(t, e)
		ref := f.template(t, "slow", nil, []map[string]any{
			{"id": "wait", "action": "debug:wait", "input": map[string]any{"seconds": 30}},
		}, nil)
		id, err := f.svc.CreateTask(f.ctx, ref, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, f.runner(RunnerOptions{}))
		waitFor(t, "the task to start", func() bool { return f.status(t, id) == store.TaskProcessing })
		stop()
		task, err := f.svc.Task(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if task.Status != store.TaskOpen || task.LeaseOwner != "" {
			t.Errorf("after shutdown: status %s, lease owner %q; want open and none", task.Status, task.LeaseOwner)
		}
	})
}

func TestDryRun(t *testing.T) {
	svc := NewService(nil, fakeCatalog{})
	tmpl := templateJSON(t, "", nil, []map[string]any{
		{"id": "fetch", "action": "fetch:template", "input": map[string]any{"url": "./skeleton", "values": map[string]any{"name": "${{ parameters.name }}"}}},
		{"id": "wait", "action": "debug:wait", "input": map[string]any{"minutes": 5}},
	}, map[string]any{"text": []any{map[string]any{"title": "t", "content": "made ${{ parameters.name }}"}}})
	res, err := svc.DryRun(context.Background(), tmpl, map[string]any{"name": "Dry"},
		map[string][]byte{"skeleton/README.md": []byte("Hi ${{ values.name }}")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]byte{"README.md": []byte("Hi Dry")}, res.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"text": []any{map[string]any{"title": "t", "content": "made Dry"}}}, res.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if len(res.Log) == 0 {
		t.Error("no log")
	}
	if _, err := svc.DryRun(context.Background(), tmpl, nil, map[string][]byte{"../x": nil}); !errors.Is(err, derrors.ErrInvalid) {
		t.Errorf("DryRun with a file outside the template = %v, want invalid", err)
	}
}

// TestRunnerTemplateFromGitHost runs a template registered from Atrium's
// own git host: its skeleton is read from the repository.
func TestRunnerTemplateFromGitHost(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h, err := githost.New("localhost:7007", filepath.Join(t.TempDir(), "git"), "http://localhost:7007/git")
		if err != nil {
			t.Fatal(err)
		}
		githosttest.Commit(t, h, "acme", "templates", "main", "templates", map[string]string{
			"tiny/template.yaml":         "kind: Template\n",
			"tiny/skeleton/hello.txt":    "hello ${{ values.name }}\n",
			"tiny/skeleton/sub/deep.txt": "deep\n",
			"other/secret.txt":           "not the template's\n",
		})

		f := newFixture(t, e)
		f.loc = "url:http://localhost:7007/git/acme/templates/blob/main/tiny/template.yaml"
		ref := f.template(t, "from-git", nil, []map[string]any{
			{"id": "fetch", "action": "fetch:template", "input": map[string]any{"url": "./skeleton", "values": map[string]any{"name": "World"}}},
			{"id": "escape", "action": "fetch:plain", "input": map[string]any{"url": "../other", "targetPath": "other"}},
		}, nil)
		id, err := f.svc.CreateTask(f.ctx, ref, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		start(t, f.runner(RunnerOptions{Git: h}))
		waitFor(t, "the task to end", func() bool { return f.status(t, id).Ended() })
		_, text := f.events(t, id)
		if !strings.Contains(text, `"stepId":"fetch","status":"completed"`) {
			t.Errorf("the skeleton was not fetched from the repository:\n%s", text)
		}
		// The template's folder is its whole world: its repository's
		// other folders are out of reach.
		if f.status(t, id) != store.TaskFailed || !strings.Contains(text, `"stepId":"escape","status":"failed"`) {
			t.Errorf("fetching outside the template's folder did not fail:\n%s", text)
		}
	})
}
