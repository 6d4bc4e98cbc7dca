package filter

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFields(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []string
	}{
		{name: "none", values: nil, want: nil},
		{name: "only empties", values: []string{"", ",", " , "}, want: nil},
		{name: "single", values: []string{"kind"}, want: []string{"kind"}},
		{name: "comma-separated", values: []string{"kind,metadata.name"}, want: []string{"kind", "metadata.name"}},
		{name: "repeated and mixed, trimmed", values: []string{" kind , apiVersion", "metadata.name"}, want: []string{"kind", "apiVersion", "metadata.name"}},
		{name: "case kept", values: []string{"metadata.annotations.Backstage.io/Orphan"}, want: []string{"metadata.annotations.Backstage.io/Orphan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFields(tt.values)
			if err != nil {
				t.Fatalf("ParseFields(%q): %v", tt.values, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFields(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestParseFieldsErrors(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{name: "array index", values: []string{"metadata.tags[0]"}, want: `array type fields are not supported (got "metadata.tags[0]")`},
		{name: "array index in second", values: []string{"kind", "a,b[1]"}, want: `"b[1]"`},
		{name: "invalid UTF-8", values: []string{"kind\xff"}, want: "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFields(tt.values)
			checkInvalid(t, err, tt.want)
		})
	}
}

const testEntity = `{
  "apiVersion": "backstage.io/v1alpha1",
  "kind": "Component",
  "metadata": {
    "name": "n",
    "tags": ["t1", "t2"],
    "annotations": {
      "test.com/url-like": "ul1",
      "backstage.io/orphan": "true",
      "backstage.io": {"nested": "odd"},
      "esc\"aped": 1
    },
    "labels": null
  },
  "spec": {"type": "service", "owner": "team-a", "system": {"a.b": {"c": 1}, "a": {"b.c": 2, "b": {"d": 3}}}},
  "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}]
}`

func TestProject(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		want   string
	}{
		{name: "one top-level key", fields: []string{"kind"}, want: `{"kind":"Component"}`},
		{name: "keys in entity order", fields: []string{"kind", "apiVersion"}, want: `{"apiVersion":"backstage.io/v1alpha1","kind":"Component"}`},
		{name: "sub-selection", fields: []string{"kind", "metadata.name"}, want: `{"kind":"Component","metadata":{"name":"n"}}`},
		{
			name:   "whole subtree kept verbatim",
			fields: []string{"metadata.annotations"},
			want: `{"metadata":{"annotations":{
      "test.com/url-like": "ul1",
      "backstage.io/orphan": "true",
      "backstage.io": {"nested": "odd"},
      "esc\"aped": 1
    }}}`,
		},
		{name: "dotted key", fields: []string{"kind", "metadata.annotations.test.com/url-like"}, want: `{"kind":"Component","metadata":{"annotations":{"test.com/url-like":"ul1"}}}`},
		{name: "orphan annotation", fields: []string{"metadata.annotations.backstage.io/orphan"}, want: `{"metadata":{"annotations":{"backstage.io/orphan":"true"}}}`},
		{name: "shorter key when the longer one is absent", fields: []string{"metadata.annotations.backstage.io.nested"}, want: `{"metadata":{"annotations":{"backstage.io":{"nested":"odd"}}}}`},
		{name: "longest key first", fields: []string{"spec.system.a.b.c"}, want: `{"spec":{"system":{"a.b":{"c":1}}}}`},
		{name: "backtracks to a shorter key", fields: []string{"spec.system.a.b.d"}, want: `{"spec":{"system":{"a":{"b":{"d":3}}}}}`},
		{name: "escaped key", fields: []string{`metadata.annotations.esc"aped`}, want: `{"metadata":{"annotations":{"esc\"aped":1}}}`},
		{name: "null value kept", fields: []string{"metadata.labels"}, want: `{"metadata":{"labels":null}}`},
		{name: "array kept whole", fields: []string{"metadata.tags"}, want: `{"metadata":{"tags":["t1", "t2"]}}`},
		{name: "no descent into arrays", fields: []string{"metadata.tags.0", "relations.type"}, want: `{}`},
		{name: "missing paths ignored", fields: []string{"nope", "metadata.nope", "kind.x"}, want: `{}`},
		{name: "case-sensitive", fields: []string{"Kind"}, want: `{}`},
		{name: "whole wins over inner path", fields: []string{"metadata.name", "metadata", "metadata.tags"}, want: `{"metadata":` + metadataOf(t) + `}`},
		{name: "merged siblings", fields: []string{"spec.owner", "metadata.name", "spec.type"}, want: `{"metadata":{"name":"n"},"spec":{"type":"service","owner":"team-a"}}`},
		{name: "same field twice", fields: []string{"kind", "kind"}, want: `{"kind":"Component"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Project([]byte(testEntity), tt.fields)
			if err != nil {
				t.Fatalf("Project(%q): %v", tt.fields, err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Project(%q) mismatch (-want +got):\n%s", tt.fields, diff)
			}
			if !json.Valid(got) {
				t.Errorf("Project(%q) = %s, not valid JSON", tt.fields, got)
			}
		})
	}
}

// metadataOf returns the raw metadata value of testEntity.
func metadataOf(t *testing.T) string {
	var e struct{ Metadata json.RawMessage }
	if err := json.Unmarshal([]byte(testEntity), &e); err != nil {
		t.Fatal(err)
	}
	return string(e.Metadata)
}

func TestProjectEdges(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		fields []string
		want   string
	}{
		{name: "no fields: unchanged, even if invalid", in: `{not json`, fields: nil, want: `{not json`},
		{name: "non-object", in: ` [1,2] `, fields: []string{"a"}, want: `{}`},
		{name: "string", in: `"x"`, fields: []string{"a"}, want: `{}`},
		{name: "empty object", in: `{}`, fields: []string{"a"}, want: `{}`},
		{name: "duplicate key: last wins", in: `{"a":{"x":1},"a":{"y":2}}`, fields: []string{"a.y"}, want: `{"a":{"y":2}}`},
		{name: "duplicate key: earlier one not used", in: `{"a":{"x":1},"a":{"y":2}}`, fields: []string{"a.x"}, want: `{}`},
		{name: "empty key", in: `{"":{"":1}}`, fields: []string{"."}, want: `{"":{"":1}}`},
		{name: "whitespace around", in: " \n{ \"a\" : 1 , \"b\" : [ ] } \t", fields: []string{"b"}, want: `{"b":[ ]}`},
		{
			name:   "large object (indexed lookup), dotted, escaped and duplicate keys",
			in:     `{` + manyMembers(20) + `,"a.b":{"c":1},"\u0078":2,"k3":"last"}`,
			fields: []string{"a.b.c", "x", "k3", "k19"},
			want:   `{"k19":19,"a.b":{"c":1},"\u0078":2,"k3":"last"}`,
		},
		{name: "invalid UTF-8 copied", in: "{\"a\":\"\xff\"}", fields: []string{"a"}, want: "{\"a\":\"\xff\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Project([]byte(tt.in), tt.fields)
			if err != nil {
				t.Fatalf("Project(%q, %q): %v", tt.in, tt.fields, err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Project(%q, %q) mismatch (-want +got):\n%s", tt.in, tt.fields, diff)
			}
		})
	}
}

// manyMembers returns n members "k<i>": i, comma-separated.
func manyMembers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	return b.String()
}

func TestProjectInvalid(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"truncated", `{"a":1`},
		{"trailing data", `{"a":1} x`},
		{"two values", `{} {}`},
		{"bad value", `{"a":tru}`},
		{"trailing comma", `{"a":[1,]}`},
		{"bad number", `{"a":01}`},
		{"bad escape", `{"a":"\x"}`},
		{"control char", "{\"a\":\"\n\"}"},
		{"unclosed deep", `{"a":` + strings.Repeat("[", 100000)},
		{"mismatched", `{"a":[}`},
		{"non-object invalid", `[1,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Project([]byte(tt.in), []string{"a"})
			checkInvalid(t, err, "Invalid entity JSON")
			if got != nil {
				t.Errorf("got %q with the error, want nil", got)
			}
		})
	}
}

func TestProjectDeep(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `,"b":1}`
	got, err := Project([]byte(deep), []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"b":1}` {
		t.Errorf("got %s, want {\"b\":1}", got)
	}
}

func BenchmarkProject(b *testing.B) {
	entity := []byte(testEntity)
	fields := []string{"kind", "metadata.name", "metadata.annotations.backstage.io/orphan", "spec.owner"}
	b.SetBytes(int64(len(entity)))
	for b.Loop() {
		if _, err := Project(entity, fields); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProjectDecodeBaseline is what Project replaces: decoding the
// whole entity and encoding a subset. Compare with BenchmarkProject.
func BenchmarkProjectDecodeBaseline(b *testing.B) {
	entity := []byte(testEntity)
	b.SetBytes(int64(len(entity)))
	for b.Loop() {
		var e map[string]any
		if err := json.Unmarshal(entity, &e); err != nil {
			b.Fatal(err)
		}
		md := e["metadata"].(map[string]any)
		out := map[string]any{
			"kind": e["kind"],
			"metadata": map[string]any{
				"name":        md["name"],
				"annotations": map[string]any{"backstage.io/orphan": md["annotations"].(map[string]any)["backstage.io/orphan"]},
			},
			"spec": map[string]any{"owner": e["spec"].(map[string]any)["owner"]},
		}
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
}
