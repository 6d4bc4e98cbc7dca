package entity

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// createAppExamples are the example entities @backstage/create-app ships
// (examples/entities.yaml, org.yaml, template/template.yaml), decoded with
// yaml.v3 as the catalog's reader does.
const createAppExamples = `
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: examples
spec:
  owner: guests
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: example-website
spec:
  type: website
  lifecycle: experimental
  owner: guests
  system: examples
  providesApis: [example-grpc-api]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: example-grpc-api
spec:
  type: grpc
  lifecycle: experimental
  owner: guests
  system: examples
  definition: |
    syntax = "proto3";

    service Exampler {
      rpc Example (ExampleMessage) returns (ExampleMessage) {};
    }

    message ExampleMessage {
      string example = 1;
    };
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: guest
spec:
  memberOf: [guests]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: guests
spec:
  type: team
  children: []
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: example-nodejs-template
  title: Example Node.js Template
  description: An example template for the scaffolder that creates a simple Node.js service
spec:
  owner: user:guest
  type: service
  parameters:
    - title: Fill in some steps
      required:
        - name
      properties:
        name:
          title: Name
          type: string
          description: Unique name of the component
          ui:autofocus: true
          ui:options:
            rows: 5
    - title: Choose a location
      required:
        - repoUrl
      properties:
        repoUrl:
          title: Repository Location
          type: string
          ui:field: RepoUrlPicker
          ui:options:
            allowedHosts:
              - github.com
  steps:
    - id: fetch-base
      name: Fetch Base
      action: fetch:template
      input:
        url: ./content
        values:
          name: ${{ parameters.name }}
    - id: publish
      name: Publish
      action: publish:github
      input:
        allowedHosts: ['github.com']
        description: This is ${{ parameters.name }}
        repoUrl: ${{ parameters.repoUrl }}
    - id: register
      name: Register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps['publish'].output.repoContentsUrl }}
        catalogInfoPath: '/catalog-info.yaml'
  output:
    links:
      - title: Repository
        url: ${{ steps['publish'].output.remoteUrl }}
      - title: Open in catalog
        icon: catalog
        entityRef: ${{ steps['register'].output.entityRef }}
`

func TestCreateAppExamples(t *testing.T) {
	dec := yaml.NewDecoder(strings.NewReader(createAppExamples))
	var got []string
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		e, probs := FromMap(doc)
		if probs != nil {
			t.Fatalf("FromMap(%v): %v", doc["metadata"], probs)
		}
		if probs := Validate(e); probs != nil {
			t.Fatalf("Validate(%s): %v", e.Ref(), probs)
		}
		edges, probs := EmitRelations(e, nil)
		if probs != nil {
			t.Fatalf("EmitRelations(%s): %v", e.Ref(), probs)
		}
		for _, ed := range edges {
			got = append(got, ed.Source.Key()+" "+string(ed.Type)+" "+ed.Target.Key())
		}
	}
	slices.Sort(got)
	want := []string{
		"api:default/example-grpc-api apiProvidedBy component:default/example-website",
		"api:default/example-grpc-api ownedBy group:default/guests",
		"api:default/example-grpc-api partOf system:default/examples",
		"component:default/example-website ownedBy group:default/guests",
		"component:default/example-website partOf system:default/examples",
		"component:default/example-website providesApi api:default/example-grpc-api",
		"group:default/guests hasMember user:default/guest",
		"group:default/guests ownerOf api:default/example-grpc-api",
		"group:default/guests ownerOf component:default/example-website",
		"group:default/guests ownerOf system:default/examples",
		"system:default/examples hasPart api:default/example-grpc-api",
		"system:default/examples hasPart component:default/example-website",
		"system:default/examples ownedBy group:default/guests",
		"template:default/example-nodejs-template ownedBy user:default/guest",
		"user:default/guest memberOf group:default/guests",
		"user:default/guest ownerOf template:default/example-nodejs-template",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("relations mismatch (-want +got):\n%s", diff)
	}
}
