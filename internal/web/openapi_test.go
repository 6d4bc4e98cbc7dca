package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// exampleDefinition reads spec.definition of an example API file.
func exampleDefinition(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir(), "apis", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Spec struct {
			Definition string `yaml:"definition"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Spec.Definition
}

func TestRenderOpenAPIExample(t *testing.T) {
	v, err := renderOpenAPI(exampleDefinition(t, "shipments-api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Title != "Shipments API" || v.Version != "2.4.0" || len(v.Servers) != 1 {
		t.Errorf("info: %q %q %v", v.Title, v.Version, v.Servers)
	}
	var groups []string
	for _, g := range v.Groups {
		var ops []string
		for _, op := range g.Ops {
			ops = append(ops, op.Method+" "+op.Path)
		}
		groups = append(groups, g.Name+": "+strings.Join(ops, ", "))
	}
	want := []string{
		"shipments: GET /shipments, POST /shipments, GET /shipments/{trackingNumber}",
		"tracking: GET /shipments/{trackingNumber}/events",
	}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	get := v.Groups[0].Ops[2]
	if len(get.Params) != 1 || get.Params[0].Name != "trackingNumber" || !get.Params[0].Required || get.Params[0].Example != "AL0012345678" {
		t.Errorf("path parameter of getShipment: %+v", get.Params)
	}
	create := v.Groups[0].Ops[1]
	if create.Body == nil || !create.Body.Required || len(create.Body.Contents) != 1 {
		t.Fatalf("createShipment body: %+v", create.Body)
	}
	body := create.Body.Contents[0]
	if body.Schema.Type != "NewShipment" || body.ExampleNote != "Example" || !strings.Contains(codeText(body.Example), `"weightGrams": 1200`) {
		t.Errorf("createShipment body: type %q, note %q, example %q", body.Schema.Type, body.ExampleNote, codeText(body.Example))
	}
	var props []string
	for _, p := range body.Schema.Properties {
		props = append(props, p.Name+":"+p.Type)
	}
	if diff := cmp.Diff([]string{"sender:Address", "recipient:Address", "weightGrams:integer"}, props); diff != "" {
		t.Errorf("NewShipment properties (-want +got):\n%s", diff)
	}
	// Shipment is allOf [NewShipment, {...}]: the properties merge.
	resp := create.Responses[0].Contents[0]
	if n := len(resp.Schema.Properties); n != 7 {
		t.Errorf("Shipment (allOf) has %d properties, want 7", n)
	}
	if !strings.Contains(codeText(resp.Example), `"trackingNumber": "AL0012345678"`) || resp.ExampleNote != "Example generated from the schema" {
		t.Errorf("generated example: %s", codeText(resp.Example))
	}
	if len(v.Schemas) != 6 {
		t.Errorf("%d named schemas, want 6", len(v.Schemas))
	}
}

// codeText is the text of a code view.
func codeText(c codeView) string {
	var sb strings.Builder
	for i, l := range c.Lines {
		if i > 0 {
			sb.WriteByte('\n')
		}
		for _, t := range l.Tokens {
			sb.WriteString(t.Text)
		}
	}
	return sb.String()
}

func TestRenderOpenAPIEdgeCases(t *testing.T) {
	tests := []struct {
		name, doc string
		check     func(t *testing.T, v *openAPIView)
		wantErr   string
	}{
		{name: "not openapi", doc: "asyncapi: 3.0.0\n", wantErr: "not an OpenAPI"},
		{name: "not yaml", doc: "{", wantErr: "yaml"},
		{name: "scalar", doc: "hello", wantErr: "not a YAML or JSON object"},
		{
			name: "recursive schema",
			doc: `openapi: 3.1.0
paths:
  /n:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Node'}
components:
  schemas:
    Node:
      type: object
      properties:
        children: {type: array, items: {$ref: '#/components/schemas/Node'}}
`,
			check: func(t *testing.T, v *openAPIView) {
				s := v.Groups[0].Ops[0].Responses[0].Contents[0].Schema
				items := s.Properties[0].Items
				if !items.Recursive || items.Type != "Node" {
					t.Errorf("recursive items: %+v", items)
				}
				if v.Groups[0].Name != "default" {
					t.Errorf("untagged group %q", v.Groups[0].Name)
				}
			},
		},
		{
			name: "swagger 2",
			doc: `swagger: "2.0"
host: api.example.com
basePath: /v1
paths:
  /pets:
    post:
      tags: [pets]
      parameters:
        - {name: body, in: body, required: true, schema: {$ref: '#/definitions/Pet'}}
        - {name: dry, in: query, type: boolean}
      responses:
        '201': {description: created, schema: {$ref: '#/definitions/Pet'}}
definitions:
  Pet: {type: object, required: [name], properties: {name: {type: string}}}
`,
			check: func(t *testing.T, v *openAPIView) {
				op := v.Groups[0].Ops[0]
				if v.Servers[0] != "https://api.example.com/v1" {
					t.Errorf("servers %v", v.Servers)
				}
				if op.Body == nil || op.Body.Contents[0].Schema.Type != "Pet" || !op.Body.Contents[0].Schema.Properties[0].Required {
					t.Errorf("body %+v", op.Body)
				}
				if len(op.Params) != 1 || op.Params[0].Type != "boolean" {
					t.Errorf("params %+v", op.Params)
				}
				if len(op.Responses[0].Contents) != 1 {
					t.Errorf("responses %+v", op.Responses)
				}
			},
		},
		{
			name: "alias bomb stays bounded",
			doc: "openapi: 3.0.0\ncomponents:\n  schemas:\n    a: &a {type: object, properties: {x: {type: string}}}\n" +
				"    b: &b {type: object, properties: {p1: *a, p2: *a, p3: *a, p4: *a}}\n" +
				"    c: &c {type: object, properties: {p1: *b, p2: *b, p3: *b, p4: *b}}\n" +
				"    d: &d {type: object, properties: {p1: *c, p2: *c, p3: *c, p4: *c}}\n" +
				"    e: {type: object, properties: {p1: *d, p2: *d, p3: *d, p4: *d}}\n",
			check: func(t *testing.T, v *openAPIView) {
				if len(v.Schemas) != 5 {
					t.Errorf("%d schemas", len(v.Schemas))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := renderOpenAPI(tt.doc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, v)
		})
	}
}

func FuzzRenderOpenAPI(f *testing.F) {
	f.Add("openapi: 3.0.0\npaths: {/a: {get: {responses: {'200': {description: x}}}}}\n")
	f.Add(`{"swagger":"2.0","paths":{"/a":{"get":{"parameters":[{"in":"body","schema":{"$ref":"#/definitions/x"}}]}}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		if v, err := renderOpenAPI(doc); err == nil && v == nil {
			t.Fatal("nil view without error")
		}
	})
}
