package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// Scaffolder tasks are claimed through the database, like entity
// processing: a runner takes a lease on one open task and renews it with
// heartbeats while the task runs. A runner that dies stops renewing, its
// lease runs out, and another runner claims the task again. The store only
// keeps and compares the lease; internal/scaffolder decides how long it is.

// TaskStatus is where a scaffolder task is in its life.
type TaskStatus string

// The task statuses, as Backstage names them.
const (
	TaskOpen       TaskStatus = "open"
	TaskProcessing TaskStatus = "processing"
	TaskCompleted  TaskStatus = "completed"
	TaskFailed     TaskStatus = "failed"
	TaskCancelled  TaskStatus = "cancelled"
)

// Ended reports whether the task has finished, one way or another.
func (s TaskStatus) Ended() bool {
	return s == TaskCompleted || s == TaskFailed || s == TaskCancelled
}

// TaskEventType is the kind of a task event.
type TaskEventType string

// The task event types.
const (
	// TaskEventLog is a log line: body {"message", "stepId"?, "status"?}.
	TaskEventLog TaskEventType = "log"
	// TaskEventCompletion ends a task that completed or failed: body
	// {"message", "status", "output"?, "error"?}.
	TaskEventCompletion TaskEventType = "completion"
	// TaskEventCancelled ends a cancelled task: body {"message"}.
	TaskEventCancelled TaskEventType = "cancelled"
	// TaskEventRecovered says a runner claimed the task after the one
	// running it stopped renewing its lease: body {"message"}.
	TaskEventRecovered TaskEventType = "recovered"
)

// A runner that heartbeats or completes a task whose lease it no longer
// holds gets ErrLeaseLost (wrapped): the lease ran out and another runner
// may have claimed the task, so it must stop working on it.

// ScaffolderTask is one run of a software template.
type ScaffolderTask struct {
	// ID is a UUID.
	ID string
	// Spec is the task's spec as internal/scaffolder wrote it.
	Spec json.RawMessage
	// Status is where the task is.
	Status TaskStatus
	// CreatedBy is the creating actor ("user:default/jane").
	CreatedBy string
	// CreatedAt is when the task was created.
	CreatedAt time.Time
	// LastHeartbeatAt is when a runner last renewed its lease; zero if
	// never claimed.
	LastHeartbeatAt time.Time
	// LeaseOwner and LeaseUntil are the runner holding the task and until
	// when; empty and zero when no runner holds it.
	LeaseOwner string
	LeaseUntil time.Time
	// Secrets is the JSON object of secrets given with the task. Only
	// ClaimTask returns it, and it is cleared when the task ends.
	Secrets json.RawMessage
	// CancelRequested says a cancel was asked for while the task ran.
	CancelRequested bool
	// Output is the rendered template output of a completed task.
	Output json.RawMessage
	// Recovered is set by ClaimTask when it took the task over from a
	// runner whose lease ran out.
	Recovered bool
}

// TaskEvent is one entry of a task's event stream.
type TaskEvent struct {
	// ID grows with every event appended, across tasks.
	ID int64
	// TaskID is the task the event belongs to.
	TaskID string
	// Type is the kind of event.
	Type TaskEventType
	// Body is a JSON object whose shape depends on Type.
	Body json.RawMessage
	// CreatedAt is when the event was appended.
	CreatedAt time.Time
}

// taskColumns are the columns scanTask reads, secrets last.
const taskColumns = `id, spec, status, created_by, created_at, coalesce(last_heartbeat_at, 0), coalesce(lease_owner, ''),
	coalesce(lease_until, 0), cancel_requested, coalesce(output, ''), coalesce(secrets, '')`

func scanTask(row scanner) (ScaffolderTask, error) {
	var t ScaffolderTask
	var spec, output, secrets string
	var created, beat, until int64
	if err := row.Scan(&t.ID, &spec, &t.Status, &t.CreatedBy, &created, &beat, &t.LeaseOwner, &until,
		&t.CancelRequested, &output, &secrets); err != nil {
		return ScaffolderTask{}, err
	}
	t.Spec = json.RawMessage(spec)
	t.CreatedAt = unixMilli(created)
	if beat != 0 {
		t.LastHeartbeatAt = unixMilli(beat)
	}
	if until != 0 {
		t.LeaseUntil = unixMilli(until)
	}
	if output != "" {
		t.Output = json.RawMessage(output)
	}
	if secrets != "" {
		t.Secrets = json.RawMessage(secrets)
	}
	return t, nil
}

// CreateTask stores a new open task with spec and secrets (a JSON object,
// or nil) and returns its id.
func (s *Store) CreateTask(ctx context.Context, spec json.RawMessage, createdBy string, secrets json.RawMessage) (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	var sec any
	if len(secrets) > 0 {
		sec = string(secrets)
	}
	err = s.tx(ctx, func(ctx context.Context, tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scaffolder_tasks (id, spec, status, created_by, created_at, secrets)
			VALUES (?, ?, ?, ?, ?, ?)`, id.String(), string(spec), TaskOpen, createdBy, s.now().UnixMilli(), sec)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create task: %w", err)
	}
	return id.String(), nil
}

// ClaimTask gives owner a lease of length lease on the oldest task that
// is open, or processing under a lease that has run out, and returns it
// with its secrets. A task claimed after its lease ran out gets a
// recovered event. ok is false when no task is waiting. Runners on other
// replicas skip a task being claimed instead of waiting for it.
func (s *Store) ClaimTask(ctx context.Context, owner string, lease time.Duration) (t ScaffolderTask, ok bool, err error) {
	err = s.tx(ctx, func(ctx context.Context, tx *txn) error {
		ok = false
		now := s.now().UnixMilli()
		var id string
		var status TaskStatus
		err := tx.QueryRowContext(ctx, `SELECT id, status FROM scaffolder_tasks
			WHERE status = ? OR (status = ? AND lease_until <= ?)
			ORDER BY created_at, id LIMIT 1`+tx.d.skipLocked, TaskOpen, TaskProcessing, now).Scan(&id, &status)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		t, err = scanTask(tx.QueryRowContext(ctx, `UPDATE scaffolder_tasks
			SET status = ?, lease_owner = ?, lease_until = ?, last_heartbeat_at = ?
			WHERE id = ? RETURNING `+taskColumns, TaskProcessing, owner, now+lease.Milliseconds(), now, id))
		if err != nil {
			return err
		}
		if status == TaskProcessing {
			t.Recovered = true
			body, _ := json.Marshal(map[string]string{"message": "The runner working on this task stopped renewing its lease; another runner took the task over"})
			if err := appendTaskEvents(ctx, tx, now, id, []TaskEvent{{Type: TaskEventRecovered, Body: body}}); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	if err != nil {
		return ScaffolderTask{}, false, fmt.Errorf("claim task: %w", err)
	}
	return t, ok, nil
}

// Heartbeat renews owner's lease on task id for lease from now, and
// reports whether a cancel has been requested. It returns ErrLeaseLost if
// owner no longer holds the task.
func (s *Store) Heartbeat(ctx context.Context, id, owner string, lease time.Duration) (cancelRequested bool, err error) {
	now := s.now().UnixMilli()
	err = s.tx(ctx, func(ctx context.Context, tx *txn) error {
		return tx.QueryRowContext(ctx, `UPDATE scaffolder_tasks SET lease_until = ?, last_heartbeat_at = ?
			WHERE id = ? AND status = ? AND lease_owner = ? AND lease_until > ? RETURNING cancel_requested`,
			now+lease.Milliseconds(), now, id, TaskProcessing, owner, now).Scan(&cancelRequested)
	})
	if err == sql.ErrNoRows {
		return false, fmt.Errorf("heartbeat task %s: %w", id, ErrLeaseLost)
	}
	if err != nil {
		return false, fmt.Errorf("heartbeat task %s: %w", id, err)
	}
	return cancelRequested, nil
}

// AppendTaskEvents appends events (their Type and Body) to task id's
// stream.
func (s *Store) AppendTaskEvents(ctx context.Context, id string, events ...TaskEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		return appendTaskEvents(ctx, tx, s.now().UnixMilli(), id, events)
	})
	if err != nil {
		return fmt.Errorf("append task events: %w", err)
	}
	return nil
}

func appendTaskEvents(ctx context.Context, tx *txn, now int64, id string, events []TaskEvent) error {
	for _, e := range events {
		body := e.Body
		if len(body) == 0 {
			body = json.RawMessage(`{}`)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO scaffolder_task_events (task_id, type, body, created_at) VALUES (?, ?, ?, ?)`,
			id, e.Type, string(body), now); err != nil {
			return err
		}
	}
	return nil
}

// maxTaskEvents is the most events TaskEvents returns at once; a client
// asks again after the last one it got.
const maxTaskEvents = 1000

// TaskEvents returns task id's events with an id above afterID, oldest
// first, at most 1000 at a time. A task that does not exist is
// ErrNotFound.
func (s *Store) TaskEvents(ctx context.Context, id string, afterID int64) ([]TaskEvent, error) {
	if _, err := s.Task(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, task_id, type, body, created_at FROM scaffolder_task_events
		WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?`, id, afterID, maxTaskEvents)
	if err != nil {
		return nil, fmt.Errorf("read task events: %w", err)
	}
	defer rows.Close()
	var out []TaskEvent
	for rows.Next() {
		var e TaskEvent
		var body string
		var created int64
		if err := rows.Scan(&e.ID, &e.TaskID, &e.Type, &body, &created); err != nil {
			return nil, fmt.Errorf("read task events: %w", err)
		}
		e.Body, e.CreatedAt = json.RawMessage(body), unixMilli(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read task events: %w", err)
	}
	return out, nil
}

// Task returns task id, without its secrets.
func (s *Store) Task(ctx context.Context, id string) (ScaffolderTask, error) {
	t, err := scanTask(s.r.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM scaffolder_tasks WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return ScaffolderTask{}, fmt.Errorf("task %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return ScaffolderTask{}, fmt.Errorf("read task: %w", err)
	}
	t.Secrets = nil
	return t, nil
}

// ListTasks returns a page of tasks, newest first, without their secrets:
// those created by createdBy and in status, where each is not empty.
func (s *Store) ListTasks(ctx context.Context, createdBy string, status TaskStatus, limit, offset int) ([]ScaffolderTask, error) {
	q := `SELECT ` + taskColumns + ` FROM scaffolder_tasks WHERE 1 = 1`
	var args []any
	if createdBy != "" {
		q += ` AND created_by = ?`
		args = append(args, createdBy)
	}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	} else {
		q += ` LIMIT ` + s.d.noLimit
	}
	if offset > 0 {
		q += ` OFFSET ?`
		args = append(args, offset)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	var out []ScaffolderTask
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		t.Secrets = nil
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return out, nil
}

// RequestCancel cancels task id. An open task is cancelled at once (with
// a cancelled event and its secrets cleared); a processing one is marked,
// and its runner stops it at the next heartbeat or step. It returns the
// task's status afterwards. A task that has ended is a conflict. audits
// are appended to the audit log in the same transaction.
func (s *Store) RequestCancel(ctx context.Context, id string, audits ...audit.Event) (TaskStatus, error) {
	var status TaskStatus
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		var err error
		if status, err = s.requestCancel(ctx, tx, id); err != nil {
			return err
		}
		if len(audits) == 0 || s.noAudit {
			return nil
		}
		// In the same transaction: the runner may see the request and
		// record the step it interrupted as soon as this commits.
		return s.appendAudit(ctx, tx, slices.Clone(audits))
	})
	if err != nil {
		return "", fmt.Errorf("cancel task: %w", err)
	}
	return status, nil
}

// requestCancel cancels an open task, or asks the runner of a processing
// one to stop, and returns the task's status after that.
func (s *Store) requestCancel(ctx context.Context, tx *txn, id string) (TaskStatus, error) {
	var status TaskStatus
	if err := tx.QueryRowContext(ctx, `SELECT status FROM scaffolder_tasks WHERE id = ?`+tx.d.forUpdate, id).Scan(&status); err != nil {
		if err == sql.ErrNoRows {
			return "", fmt.Errorf("task %q: %w", id, ErrNotFound)
		}
		return "", err
	}
	switch status {
	case TaskOpen:
		status = TaskCancelled
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE scaffolder_tasks SET status = ?, secrets = NULL, cancel_requested = TRUE WHERE id = ?`,
			status, id); err != nil {
			return "", err
		}
		body, _ := json.Marshal(map[string]string{"message": "The task was cancelled before it started"})
		return status, appendTaskEvents(ctx, tx, now, id, []TaskEvent{{Type: TaskEventCancelled, Body: body}})
	case TaskProcessing:
		_, err := tx.ExecContext(ctx, `UPDATE scaffolder_tasks SET cancel_requested = TRUE WHERE id = ?`, id)
		return status, err
	default:
		return "", derrors.Conflict("task %s has already ended (%s)", id, status)
	}
}

// CompleteTask ends task id, which owner must hold, with status (completed,
// failed or cancelled) and output (completed tasks; may be nil), clears
// its secrets and lease, and appends final as its last event and audits
// to the audit log, in one transaction.
func (s *Store) CompleteTask(ctx context.Context, id, owner string, status TaskStatus, output json.RawMessage, final TaskEvent, audits ...audit.Event) error {
	if !status.Ended() {
		return fmt.Errorf("complete task: %q is not a final status", status)
	}
	var out any
	if len(output) > 0 {
		out = string(output)
	}
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		now := s.now().UnixMilli()
		res, err := tx.ExecContext(ctx, `UPDATE scaffolder_tasks SET status = ?, output = ?, secrets = NULL,
			lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = ? AND lease_owner = ?`,
			status, out, id, TaskProcessing, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrLeaseLost
		}
		if err := appendTaskEvents(ctx, tx, now, id, []TaskEvent{final}); err != nil {
			return err
		}
		if len(audits) == 0 || s.noAudit {
			return nil
		}
		// A retried transaction seals a fresh copy.
		return s.appendAudit(ctx, tx, slices.Clone(audits))
	})
	if err != nil {
		return fmt.Errorf("complete task %s: %w", id, err)
	}
	return nil
}

// ReleaseTask gives up owner's lease on task id without ending it, so that
// another runner claims it at once (a runner shutting down).
func (s *Store) ReleaseTask(ctx context.Context, id, owner string) error {
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		_, err := tx.ExecContext(ctx, `UPDATE scaffolder_tasks SET status = ?, lease_owner = NULL, lease_until = NULL
			WHERE id = ? AND status = ? AND lease_owner = ?`, TaskOpen, id, TaskProcessing, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("release task %s: %w", id, err)
	}
	return nil
}

// RetryTask reopens task id, which must have failed or been cancelled,
// with secrets (a JSON object, or nil: secrets were cleared when the task
// ended). The task runs again from its first step.
func (s *Store) RetryTask(ctx context.Context, id string, secrets json.RawMessage) error {
	var sec any
	if len(secrets) > 0 {
		sec = string(secrets)
	}
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		var status TaskStatus
		if err := tx.QueryRowContext(ctx, `SELECT status FROM scaffolder_tasks WHERE id = ?`+tx.d.forUpdate, id).Scan(&status); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("task %q: %w", id, ErrNotFound)
			}
			return err
		}
		if status != TaskFailed && status != TaskCancelled {
			return derrors.Conflict("task %s is %s; only failed and cancelled tasks can be retried", id, status)
		}
		_, err := tx.ExecContext(ctx, `UPDATE scaffolder_tasks SET status = ?, secrets = ?, cancel_requested = FALSE,
			output = NULL, lease_owner = NULL, lease_until = NULL WHERE id = ?`, TaskOpen, sec, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("retry task: %w", err)
	}
	return nil
}
