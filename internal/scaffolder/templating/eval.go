package templating

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// maxValueDepth bounds how deeply values may nest when they are copied,
// printed or walked, so values built up by loops cannot exhaust the stack.
const maxValueDepth = 1000

type renderer struct {
	src      string
	ctx      map[string]any
	steps    int
	maxSteps int
	maxOut   int
	out      strings.Builder
	custom   map[string]Filter
	// cookiecutter is Options.CookiecutterCompat.
	cookiecutter bool
	// scopes are Nunjucks frames: scopes[0] holds top-level {% set %}
	// variables, each for loop pushes one.
	scopes []map[string]any
}

func newRenderer(ctx map[string]any, opts Options) *renderer {
	r := &renderer{ctx: ctx, maxSteps: opts.MaxSteps, maxOut: opts.MaxOutputBytes, custom: opts.Filters,
		cookiecutter: opts.CookiecutterCompat}
	if r.maxSteps <= 0 {
		r.maxSteps = DefaultMaxSteps
	}
	if r.maxOut <= 0 {
		r.maxOut = DefaultMaxOutputBytes
	}
	r.scopes = []map[string]any{{}}
	return r
}

func (r *renderer) hasFilter(name string) bool {
	if _, ok := r.custom[name]; ok {
		return true
	}
	_, ok := builtinFilters[name]
	return ok || (r.cookiecutter && name == "jsonify")
}

func (r *renderer) errorf(off int, format string, args ...any) error {
	return newError(r.src, off, fmt.Sprintf(format, args...))
}

func (r *renderer) limitf(off int, format string, args ...any) error {
	e := newError(r.src, off, fmt.Sprintf(format, args...))
	e.Err = ErrLimit
	return e
}

// step charges n units of work.
func (r *renderer) step(off, n int) error {
	r.steps += n
	if r.steps > r.maxSteps || r.steps < 0 {
		return r.limitf(off, "template exceeds the limit of %d evaluation steps", r.maxSteps)
	}
	return nil
}

// charge charges one step plus the size of v: a step per 256 bytes of a
// string, per element of a list or object. Work proportional to a value's
// size (filters, concatenation, searching) is paid for this way.
func (r *renderer) charge(off int, v any) error {
	n := 1
	switch x := v.(type) {
	case string:
		n += len(x) / 256
	case []any:
		n += len(x)
	case map[string]any:
		n += len(x)
	}
	return r.step(off, n)
}

// checkLen rejects strings longer than the output limit.
func (r *renderer) checkLen(off, n int) error {
	if n > r.maxOut {
		return r.limitf(off, "string of %d bytes exceeds the limit of %d bytes", n, r.maxOut)
	}
	return nil
}

func (r *renderer) write(off int, s string) error {
	if err := r.checkLen(off, r.out.Len()+len(s)); err != nil {
		return r.limitf(off, "output exceeds the limit of %d bytes", r.maxOut)
	}
	r.out.WriteString(s)
	return nil
}

func (r *renderer) lookup(name string) any {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if v, ok := r.scopes[i][name]; ok {
			return v
		}
	}
	if v, ok := r.ctx[name]; ok {
		return normalize(v)
	}
	return undefined
}

// assign follows Nunjucks' frame.set(name, v, resolveUp): a variable that
// already exists in an enclosing frame is updated there.
func (r *renderer) assign(name string, v any) {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if _, ok := r.scopes[i][name]; ok {
			r.scopes[i][name] = v
			return
		}
	}
	r.scopes[len(r.scopes)-1][name] = v
}

func (r *renderer) exec(nodes []node) error {
	for _, n := range nodes {
		switch n := n.(type) {
		case *textNode:
			if err := r.write(n.pos, n.text); err != nil {
				return err
			}
		case *outputNode:
			if err := r.step(n.pos, 1); err != nil {
				return err
			}
			v, err := r.eval(n.x)
			if err != nil {
				return err
			}
			s, err := r.display(n.pos, v)
			if err != nil {
				return err
			}
			if err := r.write(n.pos, s); err != nil {
				return err
			}
		case *ifNode:
			done := false
			for i, c := range n.conds {
				v, err := r.eval(c)
				if err != nil {
					return err
				}
				if truthy(v) {
					if err := r.exec(n.bodies[i]); err != nil {
						return err
					}
					done = true
					break
				}
			}
			if !done {
				if err := r.exec(n.els); err != nil {
					return err
				}
			}
		case *forNode:
			if err := r.execFor(n); err != nil {
				return err
			}
		case *setNode:
			var v any
			if n.value != nil {
				var err error
				if v, err = r.eval(n.value); err != nil {
					return err
				}
			} else {
				saved := r.out.String()
				r.out.Reset()
				err := r.exec(n.body)
				v = r.out.String()
				r.out.Reset()
				r.out.WriteString(saved)
				if err != nil {
					return err
				}
			}
			for _, name := range n.names {
				r.assign(name, v)
			}
		}
	}
	return nil
}

// display converts a value to output text, bounding the work for lists.
func (r *renderer) display(off int, v any) (string, error) {
	if l, ok := v.([]any); ok {
		if err := r.step(off, len(l)); err != nil {
			return "", err
		}
		if err := r.checkDepth(off, v, 0); err != nil {
			return "", err
		}
	}
	s := outputString(v)
	return s, r.checkLen(off, len(s))
}

func (r *renderer) checkDepth(off int, v any, depth int) error {
	if depth > maxValueDepth {
		return r.limitf(off, "value nested more than %d levels deep", maxValueDepth)
	}
	if err := r.step(off, 1); err != nil {
		return err
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := r.checkDepth(off, e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := r.checkDepth(off, e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *renderer) execFor(n *forNode) error {
	seq, err := r.eval(n.iter)
	if err != nil {
		return err
	}
	type pair struct{ k, v any }
	var items []pair
	switch x := seq.(type) {
	case []any:
		for _, e := range x {
			items = append(items, pair{v: normalize(e)})
		}
	case string:
		for _, c := range x {
			items = append(items, pair{v: string(c)})
		}
	case map[string]any:
		// Nunjucks iterates objects only with two loop variables; with one
		// the loop has no length and does not run.
		if len(n.vars) >= 2 {
			for _, k := range sortedKeys(x) {
				items = append(items, pair{k: k, v: normalize(x[k])})
			}
		}
	}
	if len(items) == 0 {
		return r.exec(n.els)
	}
	frame := map[string]any{}
	r.scopes = append(r.scopes, frame)
	defer func() { r.scopes = r.scopes[:len(r.scopes)-1] }()
	_, isMap := seq.(map[string]any)
	for i, it := range items {
		if err := r.step(n.pos, 1); err != nil {
			return err
		}
		switch {
		case isMap:
			frame[n.vars[0]] = it.k
			frame[n.vars[1]] = it.v
			for _, extra := range n.vars[2:] {
				frame[extra] = undefined
			}
		case len(n.vars) == 1:
			frame[n.vars[0]] = it.v
		default:
			tuple, _ := it.v.([]any)
			for j, name := range n.vars {
				if j < len(tuple) {
					frame[name] = normalize(tuple[j])
				} else {
					frame[name] = undefined
				}
			}
		}
		frame["loop"] = map[string]any{
			"index":    float64(i + 1),
			"index0":   float64(i),
			"revindex": float64(len(items) - i), "revindex0": float64(len(items) - i - 1),
			"first":  i == 0,
			"last":   i == len(items)-1,
			"length": float64(len(items)),
		}
		if err := r.exec(n.body); err != nil {
			return err
		}
	}
	return nil
}

func exprPos(x expr) int {
	switch x := x.(type) {
	case *nameExpr:
		return x.pos
	case *memberExpr:
		return x.pos
	case *callExpr:
		return x.pos
	case *filterExpr:
		return x.pos
	case *unaryExpr:
		return x.pos
	case *binaryExpr:
		return x.pos
	case *testExpr:
		return x.pos
	case *condExpr:
		return exprPos(x.cond)
	}
	return 0
}

func (r *renderer) eval(x expr) (any, error) {
	if err := r.step(exprPos(x), 1); err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case *literal:
		return x.v, nil
	case *nameExpr:
		return r.lookup(x.name), nil
	case *listExpr:
		l := make([]any, 0, len(x.items))
		for _, it := range x.items {
			v, err := r.eval(it)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case *dictExpr:
		m := make(map[string]any, len(x.keys))
		for i, k := range x.keys {
			v, err := r.eval(x.vals[i])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case *memberExpr:
		obj, err := r.eval(x.obj)
		if err != nil {
			return nil, err
		}
		key, err := r.eval(x.key)
		if err != nil {
			return nil, err
		}
		if s, ok := obj.(string); ok { // string lookups walk the runes
			if err := r.charge(x.pos, s); err != nil {
				return nil, err
			}
		}
		return member(obj, key), nil
	case *callExpr:
		args, err := r.evalArgs(x.args)
		if err != nil {
			return nil, err
		}
		return globals[x.name](r, x.pos, args)
	case *filterExpr:
		return r.filter(x)
	case *condExpr:
		c, err := r.eval(x.cond)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return r.eval(x.then)
		}
		if x.els == nil {
			return undefined, nil
		}
		return r.eval(x.els)
	case *unaryExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		switch x.op {
		case "not":
			return !truthy(v), nil
		case "-":
			return -toNumber(v), nil
		default:
			return toNumber(v), nil
		}
	case *binaryExpr:
		return r.binary(x)
	case *testExpr:
		return r.test(x)
	}
	return nil, fmt.Errorf("templating: unknown expression %T", x)
}

func (r *renderer) evalArgs(xs []expr) ([]any, error) {
	args := make([]any, len(xs))
	for i, a := range xs {
		v, err := r.eval(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}

// member is Nunjucks' memberLookup restricted to JSON-like values: a
// missing key, or any lookup on null or undefined, gives undefined.
func member(obj, key any) any {
	key = normalize(key)
	switch o := obj.(type) {
	case map[string]any:
		if v, ok := o[jsString(key)]; ok {
			return normalize(v)
		}
	case []any:
		if s, ok := key.(string); ok && s == "length" {
			return float64(len(o))
		}
		if i, ok := index(key); ok && i < len(o) {
			return normalize(o[i])
		}
	case string:
		if s, ok := key.(string); ok && s == "length" {
			return float64(utf8.RuneCountInString(o))
		}
		if i, ok := index(key); ok {
			runes := []rune(o)
			if i < len(runes) {
				return string(runes[i])
			}
		}
	}
	return undefined
}

// index converts a list index (a number or a numeric string) to an int.
func index(key any) (int, bool) {
	var f float64
	switch k := key.(type) {
	case float64:
		f = k
	case string:
		f = toNumber(k)
		if k == "" || jsString(f) != k {
			return 0, false
		}
	default:
		return 0, false
	}
	if f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

func (r *renderer) binary(x *binaryExpr) (any, error) {
	l, err := r.eval(x.l)
	if err != nil {
		return nil, err
	}
	// and/or return an operand, as in JavaScript, and short-circuit.
	switch x.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return r.eval(x.r)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return r.eval(x.r)
	}
	rv, err := r.eval(x.r)
	if err != nil {
		return nil, err
	}
	l, rv = normalize(l), normalize(rv)
	switch x.op {
	case "==":
		return looseEqual(l, rv), nil
	case "!=":
		return !looseEqual(l, rv), nil
	case "===":
		return strictEqual(l, rv), nil
	case "!==":
		return !strictEqual(l, rv), nil
	case "<", ">", "<=", ">=":
		return compare(x.op, l, rv), nil
	case "in", "not in":
		found, err := r.in(x.pos, l, rv)
		if err != nil {
			return nil, err
		}
		return found == (x.op == "in"), nil
	case "~":
		return r.concat(x.pos, jsString(l), jsString(rv))
	case "+":
		_, ls := l.(string)
		_, rs := rv.(string)
		if ls || rs || isObject(l) || isObject(rv) {
			return r.concat(x.pos, jsString(l), jsString(rv))
		}
		return toNumber(l) + toNumber(rv), nil
	}
	a, b := toNumber(l), toNumber(rv)
	switch x.op {
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		return a / b, nil
	case "//":
		return math.Floor(a / b), nil
	case "%":
		return math.Mod(a, b), nil
	case "**":
		return math.Pow(a, b), nil
	}
	return nil, r.errorf(x.pos, "unknown operator '%s'", x.op)
}

func isObject(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

func (r *renderer) concat(off int, a, b string) (any, error) {
	if err := r.checkLen(off, len(a)+len(b)); err != nil {
		return nil, err
	}
	if err := r.step(off, (len(a)+len(b))/256); err != nil {
		return nil, err
	}
	return a + b, nil
}

// in is Nunjucks' inOperator.
func (r *renderer) in(off int, key, container any) (bool, error) {
	switch c := container.(type) {
	case []any:
		if err := r.step(off, len(c)); err != nil {
			return false, err
		}
		for _, e := range c {
			if strictEqual(e, key) {
				return true, nil
			}
		}
		return false, nil
	case string:
		if err := r.charge(off, c); err != nil {
			return false, err
		}
		return strings.Contains(c, jsString(key)), nil
	case map[string]any:
		_, ok := c[jsString(key)]
		return ok, nil
	}
	return false, r.errorf(off, "cannot use 'in' to search for %q in %s", jsString(key), typeName(container))
}

func typeName(v any) string {
	switch normalize(v).(type) {
	case undefinedType:
		return "undefined"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "an unsupported value"
}

// tests are the supported `x is name` tests.
var tests = map[string]bool{
	"defined": true, "undefined": true, "none": true, "null": true,
	"string": true, "number": true, "mapping": true, "iterable": true,
	"odd": true, "even": true, "divisibleby": true, "truthy": true, "falsy": true,
	"eq": true, "equalto": true, "sameas": true,
}

func (r *renderer) test(x *testExpr) (any, error) {
	v, err := r.eval(x.x)
	if err != nil {
		return nil, err
	}
	args, err := r.evalArgs(x.args)
	if err != nil {
		return nil, err
	}
	arg := func() any {
		if len(args) > 0 {
			return args[0]
		}
		return undefined
	}
	var ok bool
	switch x.name {
	case "defined":
		ok = v != undefined
	case "undefined":
		ok = v == undefined
	case "none", "null":
		ok = v == nil
	case "string":
		_, ok = v.(string)
	case "number":
		_, ok = v.(float64)
	case "mapping":
		_, ok = v.(map[string]any)
	case "iterable":
		switch v.(type) {
		case []any, string:
			ok = true
		}
	case "odd":
		ok = math.Mod(toNumber(v), 2) == 1
	case "even":
		ok = math.Mod(toNumber(v), 2) == 0
	case "divisibleby":
		ok = math.Mod(toNumber(v), toNumber(arg())) == 0
	case "truthy":
		ok = truthy(v)
	case "falsy":
		ok = !truthy(v)
	case "eq", "equalto", "sameas":
		ok = strictEqual(v, arg())
	}
	return ok != x.negate, nil
}

// globals are the functions templates may call.
var globals = map[string]func(r *renderer, off int, args []any) (any, error){
	"range": rangeFunc,
}

// rangeFunc is Nunjucks' range(stop) / range(start, stop[, step]); each
// element costs a step, charged before the list is built.
func rangeFunc(r *renderer, off int, args []any) (any, error) {
	if len(args) == 0 || len(args) > 3 {
		return nil, r.errorf(off, "range takes 1 to 3 arguments, got %d", len(args))
	}
	start, stop, step := 0.0, toNumber(args[0]), 1.0
	if len(args) >= 2 {
		start, stop = toNumber(args[0]), toNumber(args[1])
	}
	if len(args) == 3 {
		step = toNumber(args[2])
	}
	if math.IsNaN(start) || math.IsNaN(stop) || math.IsNaN(step) || math.IsInf(start, 0) || math.IsInf(stop, 0) || step == 0 || math.IsInf(step, 0) {
		return []any{}, nil
	}
	n := math.Ceil((stop - start) / step)
	if n <= 0 {
		return []any{}, nil
	}
	if n > float64(r.maxSteps) {
		return nil, r.limitf(off, "range of %s elements exceeds the limit of %d evaluation steps", formatNumber(n), r.maxSteps)
	}
	if err := r.step(off, int(n)); err != nil {
		return nil, err
	}
	l := make([]any, int(n))
	for i := range l {
		l[i] = start + float64(i)*step
	}
	return l, nil
}

// jsonValue converts a result to the JSON-like value Backstage gets from
// JSON.parse(dump(x)): undefined becomes nil (or is dropped from objects),
// NaN and infinities become nil; the result shares nothing with ctx.
func (r *renderer) jsonValue(off int, v any) (any, error) {
	return r.copyJSON(off, v, 0)
}

func (r *renderer) copyJSON(off int, v any, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, r.limitf(off, "value nested more than %d levels deep", maxValueDepth)
	}
	if err := r.step(off, 1); err != nil {
		return nil, err
	}
	switch x := normalize(v).(type) {
	case undefinedType:
		return nil, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, nil
		}
		return x, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := r.copyJSON(off, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if normalize(e) == undefined {
				continue
			}
			c, err := r.copyJSON(off, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case nil, bool, string:
		return x, nil
	}
	return nil, nil
}
