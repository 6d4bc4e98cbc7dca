package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/permission"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// policyAuthorizer decides with a policy for the identity in the context.
type policyAuthorizer struct{ p *permission.Policy }

func (a policyAuthorizer) Decide(ctx context.Context, p permission.Permission) permission.Decision {
	id, ok := auth.IdentityFrom(ctx)
	if !ok {
		return permission.Decision{Result: permission.Deny}
	}
	return a.p.Decide(id, p)
}

const testPolicy = `rules:
  - name: eve reads nothing
    principals: [user:default/eve]
    permissions: [catalog.entity.read]
    decision: deny
  - name: team-a reads its own
    principals: [group:default/team-a]
    permissions: [catalog.entity.read]
    decision: conditional
    conditions:
      anyOf:
        - isEntityOwner: {}
        - isEntityKind: {kinds: [group, user, location]}
  - name: owners delete and refresh
    principals: ["user:*"]
    permissions: [catalog.entity.delete, catalog.entity.refresh]
    decision: conditional
    conditions: {isEntityOwner: {}}
`

// TestPolicyIsEnforced: reads are narrowed in SQL (lists, counts, facets,
// single entities), changes need a rule, and refusals are audited.
func TestPolicyIsEnforced(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		pol, err := permission.Parse("policy.yaml", []byte(testPolicy))
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, eng, catalog.Options{Authorizer: policyAuthorizer{pol}})
		e.write("catalog.yaml", component("mine", "team-a", "")+"---\n"+component("theirs", "team-b", "")+"---\n"+component("also-mine", "team-a", ""))
		e.fileRoot("catalog.yaml")
		e.sync()

		jane := auth.User("user:default/jane", []string{"group:default/team-a"})
		bob := auth.User("user:default/bob", nil)
		asJane := auth.WithIdentity(context.Background(), jane)
		asBob := auth.WithIdentity(context.Background(), bob)

		names := func(ctx context.Context) []string {
			t.Helper()
			page, err := e.svc.QueryEntities(ctx, catalog.Query{Limit: -1, CountTotal: true,
				Filter: kindIs("component")})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, b := range page.Items {
				out = append(out, refOfJSON(t, b))
			}
			slices.Sort(out)
			if page.TotalItems != len(out) {
				t.Errorf("totalItems %d for %d items", page.TotalItems, len(out))
			}
			return out
		}
		if got := names(asJane); !slices.Equal(got, []string{"component:default/also-mine", "component:default/mine"}) {
			t.Errorf("jane sees %v, want only team-a's components", got)
		}
		asEve := auth.WithIdentity(context.Background(), auth.User("user:default/eve", nil))
		if got := names(asEve); len(got) != 0 {
			t.Errorf("eve, denied reading, sees %v", got)
		}
		// Bob matches no read rule: the default lets any signed-in user read.
		if got := names(asBob); len(got) != 3 {
			t.Errorf("bob sees %v, want all three", got)
		}
		facets, err := e.svc.Facets(asJane, []string{"spec.owner"}, kindIs("component"))
		if err != nil {
			t.Fatal(err)
		}
		if f := facets["spec.owner"]; len(f) != 1 || f[0].Count != 2 {
			t.Errorf("jane's owner facet = %+v, want team-a: 2", f)
		}
		theirs := entity.MustParseRef("component:default/theirs")
		if _, err := e.svc.EntityByRef(asJane, theirs); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("jane reading theirs: %v, want NotFound", err)
		}
		if _, err := e.svc.History(asJane, theirs); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("jane reading theirs' history: %v, want NotFound", err)
		}

		// Deleting: jane owns mine (through team-a); bob owns nothing.
		var mine entity.Entity
		if err := json.Unmarshal(mustBody(t, e, "component:default/mine"), &mine); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteEntityByUID(asBob, mine.Metadata.UID); !errors.Is(err, derrors.ErrForbidden) {
			t.Errorf("bob deleting mine: %v, want Forbidden", err)
		}
		if err := e.svc.DeleteEntityByUID(asJane, mine.Metadata.UID); err != nil {
			t.Errorf("jane deleting mine: %v", err)
		}
		if err := e.svc.Refresh(asBob, entity.MustParseRef("component:default/also-mine")); !errors.Is(err, derrors.ErrForbidden) {
			t.Errorf("bob refreshing also-mine: %v, want Forbidden", err)
		}
		// Locations need an explicit rule.
		if _, err := e.svc.AddLocation(asJane, "file", e.path("x.yaml"), catalog.AddLocationOptions{}); !errors.Is(err, derrors.ErrForbidden) {
			t.Errorf("jane registering a location: %v, want Forbidden", err)
		}
		if !e.svc.Allowed(asJane, "catalog.entity.refresh", mustBody(t, e, "component:default/also-mine")) ||
			e.svc.Allowed(asBob, "catalog.entity.refresh", mustBody(t, e, "component:default/also-mine")) {
			t.Error("Allowed disagrees with the policy")
		}

		// Both delete attempts are in the audit log, with their actors.
		lines, _ := e.events()
		for _, w := range []string{
			"catalog.entity.deleted component:default/mine user:default/bob denied",
			"catalog.entity.deleted component:default/mine user:default/jane succeeded",
			"catalog.entity.refresh-requested component:default/also-mine user:default/bob denied",
			"catalog.location.created file:" + e.path("x.yaml") + " user:default/jane denied",
		} {
			if !slices.Contains(lines, w) {
				t.Errorf("no audit event %q in\n%s", w, strings.Join(lines, "\n"))
			}
		}
	})
}

func kindIs(kind string) filter.Expr { return filter.Match{Key: "kind", Values: []string{kind}} }

func refOfJSON(t *testing.T, b []byte) string {
	t.Helper()
	var e entity.Entity
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e.Ref().Key()
}

func mustBody(t *testing.T, e *env, ref string) []byte {
	t.Helper()
	b, err := e.st.EntityByRef(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
