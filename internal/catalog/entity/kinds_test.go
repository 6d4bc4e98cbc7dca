package entity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// validSpecs holds, per kind, an apiVersion and a spec taken from
// Backstage's schema examples and descriptor-format docs.
var validSpecs = map[string]struct {
	apiVersion string
	spec       map[string]any
}{
	KindComponent: {APIVersionV1alpha1, map[string]any{
		"type": "service", "lifecycle": "production", "owner": "artist-relations-team",
		"system": "artist-engagement-portal", "subcomponentOf": "petstore",
		"providesApis": []any{"artist-api"}, "consumesApis": []any{"api:other/x"},
		"dependsOn": []any{"resource:artists-db"}, "dependencyOf": []any{"component:web"},
	}},
	KindAPI: {APIVersionV1alpha1, map[string]any{
		"type": "openapi", "lifecycle": "production", "owner": "artist-relations-team",
		"system": "artist-engagement-portal", "definition": "openapi: \"3.0.0\"\ninfo: ...",
	}},
	KindResource: {APIVersionV1alpha1, map[string]any{
		"type": "database", "owner": "artist-relations-team", "system": "artist-engagement-portal",
		"dependsOn": []any{"resource:other-db"}, "dependencyOf": []any{"component:x"},
	}},
	KindSystem: {APIVersionV1alpha1, map[string]any{"owner": "artist-relations-team", "domain": "artists", "type": "product"}},
	KindDomain: {APIVersionV1alpha1, map[string]any{"owner": "artist-relations-team", "subdomainOf": "music", "type": "business"}},
	KindGroup: {APIVersionV1alpha1, map[string]any{
		"type": "business-unit",
		"profile": map[string]any{
			"displayName": "Infrastructure", "email": "infrastructure@example.com",
			"picture": "https://example.com/groups/bu-infrastructure.jpeg",
		},
		"parent": "ops", "children": []any{"backstage", "other"}, "members": []any{"jdoe"},
	}},
	KindUser: {APIVersionV1alpha1, map[string]any{
		"profile":  map[string]any{"displayName": "Jenny Doe", "email": "jenny-doe@example.com"},
		"memberOf": []any{"team-b", "employees"},
	}},
	KindLocation: {APIVersionV1alpha1, map[string]any{
		"type": "url", "targets": []any{"http://github.com/myorg/myproject/org-data-dump/catalog-info-staff.yaml"},
		"presence": "optional",
	}},
	KindTemplate: {APIVersionScaffolderV1beta3, map[string]any{
		"owner": "artist-relations-team", "type": "website", "lifecycle": "production",
		"parameters": map[string]any{
			"required":              []any{"name"},
			"backstage:permissions": map[string]any{"tags": []any{"one", "two"}},
			"properties":            map[string]any{"name": map[string]any{"title": "Name", "type": "string"}},
		},
		"steps": []any{
			map[string]any{"id": "fetch", "name": "Fetch", "action": "fetch:plain", "input": map[string]any{"url": "./template"}},
			map[string]any{"id": "publish", "action": "publish:github", "if": "${{ parameters.repoUrl }}"},
			map[string]any{"action": "debug:log", "if": false},
		},
		"output": map[string]any{
			"links":          []any{map[string]any{"title": "Repository", "url": "${{ steps.publish.output.remoteUrl }}"}},
			"text":           []any{map[string]any{"title": "Note", "content": "**done**"}},
			"catalogInfoUrl": "${{ steps.publish.output.catalogInfoUrl }}",
		},
		"secrets":                     map[string]any{"schema": map[string]any{}},
		"presentation":                map[string]any{"buttonLabels": map[string]any{"createButtonText": "Go"}},
		"EXPERIMENTAL_formDecorators": []any{map[string]any{"id": "hook", "input": map[string]any{}}},
	}},
}

// kindEntity builds a valid entity of kind, its spec edited by edit.
func kindEntity(t *testing.T, kind string, edit func(spec map[string]any)) *Entity {
	t.Helper()
	v, ok := validSpecs[kind]
	if !ok {
		t.Fatalf("no valid spec for %s", kind)
	}
	e, probs := FromMap(map[string]any{
		"apiVersion": v.apiVersion, "kind": kind,
		"metadata": map[string]any{"name": "x", "namespace": "ns"},
		"spec":     v.spec, // FromMap copies it
	})
	if probs != nil {
		t.Fatalf("FromMap: %v", probs)
	}
	if edit != nil {
		edit(e.Spec)
	}
	return e
}

func TestKindSpecs(t *testing.T) {
	missing := func(path, key string) Problem {
		return Problem{Path: path, Message: "must have required property '" + key + "'"}
	}
	typ := func(path, want, found string) Problem {
		return Problem{Path: path, Message: "must be " + want + ", found " + found}
	}
	empty := func(path string) Problem {
		return Problem{Path: path, Message: "must NOT have fewer than 1 characters, found an empty string"}
	}
	tests := []struct {
		name string
		kind string
		edit func(s map[string]any)
		want Problems
	}{
		// Every kind's documented example is valid.
		{name: "Component valid", kind: KindComponent},
		{name: "API valid", kind: KindAPI},
		{name: "Resource valid", kind: KindResource},
		{name: "System valid", kind: KindSystem},
		{name: "Domain valid", kind: KindDomain},
		{name: "Group valid", kind: KindGroup},
		{name: "User valid", kind: KindUser},
		{name: "Location valid", kind: KindLocation},
		{name: "Template valid", kind: KindTemplate},

		{
			name: "Component required fields", kind: KindComponent,
			edit: func(s map[string]any) { clear(s) },
			want: Problems{missing("spec.type", "type"), missing("spec.lifecycle", "lifecycle"), missing("spec.owner", "owner")},
		},
		{
			name: "Component field types", kind: KindComponent,
			edit: func(s map[string]any) {
				s["owner"] = ""
				s["system"] = 1.0
				s["providesApis"] = "artist-api"
				s["consumesApis"] = []any{"ok", nil}
				s["dependsOn"] = []any{""}
			},
			want: Problems{
				empty("spec.owner"), typ("spec.system", "string", "number"),
				typ("spec.providesApis", "array", "string"), typ("spec.consumesApis.1", "string", "null"),
				empty("spec.dependsOn.0"),
			},
		},
		{
			name: "extra spec fields are allowed", kind: KindComponent,
			edit: func(s map[string]any) { s["anything"] = map[string]any{"x": 1.0} },
		},
		{
			name: "API required fields", kind: KindAPI,
			edit: func(s map[string]any) { clear(s) },
			want: Problems{missing("spec.type", "type"), missing("spec.lifecycle", "lifecycle"), missing("spec.owner", "owner"), missing("spec.definition", "definition")},
		},
		{
			name: "API definition must be a string", kind: KindAPI,
			edit: func(s map[string]any) { s["definition"] = map[string]any{"openapi": "3.0.0"} },
			want: Problems{typ("spec.definition", "string", "object")},
		},
		{
			name: "Resource required fields", kind: KindResource,
			edit: func(s map[string]any) { clear(s) },
			want: Problems{missing("spec.type", "type"), missing("spec.owner", "owner")},
		},
		{
			name: "System required fields", kind: KindSystem,
			edit: func(s map[string]any) { clear(s) },
			want: Problems{missing("spec.owner", "owner")},
		},
		{
			name: "Domain required fields", kind: KindDomain,
			edit: func(s map[string]any) { clear(s) },
			want: Problems{missing("spec.owner", "owner")},
		},
		{
			name: "Group required fields", kind: KindGroup,
			edit: func(s map[string]any) { clear(s) },
			want: Problems{missing("spec.type", "type"), missing("spec.children", "children")},
		},
		{
			name: "Group children may be empty", kind: KindGroup,
			edit: func(s map[string]any) { s["children"] = []any{} },
		},
		{
			name: "Group profile types", kind: KindGroup,
			edit: func(s map[string]any) { s["profile"] = map[string]any{"email": 1.0, "picture": ""} },
			want: Problems{typ("spec.profile.email", "string", "number"), empty("spec.profile.picture")},
		},
		{
			name: "User memberOf must be present", kind: KindUser,
			edit: func(s map[string]any) { delete(s, "memberOf") },
			want: Problems{missing("spec.memberOf", "memberOf")},
		},
		{
			name: "User memberOf may be empty", kind: KindUser,
			edit: func(s map[string]any) { s["memberOf"] = []any{} },
		},
		{
			name: "User profile must be an object", kind: KindUser,
			edit: func(s map[string]any) { s["profile"] = "Jenny" },
			want: Problems{typ("spec.profile", "object", "string")},
		},
		{
			name: "Location with empty spec", kind: KindLocation,
			edit: func(s map[string]any) { clear(s) },
		},
		{
			name: "Location presence enum", kind: KindLocation,
			edit: func(s map[string]any) { s["presence"] = "maybe" },
			want: Problems{{Path: "spec.presence", Message: `must be equal to one of the allowed values: required, optional; found "maybe"`}},
		},
		{
			name: "Location field types", kind: KindLocation,
			edit: func(s map[string]any) { s["target"] = []any{"x"}; s["targets"] = []any{1.0}; s["presence"] = true },
			want: Problems{typ("spec.target", "string", "array"), typ("spec.targets.0", "string", "number"), typ("spec.presence", "string", "boolean")},
		},
		{
			name: "Template required fields", kind: KindTemplate,
			edit: func(s map[string]any) { clear(s) },
			want: Problems{missing("spec.type", "type"), missing("spec.steps", "steps")},
		},
		{
			name: "Template parameters as a list of forms", kind: KindTemplate,
			edit: func(s map[string]any) {
				s["parameters"] = []any{map[string]any{"title": "A"}, map[string]any{"title": "B"}}
			},
		},
		{
			name: "Template parameters wrong type", kind: KindTemplate,
			edit: func(s map[string]any) { s["parameters"] = "x" },
			want: Problems{typ("spec.parameters", "object or array", "string")},
		},
		{
			name: "Template parameters list of non-objects", kind: KindTemplate,
			edit: func(s map[string]any) { s["parameters"] = []any{"x"} },
			want: Problems{typ("spec.parameters.0", "object", "string")},
		},
		{
			name: "Template steps", kind: KindTemplate,
			edit: func(s map[string]any) {
				s["steps"] = []any{
					map[string]any{"id": "a"},
					"fetch:plain",
					map[string]any{"action": 1.0, "input": "x", "if": 1.0, "backstage:permissions": map[string]any{"tags": "t"}},
				}
			},
			want: Problems{
				missing("spec.steps.0.action", "action"),
				typ("spec.steps.1", "object", "string"),
				typ("spec.steps.2.action", "string", "number"),
				typ("spec.steps.2.input", "object", "string"),
				typ("spec.steps.2.if", "string or boolean", "number"),
				typ("spec.steps.2.backstage:permissions.tags", "array", "string"),
			},
		},
		{
			name: "Template steps may be empty", kind: KindTemplate,
			edit: func(s map[string]any) { s["steps"] = []any{} },
		},
		{
			name: "Template output", kind: KindTemplate,
			edit: func(s map[string]any) {
				s["output"] = map[string]any{
					"links": []any{map[string]any{"url": "", "if": []any{}}, 3.0},
					"text":  "x",
					"other": map[string]any{},
				}
			},
			want: Problems{
				typ("spec.output.links.0.if", "string or boolean", "array"),
				empty("spec.output.links.0.url"),
				typ("spec.output.links.1", "object", "number"),
				typ("spec.output.other", "string", "object"),
				typ("spec.output.text", "array", "string"),
			},
		},
		{
			name: "Template owner optional but typed", kind: KindTemplate,
			edit: func(s map[string]any) { delete(s, "owner"); s["lifecycle"] = 2.0 },
			want: Problems{typ("spec.lifecycle", "string", "number")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := kindEntity(t, tt.kind, tt.edit)
			got := Validate(e)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKindSpecMissing(t *testing.T) {
	for kind := range validSpecs {
		t.Run(kind, func(t *testing.T) {
			e := kindEntity(t, kind, nil)
			e.Spec = nil
			want := Problems{{Path: "spec", Message: "must have required property 'spec'"}}
			if diff := cmp.Diff(want, Validate(e)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
