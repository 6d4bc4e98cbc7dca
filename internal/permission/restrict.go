package permission

import (
	"context"
	"strings"

	"github.com/atrium-dev/atrium/internal/auth"
)

// Restricted reports whether the service token behind ctx is kept from p
// by its access restrictions (backend.auth.externalAccess
// accessRestrictions, see auth.RestrictionsFrom), and returns the DENY
// decision that says so. Restrictions narrow what the policy allows; they
// never grant anything.
func Restricted(ctx context.Context, p Permission) (Decision, bool) {
	rs := auth.RestrictionsFrom(ctx)
	if rs == nil {
		return Decision{}, false
	}
	plugin, _, _ := strings.Cut(p.Name, ".")
	if auth.Permits(rs, plugin, p.Name, p.Action) {
		return Decision{}, false
	}
	return Decision{Result: Deny, Rule: "access-restrictions",
		Reason: "The service token's access restrictions do not include " + p.Name + "."}, true
}
