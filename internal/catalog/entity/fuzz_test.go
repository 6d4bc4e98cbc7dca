package entity

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func FuzzFromMap(f *testing.F) {
	for kind, v := range validSpecs {
		b, err := json.Marshal(map[string]any{
			"apiVersion": v.apiVersion, "kind": kind,
			"metadata": map[string]any{
				"name": "x", "labels": map[string]any{"a": "b"}, "tags": []any{"t"},
				"links": []any{map[string]any{"url": "https://x.io"}}, "extra": 1,
			},
			"spec": v.spec,
		})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `{"apiVersion":1}`, `{"metadata":{"name":"<script>"},"kind":"Component","apiVersion":"backstage.io/v1alpha1","spec":{"owner":"a:/b"}}`,
		`{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"g","namespace":""},"spec":{"children":null,"members":[1,{}]}}`,
		`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"c"},"spec":{"dependsOn":["x","k:y"],"providesApis":"z"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return
		}
		e, probs := FromMap(doc)
		if e == nil {
			t.Fatal("FromMap returned nil")
		}
		vprobs := Validate(e)
		edges, _ := EmitRelations(e, nil) // must not panic, even on an invalid entity
		if probs != nil || vprobs != nil {
			return
		}
		for _, ed := range edges {
			if ed.Source.Name == "" || ed.Target.Name == "" || ed.Source.Kind == "" || ed.Target.Kind == "" || ed.Type == "" {
				t.Fatalf("incomplete edge %#v", ed)
			}
		}
		// A valid entity's JSON must read back as the same entity.
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal a valid entity: %v", err)
		}
		var back map[string]any
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		e2, probs2 := FromMap(back)
		if probs2 != nil {
			t.Fatalf("re-reading %s: %v", out, probs2)
		}
		if p := Validate(e2); p != nil {
			t.Fatalf("re-validating %s: %v", out, p)
		}
		if diff := cmp.Diff(e, e2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip through JSON changed the entity (-first +second):\n%s", diff)
		}
	})
}
