package store

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
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

func eventTypes(events []TaskEvent) []TaskEventType {
	var out []TaskEventType
	for _, e := range events {
		out = append(out, e.Type)
	}
	return out
}

func TestScaffolderTaskLifecycle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		st := openTestStore(t, e, Options{Now: clock.Now})
		const lease = time.Minute

		id, err := st.CreateTask(ctx, json.RawMessage(`{"steps":[]}`), "user:default/jane", json.RawMessage(`{"token":"s3cret"}`))
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Task(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := ScaffolderTask{ID: id, Spec: json.RawMessage(`{"steps":[]}`), Status: TaskOpen, CreatedBy: "user:default/jane", CreatedAt: clock.Now()}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("new task (-want +got):\n%s", diff)
		}
		if _, err := st.Task(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Task(nope) = %v, want ErrNotFound", err)
		}

		// Two runners claim at once: exactly one gets the task.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		for _, owner := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				task, ok, err := st.ClaimTask(ctx, owner, lease)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					winners = append(winners, owner)
					mu.Unlock()
					if string(task.Secrets) != `{"token":"s3cret"}` {
						t.Errorf("claimed task's secrets = %s", task.Secrets)
					}
				}
			}()
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("claim winners = %v, want one", winners)
		}
		owner := winners[0]
		other := map[string]string{"a": "b", "b": "a"}[owner]

		// Within the lease nobody else claims it; heartbeats renew it.
		clock.Advance(lease / 2)
		if _, ok, _ := st.ClaimTask(ctx, other, lease); ok {
			t.Fatal("claimed a leased task")
		}
		if cancel, err := st.Heartbeat(ctx, id, owner, lease); err != nil || cancel {
			t.Fatalf("Heartbeat = %v, %v; want false, nil", cancel, err)
		}
		clock.Advance(lease / 2)
		if _, ok, _ := st.ClaimTask(ctx, other, lease); ok {
			t.Fatal("claimed a task whose lease was renewed")
		}

		// Events come back after an id.
		if err := st.AppendTaskEvents(ctx, id, TaskEvent{Type: TaskEventLog, Body: json.RawMessage(`{"message":"one"}`)},
			TaskEvent{Type: TaskEventLog, Body: json.RawMessage(`{"message":"two"}`)}); err != nil {
			t.Fatal(err)
		}
		all, err := st.TaskEvents(ctx, id, 0)
		if err != nil || len(all) != 2 {
			t.Fatalf("TaskEvents = %v, %v; want 2 events", all, err)
		}
		after, err := st.TaskEvents(ctx, id, all[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != 1 || string(after[0].Body) != `{"message":"two"}` {
			t.Errorf("events after the first = %+v", after)
		}

		// The owner stops heartbeating: after the lease the other runner
		// recovers the task, and the first has lost it.
		clock.Advance(lease + time.Second)
		task, ok, err := st.ClaimTask(ctx, other, lease)
		if err != nil || !ok || task.ID != id || task.LeaseOwner != other {
			t.Fatalf("recovery claim = %+v, %v, %v", task, ok, err)
		}
		if _, err := st.Heartbeat(ctx, id, owner, lease); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("old owner's heartbeat = %v, want ErrLeaseLost", err)
		}
		evs, _ := st.TaskEvents(ctx, id, all[1].ID)
		if diff := cmp.Diff([]TaskEventType{TaskEventRecovered}, eventTypes(evs)); diff != "" {
			t.Errorf("events after recovery (-want +got):\n%s", diff)
		}

		// A cancel request reaches the runner at its heartbeat.
		if status, err := st.RequestCancel(ctx, id); err != nil || status != TaskProcessing {
			t.Fatalf("RequestCancel = %v, %v", status, err)
		}
		if cancel, err := st.Heartbeat(ctx, id, other, lease); err != nil || !cancel {
			t.Errorf("Heartbeat after cancel = %v, %v; want true", cancel, err)
		}

		// Completing clears the secrets and the lease.
		if err := st.CompleteTask(ctx, id, owner, TaskCompleted, nil, TaskEvent{Type: TaskEventCompletion}); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("CompleteTask by the old owner = %v, want ErrLeaseLost", err)
		}
		if err := st.CompleteTask(ctx, id, other, TaskCompleted, json.RawMessage(`{"links":[]}`),
			TaskEvent{Type: TaskEventCompletion, Body: json.RawMessage(`{"message":"done"}`)}); err != nil {
			t.Fatal(err)
		}
		var secrets *string
		if err := st.r.QueryRowContext(ctx, `SELECT secrets FROM scaffolder_tasks WHERE id = ?`, id).Scan(&secrets); err != nil {
			t.Fatal(err)
		}
		if secrets != nil {
			t.Errorf("secrets after completion = %q, want NULL", *secrets)
		}
		done, _ := st.Task(ctx, id)
		if done.Status != TaskCompleted || string(done.Output) != `{"links":[]}` || done.LeaseOwner != "" {
			t.Errorf("completed task = %+v", done)
		}
		if _, err := st.RequestCancel(ctx, id); !errors.Is(err, derrors.ErrConflict) {
			t.Errorf("cancelling a completed task = %v, want a conflict", err)
		}
		if err := st.RetryTask(ctx, id, nil); !errors.Is(err, derrors.ErrConflict) {
			t.Errorf("retrying a completed task = %v, want a conflict", err)
		}
	})
}

func TestScaffolderTaskCancelRetryList(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		st := openTestStore(t, e, Options{Now: clock.Now})

		jane, err := st.CreateTask(ctx, json.RawMessage(`{}`), "user:default/jane", nil)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		joe, err := st.CreateTask(ctx, json.RawMessage(`{}`), "user:default/joe", nil)
		if err != nil {
			t.Fatal(err)
		}

		// An open task is cancelled at once and is never claimed.
		if status, err := st.RequestCancel(ctx, jane); err != nil || status != TaskCancelled {
			t.Fatalf("RequestCancel(open) = %v, %v", status, err)
		}
		if task, ok, err := st.ClaimTask(ctx, "r", time.Minute); err != nil || !ok || task.ID != joe {
			t.Fatalf("claim = %v, %v, %v; want joe's task", task.ID, ok, err)
		}

		for _, tc := range []struct {
			name      string
			createdBy string
			status    TaskStatus
			want      []string
		}{
			{name: "all", want: []string{joe, jane}},
			{name: "by creator", createdBy: "user:default/jane", want: []string{jane}},
			{name: "by status", status: TaskProcessing, want: []string{joe}},
			{name: "none", createdBy: "user:default/joe", status: TaskCancelled},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tasks, err := st.ListTasks(ctx, tc.createdBy, tc.status, 10, 0)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, task := range tasks {
					got = append(got, task.ID)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("ListTasks (-want +got):\n%s", diff)
				}
			})
		}
		if page, _ := st.ListTasks(ctx, "", "", 1, 1); len(page) != 1 || page[0].ID != jane {
			t.Errorf("second page of one = %+v, want jane's task", page)
		}

		// A cancelled task is retried with fresh secrets and claimed again.
		if err := st.RetryTask(ctx, jane, json.RawMessage(`{"t":"x"}`)); err != nil {
			t.Fatal(err)
		}
		task, ok, err := st.ClaimTask(ctx, "r", time.Minute)
		if err != nil || !ok || task.ID != jane || string(task.Secrets) != `{"t":"x"}` || task.CancelRequested {
			t.Fatalf("claim after retry = %+v, %v, %v", task, ok, err)
		}
		evs, err := st.TaskEvents(ctx, jane, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]TaskEventType{TaskEventCancelled}, eventTypes(evs)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if _, err := st.TaskEvents(ctx, "nope", 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("TaskEvents(nope) = %v, want ErrNotFound", err)
		}
	})
}
