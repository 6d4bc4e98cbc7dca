package catalog

import (
	"context"
	"encoding/json"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/permission"
)

// Authorizer decides what the identity a context carries may do: the
// permission policy, narrowed by a service token's access restrictions.
// With no Authorizer (sign-in off) the catalog allows everything.
type Authorizer interface {
	Decide(ctx context.Context, p permission.Permission) permission.Decision
}

// AuditEventRead is reading the audit log (GET /api/audit/events and the
// Audit page). It is a read: allowed to every signed-in principal unless
// the policy says otherwise.
var AuditEventRead = permission.Permission{Name: "audit.event.read", Action: permission.ActionRead}

func init() { permission.Register(AuditEventRead) }

// readFilter returns the condition the caller's read permission puts on
// the entities it may see, to be ANDed into a query's filter: nil for
// all, filter.Any{} (which matches nothing) for none.
func (s *Service) readFilter(ctx context.Context) (filter.Expr, error) {
	if s.opts.Authorizer == nil {
		return nil, nil
	}
	d := s.opts.Authorizer.Decide(ctx, permission.CatalogEntityRead)
	switch d.Result {
	case permission.Allow:
		return nil, nil
	case permission.Conditional:
		return d.Conditions.Filter()
	default:
		return filter.Any{}, nil
	}
}

// withReadFilter ANDs the caller's read condition into f.
func (s *Service) withReadFilter(ctx context.Context, f filter.Expr) (filter.Expr, error) {
	cond, err := s.readFilter(ctx)
	if err != nil || cond == nil {
		return f, err
	}
	if f == nil {
		return cond, nil
	}
	return filter.All{Exprs: []filter.Expr{f, cond}}, nil
}

// mayRead reports whether the caller may read the entity with ref key,
// by the same SQL condition lists use.
func (s *Service) mayRead(ctx context.Context, key string) (bool, error) {
	cond, err := s.readFilter(ctx)
	if err != nil || cond == nil {
		return err == nil, err
	}
	got, err := s.st.EntitiesByRefs(ctx, []string{key}, cond)
	if err != nil {
		return false, err
	}
	return got[0] != nil, nil
}

// authorize refuses, with derrors.Forbidden, an action the caller may not
// take; body is the entity it acts on, for conditional decisions on
// entity permissions (nil for the others).
func (s *Service) authorize(ctx context.Context, p permission.Permission, body json.RawMessage) error {
	if s.opts.Authorizer == nil {
		return nil
	}
	d := s.opts.Authorizer.Decide(ctx, p)
	switch d.Result {
	case permission.Allow:
		return nil
	case permission.Conditional:
		if body != nil {
			var e entity.Entity
			if err := json.Unmarshal(body, &e); err != nil {
				return err
			}
			id, _ := auth.IdentityFrom(ctx)
			ok, err := d.Conditions.Matches(id, &e)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
		}
	}
	return derrors.Forbidden("You are not allowed to %s (%s)", describe(p), p.Name)
}

// describe says what a permission allows, for refusals.
func describe(p permission.Permission) string {
	switch p.Name {
	case permission.CatalogEntityDelete.Name:
		return "delete this entity"
	case permission.CatalogEntityRefresh.Name:
		return "refresh this entity"
	case permission.CatalogLocationCreate.Name:
		return "register locations"
	case permission.CatalogLocationDelete.Name:
		return "unregister locations"
	case permission.CatalogLocationRead.Name:
		return "read locations"
	}
	return "do this"
}

// Allowed reports whether the caller holds permission p, on the entity
// body for entity permissions (nil for none): for pages to hide what the
// caller may not do.
func (s *Service) Allowed(ctx context.Context, name string, body json.RawMessage) bool {
	p, ok := permission.Lookup(name)
	if !ok {
		return false
	}
	return s.authorize(ctx, p, body) == nil
}

// notFoundIfHidden turns an entity the caller may not read into NotFound,
// so that refusing it does not tell that it exists.
func (s *Service) notFoundIfHidden(ctx context.Context, key string, notFound error) error {
	ok, err := s.mayRead(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		return notFound
	}
	return nil
}
