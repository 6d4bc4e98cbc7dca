package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/permission"
)

// PermissionPrefix is where the app mounts the permission API.
// NewPermissionHandler strips it itself:
//
//	mux.Handle(api.PermissionPrefix+"/", api.NewPermissionHandler(watcher.Current, catalogSvc, logger))
const PermissionPrefix = "/api/permission"

// maxAuthorizeItems caps the items of one authorize request: each may load
// an entity.
const maxAuthorizeItems = 100

// catalogPluginID owns the catalog-entity resource type, the only one
// conditions are written for; Backstage clients send conditional decisions
// to the plugin it names.
const catalogPluginID = "catalog"

// EntityLoader loads the entity a resource permission is checked against.
type EntityLoader interface {
	EntityByRef(ctx context.Context, ref entity.Ref) (json.RawMessage, error) // derrors NotFound
}

// permissionHandler serves /api/permission.
type permissionHandler struct {
	policy   func() *permission.Policy
	entities EntityLoader
	logger   *slog.Logger
	maxBody  int64
}

// NewPermissionHandler returns the handler for Backstage's permission
// backend API: POST /api/permission/authorize, which answers for the
// signed-in principal whether each of up to 100 permissions is allowed.
// policy returns the policy in force (a permission.Watcher's Current); a
// nil policy decides by the defaults. Entities are loaded through entities
// to evaluate conditional decisions on a resourceRef. Errors are logged to
// logger (slog.Default if nil).
func NewPermissionHandler(policy func() *permission.Policy, entities EntityLoader, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &permissionHandler{policy: policy, entities: entities, logger: logger, maxBody: DefaultMaxBodyBytes}
	return newPrefixRouter(PermissionPrefix, &errorAdapter{logger: logger}, h.routeTable())
}

// routeTable is the permission API's route table.
func (h *permissionHandler) routeTable() []route {
	return []route{{"POST /authorize", h.postAuthorize}}
}

// authorizeRequest is Backstage's EvaluatePermissionRequestBatch. Pointers
// tell a missing or null field from an empty one.
type authorizeRequest struct {
	Items *[]authorizeItem `json:"items"`
}

type authorizeItem struct {
	ID          *string              `json:"id"`
	Permission  *authorizePermission `json:"permission"`
	ResourceRef *string              `json:"resourceRef"`
}

type authorizePermission struct {
	Type         string                `json:"type"`
	Name         string                `json:"name"`
	Attributes   *permissionAttributes `json:"attributes"`
	ResourceType *string               `json:"resourceType"`
}

type permissionAttributes struct {
	Action *string `json:"action"`
}

// authorizeResult is one item of Backstage's EvaluatePermissionResponseBatch.
type authorizeResult struct {
	ID           string                `json:"id"`
	Result       permission.Result     `json:"result"`
	PluginID     string                `json:"pluginId,omitempty"`
	ResourceType string                `json:"resourceType,omitempty"`
	Conditions   *permission.Condition `json:"conditions,omitempty"`
}

// authorizeQuery is one validated item.
type authorizeQuery struct {
	id   string
	perm permission.Permission
	ref  *entity.Ref // set when the item names a resource
}

func (h *permissionHandler) postAuthorize(w http.ResponseWriter, r *http.Request) error {
	id, ok := auth.IdentityFrom(r.Context())
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="atrium"`)
		return derrors.New(derrors.ErrUnauthenticated, "Missing credentials")
	}
	var req authorizeRequest
	if err := decodeBody(w, r, h.maxBody, bodyRules{strict: true}, &req); err != nil {
		return err
	}
	queries, err := validateAuthorize(req)
	if err != nil {
		return err
	}
	pol := h.policy() // one policy for the whole batch, even across a reload
	loaded := map[string]*entity.Entity{}
	results := make([]authorizeResult, len(queries))
	for i, q := range queries {
		d, restricted := permission.Restricted(r.Context(), q.perm)
		if !restricted {
			d = pol.Decide(id, q.perm)
		}
		res := authorizeResult{ID: q.id, Result: d.Result}
		if d.Result == permission.Conditional {
			if q.ref == nil {
				res.PluginID, res.ResourceType, res.Conditions = catalogPluginID, q.perm.ResourceType, d.Conditions
			} else if res.Result, err = h.apply(r.Context(), id, q, d, loaded); err != nil {
				return err
			}
		}
		h.logger.Debug("permission: decided", "principal", id.Actor().String(), "permission", q.perm.Name,
			"result", res.Result, "rule", d.Rule, "reason", d.Reason)
		results[i] = res
	}
	return writeJSON(w, http.StatusOK, struct {
		Items []authorizeResult `json:"items"`
	}{results})
}

// apply turns a conditional decision into ALLOW or DENY for the entity q
// names, loading each entity once per request.
func (h *permissionHandler) apply(ctx context.Context, id auth.Identity, q authorizeQuery, d permission.Decision, loaded map[string]*entity.Entity) (permission.Result, error) {
	key := q.ref.Key()
	e, seen := loaded[key]
	if !seen {
		raw, err := h.entities.EntityByRef(ctx, *q.ref)
		switch {
		case errors.Is(err, derrors.ErrNotFound):
			// e stays nil: no entity, nothing the conditions could allow.
		case err != nil:
			return "", fmt.Errorf("api: load %s for %s: %w", key, q.perm.Name, err)
		default:
			e = new(entity.Entity)
			if err := json.Unmarshal(raw, e); err != nil {
				return "", fmt.Errorf("api: decode %s: %w", key, err)
			}
		}
		loaded[key] = e
	}
	if e == nil {
		return permission.Deny, nil
	}
	ok, err := d.Conditions.Matches(id, e)
	if err != nil {
		// A condition that fails on this entity (a CEL expression reading
		// a field it lacks) is the policy's bug, not the client's: deny,
		// and tell whoever maintains the policy.
		h.logger.Error("permission: conditions failed; denied", "rule", d.Rule, "permission", q.perm.Name,
			"entity", key, "err", err)
		return permission.Deny, nil
	}
	if ok {
		return permission.Allow, nil
	}
	return permission.Deny, nil
}

// validateAuthorize checks a request as Backstage's schema does, and more
// strictly: ids unique and present, attributes as registered for known
// permissions, resourceRef only on resource permissions.
func validateAuthorize(req authorizeRequest) ([]authorizeQuery, error) {
	if req.Items == nil {
		return nil, invalid("Invalid request: items is required")
	}
	items := *req.Items
	if len(items) > maxAuthorizeItems {
		return nil, invalid("Invalid request: items must hold at most %d items, got %d", maxAuthorizeItems, len(items))
	}
	out := make([]authorizeQuery, len(items))
	seen := map[string]bool{}
	for i, it := range items {
		q, err := validateItem(it)
		if err != nil {
			return nil, invalid("Invalid request: items[%d].%s", i, err.Error())
		}
		if seen[q.id] {
			return nil, invalid("Invalid request: items[%d].id %q is used twice", i, q.id)
		}
		seen[q.id] = true
		out[i] = q
	}
	return out, nil
}

// validateItem checks one item; its error messages start with the field.
func validateItem(it authorizeItem) (authorizeQuery, error) {
	if it.ID == nil || *it.ID == "" {
		return authorizeQuery{}, errors.New("id is required")
	}
	p := it.Permission
	switch {
	case p == nil:
		return authorizeQuery{}, errors.New("permission is required")
	case p.Type != "basic" && p.Type != "resource":
		return authorizeQuery{}, errors.New(`permission.type must be "basic" or "resource"`)
	case p.Name == "":
		return authorizeQuery{}, errors.New("permission.name is required")
	case p.Attributes == nil:
		return authorizeQuery{}, errors.New("permission.attributes is required")
	case p.Type == "resource" && (p.ResourceType == nil || *p.ResourceType == ""):
		return authorizeQuery{}, errors.New("permission.resourceType is required for a resource permission")
	case p.Type == "basic" && p.ResourceType != nil:
		return authorizeQuery{}, errors.New("permission.resourceType is not allowed for a basic permission")
	case p.Type == "basic" && it.ResourceRef != nil:
		return authorizeQuery{}, errors.New("resourceRef is only allowed for resource permissions")
	}
	actions := []string{permission.ActionCreate, permission.ActionRead, permission.ActionUpdate, permission.ActionDelete}
	asked := permission.Permission{Name: p.Name}
	if a := p.Attributes.Action; a != nil {
		if !slices.Contains(actions, *a) {
			return authorizeQuery{}, errors.New("permission.attributes.action must be one of create, read, update, delete")
		}
		asked.Action = *a
	}
	if p.ResourceType != nil {
		asked.ResourceType = *p.ResourceType
	}
	q := authorizeQuery{id: *it.ID, perm: asked}
	// A permission Atrium knows is decided as registered, so that a client
	// cannot have a delete judged as a read; one it does not know (another
	// plugin's) is judged as the client describes it.
	if known, ok := permission.Lookup(p.Name); ok {
		if known.ResourceType != asked.ResourceType || (p.Attributes.Action != nil && known.Action != asked.Action) {
			return authorizeQuery{}, fmt.Errorf("permission does not match %s, which is %s", known.Name, describePermission(known))
		}
		q.perm = known
	}
	if it.ResourceRef != nil {
		ref, err := entity.ParseRef(*it.ResourceRef, entity.RefDefaults{})
		if err != nil {
			return authorizeQuery{}, fmt.Errorf("resourceRef: %v", err)
		}
		q.ref = &ref
	}
	return q, nil
}

// describePermission says what type, resource type and action p has.
func describePermission(p permission.Permission) string {
	s := "a basic permission"
	if p.ResourceType != "" {
		s = "a resource permission on " + p.ResourceType
	}
	if p.Action != "" {
		s += " with action " + p.Action
	}
	return s
}
