package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/store"
)

// audited records the outcome of an API mutation that failed or was
// refused, and returns err unchanged. Successes are recorded by the store,
// in the transaction that makes the change, so only failures pass here.
func (s *Service) audited(ctx context.Context, action, target string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	e := audit.Event{Actor: audit.ActorFrom(ctx, audit.Anonymous), Action: action, Target: target,
		Outcome: audit.Failed, Severity: audit.Medium}
	c := derrors.Classify(err)
	switch {
	case c.Kind == nil:
		e.Error = "internal error" // the detail is in the logs, not in a log clients can read
	default:
		e.Error = c.Message
	}
	if errors.Is(err, derrors.ErrForbidden) || errors.Is(err, derrors.ErrUnauthenticated) {
		e.Outcome, e.Severity = audit.Denied, audit.High
	}
	if aerr := s.st.AppendAudit(ctx, e); aerr != nil {
		s.log.Error("audit: cannot record a failed request", "action", action, "target", target, "err", aerr)
	}
	return err
}

// EntityAt returns the entity as it was at time at, rebuilt from the audit
// log: derrors NotFound if it did not exist then (or predates the log).
func (s *Service) EntityAt(ctx context.Context, ref entity.Ref, at time.Time) (json.RawMessage, error) {
	if err := s.mayReadHistory(ctx, ref); err != nil {
		return nil, err
	}
	e, err := audit.EntityAt(ctx, s.st, ref.Key(), at)
	if errors.Is(err, audit.ErrNoVersion) {
		return nil, derrors.NotFound("Entity %s did not exist at %s", ref.String(), at.UTC().Format(time.RFC3339))
	}
	return e, err
}

// History returns the entity's versions, newest first, from the audit log.
func (s *Service) History(ctx context.Context, ref entity.Ref) ([]audit.Version, error) {
	if err := s.mayReadHistory(ctx, ref); err != nil {
		return nil, err
	}
	return audit.History(ctx, s.st, ref.Key())
}

// mayReadHistory refuses the history of an entity the caller may not
// read: one it cannot see now, or, once the entity is gone, unless it may
// read every entity.
func (s *Service) mayReadHistory(ctx context.Context, ref entity.Ref) error {
	notFound := derrors.NotFound("No entity named '%s' found, with kind '%s' in namespace '%s'", ref.Name, ref.Kind, ref.Namespace)
	if _, err := s.st.EntityByRef(ctx, ref.Key()); err == nil {
		return s.notFoundIfHidden(ctx, ref.Key(), notFound)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	cond, err := s.readFilter(ctx)
	if err != nil {
		return err
	}
	if cond != nil {
		return notFound
	}
	return nil
}

// AuditEvents returns a page of the audit log.
func (s *Service) AuditEvents(ctx context.Context, q audit.Query) ([]audit.Event, error) {
	if err := s.authorize(ctx, AuditEventRead, nil); err != nil {
		return nil, err
	}
	return s.st.AuditEvents(ctx, q)
}
