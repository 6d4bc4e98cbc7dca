package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// The permissions whose controls the pages hide when the Authorizer says
// no. The names are the permission framework's (internal/permission), as
// the policy writes them.
const (
	permEntityRefresh  = "catalog.entity.refresh"
	permLocationCreate = "catalog.location.create"
	permLocationDelete = "catalog.location.delete"
	permAuditRead      = "audit.event.read"
)

// Refusals of the pages a user may not use. The catalog service would
// refuse the change itself; refusing the page up front saves filling in
// a form that cannot succeed.
var (
	errMayNotRegister   = derrors.Forbidden("You may not register locations in the catalog (permission catalog.location.create). Ask an administrator of this portal if you need to.")
	errMayNotUnregister = derrors.Forbidden("You may not unregister locations from the catalog (permission catalog.location.delete). Ask an administrator of this portal if you need to.")
)

// allowed reports whether the request's identity holds permission on the
// entity (the final entity JSON; nil for a permission without one).
// Without an Authorizer everything is allowed.
func (h *handler) allowed(ctx context.Context, permission string, entity json.RawMessage) bool {
	return h.opts.Authorizer == nil || h.opts.Authorizer.Allowed(ctx, permission, entity)
}

// signInOn reports whether sign-in is configured.
func (h *handler) signInOn() bool { return len(h.opts.SignIn) > 0 }

// userMenu is the header's menu of the signed-in identity.
type userMenu struct {
	// Label is the user's ref ("user:default/jane") or "service:<subject>".
	Label string
}

// menuOf returns the header's menu for the request's identity: nil when
// sign-in is off or no one is signed in.
func (h *handler) menuOf(r *http.Request) *userMenu {
	id, ok := auth.IdentityFrom(r.Context())
	if !ok || !h.signInOn() {
		return nil
	}
	return &userMenu{Label: identityLabel(id)}
}

// identityLabel names an identity as the header and the audit log do.
func identityLabel(id auth.Identity) string {
	if id.Kind == auth.KindService {
		return "service:" + id.Subject
	}
	return id.UserRef
}
