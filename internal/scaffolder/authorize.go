package scaffolder

import (
	"context"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/permission"
)

// The scaffolder's permissions, as Backstage's scaffolder-common names
// them. Creating and cancelling tasks are changes: with sign-in on, only
// a policy rule grants them.
var (
	TaskCreate    = permission.Permission{Name: "scaffolder.task.create", Action: permission.ActionCreate}
	TaskRead      = permission.Permission{Name: "scaffolder.task.read", Action: permission.ActionRead}
	TaskCancel    = permission.Permission{Name: "scaffolder.task.cancel", Action: permission.ActionUpdate}
	ActionExecute = permission.Permission{Name: "scaffolder.action.execute"}
)

func init() {
	for _, p := range []permission.Permission{TaskCreate, TaskRead, TaskCancel, ActionExecute} {
		permission.Register(p)
	}
}

// Authorizer decides what the identity a context carries may do (the
// catalog's Authorizer: the policy narrowed by token restrictions).
type Authorizer interface {
	Decide(ctx context.Context, p permission.Permission) permission.Decision
}

// authorize refuses, as derrors.Forbidden recorded as a denied audit
// event for changes, what the caller may not do. These permissions have
// no resource, so a conditional decision refuses.
func (s *Service) authorize(ctx context.Context, p permission.Permission, action, target string) error {
	if s.authz == nil {
		return nil
	}
	if d := s.authz.Decide(ctx, p); d.Result == permission.Allow {
		return nil
	}
	err := derrors.Forbidden("You are not allowed to do this (%s)", p.Name)
	if action != "" {
		_ = s.st.AppendAudit(ctx, audit.Event{Actor: audit.ActorFrom(ctx, audit.Anonymous), Action: action,
			Target: target, Outcome: audit.Denied, Error: err.Error(), Severity: audit.High})
	}
	return err
}

// SetAuthorizer makes the service check the caller's permissions (when
// sign-in is on).
func (s *Service) SetAuthorizer(a Authorizer) { s.authz = a }
