-- Scaffolder tasks: one run of a software template. Any replica's runner
-- claims an open task by taking a lease (lease_owner, lease_until) and
-- keeps it with heartbeats; a task whose lease ran out is claimed again
-- by another runner and restarted. Times are unix ms.
CREATE TABLE scaffolder_tasks (
    id                TEXT PRIMARY KEY,  -- a UUID
    spec              TEXT NOT NULL,     -- JSON: template ref and location, parameters, steps, output
    status            TEXT NOT NULL,     -- open, processing, completed, failed, cancelled
    created_by        TEXT NOT NULL,     -- the creating actor, "user:default/jane"
    created_at        BIGINT NOT NULL,
    last_heartbeat_at BIGINT,
    lease_owner       TEXT,
    lease_until       BIGINT,
    secrets           TEXT,              -- JSON object; NULL once the task has ended
    cancel_requested  BOOLEAN NOT NULL DEFAULT FALSE,
    retry_from_step   TEXT,              -- reserved: resuming from a step needs checkpointed outputs
    output            TEXT               -- JSON: the rendered template output, once completed
);
-- Runners look for open tasks and expired leases, oldest first.
CREATE INDEX scaffolder_tasks_claim ON scaffolder_tasks (status, created_at);
-- Users list their own tasks, newest first.
CREATE INDEX scaffolder_tasks_created_by ON scaffolder_tasks (created_by, created_at);

-- A task's event stream: log lines, completion, cancellation, recovery.
-- Clients follow it by asking for events after the last id they saw.
CREATE TABLE scaffolder_task_events (
    id         BIGSERIAL PRIMARY KEY,
    task_id    TEXT NOT NULL REFERENCES scaffolder_tasks (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,            -- log, completion, cancelled, recovered
    body       TEXT NOT NULL,            -- JSON object
    created_at BIGINT NOT NULL
);
CREATE INDEX scaffolder_task_events_task ON scaffolder_task_events (task_id, id);
