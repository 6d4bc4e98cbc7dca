// Package entity owns the catalog's data model: entities in Backstage's
// catalog-info.yaml format, entity references, the built-in kinds and their
// validation rules, and the relations each kind emits. It is pure: no I/O,
// no clock, no database, so every rule here can be table-tested and fuzzed.
package entity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Well-known annotation keys, as Backstage names them.
const (
	AnnotationManagedByLocation       = "backstage.io/managed-by-location"
	AnnotationManagedByOriginLocation = "backstage.io/managed-by-origin-location"
	AnnotationSourceLocation          = "backstage.io/source-location"
	AnnotationViewURL                 = "backstage.io/view-url"
	AnnotationEditURL                 = "backstage.io/edit-url"
	AnnotationOrphan                  = "backstage.io/orphan"
	AnnotationTechDocsRef             = "backstage.io/techdocs-ref"
)

// DefaultNamespace is the namespace of an entity or reference that names none.
const DefaultNamespace = "default"

// Entity is one catalog entity: the envelope Backstage defines, with the
// kind-specific spec kept as generic JSON because every kind (and every
// custom kind) shapes it differently.
type Entity struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   Metadata       `json:"metadata"`
	Spec       map[string]any `json:"spec,omitzero"`
	// Relations and Status are output-only: set when the entity is stitched.
	Relations []Relation `json:"relations,omitempty"`
	Status    *Status    `json:"status,omitempty"`

	// KeptSpec is a Template's spec as written (see KeepSpecOrder), and
	// KeptSpecCanon Spec as encoded when it was kept, which tells whether
	// Spec has changed since. Both are nil for other kinds.
	KeptSpec, KeptSpecCanon json.RawMessage `json:"-"`
}

// plainEntity is Entity without its JSON methods.
type plainEntity Entity

// KeepSpecOrder keeps raw, the JSON of the entity's Spec with its keys in
// the order they were written, to be encoded instead of Spec (whose keys
// a map sorts) for as long as Spec is not changed. Only Templates keep
// it: the forms generated from spec.parameters follow the order of their
// properties, as Backstage's do.
func (e *Entity) KeepSpecOrder(raw json.RawMessage) {
	if e.Kind != "Template" || len(raw) == 0 || !json.Valid(raw) {
		return
	}
	canon, err := json.Marshal(e.Spec)
	if err != nil {
		return
	}
	e.KeptSpec, e.KeptSpecCanon = raw, canon
}

// MarshalJSON encodes the entity, a Template's spec in its kept order.
func (e Entity) MarshalJSON() ([]byte, error) {
	if e.KeptSpec != nil {
		if canon, err := json.Marshal(e.Spec); err == nil && bytes.Equal(canon, e.KeptSpecCanon) {
			return json.Marshal(struct {
				APIVersion string          `json:"apiVersion"`
				Kind       string          `json:"kind"`
				Metadata   Metadata        `json:"metadata"`
				Spec       json.RawMessage `json:"spec"`
				Relations  []Relation      `json:"relations,omitempty"`
				Status     *Status         `json:"status,omitempty"`
			}{e.APIVersion, e.Kind, e.Metadata, e.KeptSpec, e.Relations, e.Status})
		}
	}
	return json.Marshal(plainEntity(e))
}

// UnmarshalJSON decodes an entity, keeping a Template's spec order.
func (e *Entity) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*plainEntity)(e)); err != nil {
		return err
	}
	if e.Kind == "Template" && e.Spec != nil {
		var w struct {
			Spec json.RawMessage `json:"spec"`
		}
		if json.Unmarshal(b, &w) == nil {
			e.KeepSpecOrder(w.Spec)
		}
	}
	return nil
}

// Metadata is an entity's metadata block. Backstage allows extra keys in
// metadata, so Extra keeps them through a JSON round trip.
type Metadata struct {
	UID         string            `json:"uid,omitempty"`
	Etag        string            `json:"etag,omitempty"`
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Links       []Link            `json:"links,omitempty"`
	// Extra holds metadata keys that are not modelled above, verbatim.
	Extra map[string]any `json:"-"`
}

// Link is one entry of metadata.links.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	Icon  string `json:"icon,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Relation is one directed edge as it appears in an entity's relations list.
type Relation struct {
	Type      RelationType `json:"type"`
	TargetRef string       `json:"targetRef"`
}

// Status carries the processing problems shown to users of an entity.
type Status struct {
	Items []StatusItem `json:"items,omitempty"`
}

// StatusItem is one entry of status.items.
type StatusItem struct {
	Type    string       `json:"type"`
	Level   string       `json:"level"`
	Message string       `json:"message"`
	Error   *StatusError `json:"error,omitempty"`
}

// StatusError is the serialised error inside a StatusItem.
type StatusError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// StatusTypeProcessing is the status item type for processing errors.
const StatusTypeProcessing = "backstage.io/catalog-processing"

// Ref returns the entity's reference, with the default namespace applied.
func (e *Entity) Ref() Ref {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return Ref{Kind: e.Kind, Namespace: ns, Name: e.Metadata.Name}
}

// Annotation returns the value of an annotation, or "".
func (e *Entity) Annotation(key string) string {
	return e.Metadata.Annotations[key]
}

// SetAnnotation sets an annotation, allocating the map if needed.
func (e *Entity) SetAnnotation(key, value string) {
	if e.Metadata.Annotations == nil {
		e.Metadata.Annotations = map[string]string{}
	}
	e.Metadata.Annotations[key] = value
}

// Clone returns a deep copy of e, by a JSON round trip.
func (e *Entity) Clone() *Entity {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("entity: marshal for clone: %v", err))
	}
	var c Entity
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("entity: unmarshal for clone: %v", err))
	}
	return &c
}

// metadataKnown lists the keys Metadata models as fields.
var metadataKnown = map[string]bool{
	"uid": true, "etag": true, "name": true, "namespace": true, "title": true,
	"description": true, "labels": true, "annotations": true, "tags": true, "links": true,
}

type metadataFields Metadata // no methods: avoids recursion in (Un)MarshalJSON

// MarshalJSON writes the modelled fields and then Extra, keys sorted, so the
// output is stable (the catalog hashes it).
func (m Metadata) MarshalJSON() ([]byte, error) {
	base, err := json.Marshal(metadataFields(m))
	if err != nil {
		return nil, err
	}
	if len(m.Extra) == 0 {
		return base, nil
	}
	keys := make([]string, 0, len(m.Extra))
	for k := range m.Extra {
		if !metadataKnown[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Write(base[:len(base)-1])
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(m.Extra[k])
		if err != nil {
			return nil, fmt.Errorf("metadata.%s: %w", k, err)
		}
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads the modelled fields and keeps every other key in Extra.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	var f metadataFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, raw := range all {
		if metadataKnown[k] {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if f.Extra == nil {
			f.Extra = map[string]any{}
		}
		f.Extra[k] = v
	}
	*m = Metadata(f)
	return nil
}

// SpecString returns spec[key] if it is a string, else "".
func (e *Entity) SpecString(key string) string {
	s, _ := e.Spec[key].(string)
	return s
}
