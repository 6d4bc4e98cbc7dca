package scaffolder

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/scaffolder/action"
	"github.com/atrium-dev/atrium/internal/scaffolder/templating"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
	"github.com/atrium-dev/atrium/internal/store"
)

// The audit actions of scaffolder tasks.
const (
	AuditTaskCreated   = "scaffolder.task.created"
	AuditTaskCancelled = "scaffolder.task.cancelled"
	AuditTaskRetried   = "scaffolder.task.retried"
	AuditTaskCompleted = "scaffolder.task.completed"
	AuditTaskFailed    = "scaffolder.task.failed"
	// AuditActionPrefix starts the action of every action run's event,
	// "scaffolder.action.publish:git": its target is the task.
	AuditActionPrefix = "scaffolder.action."
)

// auditTarget is a task's target in the audit log.
func auditTarget(id string) string { return "scaffolder-task:" + id }

// RunnerOptions tune a Runner.
type RunnerOptions struct {
	// Concurrency is how many tasks the runner runs at once (default 4).
	Concurrency int
	// PollInterval is how long the runner waits before looking for work
	// again when none was waiting (default 1s).
	PollInterval time.Duration
	// Lease is how long a claim on a task lasts without a heartbeat: a
	// runner that dies leaves its tasks to others after this long
	// (default 30s).
	Lease time.Duration
	// HeartbeatInterval is how often a running task's lease is renewed
	// and its cancel flag read (default Lease/3).
	HeartbeatInterval time.Duration
	// WorkDir is where task workspaces are made; "" is the system's
	// temporary folder. Each is removed when its task ends.
	WorkDir string
	// Limits cap what one task's workspace may hold.
	Limits workspace.Limits
	// Templating bounds template rendering.
	Templating templating.Options
	// Owner identifies the runner in leases; "" makes a random one.
	Owner string
	// Logger receives the runner's own errors (default slog.Default()).
	Logger *slog.Logger
	// Catalog gives the catalog:* actions the catalog, acting for the
	// task's creator (given as its actor string); nil makes them fail.
	Catalog func(createdBy string) action.Catalog
	// Git is Atrium's own git host, for publish:git; nil if there is none.
	Git *githost.Host
	// AllowFileRemotes lets publish:git push to file:// remotes: any
	// repository on this machine's disk (scaffolder.allowFileRemotes).
	AllowFileRemotes bool
}

// Runner claims scaffolder tasks from the store and runs them.
type Runner struct {
	st   *store.Store
	opts RunnerOptions
	// abandon, set by tests, makes a cancelled Run leave its tasks
	// claimed, as a runner that died would.
	abandon bool
}

// NewRunner returns a runner of st's tasks.
func NewRunner(st *store.Store, opts RunnerOptions) *Runner {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = opts.Lease / 3
	}
	if opts.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		opts.Owner = "runner-" + hex.EncodeToString(b[:])
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Runner{st: st, opts: opts}
}

// Run claims and runs tasks until ctx is cancelled. It then interrupts the
// tasks it is running, releases them for other runners to start again,
// and returns once they have stopped.
func (r *Runner) Run(ctx context.Context) error {
	slots := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		task, ok, err := r.st.ClaimTask(ctx, r.opts.Owner, r.opts.Lease)
		if err != nil {
			r.opts.Logger.Error("scaffolder: claim task", "err", err)
		}
		if !ok {
			<-slots
			select {
			case <-time.After(r.opts.PollInterval):
				continue
			case <-ctx.Done():
				return nil
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			r.runTask(ctx, task)
		}()
	}
}

// Why a running task's context was cancelled.
var (
	errCancelRequested = errors.New("the task was cancelled")
	errLeaseLost       = errors.New("the runner lost the task's lease")
)

// runTask runs one claimed task to its end, or until the runner stops.
func (r *Runner) runTask(ctx context.Context, task store.ScaffolderTask) {
	// Writes about the task must land even as the runner stops.
	bg := audit.WithActor(context.WithoutCancel(ctx), audit.ParseActor(task.CreatedBy))
	logf := func(l LogLine) {
		body, _ := json.Marshal(l)
		if err := r.st.AppendTaskEvents(bg, task.ID, store.TaskEvent{Type: store.TaskEventLog, Body: body}); err != nil {
			r.opts.Logger.Error("scaffolder: append task log", "task", task.ID, "err", err)
		}
	}
	if task.Recovered {
		logf(LogLine{Message: "The runner that was running this task stopped; running it again. Steps that " +
			"publish or register and had completed are not run again; the others are, to rebuild the workspace."})
	}
	taskCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if task.CancelRequested {
		cancel(errCancelRequested)
	}
	var beat sync.WaitGroup
	beat.Add(1)
	go func() {
		defer beat.Done()
		r.heartbeat(taskCtx, task.ID, cancel)
	}()
	output, runErr := r.execute(taskCtx, task, logf)
	cause := context.Cause(taskCtx)
	cancel(nil)
	beat.Wait()

	switch {
	case errors.Is(cause, errLeaseLost):
		r.opts.Logger.Warn("scaffolder: lost the lease of a running task", "task", task.ID)
		return
	case errors.Is(cause, errCancelRequested):
		body, _ := json.Marshal(map[string]string{"message": "The task was cancelled"})
		r.finish(bg, task, store.TaskCancelled, nil, store.TaskEvent{Type: store.TaskEventCancelled, Body: body})
		return
	case ctx.Err() != nil:
		if r.abandon {
			return
		}
		logf(LogLine{Message: "The runner is shutting down; another will take the task over"})
		if err := r.st.ReleaseTask(bg, task.ID, r.opts.Owner); err != nil {
			r.opts.Logger.Error("scaffolder: release task", "task", task.ID, "err", err)
		}
		return
	case runErr != nil:
		body, _ := json.Marshal(map[string]any{"message": "Run completed with status: failed", "status": store.TaskFailed,
			"error": runErr.Error()})
		r.finish(bg, task, store.TaskFailed, nil, store.TaskEvent{Type: store.TaskEventCompletion, Body: body})
		return
	}
	out, err := json.Marshal(output)
	if err != nil {
		out = []byte(`{}`)
	}
	body, _ := json.Marshal(map[string]any{"message": "Run completed with status: completed", "status": store.TaskCompleted,
		"output": json.RawMessage(out)})
	r.finish(bg, task, store.TaskCompleted, out, store.TaskEvent{Type: store.TaskEventCompletion, Body: body})
}

// execute prepares the task's workspace and runs its steps.
func (r *Runner) execute(ctx context.Context, task store.ScaffolderTask, logf func(LogLine)) (map[string]any, error) {
	var spec TaskSpec
	if err := json.Unmarshal(task.Spec, &spec); err != nil {
		logf(LogLine{Message: "The task's spec cannot be read"})
		return nil, fmt.Errorf("reading the task's spec: %w", err)
	}
	var secrets map[string]string
	if len(task.Secrets) > 0 {
		if err := json.Unmarshal(task.Secrets, &secrets); err != nil {
			return nil, fmt.Errorf("reading the task's secrets: %w", err)
		}
	}
	tmp, err := os.MkdirTemp(r.opts.WorkDir, "atrium-task-")
	if err != nil {
		return nil, fmt.Errorf("making the task's workspace: %w", err)
	}
	defer os.RemoveAll(tmp)
	dir, cleanup, err := r.templateDir(spec.TemplateInfo.Location)
	if err != nil {
		logf(LogLine{Message: err.Error()})
		return nil, err
	}
	defer cleanup()
	ws, err := workspace.New(tmp, r.opts.Limits)
	if err != nil {
		return nil, fmt.Errorf("making the task's workspace: %w", err)
	}
	defer ws.Close()
	x := &Execution{TaskID: task.ID, Spec: &spec, TemplateDir: dir, Secrets: secrets, Workspace: ws, Log: logf,
		Templating: r.opts.Templating, Git: r.opts.Git,
		AllowFileRemotes: r.opts.AllowFileRemotes}
	if r.opts.Catalog != nil {
		x.Catalog = r.opts.Catalog(task.CreatedBy)
	}
	if x.Completed, err = r.completedSteps(ctx, task.ID); err != nil {
		return nil, err
	}
	// Every action run is audited, as the task's creator: the actions
	// that change things outside the workspace at a higher severity.
	x.StepDone = func(step Step, stepErr error) {
		ev := audit.Event{Actor: audit.ParseActor(task.CreatedBy), Action: AuditActionPrefix + step.Action,
			Target: auditTarget(task.ID), Outcome: audit.Succeeded, Severity: audit.Low}
		if isExternal(step.Action) {
			ev.Severity = audit.Medium
		}
		if stepErr != nil {
			ev.Outcome, ev.Error = audit.Failed, "step "+step.ID+": "+stepErr.Error()
		}
		if err := r.st.AppendAudit(context.WithoutCancel(ctx), ev); err != nil {
			r.opts.Logger.Error("scaffolder: audit an action run", "task", task.ID, "step", step.ID, "err", err)
		}
	}
	return x.Run(ctx)
}

// templateDir returns the folder of the template's files: beside its
// catalog file for file locations, or, for a template registered from
// Atrium's own git host, that folder of the repository copied into a
// temporary folder, which cleanup removes.
func (r *Runner) templateDir(location string) (dir string, cleanup func(), err error) {
	cleanup = func() {}
	if target, ok := strings.CutPrefix(location, "url:"); ok && r.opts.Git != nil {
		if loc, ok, err := r.opts.Git.Parse(target); ok {
			if err != nil {
				return "", cleanup, err
			}
			loc.Path = path.Dir(loc.Path)
			if loc.Path == "." {
				loc.Path = ""
			}
			dir, err := os.MkdirTemp(r.opts.WorkDir, "atrium-template-")
			if err != nil {
				return "", cleanup, err
			}
			cleanup = func() { os.RemoveAll(dir) }
			if _, err := r.opts.Git.Export(loc, dir, templateMaxFiles, templateMaxBytes); err != nil {
				return "", cleanup, fmt.Errorf("reading the template's files: %w", err)
			}
			return dir, cleanup, nil
		}
	}
	dir, err = TemplateDir(location)
	return dir, cleanup, err
}

// Bounds on the files of a template read from a repository.
const (
	templateMaxFiles = 10_000
	templateMaxBytes = 100 << 20
)

// completedSteps reads the outputs of the steps that completed in the
// task's earlier attempts (a retry, or a run a dead runner left) from its
// log.
func (r *Runner) completedSteps(ctx context.Context, id string) (map[string]map[string]any, error) {
	events, err := r.st.TaskEvents(ctx, id, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the task's earlier attempts: %w", err)
	}
	var done map[string]map[string]any
	for _, e := range events {
		if e.Type != store.TaskEventLog {
			continue
		}
		var l LogLine
		if json.Unmarshal(e.Body, &l) != nil || l.Status != "completed" || l.StepID == "" {
			continue
		}
		if done == nil {
			done = map[string]map[string]any{}
		}
		if l.Output == nil {
			l.Output = map[string]any{}
		}
		done[l.StepID] = l.Output
	}
	return done, nil
}

// heartbeat renews the task's lease until ctx ends, and cancels ctx when
// a cancel is requested or the lease is lost.
func (r *Runner) heartbeat(ctx context.Context, id string, cancel context.CancelCauseFunc) {
	t := time.NewTicker(r.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cancelRequested, err := r.st.Heartbeat(ctx, id, r.opts.Owner, r.opts.Lease)
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			cancel(errLeaseLost)
			return
		case err != nil:
			r.opts.Logger.Error("scaffolder: heartbeat", "task", id, "err", err)
		case cancelRequested:
			cancel(errCancelRequested)
			return
		}
	}
}

// finish ends the task and, in the same transaction, audits how it
// completed or failed; a cancel was audited when it was asked for
// (Service.Cancel).
func (r *Runner) finish(ctx context.Context, task store.ScaffolderTask, status store.TaskStatus, output json.RawMessage, final store.TaskEvent) {
	var audits []audit.Event
	switch status {
	case store.TaskCompleted:
		audits = append(audits, audit.Event{Actor: audit.ParseActor(task.CreatedBy), Action: AuditTaskCompleted,
			Target: auditTarget(task.ID), Outcome: audit.Succeeded, Severity: audit.Low})
	case store.TaskFailed:
		audits = append(audits, audit.Event{Actor: audit.ParseActor(task.CreatedBy), Action: AuditTaskFailed,
			Target: auditTarget(task.ID), Outcome: audit.Failed, Severity: audit.Low})
	}
	if err := r.st.CompleteTask(ctx, task.ID, r.opts.Owner, status, output, final, audits...); err != nil {
		r.opts.Logger.Error("scaffolder: complete task", "task", task.ID, "err", err)
	}
}
