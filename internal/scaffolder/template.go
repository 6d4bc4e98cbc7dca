// Package scaffolder owns Atrium's software templates and their tasks:
// the scaffolder.backstage.io/v1beta3 Template model, the engine that runs
// a template's steps against a workspace, the runner that claims tasks
// from the database and runs them under a lease, and the service the API
// creates, follows, cancels and retries tasks through.
package scaffolder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder/action"
)

// TemplateAPIVersion is the apiVersion of the templates Atrium runs.
const TemplateAPIVersion = "scaffolder.backstage.io/v1beta3"

// LocationAnnotation names where the catalog read an entity from; a
// template's files are found next to it.
const LocationAnnotation = "backstage.io/managed-by-location"

// Template is a parsed Template entity.
type Template struct {
	// Ref is the template's entity ref.
	Ref entity.Ref
	// Location is the template's backstage.io/managed-by-location
	// annotation ("file:/srv/templates/go/template.yaml"); may be empty.
	Location string
	// Parameters are the JSON Schemas of the template's form pages, in
	// order (spec.parameters given as one object is one page).
	Parameters []json.RawMessage
	// Steps are the steps the template runs, in order.
	Steps []Step
	// Output is spec.output, unrendered: "links" [{title, url, entityRef,
	// icon}] and "text" [{title, content}] among others.
	Output map[string]any
}

// Step is one step of a template.
type Step struct {
	// ID names the step's outputs (steps.<id>.output).
	ID string `json:"id"`
	// Name is shown in the task's progress.
	Name string `json:"name,omitempty"`
	// Action is the id of the registered action the step runs.
	Action string `json:"action"`
	// Input is the action's input, templated before the step runs.
	Input map[string]any `json:"input,omitempty"`
	// If, when set, is a boolean or a template; a falsy value skips the
	// step.
	If any `json:"if,omitempty"`
	// Each, when set, is a list or object (usually a template giving one):
	// the action runs once per item, with each.key and each.value set.
	Each any `json:"each,omitempty"`
}

// templateEntity is the part of a Template entity that ParseTemplate reads.
type templateEntity struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Parameters json.RawMessage   `json:"parameters"`
		Steps      []json.RawMessage `json:"steps"`
		Output     json.RawMessage   `json:"output"`
	} `json:"spec"`
}

// ParseTemplate parses a Template entity from its JSON. The error, of kind
// derrors.ErrInvalid, names the offending field.
func ParseTemplate(raw json.RawMessage) (*Template, error) {
	var e templateEntity
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, derrors.Invalid("template: malformed JSON: %v", err)
	}
	if e.APIVersion != TemplateAPIVersion {
		return nil, derrors.Invalid("apiVersion: must be %q, not %q", TemplateAPIVersion, e.APIVersion)
	}
	if e.Kind != "Template" {
		return nil, derrors.Invalid("kind: must be \"Template\", not %q", e.Kind)
	}
	if e.Metadata.Name == "" {
		return nil, derrors.Invalid("metadata.name: required")
	}
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = "default"
	}
	t := &Template{Ref: entity.Ref{Kind: "Template", Namespace: ns, Name: e.Metadata.Name},
		Location: e.Metadata.Annotations[LocationAnnotation]}
	var err error
	if t.Parameters, err = parseParameters(e.Spec.Parameters); err != nil {
		return nil, err
	}
	if len(e.Spec.Steps) == 0 {
		return nil, derrors.Invalid("spec.steps: required")
	}
	ids := map[string]bool{}
	for i, rawStep := range e.Spec.Steps {
		at := fmt.Sprintf("spec.steps[%d]", i)
		var s Step
		if err := strictUnmarshal(rawStep, &s); err != nil {
			return nil, derrors.Invalid("%s: %v", at, err)
		}
		if s.ID == "" {
			s.ID = fmt.Sprintf("step-%d", i+1)
		}
		if ids[s.ID] {
			return nil, derrors.Invalid("%s.id: %q is used by an earlier step", at, s.ID)
		}
		ids[s.ID] = true
		if s.Action == "" {
			return nil, derrors.Invalid("%s.action: required", at)
		}
		if _, ok := action.Lookup(s.Action); !ok {
			return nil, derrors.Invalid("%s.action: unknown action %q", at, s.Action)
		}
		switch s.If.(type) {
		case nil, bool, string:
		default:
			return nil, derrors.Invalid("%s.if: must be boolean or string", at)
		}
		switch s.Each.(type) {
		case nil, string, []any, map[string]any:
		default:
			return nil, derrors.Invalid("%s.each: must be a template, array or object", at)
		}
		t.Steps = append(t.Steps, s)
	}
	if t.Output, err = parseOutput(e.Spec.Output); err != nil {
		return nil, err
	}
	return t, nil
}

// strictUnmarshal decodes raw into v, refusing unknown fields.
func strictUnmarshal(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// parseParameters accepts spec.parameters as one schema or a list of them.
func parseParameters(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var list []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, derrors.Invalid("spec.parameters: %v", err)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	for i, p := range list {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(p, &obj); err != nil || obj == nil {
			return nil, derrors.Invalid("spec.parameters[%d]: must be a JSON Schema object", i)
		}
	}
	return list, nil
}

// outputFields lists the fields of spec.output's links and text entries.
var outputFields = map[string]map[string]bool{
	"links": {"title": true, "url": true, "entityRef": true, "icon": true},
	"text":  {"title": true, "content": true, "default": true},
}

func parseOutput(raw json.RawMessage) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, derrors.Invalid("spec.output: must be an object")
	}
	for key, fields := range outputFields {
		v, ok := out[key]
		if !ok {
			continue
		}
		list, ok := v.([]any)
		if !ok {
			return nil, derrors.Invalid("spec.output.%s: must be an array", key)
		}
		for i, item := range list {
			obj, ok := item.(map[string]any)
			if !ok {
				return nil, derrors.Invalid("spec.output.%s[%d]: must be an object", key, i)
			}
			for f := range obj {
				if !fields[f] {
					return nil, derrors.Invalid("spec.output.%s[%d].%s: unknown field", key, i, f)
				}
			}
		}
	}
	return out, nil
}

// TemplateDir returns the directory holding a template's files, from its
// location annotation. Only file: locations are supported; an empty
// location gives "" (the template can then use no fetch action).
func TemplateDir(location string) (string, error) {
	if location == "" {
		return "", nil
	}
	scheme, target, ok := strings.Cut(location, ":")
	if !ok {
		return "", derrors.Invalid("template location %q has no type", location)
	}
	if scheme != "file" {
		return "", derrors.New(derrors.ErrNotImplemented,
			"template location %q: templates run from files and from Atrium's own git host; those read from other URLs cannot fetch their files yet", location)
	}
	if u, err := url.Parse(target); err == nil && u.Scheme == "" && strings.HasPrefix(target, "//") {
		target = u.Path
	}
	if !filepath.IsAbs(target) {
		return "", derrors.Invalid("template location %q: the path must be absolute", location)
	}
	return filepath.Dir(filepath.Clean(target)), nil
}
