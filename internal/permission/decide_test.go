package permission_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/permission"
)

const decidePolicy = `rules:
  - name: mallory-does-nothing
    principals: [user:default/mallory]
    permissions: ["*"]
    decision: deny
  - name: admins
    principals: [group:default/platform-admins]
    permissions: ["*"]
    decision: allow
  - name: ci-refreshes
    principals: ["service:ci"]
    permissions: [catalog.entity.refresh, catalog.location.*]
    decision: allow
  - name: no-service-deletes
    principals: ["service:*"]
    permissions: [catalog.entity.delete]
    decision: deny
  - name: broken-when
    principals: ["service:weird"]
    permissions: [catalog.location.read]
    decision: allow
    when: int(principal.subject) > 0
  - name: sre-locations
    principals: ["user:*"]
    permissions: [catalog.location.create]
    decision: allow
    when: 'principal.ownership.exists(r, r.startsWith("group:default/sre"))'
  - name: guests-read-some-kinds
    principals: [user:guest]
    permissions: [catalog.entity.read]
    decision: conditional
    conditions:
      isEntityKind: {kinds: [Component, API]}
  - name: contractors-own-it
    principals: [group:default/contractors]
    permissions: ["*"]
    decision: conditional
    conditions:
      isEntityOwner: {}
  - name: owners-change
    principals: ["user:*"]
    permissions: [catalog.entity.delete, catalog.entity.refresh]
    decision: conditional
    conditions:
      anyOf:
        - isEntityOwner: {}
        - allOf:
            - isEntityKind: {kinds: [template]}
            - isEntityOwner: {claims: [group:default/shared]}
  - name: no-tmp-deletes
    principals: ["*"]
    permissions: ["catalog.entity.d*"]
    decision: conditional
    conditions:
      not: {expr: 'resource.metadata.name.startsWith("tmp-")'}
`

// Principals of the decision tests.
var (
	alice   = auth.User("user:default/alice", []string{"group:default/platform-admins"})
	mallory = auth.User("user:default/mallory", []string{"group:default/platform-admins"})
	bob     = auth.User("user:default/bob", []string{"group:default/team-a"})
	sam     = auth.User("user:default/sam", []string{"group:default/sre-oncall"})
	carl    = auth.User("user:default/carl", []string{"group:default/contractors"})
	guest   = auth.User("user:default/guest", nil)
	ci      = auth.Service("ci")
	deploy  = auth.Service("deployer")
	weird   = auth.Service("weird")
)

// decided is the part of a Decision the table compares; conditions as
// the JSON Backstage clients see.
type decided struct {
	Result     permission.Result
	Rule       string
	Conditions string
}

func summarize(t *testing.T, d permission.Decision) decided {
	t.Helper()
	out := decided{Result: d.Result, Rule: d.Rule}
	if d.Conditions != nil {
		b, err := json.Marshal(d.Conditions)
		if err != nil {
			t.Fatal(err)
		}
		out.Conditions = string(b)
	}
	if d.Reason == "" {
		t.Error("decision has no reason")
	}
	if (d.Result == permission.Conditional) != (d.Conditions != nil) {
		t.Errorf("decision %s has conditions %v", d.Result, d.Conditions)
	}
	return out
}

func TestDecide(t *testing.T) {
	pol := mustParse(t, decidePolicy)
	// A read permission no policy could name, met only through a glob.
	unregisteredRead := permission.Permission{Name: "catalog.entity.dread", Action: permission.ActionRead, ResourceType: permission.ResourceCatalogEntity}
	const (
		bobOwns     = `{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/team-a","user:default/bob"]}},{"allOf":[{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":["template"]}},{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/shared"]}}]}]}`
		carlOwns    = `{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/contractors","user:default/carl"]}}`
		guestKinds  = `{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":["Component","API"]}}`
		notTmp      = `{"not":{"expr":"resource.metadata.name.startsWith(\"tmp-\")"}}`
		defaultRule = permission.DefaultRule
	)
	tests := []struct {
		name string
		id   auth.Identity
		perm permission.Permission
		want decided
	}{
		{"admin through group", alice, permission.CatalogEntityDelete, decided{permission.Allow, "admins", ""}},
		{"admin creates locations", alice, permission.CatalogLocationCreate, decided{permission.Allow, "admins", ""}},
		{"earlier deny wins over group allow", mallory, permission.CatalogEntityRead, decided{permission.Deny, "mallory-does-nothing", ""}},
		{"named service", ci, permission.CatalogEntityRefresh, decided{permission.Allow, "ci-refreshes", ""}},
		{"named service through glob", ci, permission.CatalogLocationDelete, decided{permission.Allow, "ci-refreshes", ""}},
		{"named service, rule for any service", ci, permission.CatalogEntityDelete, decided{permission.Deny, "no-service-deletes", ""}},
		{"other service, rule for any service", deploy, permission.CatalogEntityDelete, decided{permission.Deny, "no-service-deletes", ""}},
		{"other service, named service's rule", deploy, permission.CatalogEntityRefresh, decided{permission.Deny, defaultRule, ""}},
		{"service read by default", deploy, permission.CatalogEntityRead, decided{permission.Allow, defaultRule, ""}},
		{"service, no user rules", deploy, permission.CatalogLocationCreate, decided{permission.Deny, defaultRule, ""}},
		{"when fails closed", weird, permission.CatalogLocationRead, decided{permission.Deny, "broken-when", ""}},
		{"when holds", sam, permission.CatalogLocationCreate, decided{permission.Allow, "sre-locations", ""}},
		{"when does not hold", bob, permission.CatalogLocationCreate, decided{permission.Deny, defaultRule, ""}},
		{"user shorthand ref", guest, permission.CatalogEntityRead, decided{permission.Conditional, "guests-read-some-kinds", guestKinds}},
		{"conditional rule, claims from principal", bob, permission.CatalogEntityDelete, decided{permission.Conditional, "owners-change", bobOwns}},
		{"conditional rule, second permission", bob, permission.CatalogEntityRefresh, decided{permission.Conditional, "owners-change", bobOwns}},
		{"conditional glob, entity permission", carl, permission.CatalogEntityRead, decided{permission.Conditional, "contractors-own-it", carlOwns}},
		{"conditional glob skips basic read", carl, permission.CatalogLocationRead, decided{permission.Allow, defaultRule, ""}},
		{"conditional glob skips basic create", carl, permission.CatalogEntityCreate, decided{permission.Deny, defaultRule, ""}},
		{"user read by default", bob, permission.CatalogEntityRead, decided{permission.Allow, defaultRule, ""}},
		{"location read by default", bob, permission.CatalogLocationRead, decided{permission.Allow, defaultRule, ""}},
		{"create denied by default", bob, permission.CatalogEntityCreate, decided{permission.Deny, defaultRule, ""}},
		{"expr conditions for others", deploy, permission.Permission{Name: "catalog.entity.disown", Action: permission.ActionUpdate, ResourceType: permission.ResourceCatalogEntity},
			decided{permission.Conditional, "no-tmp-deletes", notTmp}},
		{"expr conditions never for reads", deploy, unregisteredRead, decided{permission.Deny, "no-tmp-deletes", ""}},
		{"unauthenticated", auth.Identity{}, permission.CatalogEntityRead, decided{permission.Deny, defaultRule, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(t, pol.Decide(tt.id, tt.perm))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide(%s, %s) mismatch (-want +got):\n%s", tt.id.Actor(), tt.perm.Name, diff)
			}
		})
	}
}

func TestDecideReasons(t *testing.T) {
	pol := mustParse(t, decidePolicy)
	tests := []struct {
		name string
		pol  *permission.Policy
		id   auth.Identity
		perm permission.Permission
		want string
	}{
		{"allow", pol, alice, permission.CatalogEntityDelete, `Rule "admins" allows catalog.entity.delete to user:default/alice.`},
		{"deny", pol, ci, permission.CatalogEntityDelete, `Rule "no-service-deletes" denies catalog.entity.delete to service ci.`},
		{"conditional", pol, bob, permission.CatalogEntityDelete, `Rule "owners-change" allows catalog.entity.delete to user:default/bob on the entities its conditions match.`},
		{"when failed", pol, weird, permission.CatalogLocationRead, `Rule "broken-when" denies catalog.location.read to service weird because its when expression failed: permission: CEL: type conversion error from 'string' to 'int'.`},
		{"default read", nil, bob, permission.CatalogEntityRead, "No rule applies to catalog.entity.read, and read permissions are allowed by default."},
		{"default other", nil, bob, permission.CatalogEntityRefresh, "No rule applies to catalog.entity.refresh, and permissions other than reads are denied by default."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.pol.Decide(tt.id, tt.perm).Reason
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Reason mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecideDoesNotShareConditions checks that a caller changing the
// conditions it got cannot change the policy's.
func TestDecideDoesNotShareConditions(t *testing.T) {
	pol := mustParse(t, decidePolicy)
	d := pol.Decide(bob, permission.CatalogEntityDelete)
	d.Conditions.AnyOf[0].Params["claims"] = []string{"group:default/everyone"}
	d.Conditions.AnyOf[1].AllOf[0].Params["kinds"] = []string{"component"}
	got := summarize(t, pol.Decide(sam, permission.CatalogEntityDelete))
	want := `{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/sre-oncall","user:default/sam"]}},{"allOf":[{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":["template"]}},{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/shared"]}}]}]}`
	if diff := cmp.Diff(want, got.Conditions); diff != "" {
		t.Errorf("conditions mismatch (-want +got):\n%s", diff)
	}
}

func TestDecideServiceClaims(t *testing.T) {
	pol := mustParse(t, `rules:
  - name: owners
    principals: ["*"]
    permissions: [catalog.entity.delete]
    decision: conditional
    conditions: {isEntityOwner: {}}
`)
	got := summarize(t, pol.Decide(deploy, permission.CatalogEntityDelete))
	want := decided{permission.Conditional, "owners", `{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":[]}}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decide mismatch (-want +got):\n%s", diff)
	}
}

// TestDecideHandBuilt checks rules built in code rather than parsed: their
// when still applies, and a conditional rule without conditions denies.
func TestDecideHandBuilt(t *testing.T) {
	pol := &permission.Policy{Rules: []permission.Rule{
		{Name: "sre-only", Principals: []string{"user:*"}, Permissions: []string{"catalog.location.create"}, Decision: permission.Allow,
			When: `principal.ownership.exists(r, r.startsWith("group:default/sre"))`},
		{Name: "no-conditions", Principals: []string{"*"}, Permissions: []string{"catalog.entity.delete"}, Decision: permission.Conditional},
	}}
	tests := []struct {
		name string
		id   auth.Identity
		perm permission.Permission
		want decided
	}{
		{"when holds", sam, permission.CatalogLocationCreate, decided{permission.Allow, "sre-only", ""}},
		{"when does not hold", bob, permission.CatalogLocationCreate, decided{permission.Deny, permission.DefaultRule, ""}},
		{"conditional without conditions", bob, permission.CatalogEntityDelete, decided{permission.Deny, "no-conditions", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(t, pol.Decide(tt.id, tt.perm))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
