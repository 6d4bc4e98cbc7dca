package scaffolder

import (
	"context"
	"errors"
	"testing"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/permission"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// allowOnly allows the named permissions and denies the rest.
type allowOnly map[string]bool

func (a allowOnly) Decide(_ context.Context, p permission.Permission) permission.Decision {
	if a[p.Name] {
		return permission.Decision{Result: permission.Allow}
	}
	return permission.Decision{Result: permission.Deny}
}

func TestPermissionsAreChecked(t *testing.T) {
	f := newFixture(t, storetest.SQLite)
	ref := f.template(t, "perm", nil, []map[string]any{{"id": "log", "action": "debug:log", "input": map[string]any{"message": "hi"}}}, nil)

	f.svc.SetAuthorizer(allowOnly{"scaffolder.task.read": true})
	if _, err := f.svc.CreateTask(f.ctx, ref, nil, nil); !errors.Is(err, derrors.ErrForbidden) {
		t.Fatalf("creating without scaffolder.task.create: %v, want Forbidden", err)
	}
	evs, err := f.st.AuditEvents(f.ctx, audit.Query{Actions: []string{AuditTaskCreated}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Outcome != audit.Denied || evs[0].Actor.String() != "user:default/jane" {
		t.Errorf("audit = %+v, want one denied creation by jane", evs)
	}
	f.svc.SetAuthorizer(allowOnly{"scaffolder.task.create": true})
	if _, err := f.svc.CreateTask(f.ctx, ref, nil, nil); !errors.Is(err, derrors.ErrForbidden) {
		t.Errorf("creating a task with steps without scaffolder.action.execute: %v, want Forbidden", err)
	}
	f.svc.SetAuthorizer(allowOnly{"scaffolder.task.create": true, "scaffolder.action.execute": true})
	id, err := f.svc.CreateTask(f.ctx, ref, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Task(f.ctx, id); !errors.Is(err, derrors.ErrForbidden) {
		t.Errorf("reading without scaffolder.task.read: %v, want Forbidden", err)
	}
	if _, err := f.svc.Cancel(f.ctx, id); !errors.Is(err, derrors.ErrForbidden) {
		t.Errorf("cancelling without scaffolder.task.cancel: %v, want Forbidden", err)
	}
}
