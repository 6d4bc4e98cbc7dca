package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Helpers to read API definitions as YAML node trees. Nodes keep the
// document's key order and line numbers, which the rendered definition
// and its outline show; JSON definitions parse as YAML too.

// maxDefinitionBytes bounds a definition the UI parses and renders.
const maxDefinitionBytes = 4 << 20

// parseYAMLDoc parses one YAML (or JSON) document into its root node.
func parseYAMLDoc(text string) (*yaml.Node, error) {
	if len(text) > maxDefinitionBytes {
		return nil, fmt.Errorf("the definition is larger than %d MiB", maxDefinitionBytes>>20)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("the definition is empty")
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the definition is not a YAML or JSON object")
	}
	return root, nil
}

// deref follows aliases, a bounded number of times.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// pair is one key and value of a mapping.
type pair struct {
	Key  string
	Line int
	Val  *yaml.Node
}

// pairs returns a mapping's entries in order.
func pairs(n *yaml.Node) []pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, pair{Key: n.Content[i].Value, Line: n.Content[i].Line, Val: deref(n.Content[i+1])})
	}
	return out
}

// items returns a sequence's items.
func items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

// str returns a scalar's value, or "".
func str(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// boolean reports whether a scalar is true.
func boolean(n *yaml.Node) bool { return str(n) == "true" }

// strs returns a sequence of scalars as strings.
func strs(n *yaml.Node) []string {
	var out []string
	for _, it := range items(n) {
		out = append(out, str(it))
	}
	return out
}

// resolveRef resolves a local JSON reference ("#/components/schemas/X")
// against root; other references are not followed.
func resolveRef(root *yaml.Node, ref string) *yaml.Node {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	n := root
	for _, part := range strings.Split(p, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		next := get(n, part)
		if next == nil {
			if i, err := strconv.Atoi(part); err == nil {
				if its := items(n); i >= 0 && i < len(its) {
					next = its[i]
				}
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// refName is the last part of a reference: the schema's name.
func refName(ref string) string {
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// orderedObject is a JSON object that keeps its key order.
type orderedObject []orderedField

type orderedField struct {
	Key   string
	Value any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// nodeValue converts a node into a JSON-encodable value, keeping key
// order; budget bounds the nodes converted (aliases could expand a small
// document into a huge one).
func nodeValue(n *yaml.Node, budget *int) any {
	n = deref(n)
	*budget--
	if n == nil || *budget < 0 {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		obj := orderedObject{}
		for _, p := range pairs(n) {
			obj = append(obj, orderedField{p.Key, nodeValue(p.Val, budget)})
		}
		return obj
	case yaml.SequenceNode:
		arr := []any{}
		for _, it := range items(n) {
			arr = append(arr, nodeValue(it, budget))
		}
		return arr
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return i
			}
		case "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f
			}
		case "!!bool":
			return n.Value == "true"
		case "!!null":
			return nil
		}
		return n.Value
	}
	return nil
}

// prettyJSON writes v as indented JSON.
func prettyJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
