package entity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEmitRelations(t *testing.T) {
	both := func(self Ref, out RelationType, target Ref) []Edge {
		in, ok := Reverse(out)
		if !ok {
			t.Fatalf("no reverse for %s", out)
		}
		return []Edge{{Source: self, Type: out, Target: target}, {Source: target, Type: in, Target: self}}
	}
	cat := func(groups ...[]Edge) []Edge {
		var out []Edge
		for _, g := range groups {
			out = append(out, g...)
		}
		return out
	}
	ref := func(kind, ns, name string) Ref { return Ref{Kind: kind, Namespace: ns, Name: name} }

	tests := []struct {
		name      string
		kind      string
		spec      map[string]any
		wantEdges []Edge
		wantProbs Problems
	}{
		{
			name: "Component: every field, defaults from the entity's namespace",
			kind: KindComponent,
			spec: map[string]any{
				"type": "service", "lifecycle": "production",
				"owner":          "team-a",
				"subcomponentOf": "parent",
				"providesApis":   []any{"api-a"},
				"consumesApis":   []any{"api-b"},
				"dependsOn":      []any{"resource:db"},
				"dependencyOf":   []any{"component:web"},
				"system":         "sys",
			},
			wantEdges: cat(
				both(ref("Component", "ns", "x"), RelationOwnedBy, ref("Group", "ns", "team-a")),
				both(ref("Component", "ns", "x"), RelationPartOf, ref("Component", "ns", "parent")),
				both(ref("Component", "ns", "x"), RelationProvidesAPI, ref("API", "ns", "api-a")),
				both(ref("Component", "ns", "x"), RelationConsumesAPI, ref("API", "ns", "api-b")),
				both(ref("Component", "ns", "x"), RelationDependsOn, ref("resource", "ns", "db")),
				both(ref("Component", "ns", "x"), RelationDependencyOf, ref("component", "ns", "web")),
				both(ref("Component", "ns", "x"), RelationPartOf, ref("System", "ns", "sys")),
			),
		},
		{
			name: "Component: cross-namespace and explicit kinds win",
			kind: KindComponent,
			spec: map[string]any{
				"type": "service", "lifecycle": "production",
				"owner":        "user:other/jdoe",
				"providesApis": []any{"shared/api-a", "api:team/api-b"},
				"system":       "platform/sys",
			},
			wantEdges: cat(
				both(ref("Component", "ns", "x"), RelationOwnedBy, ref("user", "other", "jdoe")),
				both(ref("Component", "ns", "x"), RelationProvidesAPI, ref("API", "shared", "api-a")),
				both(ref("Component", "ns", "x"), RelationProvidesAPI, ref("api", "team", "api-b")),
				both(ref("Component", "ns", "x"), RelationPartOf, ref("System", "platform", "sys")),
			),
		},
		{
			name: "Component: dependsOn and dependencyOf need a kind",
			kind: KindComponent,
			spec: map[string]any{
				"type": "service", "lifecycle": "production", "owner": "team-a",
				"dependsOn":    []any{"resource:db", "db2", "other/db3"},
				"dependencyOf": []any{"web"},
			},
			wantEdges: cat(
				both(ref("Component", "ns", "x"), RelationOwnedBy, ref("Group", "ns", "team-a")),
				both(ref("Component", "ns", "x"), RelationDependsOn, ref("resource", "ns", "db")),
			),
			wantProbs: Problems{
				{Path: "spec.dependsOn.1", Message: `entity reference "db2" had missing or empty kind (e.g. did not start with "component:" or similar)`},
				{Path: "spec.dependsOn.2", Message: `entity reference "other/db3" had missing or empty kind (e.g. did not start with "component:" or similar)`},
				{Path: "spec.dependencyOf.0", Message: `entity reference "web" had missing or empty kind (e.g. did not start with "component:" or similar)`},
			},
		},
		{
			name: "Component: duplicates are dropped",
			kind: KindComponent,
			spec: map[string]any{
				"type": "service", "lifecycle": "production", "owner": "group:ns/team-a",
				"providesApis": []any{"api-a", "API:ns/api-a", "api:NS/API-A"},
			},
			wantEdges: cat(
				both(ref("Component", "ns", "x"), RelationOwnedBy, ref("group", "ns", "team-a")),
				both(ref("Component", "ns", "x"), RelationProvidesAPI, ref("API", "ns", "api-a")),
			),
		},
		{
			name: "Component: bad refs and bad types are problems",
			kind: KindComponent,
			spec: map[string]any{
				"type": "service", "lifecycle": "production", "owner": 3.0,
				"providesApis": []any{"", "k:/x", 1.0},
			},
			wantProbs: Problems{
				{Path: "spec.owner", Message: "must be string or array of strings, found number"},
				{Path: "spec.providesApis.0", Message: "entity reference must not be empty"},
				{Path: "spec.providesApis.1", Message: `entity reference "k:/x" was not on the form [<kind>:][<namespace>/]<name>`},
				{Path: "spec.providesApis.2", Message: "must be string, found number"},
			},
		},
		{
			name: "API",
			kind: KindAPI,
			spec: map[string]any{"type": "openapi", "lifecycle": "production", "definition": "x", "owner": "team-a", "system": "sys"},
			wantEdges: cat(
				both(ref("API", "ns", "x"), RelationOwnedBy, ref("Group", "ns", "team-a")),
				both(ref("API", "ns", "x"), RelationPartOf, ref("System", "ns", "sys")),
			),
		},
		{
			name: "Resource",
			kind: KindResource,
			spec: map[string]any{"type": "database", "owner": "team-a", "dependsOn": []any{"resource:other/db"}, "dependencyOf": []any{"component:web"}, "system": "sys"},
			wantEdges: cat(
				both(ref("Resource", "ns", "x"), RelationOwnedBy, ref("Group", "ns", "team-a")),
				both(ref("Resource", "ns", "x"), RelationDependsOn, ref("resource", "other", "db")),
				both(ref("Resource", "ns", "x"), RelationDependencyOf, ref("component", "ns", "web")),
				both(ref("Resource", "ns", "x"), RelationPartOf, ref("System", "ns", "sys")),
			),
		},
		{
			name: "System",
			kind: KindSystem,
			spec: map[string]any{"owner": "team-a", "domain": "dom"},
			wantEdges: cat(
				both(ref("System", "ns", "x"), RelationOwnedBy, ref("Group", "ns", "team-a")),
				both(ref("System", "ns", "x"), RelationPartOf, ref("Domain", "ns", "dom")),
			),
		},
		{
			name: "Domain",
			kind: KindDomain,
			spec: map[string]any{"owner": "team-a", "subdomainOf": "parent"},
			wantEdges: cat(
				both(ref("Domain", "ns", "x"), RelationOwnedBy, ref("Group", "ns", "team-a")),
				both(ref("Domain", "ns", "x"), RelationPartOf, ref("Domain", "ns", "parent")),
			),
		},
		{
			name: "User",
			kind: KindUser,
			spec: map[string]any{"memberOf": []any{"team-a", "group:default/guests"}},
			wantEdges: cat(
				both(ref("User", "ns", "x"), RelationMemberOf, ref("Group", "ns", "team-a")),
				both(ref("User", "ns", "x"), RelationMemberOf, ref("group", "default", "guests")),
			),
		},
		{
			name: "User with no groups",
			kind: KindUser,
			spec: map[string]any{"memberOf": []any{}},
		},
		{
			name: "Group",
			kind: KindGroup,
			spec: map[string]any{"type": "team", "parent": "ops", "children": []any{"sub"}, "members": []any{"jdoe"}},
			wantEdges: cat(
				both(ref("Group", "ns", "x"), RelationChildOf, ref("Group", "ns", "ops")),
				both(ref("Group", "ns", "x"), RelationParentOf, ref("Group", "ns", "sub")),
				both(ref("Group", "ns", "x"), RelationHasMember, ref("User", "ns", "jdoe")),
			),
		},
		{
			name: "Location declares none",
			kind: KindLocation,
			spec: map[string]any{"type": "url", "target": "https://x/catalog-info.yaml"},
		},
		{
			name:      "Template owner",
			kind:      KindTemplate,
			spec:      map[string]any{"type": "service", "steps": []any{}, "owner": "user:guest"},
			wantEdges: both(ref("Template", "ns", "x"), RelationOwnedBy, ref("user", "ns", "guest")),
		},
		{
			name:      "Template owner defaults to Group",
			kind:      KindTemplate,
			spec:      map[string]any{"type": "service", "steps": []any{}, "owner": "team-a"},
			wantEdges: both(ref("Template", "ns", "x"), RelationOwnedBy, ref("Group", "ns", "team-a")),
		},
		{
			name:      "empty optional string is skipped as Backstage does",
			kind:      KindSystem,
			spec:      map[string]any{"owner": "team-a", "domain": ""},
			wantEdges: both(ref("System", "ns", "x"), RelationOwnedBy, ref("Group", "ns", "team-a")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apiVersion := APIVersionV1alpha1
			if tt.kind == KindTemplate {
				apiVersion = APIVersionScaffolderV1beta3
			}
			e := &Entity{APIVersion: apiVersion, Kind: tt.kind, Metadata: Metadata{Name: "x", Namespace: "ns"}, Spec: tt.spec}
			edges, probs := EmitRelations(e, nil)
			if diff := cmp.Diff(tt.wantEdges, edges); diff != "" {
				t.Errorf("edges mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantProbs, probs); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmitRelationsDefaultNamespace(t *testing.T) {
	e := &Entity{APIVersion: APIVersionV1alpha1, Kind: KindSystem, Metadata: Metadata{Name: "s"}, Spec: map[string]any{"owner": "t"}}
	edges, _ := EmitRelations(e, BuiltinKinds())
	want := []Edge{
		{Source: Ref{"System", "default", "s"}, Type: RelationOwnedBy, Target: Ref{"Group", "default", "t"}},
		{Source: Ref{"Group", "default", "t"}, Type: RelationOwnerOf, Target: Ref{"System", "default", "s"}},
	}
	if diff := cmp.Diff(want, edges); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestEmitRelationsUnknownKind(t *testing.T) {
	for _, e := range []*Entity{
		nil,
		{APIVersion: "example.com/v1", Kind: "Widget", Metadata: Metadata{Name: "w"}, Spec: map[string]any{"owner": "t"}},
		{APIVersion: "backstage.io/v2", Kind: KindComponent, Metadata: Metadata{Name: "w"}, Spec: map[string]any{"owner": "t"}},
	} {
		edges, probs := EmitRelations(e, nil)
		if edges != nil || probs != nil {
			t.Errorf("EmitRelations(%v) = %v, %v; want nothing", e, edges, probs)
		}
	}
}

func TestEmitRelationsCustomKind(t *testing.T) {
	r := BuiltinKinds()
	r.Register(KindDef{
		Kind: "Widget", APIVersions: []string{"example.com/v1"},
		Relations: func(e *Entity) ([]Edge, Problems) {
			rel := newRelations(e)
			rel.emit("owner", KindGroup, RelationOwnedBy, RelationOwnerOf)
			rel.emit("owner", KindGroup, RelationOwnedBy, RelationOwnerOf) // duplicate, dropped
			return rel.result()
		},
	})
	e := &Entity{APIVersion: "example.com/v1", Kind: "Widget", Metadata: Metadata{Name: "w"}, Spec: map[string]any{"owner": "t"}}
	edges, probs := EmitRelations(e, r)
	if len(edges) != 2 || probs != nil {
		t.Errorf("got %v, %v; want 2 edges", edges, probs)
	}
}

func TestReverse(t *testing.T) {
	pairs := [][2]RelationType{
		{RelationOwnedBy, RelationOwnerOf},
		{RelationPartOf, RelationHasPart},
		{RelationDependsOn, RelationDependencyOf},
		{RelationProvidesAPI, RelationAPIProvidedBy},
		{RelationConsumesAPI, RelationAPIConsumedBy},
		{RelationMemberOf, RelationHasMember},
		{RelationParentOf, RelationChildOf},
	}
	for _, p := range pairs {
		for _, dir := range [][2]RelationType{{p[0], p[1]}, {p[1], p[0]}} {
			got, ok := Reverse(dir[0])
			if !ok || got != dir[1] {
				t.Errorf("Reverse(%s) = %s, %v; want %s", dir[0], got, ok, dir[1])
			}
		}
	}
	if _, ok := Reverse("leads"); ok {
		t.Error("Reverse of an unknown type must report false")
	}
	if len(relationPairs) != 2*len(pairs) {
		t.Errorf("relationPairs has %d entries, the test knows %d", len(relationPairs), 2*len(pairs))
	}
}
