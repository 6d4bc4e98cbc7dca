package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// ParsePredicate parses a Backstage filter predicate: the `query` of POST
// /entities/by-query, /entity-facets and /entities/by-refs.
//
// A predicate is a JSON object. `{"$all": [...]}`, `{"$any": [...]}` and
// `{"$not": {...}}` combine predicates and must stand alone in their
// object; `$all: []` matches everything and `$any: []` nothing. Any other
// object is a set of field conditions that must all hold, each keyed by a
// dotted path (lowercased):
//
//	{"kind": "Component"}                       value equals (string, number or boolean)
//	{"spec.type": {"$exists": true}}            key present (false: absent)
//	{"spec.type": {"$in": ["service", 7]}}      value is one of
//	{"metadata.name": {"$hasPrefix": "pay"}}    value starts with
//	{"metadata.tags": {"$contains": "java"}}    array holds the value
//	{"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/x"}}}
//
// The relation form matches the search key `relations.<type>`; targetRef
// may be a string, `{"$in": [...]}`, or absent (any relation of that type).
// Values compare as lowercased strings, numbers formatted as JavaScript
// does (`1.50` is "1.5").
//
// An empty or null predicate gives nil, as does one that matches everything
// (`{}`, `{"$all": []}`). Nesting deeper than 32 levels, more than 1000
// objects and conditions, or more than 10000 values in all are rejected,
// as are unknown `$` operators and an operator next to other keys. Errors
// are derrors.ErrInvalid.
func ParsePredicate(raw json.RawMessage) (Expr, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if !utf8.Valid(raw) {
		return nil, derrors.Invalid("Invalid filter predicate: not valid UTF-8")
	}
	p := predicateParser{dec: json.NewDecoder(bytes.NewReader(raw))}
	p.dec.UseNumber()
	e, err := p.predicate(1)
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, derrors.Invalid("Invalid filter predicate: unexpected data after the predicate object")
	}
	if a, ok := e.(All); ok && len(a.Exprs) == 0 {
		return nil, nil
	}
	return e, nil
}

// predicateParser reads a predicate token by token, so that hostile input
// (deep nesting, huge arrays) fails at the first token past a limit,
// without the whole document being decoded first.
type predicateParser struct {
	dec    *json.Decoder
	nodes  int
	values int
}

// token reads the next token, turning JSON syntax errors into client errors.
func (p *predicateParser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err == io.EOF {
		return nil, derrors.Invalid("Invalid filter predicate: unexpected end of JSON input")
	}
	if err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, derrors.Invalid("Invalid filter predicate: malformed JSON at offset %d: %s", syn.Offset, syn.Error())
		}
		return nil, derrors.Invalid("Invalid filter predicate: malformed JSON")
	}
	return t, nil
}

// key reads an object key, or reports the end of the object with ok false.
func (p *predicateParser) key() (key string, ok bool, err error) {
	t, err := p.token()
	if err != nil {
		return "", false, err
	}
	if t == json.Delim('}') {
		return "", false, nil
	}
	// The decoder only yields strings or '}' in key position.
	key, _ = t.(string)
	if strings.IndexByte(key, 0) >= 0 {
		return "", false, derrors.Invalid("Invalid filter predicate: key %s contains a NUL character", quote(key))
	}
	return key, true, nil
}

// expectEnd reads the '}' that must close an operator object.
func (p *predicateParser) expectEnd(op string) error {
	k, more, err := p.key()
	if err != nil {
		return err
	}
	if more {
		return derrors.Invalid("Invalid filter predicate: operator %s cannot be combined with other keys (found %s)", quote(op), quote(k))
	}
	return nil
}

func (p *predicateParser) countNode() error {
	p.nodes++
	if p.nodes > maxNodes {
		return derrors.Invalid("Invalid filter predicate: more than %d expressions", maxNodes)
	}
	return nil
}

func (p *predicateParser) countValue() error {
	p.values++
	if p.values > maxValues {
		return derrors.Invalid("Invalid filter predicate: more than %d values", maxValues)
	}
	return nil
}

// predicate parses one predicate object at nesting depth.
func (p *predicateParser) predicate(depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, derrors.Invalid("Invalid filter predicate: nested more than %d levels deep", maxDepth)
	}
	if err := p.countNode(); err != nil {
		return nil, err
	}
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, notAnObject(t)
	}
	var (
		conds []Expr
		index map[string]int // raw key -> position in conds
	)
	for first := true; ; first = false {
		k, more, err := p.key()
		if err != nil {
			return nil, err
		}
		if !more {
			return collapseAll(conds), nil
		}
		if !strings.HasPrefix(k, "$") {
			c, err := p.field(k, depth)
			if err != nil {
				return nil, err
			}
			// A repeated key replaces the earlier condition in place, as
			// JavaScript's JSON.parse does.
			if i, dup := index[k]; dup {
				conds[i] = c
				continue
			}
			if index == nil {
				index = map[string]int{}
			}
			index[k] = len(conds)
			conds = append(conds, c)
			continue
		}
		switch k {
		case "$all", "$any", "$not":
		default:
			return nil, derrors.Invalid("Invalid filter predicate: unknown operator %s (expected $all, $any, $not or a field name)", quote(k))
		}
		if !first {
			return nil, derrors.Invalid("Invalid filter predicate: operator %s cannot be combined with other keys", quote(k))
		}
		var e Expr
		if k == "$not" {
			inner, err := p.predicate(depth + 1)
			if err != nil {
				return nil, err
			}
			e = Not{Expr: inner}
		} else {
			list, err := p.predicateList(k, depth+1)
			if err != nil {
				return nil, err
			}
			if k == "$all" {
				e = collapseAll(list)
			} else {
				e = collapseAny(list)
			}
		}
		if err := p.expectEnd(k); err != nil {
			return nil, err
		}
		return e, nil
	}
}

// predicateList parses the array operand of $all or $any.
func (p *predicateParser) predicateList(op string, depth int) ([]Expr, error) {
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('[') {
		return nil, derrors.Invalid("Invalid filter predicate: %s expects an array of predicates", op)
	}
	var list []Expr
	for p.dec.More() {
		e, err := p.predicate(depth)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
	}
	if _, err := p.token(); err != nil { // ']'
		return nil, err
	}
	return list, nil
}

// notAnObject explains why the token t cannot start a predicate.
func notAnObject(t json.Token) error {
	switch t := t.(type) {
	case json.Delim:
		return derrors.Invalid("Invalid filter predicate: expected an object, got an array")
	case nil:
		return derrors.Invalid("Invalid filter predicate: expected an object, got null")
	default:
		return derrors.Invalid(`Invalid filter predicate: top-level primitive values are not supported. Wrap the value in a field expression, e.g. { "kind": %s }`, tokenJSON(t))
	}
}

// field parses the condition on one field; the key has been read.
func (p *predicateParser) field(rawKey string, depth int) (Expr, error) {
	if err := p.countNode(); err != nil {
		return nil, err
	}
	if rawKey == "" {
		return nil, derrors.Invalid("Invalid filter predicate: empty field name")
	}
	key := strings.ToLower(rawKey)
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if v, ok, err := primitive(t); err != nil {
		return nil, err
	} else if ok {
		if err := p.countValue(); err != nil {
			return nil, err
		}
		return Match{Key: key, Values: []string{v}}, nil
	}
	if t != json.Delim('{') {
		return nil, invalidValue(rawKey, t)
	}
	op, more, err := p.key()
	if err != nil {
		return nil, err
	}
	if !more {
		return nil, derrors.Invalid("Invalid filter predicate value for field %s: expected a primitive value, $exists, $in, $hasPrefix, or $contains operator, but got {}", quote(rawKey))
	}
	var e Expr
	switch op {
	case "$exists":
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		b, ok := t.(bool)
		if !ok {
			return nil, derrors.Invalid("Invalid filter predicate value for field %s: $exists expects true or false", quote(rawKey))
		}
		e = Exists{Key: key}
		if !b {
			e = Not{Expr: e}
		}
	case "$in":
		values, err := p.valueList(rawKey, "$in", false)
		if err != nil {
			return nil, err
		}
		e = matchAny(key, values)
	case "$hasPrefix":
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		s, ok := t.(string)
		if !ok {
			return nil, derrors.Invalid("Invalid filter predicate value for field %s: $hasPrefix expects a string", quote(rawKey))
		}
		if err := checkValue(s); err != nil {
			return nil, err
		}
		e = HasPrefix{Key: key, Prefix: strings.ToLower(s)}
	case "$contains":
		e, err = p.contains(rawKey, key, depth+1)
		if err != nil {
			return nil, err
		}
	default:
		if strings.HasPrefix(op, "$") {
			return nil, derrors.Invalid("Invalid filter predicate value for field %s: unknown operator %s (expected $exists, $in, $hasPrefix or $contains)", quote(rawKey), quote(op))
		}
		return nil, derrors.Invalid("Invalid filter predicate value for field %s: expected a primitive value, $exists, $in, $hasPrefix, or $contains operator, but got an object with key %s", quote(rawKey), quote(op))
	}
	if err := p.expectEnd(op); err != nil {
		return nil, err
	}
	return e, nil
}

// contains parses the operand of $contains on field key.
func (p *predicateParser) contains(rawKey, key string, depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, derrors.Invalid("Invalid filter predicate: nested more than %d levels deep", maxDepth)
	}
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if v, ok, err := primitive(t); err != nil {
		return nil, err
	} else if ok {
		// The search table has one row per array item, so containment
		// is plain equality (it can also match a non-array value).
		if err := p.countValue(); err != nil {
			return nil, err
		}
		return Match{Key: key, Values: []string{v}}, nil
	}
	if t != json.Delim('{') {
		return nil, derrors.Invalid("Unsupported $contains target for field %s: %s", quote(rawKey), tokenJSON(t))
	}
	if key != "relations" {
		return nil, derrors.Invalid("Object form of $contains is not supported for field %s", quote(rawKey))
	}
	return p.relation()
}

// relation parses `{"type": ..., "targetRef": ...}` after its '{'.
func (p *predicateParser) relation() (Expr, error) {
	var (
		typ, seenType, seenTarget bool
		relType                   string
		targets                   []string
	)
	for {
		k, more, err := p.key()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		switch strings.ToLower(k) {
		case "type":
			if seenType {
				return nil, derrors.Invalid(`Duplicate key %s in $contains for "relations"`, quote(k))
			}
			seenType = true
			t, err := p.token()
			if err != nil {
				return nil, err
			}
			relType, typ = t.(string)
			if !typ {
				return nil, derrors.Invalid(`The $contains operator for "relations" requires a "type" string property`)
			}
			if err := checkValue(relType); err != nil {
				return nil, err
			}
		case "targetref":
			if seenTarget {
				return nil, derrors.Invalid(`Duplicate key %s in $contains for "relations"`, quote(k))
			}
			seenTarget = true
			targets, err = p.targetRef()
			if err != nil {
				return nil, err
			}
		default:
			return nil, derrors.Invalid(`Unsupported key %s in $contains for "relations". Only "type" and "targetRef" are supported`, quote(k))
		}
	}
	if relType == "" {
		return nil, derrors.Invalid(`The $contains operator for "relations" requires a "type" string property`)
	}
	key := "relations." + strings.ToLower(relType)
	if targets == nil {
		return Exists{Key: key}, nil
	}
	return Match{Key: key, Values: targets}, nil
}

// targetRef parses a relation's targetRef: a string or {"$in": [strings]}.
func (p *predicateParser) targetRef() ([]string, error) {
	const want = `Unsupported value in $contains for "relations": expected a string or { "$in": [strings] }`
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if s, ok := t.(string); ok {
		if err := checkValue(s); err != nil {
			return nil, err
		}
		if err := p.countValue(); err != nil {
			return nil, err
		}
		return []string{strings.ToLower(s)}, nil
	}
	if t != json.Delim('{') {
		return nil, derrors.Invalid("%s, but got %s", want, tokenJSON(t))
	}
	k, more, err := p.key()
	if err != nil {
		return nil, err
	}
	if !more || k != "$in" {
		return nil, derrors.Invalid("%s", want)
	}
	values, err := p.valueList("relations", "targetRef.$in", true)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, derrors.Invalid(`Empty "$in" array for $contains on "relations" is not allowed`)
	}
	if err := p.expectEnd("$in"); err != nil {
		return nil, err
	}
	return values, nil
}

// valueList parses an array of primitives (only strings if stringsOnly)
// into distinct lowercased values.
func (p *predicateParser) valueList(rawKey, op string, stringsOnly bool) ([]string, error) {
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('[') {
		return nil, derrors.Invalid("Invalid filter predicate value for field %s: %s expects an array", quote(rawKey), op)
	}
	values := []string{}
	for {
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		if t == json.Delim(']') {
			return values, nil
		}
		_, isString := t.(string)
		v, ok, err := primitive(t)
		if err != nil {
			return nil, err
		}
		if !ok || (stringsOnly && !isString) {
			what := "strings, numbers or booleans"
			if stringsOnly {
				what = "strings"
			}
			return nil, derrors.Invalid("Invalid filter predicate value for field %s: %s values must be %s", quote(rawKey), op, what)
		}
		if err := p.countValue(); err != nil {
			return nil, err
		}
		values = appendUniqueBounded(values, v)
	}
}

// appendUniqueBounded is appendUnique for lists that may be long: it
// skips the duplicate check past a size where it would cost more than the
// duplicate does in SQL.
func appendUniqueBounded(vs []string, v string) []string {
	if len(vs) > 64 {
		return append(vs, v)
	}
	return appendUnique(vs, v)
}

// matchAny matches key against values; an empty list matches nothing.
func matchAny(key string, values []string) Expr {
	if len(values) == 0 {
		return Any{}
	}
	return Match{Key: key, Values: values}
}

// primitive returns the lowercased string form of a string, number or
// boolean token, and ok false for anything else.
func primitive(t json.Token) (string, bool, error) {
	switch v := t.(type) {
	case string:
		if err := checkValue(v); err != nil {
			return "", false, err
		}
		return strings.ToLower(v), true, nil
	case json.Number:
		return jsNumber(v), true, nil
	case bool:
		return strconv.FormatBool(v), true, nil
	}
	return "", false, nil
}

// checkValue rejects a NUL character in a predicate string (the decoder
// has already replaced invalid UTF-8, and ParsePredicate rejects it first).
func checkValue(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return derrors.Invalid("Invalid filter predicate: value %s contains a NUL character", quote(s))
	}
	return nil
}

func invalidValue(rawKey string, t json.Token) error {
	return derrors.Invalid("Invalid filter predicate value for field %s: expected a primitive value, $exists, $in, $hasPrefix, or $contains operator, but got %s", quote(rawKey), tokenJSON(t))
}

// tokenJSON describes a token for an error message.
func tokenJSON(t json.Token) string {
	switch v := t.(type) {
	case nil:
		return "null"
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return quote(v)
	case json.Number:
		return quote(string(v))
	case bool:
		return strconv.FormatBool(v)
	}
	return "a value"
}

// jsNumber formats a JSON number as JavaScript's String(n) does, since
// Backstage compares numbers as those strings: 7 and 7.0 are "7", 1e21 is
// "1e+21", 1e-7 is "1e-7".
func jsNumber(n json.Number) string {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !math.IsInf(f, 0) {
		return strings.ToLower(string(n)) // not reachable for decoder output
	}
	switch {
	case math.IsInf(f, 1):
		return "infinity"
	case math.IsInf(f, -1):
		return "-infinity"
	case f == 0:
		return "0" // also -0
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest round-trip digits and exponent: d.ddde±x.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	k, n10 := len(digits), exp+1 // value = 0.digits × 10^n10
	var s string
	switch {
	case k <= n10 && n10 <= 21:
		s = digits + strings.Repeat("0", n10-k)
	case 0 < n10 && n10 <= 21:
		s = digits[:n10] + "." + digits[n10:]
	case -6 < n10 && n10 <= 0:
		s = "0." + strings.Repeat("0", -n10) + digits
	default:
		es := "+"
		if n10-1 < 0 {
			es = "-"
		}
		ev := n10 - 1
		if ev < 0 {
			ev = -ev
		}
		s = digits[:1]
		if k > 1 {
			s += "." + digits[1:]
		}
		s += "e" + es + strconv.Itoa(ev)
	}
	return sign + s
}
