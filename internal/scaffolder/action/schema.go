package action

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// schema is the subset of JSON Schema that action inputs use.
type schema struct {
	Type                 typeList           `json:"type"`
	Required             []string           `json:"required"`
	Properties           map[string]*schema `json:"properties"`
	Items                *schema            `json:"items"`
	Enum                 []any              `json:"enum"`
	AdditionalProperties *bool              `json:"additionalProperties"`
}

// typeList is "type": either one name or a list of names.
type typeList []string

func (t *typeList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*t = typeList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("type must be a string or a list of strings")
	}
	*t = many
	return nil
}

var knownTypes = map[string]bool{"object": true, "string": true, "number": true, "integer": true, "boolean": true, "array": true, "null": true}

func parseSchema(raw json.RawMessage) (*schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("missing")
	}
	var s schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *schema) check() error {
	for _, t := range s.Type {
		if !knownTypes[t] {
			return fmt.Errorf("unknown type %q", t)
		}
	}
	for name, p := range s.Properties {
		if p == nil {
			return fmt.Errorf("property %q: null schema", name)
		}
		if err := p.check(); err != nil {
			return fmt.Errorf("property %q: %w", name, err)
		}
	}
	if s.Items != nil {
		return s.Items.check()
	}
	return nil
}

// ValidateInput checks input against a's input schema. The error, of kind
// derrors.ErrInvalid, names each offending field by its path
// ("files[0].from: must be string").
func ValidateInput(a Action, input map[string]any) error {
	s, err := parseSchema(a.Input)
	if err != nil {
		return fmt.Errorf("action %s: input schema: %w", a.ID, err)
	}
	var problems []string
	s.validate("", input, &problems)
	if len(problems) == 0 {
		return nil
	}
	return derrors.Invalid("invalid input for action %s: %s", a.ID, strings.Join(problems, "; "))
}

func (s *schema) validate(at string, v any, problems *[]string) {
	name := at
	if name == "" {
		name = "input"
	}
	if len(s.Type) > 0 {
		ok := false
		for _, t := range s.Type {
			if hasType(v, t) {
				ok = true
				break
			}
		}
		if !ok {
			*problems = append(*problems, fmt.Sprintf("%s: must be %s, not %s", name, strings.Join(s.Type, " or "), typeName(v)))
			return
		}
	}
	if len(s.Enum) > 0 && !inEnum(v, s.Enum) {
		*problems = append(*problems, fmt.Sprintf("%s: must be one of %s", name, enumText(s.Enum)))
	}
	switch v := v.(type) {
	case map[string]any:
		for _, r := range s.Required {
			if _, ok := v[r]; !ok {
				*problems = append(*problems, fmt.Sprintf("%s: required", join(at, r)))
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := s.Properties[k]; ok {
				p.validate(join(at, k), v[k], problems)
			} else if s.AdditionalProperties != nil && !*s.AdditionalProperties {
				*problems = append(*problems, fmt.Sprintf("%s: unknown field", join(at, k)))
			}
		}
	case []any:
		if s.Items != nil {
			for i, e := range v {
				s.Items.validate(fmt.Sprintf("%s[%d]", at, i), e, problems)
			}
		}
	}
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func hasType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := toFloat(v)
		return ok
	case "integer":
		f, ok := toFloat(v)
		return ok && f == math.Trunc(f) && !math.IsInf(f, 0)
	}
	return false
}

// toFloat accepts the numeric types JSON and YAML decoders produce.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n)
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	if _, ok := toFloat(v); ok {
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func inEnum(v any, enum []any) bool {
	for _, e := range enum {
		if reflect.DeepEqual(v, e) {
			return true
		}
		if a, ok := toFloat(v); ok {
			if b, ok := toFloat(e); ok && a == b {
				return true
			}
		}
	}
	return false
}

func enumText(enum []any) string {
	parts := make([]string, len(enum))
	for i, e := range enum {
		b, _ := json.Marshal(e)
		parts[i] = string(b)
	}
	return strings.Join(parts, ", ")
}
