package source

import (
	"bytes"
	"encoding/json"
	"sort"

	"go.yaml.in/yaml/v3"
)

// OrderedJSON returns the document's value under the top-level key as
// JSON with every mapping's keys in the order they are written (keys
// brought in by merge keys after them, sorted), or nil if there is no
// such key. Data holds the same values, in maps that do not keep order;
// this is for the values whose order means something to their readers,
// such as a Template's spec.parameters.
func (d *Document) OrderedJSON(key string) json.RawMessage {
	if d == nil || d.node == nil {
		return nil
	}
	v, ok := d.Data[key]
	if !ok {
		return nil
	}
	_, n := lookup(d.node, key, 0)
	var buf bytes.Buffer
	if err := writeOrdered(&buf, v, n, 0); err != nil {
		return nil
	}
	return buf.Bytes()
}

// OrderedDocument returns the whole document as JSON with every mapping's
// keys in the order they are written, as OrderedJSON does for one key.
func (d *Document) OrderedDocument() (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := writeOrdered(&buf, d.Data, d.node, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeOrdered encodes v, taking the order of each mapping's keys from the
// node it was decoded from (n may be nil or of another shape, when the
// value came through a merge: then keys are sorted).
func writeOrdered(buf *bytes.Buffer, v any, n *yaml.Node, depth int) error {
	if n != nil {
		n = deref(n)
	}
	if depth > MaxDepth+1 {
		b, err := json.Marshal(v)
		buf.Write(b)
		return err
	}
	switch v := v.(type) {
	case map[string]any:
		var keys []string
		children := map[string]*yaml.Node{}
		if n != nil && n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := deref(n.Content[i])
				if k.Kind != yaml.ScalarNode || isMergeKey(k) {
					continue
				}
				if _, ok := v[k.Value]; ok {
					if _, dup := children[k.Value]; !dup {
						keys = append(keys, k.Value)
					}
					children[k.Value] = n.Content[i+1]
				}
			}
		}
		var rest []string
		for k := range v {
			if _, ok := children[k]; !ok {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		buf.WriteByte('{')
		for i, k := range append(keys, rest...) {
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			if err := writeOrdered(buf, v[k], children[k], depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			var child *yaml.Node
			if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
				child = n.Content[i]
			}
			if err := writeOrdered(buf, item, child, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	}
	b, err := json.Marshal(v)
	buf.Write(b)
	return err
}
