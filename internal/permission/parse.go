package permission

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// Limits on policy files, so that a hostile or broken file costs an error,
// not memory or stack.
const (
	// MaxPolicyBytes is the largest policy file Load and Parse accept.
	MaxPolicyBytes = 256 << 10
	// maxYAMLDepth bounds the nesting of the YAML document.
	maxYAMLDepth = 64
	// maxConditionDepth bounds the nesting of a condition tree.
	maxConditionDepth = 32
	// maxErrors is how many problems Parse reports before giving up.
	maxErrors = 20
)

// ParseError is one problem in a policy file, at the YAML node that has it.
type ParseError struct {
	File string
	// Line and Column are 1-based; Column is 0 when the YAML parser did
	// not say (syntax errors).
	Line, Column int
	// Field is the path of the offending field ("rules[2].conditions.anyOf[0]"),
	// empty for problems with the file as a whole.
	Field   string
	Message string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":" + strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Load reads and parses the policy file at path.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("permission: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("permission: read %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses a policy file; name is used in errors and Policy.Name. The
// error, if any, joins one *ParseError per problem (up to 20), each naming
// file:line:column, the field and what was expected.
//
// The file is one YAML document:
//
//	# Rules are tried in order; the first whose principals and permissions
//	# match (and whose `when`, if any, holds) decides. When none does, read
//	# permissions are allowed and all others denied.
//	rules:
//	  - name: platform-admins-do-anything     # required, unique
//	    description: Platform admins run it.  # optional
//	    # User and group refs (kind required, namespace defaults to
//	    # "default"; a group matches users whose ownership refs include it),
//	    # "service:<subject>", "user:*" (any signed-in user), "service:*"
//	    # (any service), "*" (anyone authenticated).
//	    principals: [group:default/platform-admins]
//	    # Registered permission names, or globs with a trailing '*'
//	    # ("catalog.location.*", "*"); each must match some permission.
//	    permissions: ["*"]
//	    decision: allow                       # allow | deny | conditional
//	  - name: owners-change-their-entities
//	    principals: ["user:*"]
//	    permissions: [catalog.entity.delete, catalog.entity.refresh]
//	    decision: conditional
//	    # Required for conditional rules, refused for others: exactly one
//	    # of Backstage's catalog rules in lower camel case,
//	    #   isEntityOwner: {claims: [refs]}  (claims default to the principal's ownership refs)
//	    #   isEntityKind: {kinds: [kinds]}
//	    #   hasAnnotation: {annotation: key, value: v}   (value optional)
//	    #   hasLabel: {label: key}
//	    #   hasMetadata: {key: dotted.path, value: v}    (value optional)
//	    #   hasSpec: {key: dotted.path, value: v}        (value optional)
//	    # or allOf: [conditions], anyOf: [conditions], not: condition, or
//	    # expr: a CEL bool over `principal` and `resource` (the entity).
//	    # expr cannot be turned into SQL, so a rule with expr conditions
//	    # must not apply to any read permission.
//	    conditions:
//	      anyOf:
//	        - isEntityOwner: {}
//	        - allOf:
//	            - isEntityKind: {kinds: [template]}
//	            - hasLabel: {label: shared}
//	  - name: sre-refresh
//	    principals: ["user:*"]
//	    permissions: [catalog.entity.refresh]
//	    decision: allow
//	    # Optional CEL bool over `principal`, a map of kind ("user" or
//	    # "service"), userRef, ownership (list of refs) and subject.
//	    when: 'principal.ownership.exists(r, r.startsWith("group:default/sre"))'
//
// Conditional rules apply only to catalog-entity resource permissions
// (catalog.entity.read, .delete, .refresh); a glob in a conditional rule
// skips the others. Anchors, aliases and unknown keys are errors.
func Parse(name string, data []byte) (*Policy, error) {
	p := &parser{file: name}
	if len(data) > MaxPolicyBytes {
		return nil, &ParseError{File: name, Message: fmt.Sprintf("file is larger than %d bytes", MaxPolicyBytes)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &ParseError{File: name, Message: "empty file; expected a mapping with a rules list"}
		}
		return nil, p.syntaxError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &ParseError{File: name, Line: extra.Line, Column: extra.Column, Message: "a policy file holds one YAML document, found another"}
	case err != io.EOF:
		return nil, p.syntaxError(err)
	}
	if !p.checkShape(&doc) {
		return nil, errors.Join(p.errs...)
	}
	pol := p.policy(doc.Content[0])
	if len(p.errs) > 0 {
		// Report in file order, not in the order fields were checked.
		slices.SortStableFunc(p.errs, func(a, b error) int {
			pa, pb := a.(*ParseError), b.(*ParseError)
			if pa.Line == 0 || pb.Line == 0 { // "too many errors" stays last
				return pb.Line - pa.Line
			}
			if pa.Line != pb.Line {
				return pa.Line - pb.Line
			}
			return pa.Column - pb.Column
		})
		return nil, errors.Join(p.errs...)
	}
	pol.Name = name
	return pol, nil
}

type parser struct {
	file string
	errs []error
	// firstExpr is the first expr condition of the rule being parsed.
	firstExpr     *yaml.Node
	firstExprPath string
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the YAML parser's (as opposed to its scanner's)
// messages. yaml.v3 reports their lines 0-based, and for a collection that
// does not close properly, the line where the collection starts rather
// than where the problem is; the value says so in the message.
var parserProblems = map[string]string{
	"did not find expected <stream-start>":   "",
	"did not find expected <document start>": "",
	"found undefined tag handle":             "",
	"did not find expected node content":     "",
	"did not find expected '-' indicator":    " in the list that starts on this line",
	"did not find expected key":              " in the mapping that starts on this line",
	"did not find expected ',' or ']'":       " in the list that starts on this line",
	"did not find expected ',' or '}'":       " in the mapping that starts on this line",
	"found duplicate %YAML directive":        "",
	"found incompatible YAML document":       "",
	"found duplicate %TAG directive":         "",
}

// syntaxError turns a YAML parser error into a ParseError.
func (p *parser) syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		where, parserError := parserProblems[m[2]]
		if parserError {
			line++
		}
		return &ParseError{File: p.file, Line: line, Message: "invalid YAML: " + m[2] + where}
	}
	return &ParseError{File: p.file, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func (p *parser) fail(n *yaml.Node, field, format string, args ...any) {
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, &ParseError{File: p.file, Message: "too many errors"})
	}
	if len(p.errs) > maxErrors {
		return
	}
	p.errs = append(p.errs, &ParseError{File: p.file, Line: n.Line, Column: n.Column, Field: field, Message: fmt.Sprintf(format, args...)})
}

// checkShape refuses anchors and aliases, which a policy file does not
// need and which can make a small file describe a huge one, and nesting
// deeper than maxYAMLDepth. It walks without recursion.
func (p *parser) checkShape(doc *yaml.Node) bool {
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{doc, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch {
		case it.n.Kind == yaml.AliasNode || it.n.Anchor != "":
			p.fail(it.n, "", "anchors and aliases are not allowed in policy files")
			return false
		case it.depth > maxYAMLDepth:
			p.fail(it.n, "", "nested deeper than %d levels", maxYAMLDepth)
			return false
		}
		// Children go on in reverse, so that nodes come off in file order
		// and the first problem reported is the first in the file.
		for i := len(it.n.Content) - 1; i >= 0; i-- {
			stack = append(stack, item{it.n.Content[i], it.depth + 1})
		}
	}
	if len(doc.Content) != 1 {
		p.fail(doc, "", "expected a mapping with a rules list")
		return false
	}
	return true
}

// what names a node's type in error messages.
func what(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a bool"
		case "!!null":
			return "nothing"
		}
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!")
	}
	return "an unexpected node"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// field is one key of a mapping and its value.
type field struct{ key, value *yaml.Node }

// mapping returns n's keys, which must be strings among known, each once.
func (p *parser) mapping(n *yaml.Node, path string, known []string) (map[string]field, bool) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, "expected a mapping, got %s", what(n))
		return nil, false
	}
	out := map[string]field{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			p.fail(k, path, "expected a string key, got %s", what(k))
			ok = false
			continue
		}
		sub := join(path, k.Value)
		if !slices.Contains(known, k.Value) {
			p.fail(k, sub, "unknown key; expected %s", oneOf(known))
			ok = false
			continue
		}
		if prev, dup := out[k.Value]; dup {
			p.fail(k, sub, "duplicate key (first at line %d)", prev.key.Line)
			ok = false
			continue
		}
		out[k.Value] = field{k, v}
	}
	return out, ok
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func oneOf(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return "one of " + strings.Join(names, ", ")
}

// str returns n as a string, which must be non-empty if required.
func (p *parser) str(n *yaml.Node, path string, nonEmpty bool) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			hint = fmt.Sprintf(" (quote it: %q)", n.Value)
		}
		p.fail(n, path, "expected a string, got %s%s", what(n), hint)
		return "", false
	}
	if nonEmpty && strings.TrimSpace(n.Value) == "" {
		p.fail(n, path, "must not be empty")
		return "", false
	}
	return n.Value, true
}

// stringList returns n as a non-empty list of non-empty strings, checking each
// with check, which returns the value to keep or an error message.
func (p *parser) stringList(n *yaml.Node, path string, check func(string) (string, string)) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, path, "expected a list of strings, got %s", what(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		p.fail(n, path, "must not be empty")
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		s, good := p.str(item, sub, true)
		if good && check != nil {
			var msg string
			if s, msg = check(s); msg != "" {
				p.fail(item, sub, "%s", msg)
				good = false
			}
		}
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

func (p *parser) policy(root *yaml.Node) *Policy {
	fields, ok := p.mapping(root, "", []string{"rules"})
	if !ok {
		return nil
	}
	rs, ok := fields["rules"]
	if !ok {
		p.fail(root, "rules", "missing; expected a list of rules")
		return nil
	}
	if rs.value.Kind != yaml.SequenceNode {
		p.fail(rs.value, "rules", "expected a list of rules, got %s", what(rs.value))
		return nil
	}
	pol := &Policy{}
	names := map[string]int{}
	for i, n := range rs.value.Content {
		path := fmt.Sprintf("rules[%d]", i)
		r, ok := p.rule(n, path)
		if !ok {
			continue
		}
		if line, dup := names[r.Name]; dup {
			p.fail(n, path+".name", "duplicate rule name %q (first at line %d)", r.Name, line)
			continue
		}
		names[r.Name] = n.Line
		pol.Rules = append(pol.Rules, r)
	}
	return pol
}

var ruleKeys = []string{"name", "description", "principals", "permissions", "decision", "conditions", "when"}

func (p *parser) rule(n *yaml.Node, path string) (Rule, bool) {
	fields, ok := p.mapping(n, path, ruleKeys)
	if !ok {
		return Rule{}, false
	}
	p.firstExpr, p.firstExprPath = nil, ""
	var r Rule
	for _, key := range []string{"name", "principals", "permissions", "decision"} {
		if _, has := fields[key]; !has {
			p.fail(n, join(path, key), "missing")
			ok = false
		}
	}
	if f, has := fields["name"]; has {
		var good bool
		if r.Name, good = p.str(f.value, join(path, "name"), true); good && r.Name == DefaultRule {
			p.fail(f.value, join(path, "name"), "%q is reserved for decisions no rule made", DefaultRule)
			good = false
		}
		ok = ok && good
	}
	if f, has := fields["description"]; has {
		var good bool
		r.Description, good = p.str(f.value, join(path, "description"), false)
		ok = ok && good
	}
	if f, has := fields["principals"]; has {
		var good bool
		r.Principals, good = p.stringList(f.value, join(path, "principals"), principal)
		ok = ok && good
	}
	if f, has := fields["decision"]; has {
		s, good := p.str(f.value, join(path, "decision"), true)
		switch s {
		case "allow":
			r.Decision = Allow
		case "deny":
			r.Decision = Deny
		case "conditional":
			r.Decision = Conditional
		default:
			if good {
				p.fail(f.value, join(path, "decision"), "unknown decision %q; expected allow, deny or conditional", s)
			}
			good = false
		}
		ok = ok && good
	}
	if f, has := fields["permissions"]; has {
		var good bool
		r.Permissions, good = p.stringList(f.value, join(path, "permissions"), func(s string) (string, string) {
			return s, checkPattern(s, r.Decision)
		})
		ok = ok && good
	}
	if f, has := fields["conditions"]; has {
		if r.Decision != Conditional {
			if r.Decision != "" {
				p.fail(f.key, join(path, "conditions"), "only conditional rules have conditions")
			}
			ok = false
		} else {
			c, good := p.condition(f.value, join(path, "conditions"), 0)
			r.Conditions = &c
			ok = ok && good
		}
	} else if r.Decision == Conditional {
		p.fail(n, join(path, "conditions"), "missing; a conditional rule needs conditions")
		ok = false
	}
	if f, has := fields["when"]; has {
		src, good := p.str(f.value, join(path, "when"), true)
		if good {
			var err error
			if r.when, err = compile(principalEnv, src); err != nil {
				p.fail(f.value, join(path, "when"), "%v", err)
				good = false
			}
		}
		r.When = src
		ok = ok && good
	}
	if ok && p.firstExpr != nil {
		for _, perm := range Registered() {
			if perm.Action == ActionRead && perm.canBeConditional() && r.matchesPermission(perm.Name) {
				p.fail(p.firstExpr, p.firstExprPath,
					"expr conditions cannot be used for read permissions, which are evaluated in SQL (this rule applies to %s)", perm.Name)
				ok = false
				break
			}
		}
	}
	return r, ok
}

// principal checks and normalizes one entry of a rule's principals.
func principal(s string) (string, string) {
	const want = `expected a user or group ref ("group:default/sre"), "service:<subject>", "user:*", "service:*" or "*"`
	switch {
	case s == "*" || s == "user:*" || s == "service:*":
		return s, ""
	case strings.HasPrefix(s, "service:"):
		if s == "service:" {
			return s, "a service principal needs a subject; " + want
		}
		if strings.Contains(s, "*") {
			return s, "globs other than \"service:*\" are not supported; " + want
		}
		return s, ""
	case strings.Contains(s, "*"):
		return s, "globs other than \"user:*\" and \"service:*\" are not supported; " + want
	}
	ref, err := entity.ParseRef(s, entity.RefDefaults{})
	if err != nil {
		return s, want
	}
	if k := strings.ToLower(ref.Kind); k != "user" && k != "group" {
		return s, fmt.Sprintf("kind %q cannot be a principal; %s", ref.Kind, want)
	}
	return ref.Key(), ""
}

// checkPattern checks one entry of a rule's permissions against the
// registry, returning an error message or "".
func checkPattern(s string, decision Result) string {
	if strings.ContainsAny(s, " \t\n") {
		return "permission names contain no spaces"
	}
	if i := strings.IndexByte(s, '*'); i >= 0 && i != len(s)-1 {
		return "'*' may only end a permission glob (\"catalog.location.*\")"
	}
	var matched, conditional int
	for _, perm := range Registered() {
		if globMatch(s, perm.Name) {
			matched++
			if perm.canBeConditional() {
				conditional++
			}
		}
	}
	switch {
	case matched == 0 && !strings.HasSuffix(s, "*"):
		return "unknown permission; expected one of " + strings.Join(registeredNames(), ", ") + ", or a glob"
	case matched == 0:
		return "matches no permission; known permissions are " + strings.Join(registeredNames(), ", ")
	case decision == Conditional && conditional == 0 && !strings.HasSuffix(s, "*"):
		return "is not a catalog-entity resource permission, so no conditional rule can apply to it"
	case decision == Conditional && conditional == 0:
		return "matches no catalog-entity resource permission, so this conditional rule would never apply to it"
	}
	return ""
}

func registeredNames() []string {
	var out []string
	for _, p := range Registered() {
		out = append(out, p.Name)
	}
	return out
}

var conditionKeys = func() []string {
	out := []string{"allOf", "anyOf", "not", "expr"}
	for _, r := range rules {
		out = append(out, r.yaml)
	}
	return out
}()

// condition parses one condition mapping.
func (p *parser) condition(n *yaml.Node, path string, depth int) (Condition, bool) {
	if depth > maxConditionDepth {
		p.fail(n, path, "conditions nested deeper than %d levels", maxConditionDepth)
		return Condition{}, false
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, "expected a condition (a mapping with one of %s), got %s", strings.Join(conditionKeys, ", "), what(n))
		return Condition{}, false
	}
	if len(n.Content) != 2 {
		p.fail(n, path, "expected exactly one of %s, got %d keys", strings.Join(conditionKeys, ", "), len(n.Content)/2)
		return Condition{}, false
	}
	k, v := n.Content[0], n.Content[1]
	if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
		p.fail(k, path, "expected a string key, got %s", what(k))
		return Condition{}, false
	}
	sub := join(path, k.Value)
	switch k.Value {
	case "allOf", "anyOf":
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			p.fail(v, sub, "expected a non-empty list of conditions, got %s", what(v))
			return Condition{}, false
		}
		list := make([]Condition, len(v.Content))
		ok := true
		for i, c := range v.Content {
			var good bool
			list[i], good = p.condition(c, fmt.Sprintf("%s[%d]", sub, i), depth+1)
			ok = ok && good
		}
		if k.Value == "allOf" {
			return Condition{AllOf: list}, ok
		}
		return Condition{AnyOf: list}, ok
	case "not":
		c, ok := p.condition(v, sub, depth+1)
		return Condition{Not: &c}, ok
	case "expr":
		src, ok := p.str(v, sub, true)
		if !ok {
			return Condition{}, false
		}
		prog, err := compile(resourceEnv, src)
		if err != nil {
			p.fail(v, sub, "%v", err)
			return Condition{}, false
		}
		if p.firstExpr == nil {
			p.firstExpr, p.firstExprPath = v, sub
		}
		return Condition{Expr: src, prog: prog}, true
	}
	i := slices.IndexFunc(rules, func(r ruleDef) bool { return r.yaml == k.Value })
	if i < 0 {
		msg := fmt.Sprintf("unknown condition; expected one of %s", strings.Join(conditionKeys, ", "))
		if def, ok := ruleByName(k.Value); ok {
			msg = fmt.Sprintf("unknown condition; policy files spell %s as %s", def.name, def.yaml)
		}
		p.fail(k, sub, "%s", msg)
		return Condition{}, false
	}
	return p.ruleCondition(rules[i], v, sub)
}

// ruleCondition parses the params of one of the catalog's rules.
func (p *parser) ruleCondition(def ruleDef, n *yaml.Node, path string) (Condition, bool) {
	c := Condition{Rule: def.name, Params: map[string]any{}}
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	var names []string
	for _, pd := range def.params {
		names = append(names, pd.name)
	}
	fields, ok := p.mapping(n, path, names)
	if !ok {
		return c, false
	}
	for _, pd := range def.params {
		f, has := fields[pd.name]
		sub := join(path, pd.name)
		switch {
		case !has:
			if pd.required {
				p.fail(n, sub, "missing")
				ok = false
			}
		case pd.list:
			var check func(string) (string, string)
			if pd.ref {
				check = func(s string) (string, string) {
					ref, err := entity.ParseRef(s, entity.RefDefaults{})
					if err != nil {
						return s, `expected an entity ref with a kind ("group:default/sre")`
					}
					return ref.Key(), ""
				}
			}
			list, good := p.stringList(f.value, sub, check)
			c.Params[pd.name] = list
			ok = ok && good
		default:
			s, good := p.str(f.value, sub, pd.required)
			c.Params[pd.name] = s
			ok = ok && good
		}
	}
	return c, ok
}
