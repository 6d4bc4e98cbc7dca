package entity

import (
	"fmt"
	"maps"
	"slices"
)

// ingestRoots are the root fields an entity document may have on ingest.
// relations and status are part of Backstage's Entity schema but are
// output-only; NoForeignRootFieldsEntityPolicy rejects them on input.
var ingestRoots = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true}

// badValue stands in for a value the normalizer rejected, so that the
// typed readers below do not report a second problem for it.
type badValue struct{}

// FromMap converts one decoded YAML or JSON document into an Entity,
// checking it against Backstage's envelope schema (Entity.schema.json and
// EntityMeta.schema.json) plus its ban on foreign root fields.
//
// doc may hold anything yaml.v3 or encoding/json produce when decoding into
// an any: nested map[string]any (or map[any]any) and []any, string, bool,
// nil and every integer and float type. Numbers are stored as float64, as a
// JSON decoder (and Backstage) would read them, so the same document read
// from YAML or JSON yields equal entities. spec is kept as generic JSON and
// metadata keys that Metadata does not model are kept in Metadata.Extra.
//
// FromMap checks types and presence only; Validate checks formats (name,
// namespace, tags ...) and the kind's spec. It always returns a non-nil
// entity holding whatever could be read; when Problems is non-empty that
// entity is incomplete and must not be stored. Problems are ordered by
// document position where it matters (array indexes), otherwise by key.
func FromMap(doc map[string]any) (*Entity, Problems) {
	n := &normalizer{}
	root, _ := n.value(doc, "", 0)
	obj, _ := root.(map[string]any)
	r := &reader{probs: n.probs}
	e := &Entity{}

	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !ingestRoots[k] {
			r.add(k, "Unknown field %s", k)
		}
	}
	e.APIVersion, _ = r.str(obj, "", "apiVersion", true, true)
	e.Kind, _ = r.str(obj, "", "kind", true, true)
	if md, ok := r.object(obj, "", "metadata", true); ok {
		r.metadata(md, &e.Metadata)
	}
	if spec, ok := r.object(obj, "", "spec", false); ok {
		e.Spec = spec
	}
	if len(r.probs) == 0 {
		return e, nil
	}
	return e, r.probs
}

// reader reads typed fields out of normalised JSON objects, recording a
// Problem in Backstage's JSON Schema (ajv) wording for each mismatch.
type reader struct {
	probs Problems
}

func (r *reader) add(path, format string, args ...any) {
	r.probs = append(r.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// get returns obj[key]; present is false when the key is absent, reporting
// it if required. ok is false when the value was already rejected.
func (r *reader) get(obj map[string]any, path, key string, required bool) (v any, ok bool) {
	v, present := obj[key]
	if !present {
		if required {
			r.add(joinPath(path, key), "must have required property '%s'", key)
		}
		return nil, false
	}
	if _, bad := v.(badValue); bad {
		return nil, false
	}
	return v, true
}

// str reads a string field; nonEmpty applies JSON Schema's minLength 1.
func (r *reader) str(obj map[string]any, path, key string, required, nonEmpty bool) (string, bool) {
	v, ok := r.get(obj, path, key, required)
	if !ok {
		return "", false
	}
	return r.strValue(v, joinPath(path, key), nonEmpty)
}

func (r *reader) strValue(v any, path string, nonEmpty bool) (string, bool) {
	s, ok := v.(string)
	if !ok {
		r.add(path, "must be string, found %s", typeName(v))
		return "", false
	}
	if nonEmpty && s == "" {
		r.add(path, "must NOT have fewer than 1 characters, found an empty string")
		return "", false
	}
	return s, true
}

// object reads a field that must be a JSON object.
func (r *reader) object(obj map[string]any, path, key string, required bool) (map[string]any, bool) {
	v, ok := r.get(obj, path, key, required)
	if !ok {
		return nil, false
	}
	m, ok := asObject(v)
	if !ok {
		r.add(joinPath(path, key), "must be object, found %s", typeName(v))
		return nil, false
	}
	return m, true
}

// list reads a field that must be a JSON array.
func (r *reader) list(obj map[string]any, path, key string, required bool) ([]any, bool) {
	v, ok := r.get(obj, path, key, required)
	if !ok {
		return nil, false
	}
	l, ok := asList(v)
	if !ok {
		r.add(joinPath(path, key), "must be array, found %s", typeName(v))
		return nil, false
	}
	return l, true
}

// strList reads an array of strings; nonEmpty applies minLength 1 to items.
func (r *reader) strList(obj map[string]any, path, key string, required, nonEmpty bool) ([]string, bool) {
	l, ok := r.list(obj, path, key, required)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	all := true
	for i, v := range l {
		if _, bad := v.(badValue); bad {
			all = false
			continue
		}
		s, ok := r.strValue(v, indexPath(joinPath(path, key), i), nonEmpty)
		if !ok {
			all = false
			continue
		}
		out = append(out, s)
	}
	return out, all
}

// strMap reads an object whose values must all be strings (labels,
// annotations).
func (r *reader) strMap(obj map[string]any, path, key string) (map[string]string, bool) {
	m, ok := r.object(obj, path, key, false)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(m))
	all := true
	p := joinPath(path, key)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if _, bad := v.(badValue); bad {
			all = false
			continue
		}
		s, ok := r.strValue(v, joinPath(p, k), false)
		if !ok {
			all = false
			continue
		}
		out[k] = s
	}
	return out, all
}

func (r *reader) metadata(md map[string]any, m *Metadata) {
	const p = "metadata"
	m.Name, _ = r.str(md, p, "name", true, true)
	m.Namespace, _ = r.str(md, p, "namespace", false, true)
	m.UID, _ = r.str(md, p, "uid", false, true)
	m.Etag, _ = r.str(md, p, "etag", false, true)
	m.Title, _ = r.str(md, p, "title", false, true)
	m.Description, _ = r.str(md, p, "description", false, false)
	m.Labels, _ = r.strMap(md, p, "labels")
	m.Annotations, _ = r.strMap(md, p, "annotations")
	m.Tags, _ = r.strList(md, p, "tags", false, true)
	if links, ok := r.list(md, p, "links", false); ok {
		m.Links = make([]Link, 0, len(links))
		for i, v := range links {
			lp := indexPath(joinPath(p, "links"), i)
			if _, bad := v.(badValue); bad {
				continue
			}
			lo, ok := asObject(v)
			if !ok {
				r.add(lp, "must be object, found %s", typeName(v))
				continue
			}
			var l Link
			l.URL, _ = r.str(lo, lp, "url", true, true)
			l.Title, _ = r.str(lo, lp, "title", false, true)
			l.Icon, _ = r.str(lo, lp, "icon", false, true)
			l.Type, _ = r.str(lo, lp, "type", false, true)
			m.Links = append(m.Links, l)
		}
	}
	for k, v := range md {
		if metadataKnown[k] {
			continue
		}
		if m.Extra == nil {
			m.Extra = map[string]any{}
		}
		m.Extra[k] = v
	}
}
