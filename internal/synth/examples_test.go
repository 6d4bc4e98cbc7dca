package synth

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// TestExamples holds examples/ to the same rules as the generated
// organisation: valid names and tags, required fields present, every
// reference resolving, both sides of each pair written.
func TestExamples(t *testing.T) {
	ents := loadTree(t, "../../examples/all.yaml")
	if problems := checkCatalog(ents); len(problems) > 0 {
		t.Errorf("problems in examples/:\n%s", strings.Join(problems, "\n"))
	}
	want := map[string]int{"Location": 1, "Group": 10, "User": 12, "Domain": 3, "System": 5, "Component": 13, "API": 4, "Resource": 10, "Template": 3}
	if diff := cmp.Diff(want, countKinds(ents)); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	var apiTypes []string
	for _, e := range ents {
		if e.kind == "API" {
			apiTypes = append(apiTypes, e.spec()["type"].(string))
			def := e.spec()["definition"].(string)
			if len(def) < 500 {
				t.Errorf("API %s: definition is only %d bytes", e.name, len(def))
			}
		}
	}
	if diff := cmp.Diff([]string{"openapi", "grpc", "asyncapi", "graphql"}, apiTypes); diff != "" {
		t.Errorf("API types (-want +got):\n%s", diff)
	}
}

// TestBrokenExamples checks that each file in examples/broken/ is broken
// in the way its header comment says, on the line it says.
func TestBrokenExamples(t *testing.T) {
	data, err := os.ReadFile("../../examples/broken/syntax-error.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var n yaml.Node
	err = yaml.Unmarshal(data, &n)
	if err == nil || !strings.Contains(err.Error(), "line 9:") {
		t.Errorf("syntax-error.yaml: err = %v, want yaml.v3's \"line 9\" (the file's line 10)", err)
	}
	if lines := strings.Split(string(data), "\n"); !strings.HasPrefix(lines[9], "  tags: [go, kafka") {
		t.Errorf("syntax-error.yaml line 10 = %q, want the unclosed sequence", lines[9])
	}

	tests := []struct {
		file string
		want string
		line int // of the offending key
	}{
		{"missing-owner.yaml", "Component depot-scanner-gateway: missing spec.owner", 10},
		{"bad-name.yaml", "Component Parcel Weigher!: invalid name", 9},
		{"bad-name.yaml", "Component Parcel Weigher!: invalid tag Hardware", 10},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			path := "../../examples/broken/" + tt.file
			ents := parseFile(t, path)
			problems := strings.Join(checkCatalog(ents), "\n")
			if !strings.Contains(problems, tt.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", problems, tt.want)
			}
			var doc yaml.Node
			data, _ := os.ReadFile(path)
			dec := yaml.NewDecoder(bytes.NewReader(data))
			if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte("line "+itoa(tt.line))) {
				t.Errorf("%s: header does not mention line %d", tt.file, tt.line)
			}
			if got := lineOf(doc.Content[0], tt.want); got != tt.line {
				t.Errorf("%s: offending key is on line %d, the test expects %d", tt.file, got, tt.line)
			}
		})
	}
}

// lineOf finds the line of the key the problem is about: spec for a missing
// field, metadata.name or metadata.tags otherwise.
func lineOf(root *yaml.Node, problem string) int {
	find := func(m *yaml.Node, key string) *yaml.Node {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i]
			}
		}
		return nil
	}
	switch {
	case strings.Contains(problem, "missing spec"):
		return find(root, "spec").Line
	case strings.Contains(problem, "invalid tag"):
		return find(root.Content[5], "tags").Line
	default:
		return find(root.Content[5], "name").Line
	}
}

func itoa(i int) string {
	b, _ := yaml.Marshal(i)
	return strings.TrimSpace(string(b))
}
