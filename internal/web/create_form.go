package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// The form of a software template, generated on the server from its
// spec.parameters: JSON Schema objects (one per step) with Backstage's
// ui: keys, as react-jsonschema-form and Backstage's field extensions
// read them. Supported:
//
//   - string (text; format email, uri/url, date; ui:widget textarea or
//     password; ui:field Secret), with pattern, minLength and maxLength;
//   - enum (with enumNames) as a select, or radio buttons (ui:widget radio);
//   - number and integer with minimum and maximum; boolean as a checkbox;
//   - arrays of enum values (ui:widget checkboxes, else a multiple
//     select), other arrays of strings as one item a line;
//   - nested objects as fieldsets;
//   - title, description, default, required, ui:help, ui:placeholder,
//     ui:autofocus, ui:options.rows, ui:backstage.review.show, and
//     ui:order on an object (see orderProps on why it matters here);
//   - the catalog-backed fields EntityPicker, OwnerPicker,
//     OwnedEntityPicker, MultiEntityPicker and MyGroupsPicker (see
//     pickerOptions for what each offers; allowArbitraryValues, true by
//     default as in Backstage, turns the closed select into a text input
//     with a list of suggestions), EntityNamePicker, EntityTagsPicker and
//     RepoUrlPicker;
//   - conditional properties: dependencies (oneOf branches keyed on a
//     const or enum of the controlling property, or a plain schema
//     dependency) and if/then/else (also inside allOf) on a const or enum.
//
// Fields are named "v.<path>" in the form, so they never meet the form's
// own fields (csrf).

// valuePrefix starts the form name of every template field.
const valuePrefix = "v."

// maxPickerEntities caps the entities a picker offers.
const maxPickerEntities = 500

// formStep is one parameters object of a template: a section of the form.
type formStep struct {
	Title, Description string
	Fields             []*formField
}

// formField is one property of a template's parameters as the form shows
// it, with what the user entered and the error found in it.
type formField struct {
	// Name is the form field's name ("v.a.b"), Path the property's dotted
	// path ("a.b"), Key its last segment; ID the id of its input and
	// Anchor of what the error summary links to.
	Name, Path, Key, ID, Anchor           string
	Label, Description, Help, Placeholder string
	// Control is how it is entered: text, textarea, password, number,
	// checkbox, select, radio, checkboxes, multiselect, lines, object,
	// entity, entities, tags or repo.
	Control string
	// InputType is the type attribute of a text input (text, email, url,
	// date).
	InputType           string
	Required, Autofocus bool
	Rows                int
	Options             []option
	// Value is the text entered or the option chosen; Values those of a
	// multiple choice.
	Value  string
	Values []string
	// Min, Max and Step are a number's bounds; Pattern the anchored
	// pattern browsers may check (the server checks it anyway).
	Min, Max, Step, Pattern string
	MinLength, MaxLength    int
	Error                   string
	// Fields are an object's properties.
	Fields []*formField
	// Repo is a RepoUrlPicker's parts.
	Repo *repoInput
	// Cond, if set, shows the field only while another holds a value.
	Cond *fieldCond
	// Secret keeps the value out of the task's stored values (and masks
	// it on review); HideReview leaves it off the review.
	Secret, HideReview bool
	// Arbitrary lets an entity picker take refs typed in, not only the
	// entities offered (ui:options.allowArbitraryValues); Other holds the
	// refs typed into a MultiEntityPicker, one a line.
	Arbitrary bool
	Other     string
	// Note says why a picker offers nothing (no one is signed in, or the
	// user owns nothing it may offer).
	Note string

	// inactive is set when its condition does not hold: it is neither
	// validated nor sent.
	inactive bool
	typ      string // the JSON type: string, number, integer, boolean, array, object
	enum     []any  // the allowed values (of the items, for an array)
	min, max *float64
	re       *regexp.Regexp
	// picker is the catalog filter of an entity picker, defaultKind and
	// pickNS the parts its values leave out; pickFrom narrows what it
	// offers to the user's (pickOwned, pickGroups). parseKind is the kind
	// of a typed ref that has none, kinds those a typed ref may have (any
	// when empty).
	picker               filter.Expr
	defaultKind, pickNS  string
	pickFrom, parseKind  string
	kinds                []string
	picked               []string // a MultiEntityPicker's checked values, for the review
	defaultVal           any
	minItems, maxItems   int
	entityName, tagsList bool
}

// repoInput is a RepoUrlPicker: host, owner and repository.
type repoInput struct {
	Hosts, Owners     []option
	Host, Owner, Repo string
}

// fieldCond is the condition under which a field applies: the field
// named Field holds one of Values (or, with no Values, any value); Not
// inverts it. JSON carries Values for the script.
type fieldCond struct {
	Field  string
	Values []string
	Not    bool
}

// JSON is the values as a JSON array, for data-depends-values.
func (c *fieldCond) JSON() string {
	b, _ := json.Marshal(c.Values)
	return string(b)
}

// holds reports whether the condition holds for the controlling field's
// raw value.
func (c *fieldCond) holds(raw string, known bool) bool {
	ok := known && raw != "" && raw != "false"
	if c.Values != nil {
		ok = known && slices.Contains(c.Values, raw)
	}
	return ok != c.Not
}

// jobj is a JSON object that keeps its keys' order, which is the order
// of a form's fields.
type jobj struct {
	keys []string
	m    map[string]any
}

func (o *jobj) get(k string) any {
	if o == nil {
		return nil
	}
	return o.m[k]
}

// ks returns the keys in order.
func (o *jobj) ks() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

func (o *jobj) str(k string) string { s, _ := o.get(k).(string); return s }
func (o *jobj) obj(k string) *jobj  { v, _ := o.get(k).(*jobj); return v }
func (o *jobj) list(k string) []any { v, _ := o.get(k).([]any); return v }

// strs returns a string or the strings of a list.
func (o *jobj) strs(k string) []string {
	switch v := o.get(k).(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, it := range v {
			if s, ok := it.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// num returns a number, or nil.
func (o *jobj) num(k string) *float64 {
	n, ok := o.get(k).(json.Number)
	if !ok {
		return nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil
	}
	return &f
}

func (o *jobj) integer(k string) int {
	if f := o.num(k); f != nil {
		return int(*f)
	}
	return 0
}

// decodeOrdered decodes JSON with objects as *jobj and numbers as json.Number.
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &jobj{m: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.m[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.m[k] = v
			}
			_, err := dec.Token()
			return o, err
		case '[':
			out := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		}
	}
	return tok, nil
}

// parseSteps reads a template's spec.parameters: one object or a list of
// them.
func parseSteps(raw json.RawMessage) ([]*formStep, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	v, err := decodeOrdered(raw)
	if err != nil {
		return nil, fmt.Errorf("web: decode template parameters: %w", err)
	}
	var objs []*jobj
	switch v := v.(type) {
	case *jobj:
		objs = append(objs, v)
	case []any:
		for _, it := range v {
			if o, ok := it.(*jobj); ok {
				objs = append(objs, o)
			}
		}
	}
	var steps []*formStep
	for i, o := range objs {
		st := &formStep{Title: o.str("title"), Description: o.str("description"), Fields: parseObject("", o)}
		if st.Title == "" {
			st.Title = "Step " + strconv.Itoa(i+1)
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// parseObject reads an object schema's properties and its conditional
// properties into fields; path is the object's own path ("" for a step).
func parseObject(path string, o *jobj) []*formField {
	required := o.strs("required")
	var fields []*formField
	add := func(props *jobj, req []string, cond *fieldCond) {
		if props == nil {
			return
		}
		for _, k := range props.keys {
			p, ok := props.m[k].(*jobj)
			if !ok {
				continue
			}
			if i := slices.IndexFunc(fields, func(f *formField) bool { return f.Key == k }); i >= 0 {
				// A property the branches share: shown when any holds.
				f := fields[i]
				if cond != nil && f.Cond != nil && f.Cond.Field == cond.Field && !f.Cond.Not && !cond.Not && f.Cond.Values != nil && cond.Values != nil {
					f.Cond.Values = append(f.Cond.Values, cond.Values...)
				}
				continue
			}
			f := parseField(joinPath(path, k), k, p, slices.Contains(req, k))
			f.Cond = cond
			fields = append(fields, f)
		}
	}
	add(orderProps(o.obj("properties"), o.strs("ui:order")), required, nil)

	deps := o.obj("dependencies")
	for _, ctrl := range deps.ks() {
		d, ok := deps.m[ctrl].(*jobj)
		if !ok {
			continue
		}
		name := valuePrefix + joinPath(path, ctrl)
		branches := d.list("oneOf")
		if branches == nil {
			// A schema dependency: applies while the property has a value.
			add(d.obj("properties"), d.strs("required"), &fieldCond{Field: name})
			continue
		}
		for _, b := range branches {
			bo, ok := b.(*jobj)
			if !ok {
				continue
			}
			vals := condValues(bo.obj("properties").obj(ctrl))
			if vals == nil {
				continue
			}
			rest := &jobj{m: map[string]any{}}
			for _, k := range bo.obj("properties").ks() {
				if k != ctrl {
					rest.keys = append(rest.keys, k)
					rest.m[k] = bo.obj("properties").m[k]
				}
			}
			add(rest, bo.strs("required"), &fieldCond{Field: name, Values: vals})
		}
	}

	conds := []*jobj{o}
	for _, it := range o.list("allOf") {
		if c, ok := it.(*jobj); ok {
			conds = append(conds, c)
		}
	}
	for _, c := range conds {
		ifo := c.obj("if").obj("properties")
		if ifo == nil {
			continue
		}
		for _, ctrl := range ifo.keys {
			vals := condValues(ifo.obj(ctrl))
			if vals == nil {
				continue
			}
			name := valuePrefix + joinPath(path, ctrl)
			if t := c.obj("then"); t != nil {
				add(t.obj("properties"), t.strs("required"), &fieldCond{Field: name, Values: vals})
			}
			if e := c.obj("else"); e != nil {
				add(e.obj("properties"), e.strs("required"), &fieldCond{Field: name, Values: vals, Not: true})
			}
			break
		}
	}
	return fields
}

// orderProps orders an object's properties by its ui:order, a list of
// names where "*" stands for the others (in their order, which is the
// template file's: the catalog keeps a Template's spec in written order).
func orderProps(props *jobj, order []string) *jobj {
	if props == nil || len(order) == 0 {
		return props
	}
	named := map[string]bool{}
	for _, k := range order {
		named[k] = true
	}
	out := &jobj{m: props.m}
	for _, k := range order {
		if k == "*" {
			for _, r := range props.keys {
				if !named[r] {
					out.keys = append(out.keys, r)
				}
			}
		} else if _, ok := props.m[k]; ok {
			out.keys = append(out.keys, k)
		}
	}
	if !named["*"] {
		for _, r := range props.keys {
			if !named[r] {
				out.keys = append(out.keys, r)
			}
		}
	}
	return out
}

// condValues returns the raw form values a condition's const or enum
// allows, or nil when it has neither.
func condValues(s *jobj) []string {
	if s == nil {
		return nil
	}
	if c, ok := s.m["const"]; ok {
		return []string{rawOf(c)}
	}
	if e := s.list("enum"); e != nil {
		out := []string{}
		for _, v := range e {
			out = append(out, rawOf(v))
		}
		return out
	}
	return nil
}

// rawOf is a JSON value as a form field holds it.
func rawOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// entityNamePattern is Backstage's metadata.name rule, for browsers.
const entityNamePattern = `^([A-Za-z0-9][\-_.A-Za-z0-9]*)?[A-Za-z0-9]$`

// parseField reads one property's schema.
func parseField(path, key string, s *jobj, required bool) *formField {
	id := "f-" + strings.NewReplacer(".", "-", " ", "-").Replace(path)
	f := &formField{
		Name: valuePrefix + path, Path: path, Key: key, ID: id, Anchor: id,
		Label: s.str("title"), Description: s.str("description"),
		Help: s.str("ui:help"), Placeholder: s.str("ui:placeholder"),
		Required: required, Autofocus: s.get("ui:autofocus") == true,
		typ: s.str("type"), defaultVal: s.get("default"),
	}
	if f.Label == "" {
		f.Label = key
	}
	if types := s.strs("type"); f.typ == "" && len(types) > 0 {
		f.typ = types[0]
	}
	opts := s.obj("ui:options")
	f.Rows = opts.integer("rows")
	if show, ok := s.obj("ui:backstage").obj("review").get("show").(bool); ok && !show {
		f.HideReview = true
	}
	if p := s.str("pattern"); p != "" {
		f.re, _ = regexp.Compile(p) // a pattern Go cannot read is left to the scaffolder
		if strings.HasPrefix(p, "^") && strings.HasSuffix(p, "$") {
			f.Pattern = p
		}
	}
	f.MinLength, f.MaxLength = s.integer("minLength"), s.integer("maxLength")
	f.min, f.max = s.num("minimum"), s.num("maximum")
	f.minItems, f.maxItems = s.integer("minItems"), s.integer("maxItems")
	widget := s.str("ui:widget")

	switch field := s.str("ui:field"); field {
	case "EntityPicker", "OwnerPicker", "OwnedEntityPicker", "MultiEntityPicker":
		f.Control, f.typ = "entity", "string"
		if field == "MultiEntityPicker" {
			f.Control, f.typ = "entities", "array"
		}
		if field == "OwnedEntityPicker" {
			f.pickFrom = pickOwned
		}
		f.defaultKind, f.pickNS = opts.str("defaultKind"), opts.str("defaultNamespace")
		// Backstage's default: refs may be typed in unless a template says no.
		f.Arbitrary = opts.get("allowArbitraryValues") != false
		cf := opts.get("catalogFilter")
		f.picker = catalogFilter(cf)
		f.kinds = filterKinds(cf)
		if f.picker == nil {
			kinds := opts.strs("allowedKinds")
			if kinds == nil && field == "OwnerPicker" {
				kinds = []string{"Group", "User"}
			}
			if kinds != nil {
				f.picker = catalogFilter(map[string]any{"kind": kinds})
				f.kinds = kinds
			}
		}
		f.parseKind = f.defaultKind
		switch {
		case f.parseKind != "":
		case len(f.kinds) == 1:
			f.parseKind = f.kinds[0]
		case field == "OwnerPicker":
			// Backstage's OwnerPicker reads a bare name as a group.
			f.parseKind = "Group"
		}
		return f
	case "MyGroupsPicker":
		f.Control, f.typ, f.pickFrom = "entity", "string", pickGroups
		f.kinds, f.parseKind = []string{"Group"}, "Group"
		return f
	case "EntityNamePicker":
		f.Control, f.typ, f.InputType, f.entityName = "text", "string", "text", true
		f.Pattern, f.MaxLength = entityNamePattern, 63
		return f
	case "EntityTagsPicker":
		f.Control, f.typ, f.tagsList = "tags", "array", true
		return f
	case "RepoUrlPicker":
		f.Control, f.typ, f.Anchor = "repo", "string", id+"-host"
		f.Repo = &repoInput{}
		for _, h := range opts.strs("allowedHosts") {
			f.Repo.Hosts = append(f.Repo.Hosts, option{Value: h, Label: h})
		}
		for _, o := range opts.strs("allowedOwners") {
			f.Repo.Owners = append(f.Repo.Owners, option{Value: o, Label: o})
		}
		if len(f.Repo.Hosts) == 0 {
			f.Anchor = id + "-owner"
		}
		return f
	case "Secret":
		f.Control, f.typ, f.Secret = "password", "string", true
		return f
	}

	switch f.typ {
	case "object":
		f.Control = "object"
		f.Fields = parseObject(path, s)
	case "array":
		items := s.obj("items")
		f.enum = items.list("enum")
		if f.enum != nil {
			f.Control = "multiselect"
			if widget == "checkboxes" {
				f.Control, f.Anchor = "checkboxes", id+"-0"
			}
			f.Options = enumOptions(f.enum, items.strs("enumNames"))
		} else {
			f.Control = "lines"
		}
	case "boolean":
		f.Control = "checkbox"
	case "number", "integer":
		f.Control, f.Step = "number", "any"
		if f.typ == "integer" {
			f.Step = "1"
		}
		if f.min != nil {
			f.Min = strconv.FormatFloat(*f.min, 'f', -1, 64)
		}
		if f.max != nil {
			f.Max = strconv.FormatFloat(*f.max, 'f', -1, 64)
		}
	default:
		f.typ = "string"
		f.Control, f.InputType = "text", "text"
		switch s.str("format") {
		case "email":
			f.InputType = "email"
		case "uri", "url":
			f.InputType = "url"
		case "date":
			f.InputType = "date"
		}
		switch widget {
		case "textarea":
			f.Control = "textarea"
		case "password":
			f.Control, f.Secret = "password", true
		}
	}
	if e := s.list("enum"); e != nil && f.Control != "object" {
		f.enum = e
		f.Options = enumOptions(e, s.strs("enumNames"))
		f.Control = "select"
		if widget == "radio" {
			f.Control, f.Anchor = "radio", id+"-0"
		}
	}
	if f.Control == "textarea" || f.Control == "lines" {
		f.Rows = max(f.Rows, 3)
	}
	return f
}

// enumOptions are the choices of an enum, labeled by enumNames.
func enumOptions(enum []any, names []string) []option {
	out := make([]option, len(enum))
	for i, v := range enum {
		out[i] = option{Value: rawOf(v), Label: rawOf(v)}
		if i < len(names) {
			out[i].Label = names[i]
		}
	}
	return out
}

// catalogFilter turns ui:options.catalogFilter (a map of key to value or
// values, or a list of such maps, any of which may match) into a catalog
// filter; nil when there is none.
func catalogFilter(v any) filter.Expr {
	one := func(m map[string]any) filter.Expr {
		var all []filter.Expr
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			key := strings.ToLower(k)
			var vals []string
			switch x := m[k].(type) {
			case *jobj:
				if x.get("exists") == true {
					all = append(all, filter.Exists{Key: key})
				}
				continue
			case []any:
				for _, it := range x {
					vals = append(vals, strings.ToLower(rawOf(it)))
				}
			case []string:
				for _, it := range x {
					vals = append(vals, strings.ToLower(it))
				}
			default:
				vals = []string{strings.ToLower(rawOf(x))}
			}
			all = append(all, filter.Match{Key: key, Values: vals})
		}
		return filter.All{Exprs: all}
	}
	switch v := v.(type) {
	case *jobj:
		return one(v.m)
	case map[string]any:
		return one(v)
	case []any:
		var anyOf []filter.Expr
		for _, it := range v {
			if o, ok := it.(*jobj); ok {
				anyOf = append(anyOf, one(o.m))
			}
		}
		if len(anyOf) > 0 {
			return filter.Any{Exprs: anyOf}
		}
	}
	return nil
}

// filterKinds returns the kinds a catalogFilter allows, when every one of
// its alternatives names them; nil when any kind may match.
func filterKinds(v any) []string {
	var alts []*jobj
	switch v := v.(type) {
	case *jobj:
		alts = []*jobj{v}
	case []any:
		for _, it := range v {
			o, ok := it.(*jobj)
			if !ok {
				return nil
			}
			alts = append(alts, o)
		}
	}
	var kinds []string
	for _, o := range alts {
		var ks []string
		for _, k := range o.ks() {
			if strings.EqualFold(k, "kind") {
				ks = o.strs(k)
			}
		}
		if ks == nil {
			return nil
		}
		for _, k := range ks {
			if !slices.ContainsFunc(kinds, func(x string) bool { return strings.EqualFold(x, k) }) {
				kinds = append(kinds, k)
			}
		}
	}
	return kinds
}

// Where a picker's entities come from, besides its catalog filter.
const (
	// pickOwned offers the entities the signed-in user owns, directly or
	// through a group (OwnedEntityPicker).
	pickOwned = "owned"
	// pickGroups offers the groups the signed-in user is a member of
	// (MyGroupsPicker).
	pickGroups = "groups"
)

// refValue is how a picker writes ref as a value: without the kind when
// it is the picker's defaultKind, and without the namespace when it is
// the default one or the picker's defaultNamespace, as Backstage's
// humanizeEntityRef writes them; the whole ref when the picker has no
// defaultKind. MyGroupsPicker always gives the whole ref.
func (f *formField) refValue(ref entity.Ref) string {
	if f.defaultKind == "" || f.pickFrom == pickGroups {
		return ref.Key()
	}
	value := humanizeRef(entity.Ref{Kind: strings.ToLower(ref.Kind), Namespace: ref.Namespace, Name: ref.Name}, f.defaultKind)
	if f.pickNS != "" && !strings.EqualFold(f.pickNS, entity.DefaultNamespace) && strings.EqualFold(ref.Namespace, f.pickNS) {
		value = strings.TrimPrefix(value, ref.Namespace+"/")
	}
	return value
}

// refOf reads a picker's value back as a ref, with the picker's default
// kind and namespace.
func (f *formField) refOf(value string) (entity.Ref, error) {
	return entity.ParseRef(value, entity.RefDefaults{Kind: f.parseKind, Namespace: f.pickNS})
}

// pickRef checks one value of an entity picker: one of the entities
// offered, or, where arbitrary values are allowed, a well-formed ref of
// an allowed kind. It returns the value to send (a typed ref naming an
// offered entity becomes that entity's value), or the problem.
func (f *formField) pickRef(s string, choices []option) (string, string) {
	if slices.ContainsFunc(choices, func(o option) bool { return o.Value == s }) {
		return s, ""
	}
	if !f.Arbitrary {
		return "", fmt.Sprintf("%q is not one of the entities offered.", s)
	}
	ref, err := f.refOf(s)
	if err != nil || !entity.IsValidKind(ref.Kind) || !entity.IsValidDNSLabel(strings.ToLower(ref.Namespace)) || !entity.IsValidObjectName(ref.Name) {
		form := "kind:namespace/name"
		if f.parseKind != "" {
			form = "[kind:][namespace/]name"
		}
		return "", fmt.Sprintf("%q is not an entity ref: write it as %s, for example %s.", s, form, f.ExampleRef())
	}
	if len(f.kinds) > 0 && !slices.ContainsFunc(f.kinds, func(k string) bool { return strings.EqualFold(k, ref.Kind) }) {
		kinds := make([]string, len(f.kinds))
		for i, k := range f.kinds {
			kinds[i] = kindName(k)
		}
		return "", fmt.Sprintf("%q is of kind %s: choose one of kind %s.", s, kindName(ref.Kind), strings.Join(kinds, " or "))
	}
	for _, o := range choices {
		if r, err := f.refOf(o.Value); err == nil && r.Equal(ref) {
			return o.Value, ""
		}
	}
	return f.refValue(ref), ""
}

// ExampleRef is an example of a ref the picker takes.
func (f *formField) ExampleRef() string {
	kind := f.parseKind
	if kind == "" && len(f.kinds) > 0 {
		kind = f.kinds[0]
	}
	if kind == "" {
		kind = "component"
	}
	return strings.ToLower(kind) + ":default/name"
}

// walkFields calls fn on every field, objects' properties after them.
func walkFields(fields []*formField, fn func(*formField)) {
	for _, f := range fields {
		fn(f)
		walkFields(f.Fields, fn)
	}
}

// setDefaults shows each field's default value.
func setDefaults(fields []*formField) {
	walkFields(fields, func(f *formField) {
		switch d := f.defaultVal.(type) {
		case nil:
		case []any:
			for _, v := range d {
				f.Values = append(f.Values, rawOf(v))
			}
			switch f.Control {
			case "lines":
				f.Value = strings.Join(f.Values, "\n")
			case "tags":
				f.Value = strings.Join(f.Values, ", ")
			case "entities":
				// Defaults that are not offered are typed refs.
				var offered, other []string
				for _, v := range f.Values {
					if slices.ContainsFunc(f.Options, func(o option) bool { return o.Value == v }) {
						offered = append(offered, v)
					} else {
						other = append(other, v)
					}
				}
				f.Values, f.Other = offered, strings.Join(other, "\n")
			}
		default:
			f.Value = rawOf(d)
			if f.Repo != nil {
				f.Repo.Host, f.Repo.Owner, f.Repo.Repo = splitRepoURL(f.Value)
			}
		}
	})
}

// bind fills the fields with what the form holds.
func bind(fields []*formField, form url.Values) {
	walkFields(fields, func(f *formField) { bindField(f, form) })
}

// bindField fills one field with what the form holds for it.
func bindField(f *formField, form url.Values) {
	switch f.Control {
	case "object":
	case "checkboxes", "multiselect":
		f.Values = form[f.Name]
	case "entities":
		f.Values, f.Other = form[f.Name], form.Get(f.Name+".other")
	case "repo":
		f.Repo.Host = strings.TrimSpace(form.Get(f.Name + ".host"))
		f.Repo.Owner = strings.TrimSpace(form.Get(f.Name + ".owner"))
		f.Repo.Repo = strings.TrimSpace(form.Get(f.Name + ".repo"))
	default:
		f.Value = form.Get(f.Name)
	}
}

// splitRepoURL reads a RepoUrlPicker value, "host?owner=o&repo=r".
func splitRepoURL(s string) (host, owner, repo string) {
	host, query, _ := strings.Cut(s, "?")
	q, _ := url.ParseQuery(query)
	return host, q.Get("owner"), q.Get("repo")
}

// collected are the values a bound form yields.
type collected struct {
	values  map[string]any
	secrets map[string]string
}

// collect validates the bound fields of all steps and returns their
// values; the fields carry the errors, and ok is false if there are any.
// pickers lists the values each entity picker offers.
func collect(steps []*formStep, pickers map[string][]option) (collected, bool) {
	c := collected{values: map[string]any{}, secrets: map[string]string{}}
	for _, st := range steps {
		collectInto(st.Fields, c.values, c.secrets, pickers)
	}
	ok := true
	for _, st := range steps {
		walkFields(st.Fields, func(f *formField) {
			if f.Error != "" {
				ok = false
			}
		})
	}
	return c, ok
}

func collectInto(fields []*formField, out map[string]any, secrets map[string]string, pickers map[string][]option) {
	raw := map[string]string{}
	for _, f := range fields {
		f.inactive, f.Error = false, ""
		if f.Cond != nil {
			v, known := raw[f.Cond.Field]
			if !f.Cond.holds(v, known) {
				f.inactive = true
				walkFields(f.Fields, func(c *formField) { c.inactive = true })
				continue
			}
		}
		if f.Control == "object" {
			sub := map[string]any{}
			collectInto(f.Fields, sub, secrets, pickers)
			if len(sub) > 0 {
				out[f.Key] = sub
			}
			continue
		}
		v, present := f.check(pickers[f.Name])
		switch {
		case f.Control == "checkbox":
			raw[f.Name] = strconv.FormatBool(v == true)
		case f.Error == "":
			raw[f.Name] = f.Value
		}
		if !present || f.Error != "" {
			continue
		}
		if f.Secret {
			secrets[f.Path] = f.Value
			continue
		}
		out[f.Key] = v
	}
}

// check validates a bound field and returns its value, and whether it
// has one.
func (f *formField) check(choices []option) (any, bool) {
	fail := func(format string, args ...any) (any, bool) {
		f.Error = fmt.Sprintf(format, args...)
		return nil, false
	}
	switch f.Control {
	case "checkbox":
		return f.Value == "true", true
	case "checkboxes", "multiselect":
		if f.Required && len(f.Values) == 0 {
			return fail("Choose at least one.")
		}
		vals := make([]any, 0, len(f.Values))
		for _, v := range f.Values {
			i := slices.IndexFunc(f.Options, func(o option) bool { return o.Value == v })
			if i < 0 {
				return fail("%q is not one of the choices.", v)
			}
			vals = append(vals, typed(f.enum[i]))
		}
		if f.minItems > 0 && len(vals) < f.minItems {
			return fail("Choose at least %d.", f.minItems)
		}
		if f.maxItems > 0 && len(vals) > f.maxItems {
			return fail("Choose at most %d.", f.maxItems)
		}
		return vals, len(vals) > 0
	case "entities":
		f.picked = nil
		var vals []any
		add := func(v string) {
			if !slices.Contains(f.picked, v) {
				f.picked = append(f.picked, v)
				vals = append(vals, v)
			}
		}
		typed := strings.FieldsFunc(f.Other, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' })
		for _, v := range append(slices.Clone(f.Values), typed...) {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			val, problem := f.pickRef(v, choices)
			if problem != "" {
				return fail("%s", problem)
			}
			add(val)
		}
		if f.Required && len(vals) == 0 {
			return fail("Choose at least one.")
		}
		if f.minItems > 0 && len(vals) < f.minItems {
			return fail("Choose at least %d.", f.minItems)
		}
		if f.maxItems > 0 && len(vals) > f.maxItems {
			return fail("Choose at most %d.", f.maxItems)
		}
		return vals, len(vals) > 0
	case "repo":
		r := f.Repo
		if r.Host == "" && r.Owner == "" && r.Repo == "" {
			if f.Required {
				return fail("Enter the repository's owner and name.")
			}
			return nil, false
		}
		switch {
		case len(r.Hosts) > 0 && !slices.ContainsFunc(r.Hosts, func(o option) bool { return o.Value == r.Host }):
			return fail("Choose one of the allowed hosts.")
		case len(r.Hosts) == 0 && r.Host == "":
			return fail("Enter the host.")
		case r.Owner == "":
			return fail("Enter the owner.")
		case len(r.Owners) > 0 && !slices.ContainsFunc(r.Owners, func(o option) bool { return o.Value == r.Owner }):
			return fail("Choose one of the allowed owners.")
		case r.Repo == "":
			return fail("Enter the repository's name.")
		case !repoPart.MatchString(r.Owner) || !repoPart.MatchString(r.Repo):
			return fail("Owner and repository may have letters, digits, '-', '_' and '.' only.")
		}
		q := url.Values{"owner": {r.Owner}, "repo": {r.Repo}}
		f.Value = r.Host + "?" + q.Encode()
		return f.Value, true
	}
	if f.Control == "lines" || f.tagsList {
		sep := "\n"
		if f.tagsList {
			sep = ","
		}
		var vals []any
		for item := range strings.SplitSeq(f.Value, sep) {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			if f.tagsList && !entity.IsValidTag(item) {
				return fail("%q is not a valid tag: use 1 to 63 lowercase letters, digits and +#: in words joined by single dashes.", item)
			}
			vals = append(vals, item)
		}
		if f.Required && len(vals) == 0 {
			return fail("Enter at least one.")
		}
		return vals, len(vals) > 0
	}

	// One value: text, number, choice or entity.
	s := f.Value
	if f.Control != "textarea" && f.Control != "password" {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		if f.Required {
			return fail("%s is required.", f.Label)
		}
		return nil, false
	}
	switch {
	case f.enum != nil:
		i := slices.IndexFunc(f.Options, func(o option) bool { return o.Value == s })
		if i < 0 {
			return fail("Choose one of the options.")
		}
		return typed(f.enum[i]), true
	case f.Control == "entity":
		val, problem := f.pickRef(s, choices)
		if problem != "" {
			return fail("%s", problem)
		}
		f.Value = val
		return val, true
	case f.typ == "number" || f.typ == "integer":
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return fail("Enter a number.")
		}
		if f.typ == "integer" && n != math.Trunc(n) {
			return fail("Enter a whole number.")
		}
		if f.min != nil && n < *f.min {
			return fail("Enter %s or more.", f.Min)
		}
		if f.max != nil && n > *f.max {
			return fail("Enter %s or less.", f.Max)
		}
		if f.typ == "integer" {
			return int64(n), true
		}
		return n, true
	}
	n := utf8.RuneCountInString(s)
	switch {
	case f.MinLength > 0 && n < f.MinLength:
		return fail("Enter at least %d characters.", f.MinLength)
	case f.MaxLength > 0 && n > f.MaxLength:
		return fail("Enter at most %d characters.", f.MaxLength)
	case f.entityName && !entity.IsValidObjectName(s):
		return fail("Use letters, digits, '-', '_' and '.', starting and ending with a letter or digit.")
	case f.re != nil && !f.re.MatchString(s):
		return fail("%s does not have the expected format (%s).", f.Label, f.re.String())
	}
	return s, true
}

// repoPart is what a repository's owner or name may hold.
var repoPart = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

// typed turns a decoded enum value into the value the task receives.
func typed(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		f, _ := n.Float64()
		return f
	}
	return v
}
