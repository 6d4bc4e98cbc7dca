package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// entityDoc is a final entity decoded for display: the envelope with the
// spec kept generic, since every kind shapes it differently. It decodes in
// one pass (entity.Entity keeps unknown metadata keys, at the cost of a
// second), which matters on list pages.
type entityDoc struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Title       string            `json:"title"`
		Description string            `json:"description"`
		UID         string            `json:"uid"`
		Etag        string            `json:"etag"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		Tags        []string          `json:"tags"`
		Links       []entity.Link     `json:"links"`
	} `json:"metadata"`
	Spec      map[string]any    `json:"spec"`
	Relations []entity.Relation `json:"relations"`
	Status    *entity.Status    `json:"status"`
	// raw is the JSON it was decoded from, for the Authorizer.
	raw json.RawMessage
}

// decodeEntity decodes a final entity as the store serves it.
func decodeEntity(raw json.RawMessage) (*entityDoc, error) {
	var e entityDoc
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("web: decode entity: %w", err)
	}
	if e.Metadata.Namespace == "" {
		e.Metadata.Namespace = entity.DefaultNamespace
	}
	e.raw = raw
	return &e, nil
}

// Ref returns the entity's reference.
func (e *entityDoc) Ref() entity.Ref {
	return entity.Ref{Kind: e.Kind, Namespace: e.Metadata.Namespace, Name: e.Metadata.Name}
}

// DisplayName is what lists and headings call the entity: a user's or
// group's display name, else the title, else the name.
func (e *entityDoc) DisplayName() string {
	if p, ok := e.Spec["profile"].(map[string]any); ok {
		if s, _ := p["displayName"].(string); s != "" {
			return s
		}
	}
	if e.Metadata.Title != "" {
		return e.Metadata.Title
	}
	return e.Metadata.Name
}

// SpecString returns spec[key] if it is a string.
func (e *entityDoc) SpecString(key string) string {
	s, _ := e.Spec[key].(string)
	return s
}

// SpecStrings returns spec[key] if it is a list of strings (or a string).
func (e *entityDoc) SpecStrings(key string) []string {
	switch v := e.Spec[key].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, it := range v {
			if s, ok := it.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Targets returns the target refs of the entity's relations of type t.
func (e *entityDoc) Targets(t entity.RelationType) []string {
	var out []string
	for _, r := range e.Relations {
		if r.Type == t {
			out = append(out, r.TargetRef)
		}
	}
	return out
}

// Errors returns the entity's status items of level error or warning.
func (e *entityDoc) Errors() []entity.StatusItem {
	if e.Status == nil {
		return nil
	}
	var out []entity.StatusItem
	for _, it := range e.Status.Items {
		if it.Level == "error" || it.Level == "warning" {
			out = append(out, it)
		}
	}
	return out
}

// builtinKinds spells the built-in kinds as Backstage does, for refs,
// which carry the kind lowercased.
var builtinKinds = map[string]string{
	"component": "Component", "api": "API", "system": "System", "domain": "Domain",
	"resource": "Resource", "group": "Group", "user": "User", "location": "Location",
	"template": "Template",
}

// kindName returns the display spelling of a kind.
func kindName(kind string) string {
	if k, ok := builtinKinds[strings.ToLower(kind)]; ok {
		return k
	}
	if kind == "" {
		return ""
	}
	return strings.ToUpper(kind[:1]) + kind[1:]
}

// entityHref is the UI address of an entity, in Backstage's form:
// /catalog/{namespace}/{kind}/{name}, kind and namespace lowercased.
func entityHref(ref entity.Ref) string {
	ns := ref.Namespace
	if ns == "" {
		ns = entity.DefaultNamespace
	}
	return "/catalog/" + url.PathEscape(strings.ToLower(ns)) + "/" + url.PathEscape(strings.ToLower(ref.Kind)) +
		"/" + url.PathEscape(ref.Name)
}

// humanizeRef shortens a ref for display as Backstage's humanizeEntityRef
// does: the kind is left out when it is defaultKind, the namespace when it
// is the default one.
func humanizeRef(ref entity.Ref, defaultKind string) string {
	s := ref.Name
	if ns := ref.Namespace; ns != "" && !strings.EqualFold(ns, entity.DefaultNamespace) {
		s = ns + "/" + s
	}
	if !strings.EqualFold(ref.Kind, defaultKind) {
		s = strings.ToLower(ref.Kind) + ":" + s
	}
	return s
}

// entityLink is a link to an entity as lists and cards show it.
type entityLink struct {
	Href, Label string
	// Kind is the kind's display spelling; Ref the canonical ref; Name
	// the entity's name, set when it differs from Label.
	Kind, Ref, Name string
	// Title, Description, Type, Lifecycle and Owner are set when the
	// entity was loaded.
	Title, Description, Type, Lifecycle, Owner string
	// Missing is set for a ref to an entity that is not in the catalog.
	Missing bool
}

// refLink returns the link for a ref string (a relation's targetRef or a
// spec field), shortened against defaultKind. An unparseable ref becomes
// plain text.
func refLink(s, defaultKind string) entityLink {
	ref, err := entity.ParseRef(s, entity.RefDefaults{Kind: defaultKind})
	if err != nil {
		return entityLink{Label: s}
	}
	return entityLink{Href: entityHref(ref), Label: humanizeRef(ref, defaultKind), Kind: kindName(ref.Kind), Ref: ref.Key()}
}

// docLink returns the link for a loaded entity, with its details.
func docLink(e *entityDoc) entityLink {
	l := entityLink{
		Href: entityHref(e.Ref()), Label: e.DisplayName(), Kind: kindName(e.Kind), Ref: e.Ref().Key(),
		Title: e.Metadata.Title, Description: e.Metadata.Description,
		Type: e.SpecString("type"), Lifecycle: e.SpecString("lifecycle"),
	}
	if owners := e.Targets(entity.RelationOwnedBy); len(owners) > 0 {
		l.Owner = refLink(owners[0], "group").Label
	}
	if l.Label != e.Metadata.Name {
		l.Name = e.Metadata.Name
	}
	return l
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
