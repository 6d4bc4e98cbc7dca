package permission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// Condition is a tree of conditions on a catalog entity. Exactly one of
// its fields is set: a rule with its params, a list all of whose members
// must hold, a list one of whose members must hold, a negation, or a CEL
// expression.
//
// It marshals to Backstage's JSON shape (`{"rule":"IS_ENTITY_OWNER",
// "resourceType":"catalog-entity","params":{...}}`, `{"allOf":[...]}`,
// `{"anyOf":[...]}`, `{"not":{...}}`); an expression is Atrium's own
// `{"expr":"..."}`, which Backstage's plugins do not understand.
type Condition struct {
	// Rule is one of Backstage's catalog rule names, RuleIsEntityOwner and
	// the others, with its parameters in Params.
	Rule string
	// Params are the rule's parameters: string values, or []string for
	// claims and kinds.
	Params map[string]any
	// AllOf holds when every member does (Backstage's allOf).
	AllOf []Condition
	// AnyOf holds when at least one member does (Backstage's anyOf).
	AnyOf []Condition
	// Not holds when its condition does not (Backstage's not).
	Not *Condition
	// Expr is a CEL expression over `principal` and `resource` (the entity
	// as JSON) that returns a bool. It cannot be translated to SQL.
	Expr string

	// prog is Expr compiled; nil until needed when the condition was not
	// parsed from a policy file.
	prog cel.Program
}

// The catalog's permission rules, by their Backstage names.
const (
	// RuleIsEntityOwner holds for entities with an ownedBy relation to
	// one of params "claims" (entity refs).
	RuleIsEntityOwner = "IS_ENTITY_OWNER"
	// RuleIsEntityKind holds for entities whose kind is one of params
	// "kinds".
	RuleIsEntityKind = "IS_ENTITY_KIND"
	// RuleHasAnnotation holds for entities with the annotation params
	// "annotation", with the value params "value" if given.
	RuleHasAnnotation = "HAS_ANNOTATION"
	// RuleHasLabel holds for entities with the label params "label".
	RuleHasLabel = "HAS_LABEL"
	// RuleHasMetadata holds for entities with the metadata field params
	// "key" (a dotted path), with the value params "value" if given.
	RuleHasMetadata = "HAS_METADATA"
	// RuleHasSpec is RuleHasMetadata for spec fields.
	RuleHasSpec = "HAS_SPEC"
)

// ruleDef describes one rule: its names and params, and its filter.
type ruleDef struct {
	name   string // Backstage's, in conditions JSON
	yaml   string // the policy file's, in lower camel case
	params []paramDef
	filter func(params map[string]any) filter.Expr
}

type paramDef struct {
	name     string
	list     bool // a list of strings, else a string
	required bool
	ref      bool // entity refs, stored lowercased in canonical form
}

// rules lists the catalog's rules in the order error messages name them.
var rules = []ruleDef{
	{
		name: RuleIsEntityOwner, yaml: "isEntityOwner",
		// claims is optional in a policy file: Decide fills in the
		// principal's ownership refs.
		params: []paramDef{{name: "claims", list: true, ref: true}},
		filter: func(p map[string]any) filter.Expr {
			return filter.Match{Key: "relations.ownedby", Values: lowerAll(p["claims"].([]string))}
		},
	},
	{
		name: RuleIsEntityKind, yaml: "isEntityKind",
		params: []paramDef{{name: "kinds", list: true, required: true}},
		filter: func(p map[string]any) filter.Expr {
			return filter.Match{Key: "kind", Values: lowerAll(p["kinds"].([]string))}
		},
	},
	{
		name: RuleHasAnnotation, yaml: "hasAnnotation",
		params: []paramDef{{name: "annotation", required: true}, {name: "value"}},
		filter: func(p map[string]any) filter.Expr {
			return existsOrMatch("metadata.annotations."+p["annotation"].(string), p["value"])
		},
	},
	{
		name: RuleHasLabel, yaml: "hasLabel",
		params: []paramDef{{name: "label", required: true}},
		filter: func(p map[string]any) filter.Expr {
			return filter.Exists{Key: strings.ToLower("metadata.labels." + p["label"].(string))}
		},
	},
	{
		name: RuleHasMetadata, yaml: "hasMetadata",
		params: []paramDef{{name: "key", required: true}, {name: "value"}},
		filter: func(p map[string]any) filter.Expr {
			return existsOrMatch("metadata."+p["key"].(string), p["value"])
		},
	},
	{
		name: RuleHasSpec, yaml: "hasSpec",
		params: []paramDef{{name: "key", required: true}, {name: "value"}},
		filter: func(p map[string]any) filter.Expr {
			return existsOrMatch("spec."+p["key"].(string), p["value"])
		},
	},
}

func ruleByName(name string) (ruleDef, bool) {
	i := slices.IndexFunc(rules, func(r ruleDef) bool { return r.name == name })
	if i < 0 {
		return ruleDef{}, false
	}
	return rules[i], true
}

func existsOrMatch(key string, value any) filter.Expr {
	key = strings.ToLower(key)
	if v, ok := value.(string); ok {
		return filter.Match{Key: key, Values: []string{strings.ToLower(v)}}
	}
	return filter.Exists{Key: key}
}

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// errNoSQL is returned by Filter for conditions that only Matches can evaluate.
var errNoSQL = errors.New("expr conditions cannot be evaluated in SQL")

// kind returns which of the condition's fields is set, and an error unless
// exactly one is.
func (c *Condition) kind() (string, error) {
	var set []string
	if c.Rule != "" {
		set = append(set, "rule")
	}
	if c.AllOf != nil {
		set = append(set, "allOf")
	}
	if c.AnyOf != nil {
		set = append(set, "anyOf")
	}
	if c.Not != nil {
		set = append(set, "not")
	}
	if c.Expr != "" {
		set = append(set, "expr")
	}
	if len(set) != 1 {
		return "", fmt.Errorf("permission: a condition needs exactly one of rule, allOf, anyOf, not or expr, has %d (%s)", len(set), strings.Join(set, ", "))
	}
	return set[0], nil
}

// Filter returns the condition as a filter expression for the catalog
// store, as Backstage's rules' toQuery do, with keys and values
// lowercased. It fails for a condition holding an expression, and for an
// IS_ENTITY_OWNER rule without claims (take conditions from Decide, which
// fills them in).
func (c *Condition) Filter() (filter.Expr, error) {
	return c.filter(0)
}

func (c *Condition) filter(depth int) (filter.Expr, error) {
	if depth > maxConditionDepth {
		return nil, fmt.Errorf("permission: conditions nested deeper than %d levels", maxConditionDepth)
	}
	k, err := c.kind()
	if err != nil {
		return nil, err
	}
	switch k {
	case "rule":
		def, err := checkRule(c.Rule, c.Params)
		if err != nil {
			return nil, err
		}
		if c.Rule == RuleIsEntityOwner && c.Params["claims"] == nil {
			return nil, fmt.Errorf("permission: %s has no claims", RuleIsEntityOwner)
		}
		return def.filter(c.Params), nil
	case "allOf", "anyOf":
		list := c.AllOf
		if k == "anyOf" {
			list = c.AnyOf
		}
		exprs := make([]filter.Expr, len(list))
		for i := range list {
			if exprs[i], err = list[i].filter(depth + 1); err != nil {
				return nil, err
			}
		}
		if k == "anyOf" {
			return filter.Any{Exprs: exprs}, nil
		}
		return filter.All{Exprs: exprs}, nil
	case "not":
		e, err := c.Not.filter(depth + 1)
		if err != nil {
			return nil, err
		}
		return filter.Not{Expr: e}, nil
	default:
		return nil, errNoSQL
	}
}

// checkRule returns the definition of rule, and an error if params do not
// fit it.
func checkRule(rule string, params map[string]any) (ruleDef, error) {
	def, ok := ruleByName(rule)
	if !ok {
		return ruleDef{}, fmt.Errorf("permission: unknown rule %q", rule)
	}
	for k := range params {
		if !slices.ContainsFunc(def.params, func(p paramDef) bool { return p.name == k }) {
			return ruleDef{}, fmt.Errorf("permission: %s has no param %q", rule, k)
		}
	}
	for _, p := range def.params {
		v, ok := params[p.name]
		switch {
		case !ok || v == nil:
			if p.required {
				return ruleDef{}, fmt.Errorf("permission: %s needs param %q", rule, p.name)
			}
		case p.list:
			if _, ok := v.([]string); !ok {
				return ruleDef{}, fmt.Errorf("permission: %s param %q must be a list of strings", rule, p.name)
			}
		default:
			if _, ok := v.(string); !ok {
				return ruleDef{}, fmt.Errorf("permission: %s param %q must be a string", rule, p.name)
			}
		}
	}
	return def, nil
}

// Matches reports whether the condition holds for e, a final (stitched)
// entity, with id as the principal of CEL expressions and the claims of an
// IS_ENTITY_OWNER rule that has none.
//
// Rules are evaluated on e's search rows, the same flattened rows the
// store's SQL filters, so that Matches and Filter agree on every entity:
// keys and values compare case-insensitively, relations count by their
// lowercased type ("ownedBy"), and a value longer than the store indexes
// exists but equals nothing.
func (c *Condition) Matches(id auth.Identity, e *entity.Entity) (bool, error) {
	m := &matcher{id: id, e: e}
	return m.eval(c, 0)
}

// matcher evaluates a condition tree on one entity, computing the entity's
// search rows and CEL value once, when first needed.
type matcher struct {
	id       auth.Identity
	e        *entity.Entity
	body     []byte
	rows     map[string][]string
	resource map[string]any
}

func (m *matcher) json() ([]byte, error) {
	if m.body == nil {
		b, err := json.Marshal(m.e)
		if err != nil {
			return nil, fmt.Errorf("permission: encode entity: %w", err)
		}
		m.body = b
	}
	return m.body, nil
}

func (m *matcher) eval(c *Condition, depth int) (bool, error) {
	if depth > maxConditionDepth {
		return false, fmt.Errorf("permission: conditions nested deeper than %d levels", maxConditionDepth)
	}
	k, err := c.kind()
	if err != nil {
		return false, err
	}
	switch k {
	case "rule":
		def, err := checkRule(c.Rule, c.Params)
		if err != nil {
			return false, err
		}
		params := c.Params
		if c.Rule == RuleIsEntityOwner && params["claims"] == nil {
			params = map[string]any{"claims": ownershipOf(m.id)}
		}
		if m.rows == nil {
			body, err := m.json()
			if err != nil {
				return false, err
			}
			rows, err := filter.SearchRows(body)
			if err != nil {
				return false, err
			}
			m.rows = map[string][]string{}
			for _, r := range rows {
				m.rows[r.Key] = append(m.rows[r.Key], r.Value)
			}
		}
		return evalFilter(def.filter(params), m.rows), nil
	case "allOf":
		for i := range c.AllOf {
			if ok, err := m.eval(&c.AllOf[i], depth+1); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "anyOf":
		for i := range c.AnyOf {
			if ok, err := m.eval(&c.AnyOf[i], depth+1); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "not":
		ok, err := m.eval(c.Not, depth+1)
		return !ok, err
	default:
		return m.evalExpr(c)
	}
}

func (m *matcher) evalExpr(c *Condition) (bool, error) {
	prog := c.prog
	if prog == nil {
		var err error
		if prog, err = compile(resourceEnv, c.Expr); err != nil {
			return false, err
		}
	}
	if m.resource == nil {
		body, err := m.json()
		if err != nil {
			return false, err
		}
		if err := json.Unmarshal(body, &m.resource); err != nil {
			return false, fmt.Errorf("permission: decode entity: %w", err)
		}
	}
	return evalBool(prog, map[string]any{"principal": principalValue(m.id), "resource": m.resource})
}

// evalFilter evaluates a filter expression on one entity's search rows
// (key to lowercased values), as the store's SQL does.
func evalFilter(e filter.Expr, rows map[string][]string) bool {
	switch t := e.(type) {
	case nil:
		return true
	case filter.All:
		for _, c := range t.Exprs {
			if !evalFilter(c, rows) {
				return false
			}
		}
		return true
	case filter.Any:
		for _, c := range t.Exprs {
			if evalFilter(c, rows) {
				return true
			}
		}
		return false
	case filter.Not:
		return !evalFilter(t.Expr, rows)
	case filter.Match:
		for _, v := range rows[t.Key] {
			if slices.Contains(t.Values, v) {
				return true
			}
		}
		return false
	case filter.Exists:
		return len(rows[t.Key]) > 0
	case filter.HasPrefix:
		for _, v := range rows[t.Key] {
			if strings.HasPrefix(v, t.Prefix) {
				return true
			}
		}
		return false
	default:
		panic(fmt.Sprintf("permission: unknown filter node %T", e))
	}
}

// hasExpr reports whether the tree holds a CEL expression anywhere.
func (c *Condition) hasExpr() bool {
	if c == nil {
		return false
	}
	if c.Expr != "" {
		return true
	}
	for i := range c.AllOf {
		if c.AllOf[i].hasExpr() {
			return true
		}
	}
	for i := range c.AnyOf {
		if c.AnyOf[i].hasExpr() {
			return true
		}
	}
	return c.Not.hasExpr()
}

// withClaims returns a deep copy of c whose IS_ENTITY_OWNER rules without
// claims have claims.
func (c *Condition) withClaims(claims []string) Condition {
	out := Condition{Rule: c.Rule, Expr: c.Expr, prog: c.prog}
	if c.Params != nil {
		out.Params = make(map[string]any, len(c.Params))
		for k, v := range c.Params {
			out.Params[k] = v
		}
		if c.Rule == RuleIsEntityOwner && out.Params["claims"] == nil {
			out.Params["claims"] = slices.Clone(claims)
		}
	}
	if c.AllOf != nil {
		out.AllOf = make([]Condition, len(c.AllOf))
		for i := range c.AllOf {
			out.AllOf[i] = c.AllOf[i].withClaims(claims)
		}
	}
	if c.AnyOf != nil {
		out.AnyOf = make([]Condition, len(c.AnyOf))
		for i := range c.AnyOf {
			out.AnyOf[i] = c.AnyOf[i].withClaims(claims)
		}
	}
	if c.Not != nil {
		n := c.Not.withClaims(claims)
		out.Not = &n
	}
	return out
}

// ownershipOf returns the refs a principal owns through, never nil, so that
// its claims marshal as [] rather than null.
func ownershipOf(id auth.Identity) []string {
	out := make([]string, 0, len(id.OwnershipRefs))
	for _, r := range id.OwnershipRefs {
		out = append(out, strings.ToLower(r))
	}
	return out
}

// conditionJSON is a condition's JSON form, every shape's fields together.
type conditionJSON struct {
	Rule         string          `json:"rule,omitempty"`
	ResourceType string          `json:"resourceType,omitempty"`
	Params       map[string]any  `json:"params,omitempty"`
	AllOf        []Condition     `json:"allOf,omitempty"`
	AnyOf        []Condition     `json:"anyOf,omitempty"`
	Not          json.RawMessage `json:"not,omitempty"`
	Expr         string          `json:"expr,omitempty"`
}

// MarshalJSON writes the condition in Backstage's shape.
func (c Condition) MarshalJSON() ([]byte, error) {
	k, err := c.kind()
	if err != nil {
		return nil, err
	}
	switch k {
	case "rule":
		params := c.Params
		if params == nil {
			params = map[string]any{}
		}
		return json.Marshal(struct {
			Rule         string         `json:"rule"`
			ResourceType string         `json:"resourceType"`
			Params       map[string]any `json:"params"`
		}{c.Rule, ResourceCatalogEntity, params})
	case "allOf":
		return json.Marshal(struct {
			AllOf []Condition `json:"allOf"`
		}{c.AllOf})
	case "anyOf":
		return json.Marshal(struct {
			AnyOf []Condition `json:"anyOf"`
		}{c.AnyOf})
	case "not":
		return json.Marshal(struct {
			Not *Condition `json:"not"`
		}{c.Not})
	default:
		return json.Marshal(struct {
			Expr string `json:"expr"`
		}{c.Expr})
	}
}

// UnmarshalJSON reads a condition in Backstage's shape, checking rule
// names, resource types and params, and compiling expressions.
func (c *Condition) UnmarshalJSON(b []byte) error {
	var j conditionJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("permission: condition: %w", err)
	}
	out := Condition{Rule: j.Rule, AllOf: j.AllOf, AnyOf: j.AnyOf, Expr: j.Expr}
	if len(j.Not) > 0 && string(j.Not) != "null" {
		out.Not = new(Condition)
		if err := json.Unmarshal(j.Not, out.Not); err != nil {
			return err
		}
	}
	k, err := out.kind()
	if err != nil {
		return err
	}
	switch {
	case k == "rule":
		if j.ResourceType != ResourceCatalogEntity {
			return fmt.Errorf("permission: condition %s: resourceType must be %q, not %q", j.Rule, ResourceCatalogEntity, j.ResourceType)
		}
		out.Params, err = jsonParams(j.Rule, j.Params)
		if err != nil {
			return err
		}
	case j.ResourceType != "" || j.Params != nil:
		return fmt.Errorf("permission: only rule conditions have resourceType and params")
	case k == "expr":
		if out.prog, err = compile(resourceEnv, out.Expr); err != nil {
			return err
		}
	}
	*c = out
	return nil
}

// jsonParams converts decoded JSON params to the types rules take.
func jsonParams(rule string, raw map[string]any) (map[string]any, error) {
	def, ok := ruleByName(rule)
	if !ok {
		return nil, fmt.Errorf("permission: unknown rule %q", rule)
	}
	params := map[string]any{}
	for k, v := range raw {
		i := slices.IndexFunc(def.params, func(p paramDef) bool { return p.name == k })
		if i < 0 {
			return nil, fmt.Errorf("permission: %s has no param %q", rule, k)
		}
		if !def.params[i].list {
			params[k] = v
			continue
		}
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("permission: %s param %q must be a list of strings", rule, k)
		}
		list := make([]string, len(items))
		for n, it := range items {
			if list[n], ok = it.(string); !ok {
				return nil, fmt.Errorf("permission: %s param %q must be a list of strings", rule, k)
			}
		}
		params[k] = list
	}
	if _, err := checkRule(rule, params); err != nil {
		return nil, err
	}
	return params, nil
}
