package permission_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/atrium-dev/atrium/internal/permission"
)

// ignoreCompiled skips the compiled CEL programs inside rules and conditions.
var ignoreCompiled = cmpopts.IgnoreUnexported(permission.Rule{}, permission.Condition{})

func mustParse(t testing.TB, src string) *permission.Policy {
	t.Helper()
	pol, err := permission.Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return pol
}

func TestParse(t *testing.T) {
	src := `# rules are tried in order
rules:
  - name: platform-admins-do-anything
    description: The platform team runs Atrium.
    principals: [group:default/Platform-Admins, "user:jane", service:ci]
    permissions: ["*"]
    decision: allow
  - name: owners-change-their-entities
    principals: ["user:*"]
    permissions: [catalog.entity.delete, catalog.entity.refresh]
    decision: conditional
    conditions:
      anyOf:
        - isEntityOwner: {}
        - isEntityOwner: {claims: [group:sre, "User:Default/Bob"]}
        - allOf:
            - isEntityKind: {kinds: [Template]}
            - hasLabel: {label: shared}
        - not:
            hasAnnotation: {annotation: backstage.io/orphan, value: "true"}
        - hasMetadata: {key: tags}
        - hasSpec: {key: lifecycle, value: experimental}
        - expr: 'resource.metadata.name.startsWith("tmp-")'
  - name: sre-locations
    principals: ["*", "service:*"]
    permissions: [catalog.location.*]
    decision: deny
    when: 'principal.ownership.exists(r, r.startsWith("group:default/sre"))'
`
	got := mustParse(t, src)
	want := &permission.Policy{
		Name: "policy.yaml",
		Rules: []permission.Rule{
			{
				Name:        "platform-admins-do-anything",
				Description: "The platform team runs Atrium.",
				Principals:  []string{"group:default/platform-admins", "user:default/jane", "service:ci"},
				Permissions: []string{"*"},
				Decision:    permission.Allow,
			},
			{
				Name:        "owners-change-their-entities",
				Principals:  []string{"user:*"},
				Permissions: []string{"catalog.entity.delete", "catalog.entity.refresh"},
				Decision:    permission.Conditional,
				Conditions: &permission.Condition{AnyOf: []permission.Condition{
					{Rule: permission.RuleIsEntityOwner, Params: map[string]any{}},
					{Rule: permission.RuleIsEntityOwner, Params: map[string]any{"claims": []string{"group:default/sre", "user:default/bob"}}},
					{AllOf: []permission.Condition{
						{Rule: permission.RuleIsEntityKind, Params: map[string]any{"kinds": []string{"Template"}}},
						{Rule: permission.RuleHasLabel, Params: map[string]any{"label": "shared"}},
					}},
					{Not: &permission.Condition{Rule: permission.RuleHasAnnotation, Params: map[string]any{"annotation": "backstage.io/orphan", "value": "true"}}},
					{Rule: permission.RuleHasMetadata, Params: map[string]any{"key": "tags"}},
					{Rule: permission.RuleHasSpec, Params: map[string]any{"key": "lifecycle", "value": "experimental"}},
					{Expr: `resource.metadata.name.startsWith("tmp-")`},
				}},
			},
			{
				Name:        "sre-locations",
				Principals:  []string{"*", "service:*"},
				Permissions: []string{"catalog.location.*"},
				Decision:    permission.Deny,
				When:        `principal.ownership.exists(r, r.startsWith("group:default/sre"))`,
			},
		},
	}
	if diff := cmp.Diff(want, got, ignoreCompiled); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestParseEmptyRules(t *testing.T) {
	got := mustParse(t, "rules: []\n")
	if diff := cmp.Diff(&permission.Policy{Name: "policy.yaml"}, got, ignoreCompiled); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

// rule is a valid rule's head; tests append the fields they are about.
const ruleHead = `rules:
  - name: r
    principals: ["user:*"]
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"empty file", "", "policy.yaml: empty file; expected a mapping with a rules list"},
		{"comments only", "# nothing\n", "policy.yaml: empty file; expected a mapping with a rules list"},
		{"syntax", "rules:\n  - name: [x\n", "policy.yaml:2: invalid YAML: did not find expected ',' or ']' in the list that starts on this line"},
		{"bad indentation", ruleHead + "    permissions: ['*']\n   decision: allow\n",
			"policy.yaml:2: invalid YAML: did not find expected '-' indicator in the list that starts on this line"},
		{"scanner error", "rules:\n  - name: a: b\n", "policy.yaml:2: invalid YAML: mapping values are not allowed in this context"},
		{"tab indentation", "rules:\n\t- name: x\n", "policy.yaml:2: invalid YAML: found character that cannot start any token"},
		{"two documents", "rules: []\n---\nrules: []\n", "policy.yaml:2:1: a policy file holds one YAML document, found another"},
		{"anchor", "rules: &r []\n", "policy.yaml:1:8: anchors and aliases are not allowed in policy files"},
		{"alias", ruleHead + "    permissions: &p [catalog.entity.read]\n    decision: allow\n  - name: s\n    principals: [\"*\"]\n    permissions: *p\n    decision: deny\n",
			"policy.yaml:4:18: anchors and aliases are not allowed in policy files"},
		{"too deep", "rules: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n",
			"policy.yaml:1:71: nested deeper than 64 levels"},
		{"root is a list", "- rules\n", "policy.yaml:1:1: expected a mapping, got a list"},
		{"root is a string", "rules\n", "policy.yaml:1:1: expected a mapping, got a string"},
		{"unknown top-level key", "rules: []\nversion: 1\n", "policy.yaml:2:1: version: unknown key; expected rules"},
		{"no rules", "{}\n", "policy.yaml:1:1: rules: missing; expected a list of rules"},
		{"rules not a list", "rules: {}\n", "policy.yaml:1:8: rules: expected a list of rules, got a mapping"},
		{"rules null", "rules:\n", "policy.yaml:1:7: rules: expected a list of rules, got nothing"},
		{"rule not a mapping", "rules: [x]\n", "policy.yaml:1:9: rules[0]: expected a mapping, got a string"},
		{"unknown rule key", ruleHead + "    permissions: [catalog.entity.read]\n    decision: allow\n    effect: allow\n",
			"policy.yaml:6:5: rules[0].effect: unknown key; expected one of name, description, principals, permissions, decision, conditions, when"},
		{"non-string key", ruleHead + "    permissions: [catalog.entity.read]\n    decision: allow\n    1: x\n",
			"policy.yaml:6:5: rules[0]: expected a string key, got a number"},
		{"duplicate key", ruleHead + "    permissions: [catalog.entity.read]\n    decision: allow\n    decision: deny\n",
			"policy.yaml:6:5: rules[0].decision: duplicate key (first at line 5)"},
		{"missing fields", "rules:\n  - description: nothing else\n", strings.Join([]string{
			"policy.yaml:2:5: rules[0].name: missing",
			"policy.yaml:2:5: rules[0].principals: missing",
			"policy.yaml:2:5: rules[0].permissions: missing",
			"policy.yaml:2:5: rules[0].decision: missing",
		}, "\n")},
		{"empty name", "rules:\n  - name: ''\n    principals: ['*']\n    permissions: ['*']\n    decision: allow\n",
			"policy.yaml:2:11: rules[0].name: must not be empty"},
		{"name not a string", "rules:\n  - name: [a]\n    principals: ['*']\n    permissions: ['*']\n    decision: allow\n",
			"policy.yaml:2:11: rules[0].name: expected a string, got a list"},
		{"reserved name", "rules:\n  - name: default\n    principals: ['*']\n    permissions: ['*']\n    decision: allow\n",
			`policy.yaml:2:11: rules[0].name: "default" is reserved for decisions no rule made`},
		{"duplicate rule name", ruleHead + "    permissions: ['*']\n    decision: allow\n  - name: r\n    principals: ['*']\n    permissions: ['*']\n    decision: deny\n",
			`policy.yaml:6:5: rules[1].name: duplicate rule name "r" (first at line 2)`},
		{"principals not a list", "rules:\n  - name: r\n    principals: user:*\n    permissions: ['*']\n    decision: allow\n",
			"policy.yaml:3:17: rules[0].principals: expected a list of strings, got a string"},
		{"principals empty", "rules:\n  - name: r\n    principals: []\n    permissions: ['*']\n    decision: allow\n",
			"policy.yaml:3:17: rules[0].principals: must not be empty"},
		{"principal not a string", "rules:\n  - name: r\n    principals: [1]\n    permissions: ['*']\n    decision: allow\n",
			`policy.yaml:3:18: rules[0].principals[0]: expected a string, got a number (quote it: "1")`},
		{"principal without kind", "rules:\n  - name: r\n    principals: [jane]\n    permissions: ['*']\n    decision: allow\n",
			`policy.yaml:3:18: rules[0].principals[0]: expected a user or group ref ("group:default/sre"), "service:<subject>", "user:*", "service:*" or "*"`},
		{"principal of another kind", "rules:\n  - name: r\n    principals: [component:x]\n    permissions: ['*']\n    decision: allow\n",
			`policy.yaml:3:18: rules[0].principals[0]: kind "component" cannot be a principal; expected a user or group ref ("group:default/sre"), "service:<subject>", "user:*", "service:*" or "*"`},
		{"service without subject", "rules:\n  - name: r\n    principals: ['service:']\n    permissions: ['*']\n    decision: allow\n",
			`policy.yaml:3:18: rules[0].principals[0]: a service principal needs a subject; expected a user or group ref ("group:default/sre"), "service:<subject>", "user:*", "service:*" or "*"`},
		{"principal glob", "rules:\n  - name: r\n    principals: ['group:default/sre-*']\n    permissions: ['*']\n    decision: allow\n",
			`policy.yaml:3:18: rules[0].principals[0]: globs other than "user:*" and "service:*" are not supported; expected a user or group ref ("group:default/sre"), "service:<subject>", "user:*", "service:*" or "*"`},
		{"unknown permission", ruleHead + "    permissions: [catalog.entity.delet]\n    decision: allow\n",
			"policy.yaml:4:19: rules[0].permissions[0]: unknown permission; expected one of catalog.entity.create, catalog.entity.delete, catalog.entity.read, catalog.entity.refresh, catalog.location.create, catalog.location.delete, catalog.location.read, or a glob"},
		{"star inside a name", ruleHead + "    permissions: ['catalog.*.read']\n    decision: allow\n",
			`policy.yaml:4:19: rules[0].permissions[0]: '*' may only end a permission glob ("catalog.location.*")`},
		{"glob matching nothing", ruleHead + "    permissions: ['scaffolder.*']\n    decision: allow\n",
			"policy.yaml:4:19: rules[0].permissions[0]: matches no permission; known permissions are catalog.entity.create, catalog.entity.delete, catalog.entity.read, catalog.entity.refresh, catalog.location.create, catalog.location.delete, catalog.location.read"},
		{"permission with a space", ruleHead + "    permissions: ['catalog.entity.read ']\n    decision: allow\n",
			"policy.yaml:4:19: rules[0].permissions[0]: permission names contain no spaces"},
		{"unknown decision", ruleHead + "    permissions: ['*']\n    decision: maybe\n",
			`policy.yaml:5:15: rules[0].decision: unknown decision "maybe"; expected allow, deny or conditional`},
		{"decision not a string", ruleHead + "    permissions: ['*']\n    decision: true\n",
			`policy.yaml:5:15: rules[0].decision: expected a string, got a bool (quote it: "true")`},
		{"conditions on an allow rule", ruleHead + "    permissions: ['*']\n    decision: allow\n    conditions: {isEntityOwner: {}}\n",
			"policy.yaml:6:5: rules[0].conditions: only conditional rules have conditions"},
		{"conditional without conditions", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n",
			"policy.yaml:2:5: rules[0].conditions: missing; a conditional rule needs conditions"},
		{"conditional basic permission", ruleHead + "    permissions: [catalog.location.delete]\n    decision: conditional\n    conditions: {isEntityOwner: {}}\n",
			"policy.yaml:4:19: rules[0].permissions[0]: is not a catalog-entity resource permission, so no conditional rule can apply to it"},
		{"conditional glob over basic permissions", ruleHead + "    permissions: [catalog.location.*]\n    decision: conditional\n    conditions: {isEntityOwner: {}}\n",
			"policy.yaml:4:19: rules[0].permissions[0]: matches no catalog-entity resource permission, so this conditional rule would never apply to it"},
		{"condition not a mapping", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: [isEntityOwner]\n",
			"policy.yaml:6:17: rules[0].conditions: expected a condition (a mapping with one of allOf, anyOf, not, expr, isEntityOwner, isEntityKind, hasAnnotation, hasLabel, hasMetadata, hasSpec), got a list"},
		{"condition with two keys", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions:\n      isEntityOwner: {}\n      hasLabel: {label: x}\n",
			"policy.yaml:7:7: rules[0].conditions: expected exactly one of allOf, anyOf, not, expr, isEntityOwner, isEntityKind, hasAnnotation, hasLabel, hasMetadata, hasSpec, got 2 keys"},
		{"unknown condition", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {isOwner: {}}\n",
			"policy.yaml:6:18: rules[0].conditions.isOwner: unknown condition; expected one of allOf, anyOf, not, expr, isEntityOwner, isEntityKind, hasAnnotation, hasLabel, hasMetadata, hasSpec"},
		{"Backstage's spelling", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {IS_ENTITY_OWNER: {}}\n",
			"policy.yaml:6:18: rules[0].conditions.IS_ENTITY_OWNER: unknown condition; policy files spell IS_ENTITY_OWNER as isEntityOwner"},
		{"empty anyOf", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {anyOf: []}\n",
			"policy.yaml:6:25: rules[0].conditions.anyOf: expected a non-empty list of conditions, got a list"},
		{"allOf not a list", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {allOf: {isEntityOwner: {}}}\n",
			"policy.yaml:6:25: rules[0].conditions.allOf: expected a non-empty list of conditions, got a mapping"},
		{"not of a list", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {not: [isEntityOwner: {}]}\n",
			"policy.yaml:6:23: rules[0].conditions.not: expected a condition (a mapping with one of allOf, anyOf, not, expr, isEntityOwner, isEntityKind, hasAnnotation, hasLabel, hasMetadata, hasSpec), got a list"},
		{"conditions too deep", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: " +
			strings.Repeat("{not: ", 33) + "{isEntityOwner: {}}" + strings.Repeat("}", 33) + "\n",
			"policy.yaml:6:215: rules[0].conditions" + strings.Repeat(".not", 33) + ": conditions nested deeper than 32 levels"},
		{"unknown param", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {isEntityKind: {kind: [api]}}\n",
			"policy.yaml:6:33: rules[0].conditions.isEntityKind.kind: unknown key; expected kinds"},
		{"missing param", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {hasAnnotation: {value: x}}\n",
			"policy.yaml:6:33: rules[0].conditions.hasAnnotation.annotation: missing"},
		{"missing params", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {hasLabel: }\n",
			"policy.yaml:6:28: rules[0].conditions.hasLabel.label: missing"},
		{"params not a mapping", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {hasLabel: shared}\n",
			"policy.yaml:6:28: rules[0].conditions.hasLabel: expected a mapping, got a string"},
		{"string param given a list", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {hasLabel: {label: [a]}}\n",
			"policy.yaml:6:36: rules[0].conditions.hasLabel.label: expected a string, got a list"},
		{"list param given a string", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {isEntityKind: {kinds: api}}\n",
			"policy.yaml:6:40: rules[0].conditions.isEntityKind.kinds: expected a list of strings, got a string"},
		{"value not a string", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {hasSpec: {key: replicas, value: 3}}\n",
			`policy.yaml:6:50: rules[0].conditions.hasSpec.value: expected a string, got a number (quote it: "3")`},
		{"empty kinds", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {isEntityKind: {kinds: []}}\n",
			"policy.yaml:6:40: rules[0].conditions.isEntityKind.kinds: must not be empty"},
		{"bad claim", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {isEntityOwner: {claims: [sre]}}\n",
			`policy.yaml:6:43: rules[0].conditions.isEntityOwner.claims[0]: expected an entity ref with a kind ("group:default/sre")`},
		{"expr does not compile", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {expr: 'resource.kind == kind'}\n",
			"policy.yaml:6:24: rules[0].conditions.expr: CEL: undeclared reference to 'kind' (in container '') (at line 1, column 18 of the expression)"},
		{"expr syntax", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {expr: 'resource.kind =='}\n",
			"policy.yaml:6:24: rules[0].conditions.expr: CEL: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER} (at line 1, column 17 of the expression)"},
		{"expr not a bool", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {expr: 'resource.kind'}\n",
			"policy.yaml:6:24: rules[0].conditions.expr: CEL: expression must return a bool, returns dyn"},
		{"expr empty", ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {expr: ''}\n",
			"policy.yaml:6:24: rules[0].conditions.expr: must not be empty"},
		{"expr on a read permission", ruleHead + "    permissions: [catalog.entity.read]\n    decision: conditional\n    conditions:\n      anyOf:\n        - isEntityOwner: {}\n        - expr: 'resource.kind == \"API\"'\n",
			"policy.yaml:9:17: rules[0].conditions.anyOf[1].expr: expr conditions cannot be used for read permissions, which are evaluated in SQL (this rule applies to catalog.entity.read)"},
		{"expr on a glob with reads", ruleHead + "    permissions: ['catalog.entity.*']\n    decision: conditional\n    conditions: {not: {expr: 'true'}}\n",
			"policy.yaml:6:30: rules[0].conditions.not.expr: expr conditions cannot be used for read permissions, which are evaluated in SQL (this rule applies to catalog.entity.read)"},
		{"when nested too deep", ruleHead + "    permissions: ['*']\n    decision: allow\n    when: '" + strings.Repeat("[", 40) + strings.Repeat("]", 40) + " == []'\n",
			"policy.yaml:6:11: rules[0].when: CEL: expression recursion limit exceeded: 32"},
		{"when is not a bool", ruleHead + "    permissions: ['*']\n    decision: allow\n    when: principal.kind\n",
			"policy.yaml:6:11: rules[0].when: CEL: expression must return a bool, returns dyn"},
		{"when sees no resource", ruleHead + "    permissions: ['*']\n    decision: allow\n    when: 'resource.kind == \"API\"'\n",
			"policy.yaml:6:11: rules[0].when: CEL: undeclared reference to 'resource' (in container '') (at line 1, column 1 of the expression)"},
		{"when not a string", ruleHead + "    permissions: ['*']\n    decision: allow\n    when: true\n",
			`policy.yaml:6:11: rules[0].when: expected a string, got a bool (quote it: "true")`},
		{"errors in file order", "rules:\n  - name: a\n    principals: [x]\n    permissions: [y]\n    decision: z\n", strings.Join([]string{
			`policy.yaml:3:18: rules[0].principals[0]: expected a user or group ref ("group:default/sre"), "service:<subject>", "user:*", "service:*" or "*"`,
			"policy.yaml:4:19: rules[0].permissions[0]: unknown permission; expected one of catalog.entity.create, catalog.entity.delete, catalog.entity.read, catalog.entity.refresh, catalog.location.create, catalog.location.delete, catalog.location.read, or a glob",
			`policy.yaml:5:15: rules[0].decision: unknown decision "z"; expected allow, deny or conditional`,
		}, "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol, err := permission.Parse("policy.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded with %d rules, want error", len(pol.Rules))
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			var pe *permission.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	src := "rules: []\n" + strings.Repeat("#", permission.MaxPolicyBytes)
	_, err := permission.Parse("policy.yaml", []byte(src))
	want := "policy.yaml: file is larger than 262144 bytes"
	if err == nil || err.Error() != want {
		t.Errorf("Parse error = %v, want %s", err, want)
	}
}

func TestParseManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("rules:\n")
	for range 30 {
		b.WriteString("  - {}\n")
	}
	_, err := permission.Parse("policy.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 21 || lines[20] != "policy.yaml: too many errors" {
		t.Errorf("Parse reported %d lines ending in %q, want 20 errors and \"too many errors\"", len(lines), lines[len(lines)-1])
	}
}

func TestLoad(t *testing.T) {
	if _, err := permission.Load(t.TempDir() + "/missing.yaml"); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
