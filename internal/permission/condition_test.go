package permission_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/permission"
)

func rule(name string, params map[string]any) permission.Condition {
	return permission.Condition{Rule: name, Params: params}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name string
		c    permission.Condition
		want filter.Expr
	}{
		{"owner", rule(permission.RuleIsEntityOwner, map[string]any{"claims": []string{"Group:Default/Team-A", "user:default/bob"}}),
			filter.Match{Key: "relations.ownedby", Values: []string{"group:default/team-a", "user:default/bob"}}},
		{"owner without claims owns nothing", rule(permission.RuleIsEntityOwner, map[string]any{"claims": []string{}}),
			filter.Match{Key: "relations.ownedby", Values: []string{}}},
		{"kind", rule(permission.RuleIsEntityKind, map[string]any{"kinds": []string{"Component", "API"}}),
			filter.Match{Key: "kind", Values: []string{"component", "api"}}},
		{"annotation", rule(permission.RuleHasAnnotation, map[string]any{"annotation": "Backstage.io/Orphan"}),
			filter.Exists{Key: "metadata.annotations.backstage.io/orphan"}},
		{"annotation value", rule(permission.RuleHasAnnotation, map[string]any{"annotation": "backstage.io/orphan", "value": "TRUE"}),
			filter.Match{Key: "metadata.annotations.backstage.io/orphan", Values: []string{"true"}}},
		{"label", rule(permission.RuleHasLabel, map[string]any{"label": "Tier"}),
			filter.Exists{Key: "metadata.labels.tier"}},
		{"metadata", rule(permission.RuleHasMetadata, map[string]any{"key": "tags"}),
			filter.Exists{Key: "metadata.tags"}},
		{"metadata value", rule(permission.RuleHasMetadata, map[string]any{"key": "tags", "value": "Java"}),
			filter.Match{Key: "metadata.tags", Values: []string{"java"}}},
		{"spec", rule(permission.RuleHasSpec, map[string]any{"key": "profile.email"}),
			filter.Exists{Key: "spec.profile.email"}},
		{"spec value", rule(permission.RuleHasSpec, map[string]any{"key": "Lifecycle", "value": "Production"}),
			filter.Match{Key: "spec.lifecycle", Values: []string{"production"}}},
		{"tree", permission.Condition{AnyOf: []permission.Condition{
			rule(permission.RuleIsEntityKind, map[string]any{"kinds": []string{"User"}}),
			{AllOf: []permission.Condition{
				rule(permission.RuleHasLabel, map[string]any{"label": "shared"}),
				{Not: &permission.Condition{Rule: permission.RuleHasSpec, Params: map[string]any{"key": "type", "value": "website"}}},
			}},
		}}, filter.Any{Exprs: []filter.Expr{
			filter.Match{Key: "kind", Values: []string{"user"}},
			filter.All{Exprs: []filter.Expr{
				filter.Exists{Key: "metadata.labels.shared"},
				filter.Not{Expr: filter.Match{Key: "spec.type", Values: []string{"website"}}},
			}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Filter()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Filter mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct {
		name string
		c    permission.Condition
		want string
	}{
		{"expr", permission.Condition{AnyOf: []permission.Condition{{Expr: "true"}}}, "expr conditions cannot be evaluated in SQL"},
		{"owner without claims", rule(permission.RuleIsEntityOwner, nil), "permission: IS_ENTITY_OWNER has no claims"},
		{"empty", permission.Condition{}, "permission: a condition needs exactly one of rule, allOf, anyOf, not or expr, has 0 ()"},
		{"two shapes", permission.Condition{Rule: permission.RuleHasLabel, Expr: "true"}, "permission: a condition needs exactly one of rule, allOf, anyOf, not or expr, has 2 (rule, expr)"},
		{"unknown rule", rule("IS_IN_SYSTEM", nil), `permission: unknown rule "IS_IN_SYSTEM"`},
		{"unknown param", rule(permission.RuleHasLabel, map[string]any{"label": "x", "value": "y"}), `permission: HAS_LABEL has no param "value"`},
		{"missing param", rule(permission.RuleHasLabel, map[string]any{}), `permission: HAS_LABEL needs param "label"`},
		{"wrong param type", rule(permission.RuleIsEntityKind, map[string]any{"kinds": "api"}), `permission: IS_ENTITY_KIND param "kinds" must be a list of strings`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.Filter()
			if err == nil || err.Error() != tt.want {
				t.Errorf("Filter error = %v, want %s", err, tt.want)
			}
		})
	}
}

// sampleEntities are final entities as the catalog serves them, chosen to
// tell every rule's cases apart: keys and values in mixed case, arrays,
// nested spec fields, relations of several types.
var sampleEntities = []string{
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"petstore","namespace":"default",
	  "annotations":{"Backstage.io/Techdocs-Ref":"dir:.","github.com/project-slug":"Acme/Petstore"},
	  "labels":{"tier":"Gold"},"tags":["java","Kafka"]},
	  "spec":{"type":"service","lifecycle":"production","owner":"team-a","deploy":{"region":"EU","replicas":3}},
	  "relations":[{"type":"ownedBy","targetRef":"group:default/team-a"},{"type":"partOf","targetRef":"system:default/pets"}]}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"tmp-site","namespace":"default",
	  "annotations":{"backstage.io/orphan":"true"},"tags":["web"]},
	  "spec":{"type":"website","lifecycle":"experimental","owner":"user:bob"},
	  "relations":[{"type":"ownedBy","targetRef":"user:default/bob"}]}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"API","metadata":{"name":"pets-api","namespace":"default","title":"Pets API",
	  "labels":{"Shared":"yes"}},
	  "spec":{"type":"openapi","lifecycle":"Production","owner":"group:Team-B","definition":"openapi: 3.0.0"},
	  "relations":[{"type":"ownedBy","targetRef":"group:default/team-b"},{"type":"ownedBy","targetRef":"group:default/team-a"}]}`,
	`{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"new-service","namespace":"tools","labels":{"shared":"true"}},
	  "spec":{"type":"service","owner":"group:default/platform","parameters":[{"title":"Name","required":["name"]}],"steps":[]},
	  "relations":[{"type":"ownedBy","targetRef":"group:default/platform"}]}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"User","metadata":{"name":"bob","namespace":"default"},
	  "spec":{"profile":{"email":"bob@example.com"},"memberOf":["team-a"]},
	  "relations":[{"type":"memberOf","targetRef":"group:default/team-a"}]}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"team-a","namespace":"default","description":"` + strings.Repeat("long ", 50) + `"},
	  "spec":{"type":"team","children":[]}}`,
}

// sampleConditions are conditions over sampleEntities, each with the
// names of the entities it matches.
var sampleConditions = []struct {
	name string
	c    permission.Condition
	want []string
}{
	{"owner", rule(permission.RuleIsEntityOwner, map[string]any{"claims": []string{"group:default/team-a"}}),
		[]string{"petstore", "pets-api"}},
	{"owner, claims in another case", rule(permission.RuleIsEntityOwner, map[string]any{"claims": []string{"User:Default/Bob", "group:default/nobody"}}),
		[]string{"tmp-site"}},
	{"owner, no claims", rule(permission.RuleIsEntityOwner, map[string]any{"claims": []string{}}), nil},
	{"owner is not membership", rule(permission.RuleIsEntityOwner, map[string]any{"claims": []string{"group:default/team-a"}}),
		[]string{"petstore", "pets-api"}},
	{"kind", rule(permission.RuleIsEntityKind, map[string]any{"kinds": []string{"api", "TEMPLATE"}}),
		[]string{"pets-api", "new-service"}},
	{"annotation, key in another case", rule(permission.RuleHasAnnotation, map[string]any{"annotation": "backstage.io/techdocs-ref"}),
		[]string{"petstore"}},
	{"annotation value, in another case", rule(permission.RuleHasAnnotation, map[string]any{"annotation": "github.com/project-slug", "value": "acme/petstore"}),
		[]string{"petstore"}},
	{"annotation value differs", rule(permission.RuleHasAnnotation, map[string]any{"annotation": "backstage.io/orphan", "value": "false"}), nil},
	{"label", rule(permission.RuleHasLabel, map[string]any{"label": "shared"}),
		[]string{"pets-api", "new-service"}},
	{"metadata field", rule(permission.RuleHasMetadata, map[string]any{"key": "title"}),
		[]string{"pets-api"}},
	{"metadata array item", rule(permission.RuleHasMetadata, map[string]any{"key": "tags", "value": "kafka"}),
		[]string{"petstore"}},
	{"metadata array membership key", rule(permission.RuleHasMetadata, map[string]any{"key": "tags.web"}),
		[]string{"tmp-site"}},
	{"metadata namespace", rule(permission.RuleHasMetadata, map[string]any{"key": "namespace", "value": "tools"}),
		[]string{"new-service"}},
	{"metadata name", rule(permission.RuleHasMetadata, map[string]any{"key": "name", "value": "Bob"}),
		[]string{"bob"}},
	{"metadata value too long to match", rule(permission.RuleHasMetadata, map[string]any{"key": "description", "value": strings.Repeat("long ", 50)}), nil},
	{"metadata value too long still exists", rule(permission.RuleHasMetadata, map[string]any{"key": "description"}),
		[]string{"team-a"}},
	{"spec value", rule(permission.RuleHasSpec, map[string]any{"key": "lifecycle", "value": "production"}),
		[]string{"petstore", "pets-api"}},
	{"spec nested", rule(permission.RuleHasSpec, map[string]any{"key": "deploy.region", "value": "eu"}),
		[]string{"petstore"}},
	{"spec number", rule(permission.RuleHasSpec, map[string]any{"key": "deploy.replicas", "value": "3"}),
		[]string{"petstore"}},
	{"spec nested object in list", rule(permission.RuleHasSpec, map[string]any{"key": "parameters.title"}),
		[]string{"new-service"}},
	{"spec empty list", rule(permission.RuleHasSpec, map[string]any{"key": "children"}), nil},
	{"spec nested exists", rule(permission.RuleHasSpec, map[string]any{"key": "profile.email"}),
		[]string{"bob"}},
	{"allOf", permission.Condition{AllOf: []permission.Condition{
		rule(permission.RuleIsEntityKind, map[string]any{"kinds": []string{"component"}}),
		rule(permission.RuleHasSpec, map[string]any{"key": "type", "value": "service"}),
	}}, []string{"petstore"}},
	{"anyOf", permission.Condition{AnyOf: []permission.Condition{
		rule(permission.RuleIsEntityKind, map[string]any{"kinds": []string{"user"}}),
		rule(permission.RuleHasAnnotation, map[string]any{"annotation": "backstage.io/orphan"}),
	}}, []string{"tmp-site", "bob"}},
	{"not", permission.Condition{Not: &permission.Condition{AnyOf: []permission.Condition{
		rule(permission.RuleIsEntityKind, map[string]any{"kinds": []string{"component", "api"}}),
		rule(permission.RuleHasLabel, map[string]any{"label": "shared"}),
	}}}, []string{"bob", "team-a"}},
}

func parseEntity(t testing.TB, raw string) *entity.Entity {
	t.Helper()
	var e entity.Entity
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

func TestMatches(t *testing.T) {
	var entities []*entity.Entity
	for _, raw := range sampleEntities {
		entities = append(entities, parseEntity(t, raw))
	}
	for _, tt := range sampleConditions {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range entities {
				ok, err := tt.c.Matches(bob, e)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, e.Metadata.Name)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Matches mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchesPrincipalAndExpr(t *testing.T) {
	tmp := parseEntity(t, sampleEntities[1]) // tmp-site, owned by user:default/bob
	api := parseEntity(t, sampleEntities[2]) // pets-api, owned by team-b and team-a
	tests := []struct {
		name string
		c    permission.Condition
		id   auth.Identity
		e    *entity.Entity
		want bool
	}{
		{"owner claims from the principal", rule(permission.RuleIsEntityOwner, nil), bob, tmp, true},
		{"owner claims through a group", rule(permission.RuleIsEntityOwner, map[string]any{}), bob, api, true},
		{"owner claims of another principal", rule(permission.RuleIsEntityOwner, nil), sam, api, false},
		{"owner claims of a service", rule(permission.RuleIsEntityOwner, nil), ci, tmp, false},
		{"expr on the resource", permission.Condition{Expr: `resource.metadata.name.startsWith("tmp-")`}, bob, tmp, true},
		{"expr on the resource, false", permission.Condition{Expr: `resource.metadata.name.startsWith("tmp-")`}, bob, api, false},
		{"expr on principal and resource", permission.Condition{Expr: `resource.relations.exists(r, r.type == "ownedBy" && r.targetRef == principal.userRef)`}, bob, tmp, true},
		{"expr under not", permission.Condition{Not: &permission.Condition{Expr: `resource.kind == "API"`}}, bob, api, false},
		{"expr in a tree", permission.Condition{AllOf: []permission.Condition{
			rule(permission.RuleIsEntityKind, map[string]any{"kinds": []string{"component"}}),
			{Expr: `"web" in resource.metadata.tags`},
		}}, bob, tmp, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Matches(tt.id, tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchesErrors(t *testing.T) {
	e := parseEntity(t, sampleEntities[1])
	tests := []struct {
		name string
		c    permission.Condition
		want string
	}{
		{"expr error", permission.Condition{Expr: `resource.spec.missing == "x"`}, "permission: CEL: no such key: missing"},
		{"expr does not compile", permission.Condition{Expr: `resource.`}, "CEL: Syntax error: no viable alternative at input '.' (at line 1, column 10 of the expression)"},
		{"expr not a bool", permission.Condition{Expr: `resource.kind`}, "CEL: expression must return a bool, returns dyn"},
		{"bad rule", rule(permission.RuleHasLabel, nil), `permission: HAS_LABEL needs param "label"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.Matches(bob, e)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Matches error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestConditionJSON(t *testing.T) {
	tests := []struct {
		name string
		c    permission.Condition
		want string
	}{
		{"rule", rule(permission.RuleIsEntityOwner, map[string]any{"claims": []string{"user:default/bob"}}),
			`{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/bob"]}}`},
		{"rule with optional param", rule(permission.RuleHasAnnotation, map[string]any{"annotation": "a", "value": "b"}),
			`{"rule":"HAS_ANNOTATION","resourceType":"catalog-entity","params":{"annotation":"a","value":"b"}}`},
		{"tree", permission.Condition{AllOf: []permission.Condition{
			{AnyOf: []permission.Condition{rule(permission.RuleHasLabel, map[string]any{"label": "x"})}},
			{Not: &permission.Condition{Expr: `resource.kind == "API" && 1 < 2`}},
		}}, `{"allOf":[{"anyOf":[{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":"x"}}]},{"not":{"expr":"resource.kind == \"API\" \u0026\u0026 1 \u003c 2"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(b)); diff != "" {
				t.Errorf("Marshal mismatch (-want +got):\n%s", diff)
			}
			var back permission.Condition
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.c, back, ignoreCompiled); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConditionUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown rule", `{"rule":"IS_IN_SYSTEM","resourceType":"catalog-entity","params":{}}`, `permission: unknown rule "IS_IN_SYSTEM"`},
		{"wrong resource type", `{"rule":"HAS_LABEL","resourceType":"scaffolder-template","params":{"label":"x"}}`, `permission: condition HAS_LABEL: resourceType must be "catalog-entity", not "scaffolder-template"`},
		{"params of wrong type", `{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":"api"}}`, `permission: IS_ENTITY_KIND param "kinds" must be a list of strings`},
		{"list of numbers", `{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":[1]}}`, `permission: IS_ENTITY_KIND param "kinds" must be a list of strings`},
		{"string param a number", `{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":1}}`, `permission: HAS_LABEL param "label" must be a string`},
		{"unknown key", `{"anyOf":[],"extra":1}`, `permission: condition: json: unknown field "extra"`},
		{"two shapes", `{"anyOf":[],"allOf":[]}`, "permission: a condition needs exactly one of rule, allOf, anyOf, not or expr, has 2 (allOf, anyOf)"},
		{"params outside a rule", `{"not":{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":"x"}},"params":{}}`, "permission: only rule conditions have resourceType and params"},
		{"bad expr", `{"expr":"1 +"}`, "CEL: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER} (at line 1, column 4 of the expression)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c permission.Condition
			err := json.Unmarshal([]byte(tt.in), &c)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Unmarshal error = %v, want %s", err, tt.want)
			}
		})
	}
}
