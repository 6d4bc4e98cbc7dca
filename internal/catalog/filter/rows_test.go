package filter

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSearchRows(t *testing.T) {
	long := strings.Repeat("x", MaxValueLen+1)
	atLimit := strings.Repeat("y", MaxValueLen)
	longKey := strings.Repeat("k", maxSearchKey)
	tests := []struct {
		name string
		body string
		want []SearchRow
	}{
		{
			name: "everything",
			body: `{"apiVersion":"backstage.io/v1alpha1","kind":"Component",
				"metadata":{"name":"Svc","uid":"u-1","etag":"e-1","tags":["Go","java"],
					"description":"` + long + `","title":"` + atLimit + `",
					"links":[{"url":"https://Example.com","title":"Home"}],
					"annotations":{"backstage.io/orphan":"true"}},
				"spec":{"type":"service","replicas":3,"enabled":true,"nothing":null,"` + longKey + `":"dropped"},
				"relations":[{"type":"ownedBy","targetRef":"group:default/team-a"},{"type":"dependsOn","targetRef":"component:default/b"}],
				"status":{"items":[{"type":"x","level":"error","message":"m"}]}}`,
			want: []SearchRow{
				{Key: "apiversion", Value: "backstage.io/v1alpha1", First: 1},
				{Key: "kind", Value: "component", Original: "Component", First: 1},
				{Key: "metadata.annotations.backstage.io/orphan", Value: "true", First: 1},
				{Key: "metadata.description", Value: LongValue}, // existence only, never first
				{Key: "metadata.links.title", Value: "home", Original: "Home", First: 1},
				{Key: "metadata.links.url", Value: "https://example.com", Original: "https://Example.com", First: 1},
				{Key: "metadata.name", Value: "svc", Original: "Svc", First: 1},
				{Key: "metadata.namespace", Value: "default", First: 1},
				{Key: "metadata.tags", Value: "go", Original: "Go", First: 1},
				{Key: "metadata.tags", Value: "java"},
				{Key: "metadata.tags.go", Value: "true", First: 1},
				{Key: "metadata.tags.java", Value: "true", First: 1},
				{Key: "metadata.title", Value: atLimit, First: 1},
				{Key: "metadata.uid", Value: "u-1", First: 1},
				{Key: "relations.dependson", Value: "component:default/b", First: 1},
				{Key: "relations.ownedby", Value: "group:default/team-a", First: 1},
				{Key: "spec.enabled", Value: "true", First: 1},
				{Key: "spec.nothing", Value: LongValue},
				{Key: "spec.replicas", Value: "3", First: 1},
				{Key: "spec.type", Value: "service", First: 1},
			},
		},
		{
			name: "explicit namespace, first is the least value",
			body: `{"kind":"Group","metadata":{"name":"g","namespace":"Ops"},
				"spec":{"members":["zed","amy","Bob"],"matrix":[["a","b"],["c"]]}}`,
			want: []SearchRow{
				{Key: "kind", Value: "group", Original: "Group", First: 1},
				{Key: "metadata.name", Value: "g", First: 1},
				{Key: "metadata.namespace", Value: "ops", Original: "Ops", First: 1},
				{Key: "spec.matrix", Value: "a", First: 1},
				{Key: "spec.matrix", Value: "b"},
				{Key: "spec.matrix", Value: "c"},
				{Key: "spec.matrix.a", Value: "true", First: 1},
				{Key: "spec.matrix.b", Value: "true", First: 1},
				{Key: "spec.matrix.c", Value: "true", First: 1},
				{Key: "spec.members", Value: "amy", First: 1},
				{Key: "spec.members", Value: "bob", Original: "Bob"},
				{Key: "spec.members", Value: "zed"},
				{Key: "spec.members.amy", Value: "true", First: 1},
				{Key: "spec.members.bob", Value: "true", First: 1},
				{Key: "spec.members.zed", Value: "true", First: 1},
			},
		},
		{
			name: "duplicate relation targets give one row",
			body: `{"kind":"User","metadata":{"name":"u"},"relations":[
				{"type":"memberOf","targetRef":"group:default/a"},{"type":"memberOf","targetRef":"group:default/a"},
				{"type":"memberOf","targetRef":"group:default/b"},{"type":"","targetRef":"x"},{"type":"t"}]}`,
			want: []SearchRow{
				{Key: "kind", Value: "user", Original: "User", First: 1},
				{Key: "metadata.name", Value: "u", First: 1},
				{Key: "metadata.namespace", Value: "default", First: 1},
				{Key: "relations.memberof", Value: "group:default/a", First: 1},
				{Key: "relations.memberof", Value: "group:default/b"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SearchRows([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SearchRows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchRowsErrors(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"kind":`, `"x"`} {
		if _, err := SearchRows([]byte(body)); err == nil {
			t.Errorf("SearchRows(%q) = nil error", body)
		}
	}
	// Hostile depth is bounded, not a stack overflow.
	deep := strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000)
	if _, err := SearchRows([]byte(`{"spec":` + deep + `}`)); err != nil {
		t.Logf("deep document: %v", err) // an error is fine; a crash is not
	}
}
