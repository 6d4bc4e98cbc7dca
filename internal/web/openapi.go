package web

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// OpenAPI definitions rendered server-side, as Swagger UI shows them:
// operations grouped by tag, each with its parameters, request body and
// responses, schemas as nested property lists (local $refs resolved), and
// an example for every body, taken from the definition or made up from
// its schema. OpenAPI 3.x and Swagger 2.0 are read.

// openAPIView is a rendered OpenAPI definition.
type openAPIView struct {
	Title, Version, Description string
	Servers                     []string
	Groups                      []opGroup
	// Schemas are the named schemas (components.schemas or definitions).
	Schemas []*schemaView
}

// opGroup is the operations of one tag.
type opGroup struct {
	Name, Description string
	Ops               []operationView
}

// operationView is one operation (a method on a path).
type operationView struct {
	Anchor, Method, Path string
	Summary, Description string
	OperationID          string
	Deprecated           bool
	Params               []paramView
	Body                 *bodyView
	Responses            []responseView
}

// paramView is one parameter of an operation.
type paramView struct {
	Name, In, Type, Description, Example string
	Required, Deprecated                 bool
}

// bodyView is a request body.
type bodyView struct {
	Description string
	Required    bool
	Contents    []contentView
}

// responseView is one response of an operation.
type responseView struct {
	Status, Description string
	// Class is the status class for colouring: "2", "4", ...
	Class    string
	Contents []contentView
}

// contentView is a body in one media type: its schema and an example.
type contentView struct {
	MediaType string
	Schema    *schemaView
	Example   codeView
	// ExampleNote says where the example came from.
	ExampleNote string
}

// schemaView is a schema as a tree of properties.
type schemaView struct {
	Name                   string
	Type                   string
	Description            string
	Required               bool
	Enum                   []string
	Constraints            []string
	Deprecated             bool
	Properties             []*schemaView
	Items                  *schemaView
	Variants               []*schemaView
	VariantKind            string
	Recursive, Truncated   bool
	AdditionalProperties   *schemaView
	HasAdditionalAnyValues bool
}

// openAPI reads a definition into its view; root is the document.
type openAPI struct {
	root    *yaml.Node
	swagger bool
	budget  int // schema nodes left to render
}

// Bounds on rendering, so a hostile or huge definition stays cheap.
const (
	schemaBudget   = 20000
	maxSchemaDepth = 12
	maxOperations  = 1000
)

// renderOpenAPI parses and renders an OpenAPI or Swagger definition.
func renderOpenAPI(text string) (*openAPIView, error) {
	root, err := parseYAMLDoc(text)
	if err != nil {
		return nil, err
	}
	o := &openAPI{root: root, budget: schemaBudget}
	switch {
	case strings.HasPrefix(str(get(root, "openapi")), "3."):
	case str(get(root, "swagger")) == "2.0":
		o.swagger = true
	default:
		return nil, fmt.Errorf("not an OpenAPI 3 or Swagger 2.0 document (no openapi: 3.x or swagger: \"2.0\" key)")
	}
	info := get(root, "info")
	v := &openAPIView{
		Title: str(get(info, "title")), Version: str(get(info, "version")), Description: str(get(info, "description")),
	}
	if o.swagger {
		if host := str(get(root, "host")); host != "" {
			scheme := "https"
			if ss := strs(get(root, "schemes")); len(ss) > 0 {
				scheme = ss[0]
			}
			v.Servers = append(v.Servers, scheme+"://"+host+str(get(root, "basePath")))
		}
	} else {
		for _, s := range items(get(root, "servers")) {
			if u := str(get(s, "url")); u != "" {
				v.Servers = append(v.Servers, u)
			}
		}
	}
	v.Groups = o.groups()
	schemas := get(get(root, "components"), "schemas")
	if o.swagger {
		schemas = get(root, "definitions")
	}
	for _, p := range pairs(schemas) {
		s := o.schema(p.Val, p.Key, 0, nil)
		s.Name = p.Key
		v.Schemas = append(v.Schemas, s)
	}
	return v, nil
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// groups collects the operations by their first tag: the document's tags
// first in their order, then tags only operations name, then "default".
func (o *openAPI) groups() []opGroup {
	var order []string
	byName := map[string]*opGroup{}
	group := func(name string) *opGroup {
		if g, ok := byName[name]; ok {
			return g
		}
		byName[name] = &opGroup{Name: name}
		order = append(order, name)
		return byName[name]
	}
	for _, t := range items(get(o.root, "tags")) {
		g := group(str(get(t, "name")))
		g.Description = str(get(t, "description"))
	}
	count := 0
	anchors := map[string]bool{}
	for _, p := range pairs(get(o.root, "paths")) {
		pathItem := p.Val
		if ref := str(get(pathItem, "$ref")); ref != "" {
			pathItem = resolveRef(o.root, ref)
		}
		shared := items(get(pathItem, "parameters"))
		for _, m := range methods {
			opNode := get(pathItem, m)
			if opNode == nil || count >= maxOperations {
				continue
			}
			count++
			op := o.operation(p.Key, m, opNode, shared)
			for anchors[op.Anchor] {
				op.Anchor += "-"
			}
			anchors[op.Anchor] = true
			tag := "default"
			if tags := strs(get(opNode, "tags")); len(tags) > 0 && tags[0] != "" {
				tag = tags[0]
			}
			g := group(tag)
			g.Ops = append(g.Ops, op)
		}
	}
	var out []opGroup
	for _, name := range order {
		if g := byName[name]; len(g.Ops) > 0 {
			out = append(out, *g)
		}
	}
	return out
}

var anchorUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// operation renders one operation; shared are its path's parameters.
func (o *openAPI) operation(path, method string, n *yaml.Node, shared []*yaml.Node) operationView {
	op := operationView{
		Method: strings.ToUpper(method), Path: path,
		Summary: str(get(n, "summary")), Description: str(get(n, "description")),
		OperationID: str(get(n, "operationId")), Deprecated: boolean(get(n, "deprecated")),
	}
	anchor := op.OperationID
	if anchor == "" {
		anchor = method + "-" + path
	}
	op.Anchor = "op-" + strings.Trim(anchorUnsafe.ReplaceAllString(anchor, "-"), "-")

	// Operation parameters override path parameters of the same name and place.
	params := map[string]*yaml.Node{}
	var order []string
	for _, list := range [][]*yaml.Node{shared, items(get(n, "parameters"))} {
		for _, p := range list {
			if ref := str(get(p, "$ref")); ref != "" {
				p = resolveRef(o.root, ref)
			}
			key := str(get(p, "in")) + ":" + str(get(p, "name"))
			if _, ok := params[key]; !ok {
				order = append(order, key)
			}
			params[key] = p
		}
	}
	for _, key := range order {
		p := params[key]
		if o.swagger && str(get(p, "in")) == "body" {
			op.Body = &bodyView{Description: str(get(p, "description")), Required: boolean(get(p, "required"))}
			for _, mt := range o.swaggerMediaTypes(n, "consumes") {
				op.Body.Contents = append(op.Body.Contents, o.content(mt, get(p, "schema"), nil, nil))
			}
			continue
		}
		op.Params = append(op.Params, o.param(p))
	}
	if rb := get(n, "requestBody"); rb != nil {
		if ref := str(get(rb, "$ref")); ref != "" {
			rb = resolveRef(o.root, ref)
		}
		op.Body = &bodyView{Description: str(get(rb, "description")), Required: boolean(get(rb, "required"))}
		for _, c := range pairs(get(rb, "content")) {
			op.Body.Contents = append(op.Body.Contents, o.content(c.Key, get(c.Val, "schema"), get(c.Val, "example"), get(c.Val, "examples")))
		}
	}
	for _, r := range pairs(get(n, "responses")) {
		rn := r.Val
		if ref := str(get(rn, "$ref")); ref != "" {
			rn = resolveRef(o.root, ref)
		}
		rv := responseView{Status: r.Key, Description: str(get(rn, "description"))}
		if r.Key != "" {
			rv.Class = r.Key[:1]
		}
		if o.swagger {
			if s := get(rn, "schema"); s != nil {
				for _, mt := range o.swaggerMediaTypes(n, "produces") {
					rv.Contents = append(rv.Contents, o.content(mt, s, nil, get(rn, "examples")))
				}
			}
		} else {
			for _, c := range pairs(get(rn, "content")) {
				rv.Contents = append(rv.Contents, o.content(c.Key, get(c.Val, "schema"), get(c.Val, "example"), get(c.Val, "examples")))
			}
		}
		op.Responses = append(op.Responses, rv)
	}
	return op
}

// swaggerMediaTypes returns a Swagger 2.0 operation's consumes or
// produces, falling back to the document's and then to JSON.
func (o *openAPI) swaggerMediaTypes(op *yaml.Node, key string) []string {
	if mts := strs(get(op, key)); len(mts) > 0 {
		return mts
	}
	if mts := strs(get(o.root, key)); len(mts) > 0 {
		return mts
	}
	return []string{"application/json"}
}

// param renders a parameter.
func (o *openAPI) param(p *yaml.Node) paramView {
	pv := paramView{
		Name: str(get(p, "name")), In: str(get(p, "in")), Description: str(get(p, "description")),
		Required: boolean(get(p, "required")), Deprecated: boolean(get(p, "deprecated")),
	}
	schema := get(p, "schema")
	if o.swagger && schema == nil {
		schema = p // Swagger 2.0 puts type and format on the parameter itself
	}
	s := o.schema(schema, "", maxSchemaDepth-1, nil)
	pv.Type = s.Type
	if len(s.Enum) > 0 {
		pv.Type += " (" + strings.Join(s.Enum, ", ") + ")"
	}
	for _, ex := range []*yaml.Node{get(p, "example"), get(schema, "example"), get(schema, "default")} {
		if ex != nil && ex.Kind == yaml.ScalarNode {
			pv.Example = ex.Value
			break
		}
	}
	return pv
}

// content renders a body in one media type, with its example: the media
// type's own example, else the first of its named examples, else one made
// up from the schema.
func (o *openAPI) content(mediaType string, schema, example, examples *yaml.Node) contentView {
	c := contentView{MediaType: mediaType}
	if schema != nil {
		c.Schema = o.schema(schema, "", 0, nil)
	}
	budget := 5000
	switch {
	case example != nil:
		c.Example, c.ExampleNote = exampleText(nodeValue(example, &budget)), "Example"
	case len(pairs(examples)) > 0:
		first := pairs(examples)[0]
		val := first.Val
		if ref := str(get(val, "$ref")); ref != "" {
			val = resolveRef(o.root, ref)
		}
		if v := get(val, "value"); v != nil && !o.swagger {
			val = v
		}
		c.Example, c.ExampleNote = exampleText(nodeValue(val, &budget)), "Example: "+first.Key
	case schema != nil:
		c.Example, c.ExampleNote = exampleText(o.sample(schema, 0, map[string]bool{})), "Example generated from the schema"
	}
	return c
}

// exampleText is the highlighted text of an example value: JSON, or a
// string as it is.
func exampleText(v any) codeView {
	if s, ok := v.(string); ok {
		return highlight("", "plain", s)
	}
	return highlight("", "json", prettyJSON(v))
}

// schema renders a schema node. seen holds the $refs being expanded on
// the way here, so a recursive schema stops instead of looping.
func (o *openAPI) schema(n *yaml.Node, name string, depth int, seen []string) *schemaView {
	s := &schemaView{}
	o.budget--
	if n == nil {
		s.Type = "any"
		return s
	}
	if o.budget < 0 || depth > maxSchemaDepth {
		s.Truncated = true
		return s
	}
	if ref := str(get(n, "$ref")); ref != "" {
		rn := refName(ref)
		for _, r := range seen {
			if r == ref {
				s.Type, s.Recursive = rn, true
				return s
			}
		}
		target := resolveRef(o.root, ref)
		if target == nil {
			s.Type = rn + " (unresolved)"
			return s
		}
		inner := o.schema(target, name, depth, append(seen, ref))
		if inner.Type == "object" || inner.Type == "" {
			inner.Type = rn
		} else if !strings.Contains(inner.Type, rn) {
			inner.Type = rn + ": " + inner.Type
		}
		return inner
	}
	s.Description = str(get(n, "description"))
	s.Deprecated = boolean(get(n, "deprecated"))
	typ := str(get(n, "type"))
	if t := get(n, "type"); t != nil && t.Kind == yaml.SequenceNode {
		typ = strings.Join(strs(t), " | ")
	}
	if all := items(get(n, "allOf")); len(all) > 0 {
		merged := &schemaView{Type: "object", Description: s.Description}
		for _, part := range all {
			ps := o.schema(part, "", depth+1, seen)
			if merged.Description == "" {
				merged.Description = ps.Description
			}
			merged.Properties = append(merged.Properties, ps.Properties...)
			if len(ps.Properties) == 0 && ps.Type != "object" {
				merged.Variants = append(merged.Variants, ps)
				merged.VariantKind = "all of"
			}
		}
		return merged
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		if alts := items(get(n, kw)); len(alts) > 0 {
			s.VariantKind = map[string]string{"oneOf": "one of", "anyOf": "any of"}[kw]
			for _, a := range alts {
				s.Variants = append(s.Variants, o.schema(a, "", depth+1, seen))
			}
			if typ == "" {
				typ = s.VariantKind
			}
		}
	}
	props := get(n, "properties")
	if typ == "" && props != nil {
		typ = "object"
	}
	switch typ {
	case "array":
		s.Items = o.schema(get(n, "items"), "", depth+1, seen)
		s.Type = "array of " + s.Items.Type
		if s.Items.Type == "" {
			s.Type = "array"
		}
	case "":
		s.Type = "any"
	default:
		s.Type = typ
	}
	if f := str(get(n, "format")); f != "" {
		s.Type += " (" + f + ")"
	}
	if boolean(get(n, "nullable")) {
		s.Type += " | null"
	}
	s.Enum = strs(get(n, "enum"))
	for _, c := range []struct{ key, label string }{
		{"minimum", "≥"}, {"maximum", "≤"}, {"exclusiveMinimum", ">"}, {"exclusiveMaximum", "<"},
		{"minLength", "min length"}, {"maxLength", "max length"}, {"minItems", "min items"},
		{"maxItems", "max items"}, {"pattern", "pattern"}, {"default", "default"},
	} {
		if v := get(n, c.key); v != nil && v.Kind == yaml.ScalarNode {
			s.Constraints = append(s.Constraints, c.label+" "+v.Value)
		}
	}
	if boolean(get(n, "readOnly")) {
		s.Constraints = append(s.Constraints, "read-only")
	}
	if boolean(get(n, "writeOnly")) {
		s.Constraints = append(s.Constraints, "write-only")
	}
	required := map[string]bool{}
	for _, r := range strs(get(n, "required")) {
		required[r] = true
	}
	for _, p := range pairs(props) {
		ps := o.schema(p.Val, p.Key, depth+1, seen)
		ps.Name, ps.Required = p.Key, required[p.Key]
		s.Properties = append(s.Properties, ps)
	}
	if ap := get(n, "additionalProperties"); ap != nil {
		if ap.Kind == yaml.MappingNode {
			s.AdditionalProperties = o.schema(ap, "", depth+1, seen)
		} else if boolean(ap) {
			s.HasAdditionalAnyValues = true
		}
	}
	return s
}

// sample makes up an example value from a schema, as Swagger UI does:
// examples and defaults where given, else a placeholder per type.
func (o *openAPI) sample(n *yaml.Node, depth int, seen map[string]bool) any {
	if n == nil || depth > 8 {
		return nil
	}
	if ref := str(get(n, "$ref")); ref != "" {
		if seen[ref] {
			return nil
		}
		seen[ref] = true
		defer delete(seen, ref)
		return o.sample(resolveRef(o.root, ref), depth, seen)
	}
	budget := 500
	for _, k := range []string{"example", "default", "const"} {
		if v := get(n, k); v != nil {
			return nodeValue(v, &budget)
		}
	}
	if ex := items(get(n, "examples")); len(ex) > 0 {
		return nodeValue(ex[0], &budget)
	}
	if enum := items(get(n, "enum")); len(enum) > 0 {
		return nodeValue(enum[0], &budget)
	}
	if all := items(get(n, "allOf")); len(all) > 0 {
		obj := orderedObject{}
		for _, part := range all {
			if po, ok := o.sample(part, depth+1, seen).(orderedObject); ok {
				obj = append(obj, po...)
			}
		}
		return obj
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		if alts := items(get(n, kw)); len(alts) > 0 {
			return o.sample(alts[0], depth+1, seen)
		}
	}
	typ := str(get(n, "type"))
	if typ == "" && get(n, "properties") != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		obj := orderedObject{}
		for _, p := range pairs(get(n, "properties")) {
			if boolean(get(p.Val, "writeOnly")) && depth > 0 {
				continue
			}
			obj = append(obj, orderedField{p.Key, o.sample(p.Val, depth+1, seen)})
		}
		return obj
	case "array":
		return []any{o.sample(get(n, "items"), depth+1, seen)}
	case "integer":
		if v := get(n, "minimum"); v != nil {
			return nodeValue(v, &budget)
		}
		return 0
	case "number":
		return 0.0
	case "boolean":
		return true
	case "string":
		switch str(get(n, "format")) {
		case "date-time":
			return "2024-01-31T12:00:00Z"
		case "date":
			return "2024-01-31"
		case "email":
			return "user@example.com"
		case "uuid":
			return "3fa85f64-5717-4562-b3fc-2c963f66afa6"
		case "uri", "url":
			return "https://example.com"
		}
		return "string"
	}
	return nil
}
