package entity

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// doc returns a minimal valid Component document; edit mutates it.
func doc(edit func(d map[string]any)) map[string]any {
	d := map[string]any{
		"apiVersion": "backstage.io/v1alpha1",
		"kind":       "Component",
		"metadata":   map[string]any{"name": "petstore"},
		"spec":       map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"},
	}
	if edit != nil {
		edit(d)
	}
	return d
}

func md(d map[string]any) map[string]any { return d["metadata"].(map[string]any) }

func TestFromMapValid(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want *Entity
	}{
		{
			name: "minimal",
			in:   doc(nil),
			want: &Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: Metadata{Name: "petstore"},
				Spec:     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"},
			},
		},
		{
			name: "full metadata, extra keys kept",
			in: doc(func(d map[string]any) {
				d["metadata"] = map[string]any{
					"name": "petstore", "namespace": "pets", "uid": "u", "etag": "e",
					"title": "Pet Store", "description": "",
					"labels":      map[string]any{"tier": "gold"},
					"annotations": map[string]any{"backstage.io/techdocs-ref": "dir:."},
					"tags":        []any{"java", "go"},
					"links":       []any{map[string]any{"url": "https://x.io", "title": "X", "icon": "dashboard", "type": "admin"}},
					"generation":  3,
					"custom":      map[string]any{"deep": []any{int64(1), true, nil}},
				}
			}),
			want: &Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: Metadata{
					Name: "petstore", Namespace: "pets", UID: "u", Etag: "e", Title: "Pet Store",
					Labels:      map[string]string{"tier": "gold"},
					Annotations: map[string]string{"backstage.io/techdocs-ref": "dir:."},
					Tags:        []string{"java", "go"},
					Links:       []Link{{URL: "https://x.io", Title: "X", Icon: "dashboard", Type: "admin"}},
					Extra:       map[string]any{"generation": float64(3), "custom": map[string]any{"deep": []any{float64(1), true, nil}}},
				},
				Spec: map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"},
			},
		},
		{
			name: "yaml.v3 shapes: ints, map[any]any, typed slices",
			in: doc(func(d map[string]any) {
				d["spec"] = map[string]any{
					"replicas": 3, "big": uint64(1 << 40), "ratio": float32(0.5),
					"byKey":  map[any]any{1: "one", true: "yes", "s": []string{"a"}},
					"labels": map[string]string{"k": "v"},
				}
			}),
			want: &Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: Metadata{Name: "petstore"},
				Spec: map[string]any{
					"replicas": float64(3), "big": float64(1 << 40), "ratio": float64(0.5),
					"byKey":  map[string]any{"1": "one", "true": "yes", "s": []any{"a"}},
					"labels": map[string]any{"k": "v"},
				},
			},
		},
		{
			name: "empty spec object is kept",
			in:   doc(func(d map[string]any) { d["spec"] = map[string]any{} }),
			want: &Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component", Metadata: Metadata{Name: "petstore"}, Spec: map[string]any{}},
		},
		{
			name: "no spec",
			in:   doc(func(d map[string]any) { delete(d, "spec") }),
			want: &Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component", Metadata: Metadata{Name: "petstore"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, probs := FromMap(tt.in)
			if probs != nil {
				t.Fatalf("FromMap: unexpected problems %v", probs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromMap mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFromMapJSONAndYAMLAgree checks that a document decoded by
// encoding/json gives the same entity as the same document with Go ints.
func TestFromMapJSONAndYAMLAgree(t *testing.T) {
	const src = `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"a","x":2},"spec":{"n":7,"l":[1,2]}}`
	var fromJSON map[string]any
	if err := json.Unmarshal([]byte(src), &fromJSON); err != nil {
		t.Fatal(err)
	}
	fromYAML := map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": "a", "x": 2},
		"spec":     map[string]any{"n": 7, "l": []any{1, 2}},
	}
	a, pa := FromMap(fromJSON)
	b, pb := FromMap(fromYAML)
	if pa != nil || pb != nil {
		t.Fatalf("problems: %v / %v", pa, pb)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("JSON and YAML shapes differ (-json +yaml):\n%s", diff)
	}
}

func TestFromMapProblems(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want Problems
	}{
		{
			name: "nil document",
			in:   nil,
			want: Problems{
				{Path: "apiVersion", Message: "must have required property 'apiVersion'"},
				{Path: "kind", Message: "must have required property 'kind'"},
				{Path: "metadata", Message: "must have required property 'metadata'"},
			},
		},
		{
			name: "unknown root fields, relations and status included",
			in: doc(func(d map[string]any) {
				d["relations"] = []any{}
				d["status"] = map[string]any{}
				d["zzz"] = 1
			}),
			want: Problems{
				{Path: "relations", Message: "Unknown field relations"},
				{Path: "status", Message: "Unknown field status"},
				{Path: "zzz", Message: "Unknown field zzz"},
			},
		},
		{
			name: "wrong root types",
			in: doc(func(d map[string]any) {
				d["apiVersion"] = 1
				d["kind"] = ""
				d["metadata"] = "petstore"
				d["spec"] = []any{}
			}),
			want: Problems{
				{Path: "apiVersion", Message: "must be string, found number"},
				{Path: "kind", Message: "must NOT have fewer than 1 characters, found an empty string"},
				{Path: "metadata", Message: "must be object, found string"},
				{Path: "spec", Message: "must be object, found array"},
			},
		},
		{
			name: "spec null",
			in:   doc(func(d map[string]any) { d["spec"] = nil }),
			want: Problems{{Path: "spec", Message: "must be object, found null"}},
		},
		{
			name: "metadata name missing",
			in:   doc(func(d map[string]any) { delete(md(d), "name") }),
			want: Problems{{Path: "metadata.name", Message: "must have required property 'name'"}},
		},
		{
			name: "metadata field types",
			in: doc(func(d map[string]any) {
				m := md(d)
				m["name"] = true
				m["namespace"] = ""
				m["title"] = nil
				m["description"] = 5
				m["uid"] = []any{}
				m["labels"] = map[string]any{"a": "ok", "b": 1, "c": nil}
				m["annotations"] = "x"
				m["tags"] = []any{"java", "", 3}
			}),
			want: Problems{
				{Path: "metadata.name", Message: "must be string, found boolean"},
				{Path: "metadata.namespace", Message: "must NOT have fewer than 1 characters, found an empty string"},
				{Path: "metadata.uid", Message: "must be string, found array"},
				{Path: "metadata.title", Message: "must be string, found null"},
				{Path: "metadata.description", Message: "must be string, found number"},
				{Path: "metadata.labels.b", Message: "must be string, found number"},
				{Path: "metadata.labels.c", Message: "must be string, found null"},
				{Path: "metadata.annotations", Message: "must be object, found string"},
				{Path: "metadata.tags.1", Message: "must NOT have fewer than 1 characters, found an empty string"},
				{Path: "metadata.tags.2", Message: "must be string, found number"},
			},
		},
		{
			name: "tags not an array",
			in:   doc(func(d map[string]any) { md(d)["tags"] = "java" }),
			want: Problems{{Path: "metadata.tags", Message: "must be array, found string"}},
		},
		{
			name: "links",
			in: doc(func(d map[string]any) {
				md(d)["links"] = []any{
					"https://x.io",
					map[string]any{"title": "no url"},
					map[string]any{"url": "", "title": "", "icon": 1, "type": false},
				}
			}),
			want: Problems{
				{Path: "metadata.links.0", Message: "must be object, found string"},
				{Path: "metadata.links.1.url", Message: "must have required property 'url'"},
				{Path: "metadata.links.2.url", Message: "must NOT have fewer than 1 characters, found an empty string"},
				{Path: "metadata.links.2.title", Message: "must NOT have fewer than 1 characters, found an empty string"},
				{Path: "metadata.links.2.icon", Message: "must be string, found number"},
				{Path: "metadata.links.2.type", Message: "must be string, found boolean"},
			},
		},
		{
			name: "values JSON cannot hold",
			in: doc(func(d map[string]any) {
				d["spec"] = map[string]any{
					"nan": math.NaN(), "inf": math.Inf(1),
					"ch":  make(chan int),
					"key": map[any]any{[2]int{1, 2}: "x"},
				}
				md(d)["extra"] = map[string]any{"f": func() {}}
			}),
			want: Problems{
				{Path: "metadata.extra.f", Message: "must be a JSON value, found unsupported value of Go type func()"},
				{Path: "spec.ch", Message: "must be a JSON value, found unsupported value of Go type chan int"},
				{Path: "spec.inf", Message: "must be a finite number, found +Inf"},
				{Path: "spec.key", Message: "object keys must be strings, found array"},
				{Path: "spec.nan", Message: "must be a finite number, found NaN"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, probs := FromMap(tt.in)
			if got == nil {
				t.Fatal("FromMap returned a nil entity")
			}
			if diff := cmp.Diff(tt.want, probs); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromMapHostile(t *testing.T) {
	t.Run("deep nesting is cut off, not recursed into", func(t *testing.T) {
		var v any = "leaf"
		for range 100_000 {
			v = []any{v}
		}
		_, probs := FromMap(doc(func(d map[string]any) { d["spec"] = map[string]any{"x": v} }))
		if len(probs) != 1 || !strings.Contains(probs[0].Message, "nested deeper than") {
			t.Fatalf("got %v, want one nesting problem", probs)
		}
	})
	t.Run("cyclic value terminates", func(t *testing.T) {
		cyc := map[string]any{}
		cyc["a"], cyc["b"] = cyc, cyc
		_, probs := FromMap(doc(func(d map[string]any) { d["spec"] = cyc }))
		want := Problems{
			{Path: "spec.a", Message: "value contains itself (a cycle)"},
			{Path: "spec.b", Message: "value contains itself (a cycle)"},
		}
		if diff := cmp.Diff(want, probs); diff != "" {
			t.Errorf("problems mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("shared but acyclic value is fine", func(t *testing.T) {
		shared := map[string]any{"k": []any{"v"}}
		_, probs := FromMap(doc(func(d map[string]any) {
			d["spec"] = map[string]any{"a": shared, "b": shared, "c": []any{shared, shared}}
		}))
		if probs != nil {
			t.Fatalf("FromMap: %v", probs)
		}
	})
	t.Run("very long strings are kept for Validate to judge", func(t *testing.T) {
		long := strings.Repeat("a", 1<<20)
		e, probs := FromMap(doc(func(d map[string]any) { md(d)["name"] = long }))
		if probs != nil {
			t.Fatalf("FromMap: %v", probs)
		}
		vp := Validate(e)
		if len(vp) != 1 || vp[0].Path != "metadata.name" || len(vp[0].Message) > 1000 {
			t.Fatalf("Validate: got %d problems, first message %d bytes; want one short metadata.name problem", len(vp), len(vp[0].Message))
		}
	})
}
