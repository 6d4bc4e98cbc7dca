package templating

import (
	"fmt"
	"strconv"
)

// maxNesting bounds block nesting, expression nesting and the length of
// operator, member and filter chains, so that evaluation recursion stays
// shallow whatever the input.
const maxNesting = 100

// Template nodes.
type (
	node interface{}

	textNode struct {
		pos  int
		text string
	}

	outputNode struct {
		pos int
		x   expr
	}

	ifNode struct {
		conds  []expr
		bodies [][]node
		els    []node
	}

	forNode struct {
		pos  int
		vars []string
		iter expr
		body []node
		els  []node
	}

	setNode struct {
		pos   int
		names []string
		value expr   // nil for the block form
		body  []node // {% set x %}...{% endset %}
	}
)

// Expression nodes.
type (
	expr interface{}

	literal struct{ v any }

	nameExpr struct {
		pos  int
		name string
	}

	listExpr struct{ items []expr }

	dictExpr struct {
		keys []string
		vals []expr
	}

	memberExpr struct {
		pos int
		obj expr
		key expr
	}

	callExpr struct {
		pos  int
		name string
		args []expr
	}

	filterExpr struct {
		pos  int
		name string
		in   expr
		args []expr
	}

	unaryExpr struct {
		pos int
		op  string
		x   expr
	}

	binaryExpr struct {
		pos  int
		op   string
		l, r expr
	}

	condExpr struct {
		cond, then, els expr // els may be nil: undefined
	}

	testExpr struct {
		pos    int
		x      expr
		name   string
		args   []expr
		negate bool
	}
)

type parser struct {
	src     string
	toks    []token
	i       int
	depth   int
	filters func(name string) bool
}

func parse(src, open string, hasFilter func(string) bool) ([]node, error) {
	toks, err := lex(src, open)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, filters: hasFilter}
	body, end, err := p.body()
	if err != nil {
		return nil, err
	}
	if end.val != "" {
		return nil, p.errorf(end.pos, "unexpected '%s'", end.val)
	}
	return body, nil
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return newError(p.src, off, fmt.Sprintf(format, args...))
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.val == op
}

func (p *parser) isName(name string) bool {
	t := p.peek()
	return t.kind == tName && t.val == name
}

func (p *parser) skipOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) skipName(name string) bool {
	if p.isName(name) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op, after string) error {
	if !p.skipOp(op) {
		t := p.peek()
		return p.errorf(t.pos, "expected '%s' after %s, found %s", op, after, t.describe())
	}
	return nil
}

// expectBlockEnd consumes "%}" after the tag named tag.
func (p *parser) expectBlockEnd(tag string) error {
	t := p.peek()
	if t.kind != tBlockEnd {
		return p.errorf(t.pos, "expected '%s' after '%s', found %s", blockClose, tag, t.describe())
	}
	p.i++
	return nil
}

func (p *parser) ident(what string) (token, error) {
	t := p.peek()
	if t.kind != tName {
		return t, p.errorf(t.pos, "expected %s, found %s", what, t.describe())
	}
	p.i++
	return t, nil
}

func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > maxNesting {
		return p.errorf(off, "template nested more than %d levels deep", maxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// endTag is the block tag that stopped body: its name ("" at end of input).
type endTag struct {
	val string
	pos int
}

// body parses nodes until end of input or a tag it does not own (endif,
// else, ...), which it returns unconsumed past the tag name.
func (p *parser) body() ([]node, endTag, error) {
	var nodes []node
	for {
		t := p.next()
		switch t.kind {
		case tEOF:
			return nodes, endTag{pos: t.pos}, nil
		case tText:
			nodes = append(nodes, &textNode{pos: t.pos, text: t.val})
		case tVarStart:
			x, err := p.expression()
			if err != nil {
				return nil, endTag{}, err
			}
			if e := p.peek(); e.kind != tVarEnd {
				return nil, endTag{}, p.errorf(e.pos, "expected '%s', found %s", varClose, e.describe())
			}
			p.i++
			nodes = append(nodes, &outputNode{pos: t.pos, x: x})
		case tBlockStart:
			name, err := p.ident("a tag name after '" + blockOpen + "'")
			if err != nil {
				return nil, endTag{}, err
			}
			var n node
			switch name.val {
			case "if":
				n, err = p.ifTag(name)
			case "for":
				n, err = p.forTag(name)
			case "set":
				n, err = p.setTag(name)
			case "elif", "elseif", "else", "endif", "endfor", "endset":
				return nodes, endTag{val: name.val, pos: name.pos}, nil
			default:
				return nil, endTag{}, p.errorf(name.pos, "unknown tag '%s'", name.val)
			}
			if err != nil {
				return nil, endTag{}, err
			}
			nodes = append(nodes, n)
		default:
			return nil, endTag{}, p.errorf(t.pos, "unexpected %s", t.describe())
		}
	}
}

func (p *parser) ifTag(tag token) (node, error) {
	if err := p.enter(tag.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	n := &ifNode{}
	for {
		cond, err := p.expression()
		if err != nil {
			return nil, err
		}
		if err := p.expectBlockEnd("if condition"); err != nil {
			return nil, err
		}
		body, end, err := p.body()
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		switch end.val {
		case "elif", "elseif":
			continue
		case "else":
			if err := p.expectBlockEnd("else"); err != nil {
				return nil, err
			}
			els, end, err := p.body()
			if err != nil {
				return nil, err
			}
			if end.val != "endif" {
				return nil, p.unclosed(tag, "if", "endif", end)
			}
			n.els = els
		case "endif":
		default:
			return nil, p.unclosed(tag, "if", "endif", end)
		}
		return n, p.expectBlockEnd("endif")
	}
}

func (p *parser) unclosed(tag token, name, want string, got endTag) error {
	if got.val == "" {
		l, c := position(p.src, tag.pos)
		return p.errorf(got.pos, "unexpected end of template, expected '%s' to close '%s' at line %d, column %d", want, name, l, c)
	}
	return p.errorf(got.pos, "unexpected '%s', expected '%s'", got.val, want)
}

func (p *parser) forTag(tag token) (node, error) {
	if err := p.enter(tag.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	n := &forNode{pos: tag.pos}
	for {
		v, err := p.ident("a loop variable after 'for'")
		if err != nil {
			return nil, err
		}
		n.vars = append(n.vars, v.val)
		if !p.skipOp(",") {
			break
		}
	}
	if !p.skipName("in") {
		t := p.peek()
		return nil, p.errorf(t.pos, "expected 'in' after loop variables, found %s", t.describe())
	}
	iter, err := p.expression()
	if err != nil {
		return nil, err
	}
	n.iter = iter
	if err := p.expectBlockEnd("for"); err != nil {
		return nil, err
	}
	body, end, err := p.body()
	if err != nil {
		return nil, err
	}
	n.body = body
	if end.val == "else" {
		if err := p.expectBlockEnd("else"); err != nil {
			return nil, err
		}
		if n.els, end, err = p.body(); err != nil {
			return nil, err
		}
	}
	if end.val != "endfor" {
		return nil, p.unclosed(tag, "for", "endfor", end)
	}
	return n, p.expectBlockEnd("endfor")
}

func (p *parser) setTag(tag token) (node, error) {
	if err := p.enter(tag.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	n := &setNode{pos: tag.pos}
	for {
		v, err := p.ident("a variable name after 'set'")
		if err != nil {
			return nil, err
		}
		n.names = append(n.names, v.val)
		if !p.skipOp(",") {
			break
		}
	}
	if p.skipOp("=") {
		x, err := p.expression()
		if err != nil {
			return nil, err
		}
		n.value = x
		return n, p.expectBlockEnd("set")
	}
	if err := p.expectBlockEnd("set"); err != nil {
		return nil, err
	}
	body, end, err := p.body()
	if err != nil {
		return nil, err
	}
	if end.val != "endset" {
		return nil, p.unclosed(tag, "set", "endset", end)
	}
	n.body = body
	return n, p.expectBlockEnd("endset")
}

// Expressions, loosest binding first, as Nunjucks parses them.

func (p *parser) expression() (expr, error) {
	if err := p.enter(p.peek().pos); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.skipName("if") {
		c := &condExpr{then: x}
		if c.cond, err = p.or(); err != nil {
			return nil, err
		}
		if p.skipName("else") {
			if c.els, err = p.or(); err != nil {
				return nil, err
			}
		}
		return c, nil
	}
	return x, nil
}

// chain parses left-associative binary operators over operand.
func (p *parser) chain(operand func() (expr, error), match func() (string, bool)) (expr, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for n := 0; ; n++ {
		t := p.peek()
		op, ok := match()
		if !ok {
			return l, nil
		}
		if n >= maxNesting {
			return nil, p.errorf(t.pos, "expression chain longer than %d operators", maxNesting)
		}
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{pos: t.pos, op: op, l: l, r: r}
	}
}

func (p *parser) matchNames(names ...string) func() (string, bool) {
	return func() (string, bool) {
		for _, n := range names {
			if p.skipName(n) {
				return n, true
			}
		}
		return "", false
	}
}

func (p *parser) matchOps(ops ...string) func() (string, bool) {
	return func() (string, bool) {
		for _, o := range ops {
			if p.skipOp(o) {
				return o, true
			}
		}
		return "", false
	}
}

func (p *parser) or() (expr, error) { return p.chain(p.and, p.matchNames("or")) }

func (p *parser) and() (expr, error) { return p.chain(p.not, p.matchNames("and")) }

func (p *parser) not() (expr, error) {
	t := p.peek()
	if p.skipName("not") {
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{pos: t.pos, op: "not", x: x}, nil
	}
	return p.in()
}

func (p *parser) in() (expr, error) {
	return p.chain(p.is, func() (string, bool) {
		if p.skipName("in") {
			return "in", true
		}
		if p.isName("not") && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tName && p.toks[p.i+1].val == "in" {
			p.i += 2
			return "not in", true
		}
		return "", false
	})
}

func (p *parser) is() (expr, error) {
	x, err := p.compare()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if !p.skipName("is") {
		return x, nil
	}
	te := &testExpr{pos: t.pos, x: x, negate: p.skipName("not")}
	name := p.peek()
	switch {
	case name.kind == tName:
		te.name = name.val
	default:
		return nil, p.errorf(name.pos, "expected a test name after 'is', found %s", name.describe())
	}
	p.i++
	if !tests[te.name] {
		return nil, p.errorf(name.pos, "unknown test '%s'", te.name)
	}
	if p.isOp("(") {
		if te.args, err = p.args(); err != nil {
			return nil, err
		}
	} else if te.name == "divisibleby" || te.name == "eq" || te.name == "equalto" || te.name == "sameas" {
		arg, err := p.primary()
		if err != nil {
			return nil, err
		}
		te.args = []expr{arg}
	}
	return te, nil
}

func (p *parser) compare() (expr, error) {
	return p.chain(p.concat, p.matchOps("===", "!==", "==", "!=", "<=", ">=", "<", ">"))
}

func (p *parser) concat() (expr, error) { return p.chain(p.additive, p.matchOps("~")) }

func (p *parser) additive() (expr, error) { return p.chain(p.multiplicative, p.matchOps("+", "-")) }

func (p *parser) multiplicative() (expr, error) {
	return p.chain(p.pow, p.matchOps("*", "//", "/", "%"))
}

func (p *parser) pow() (expr, error) {
	return p.chain(func() (expr, error) { return p.unary(false) }, p.matchOps("**"))
}

// unary parses prefix minus/plus; as in Nunjucks, filters bind to the whole
// unary expression (-x | abs) and tighter than binary operators.
func (p *parser) unary(noFilters bool) (expr, error) {
	t := p.peek()
	var x expr
	var err error
	if t.kind == tOp && (t.val == "-" || t.val == "+") {
		p.i++
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		inner, err := p.unary(true)
		p.leave()
		if err != nil {
			return nil, err
		}
		x = &unaryExpr{pos: t.pos, op: t.val, x: inner}
	} else if x, err = p.primary(); err != nil {
		return nil, err
	}
	if noFilters {
		return x, nil
	}
	return p.filters_(x)
}

func (p *parser) filters_(x expr) (expr, error) {
	for n := 0; p.isOp("|"); n++ {
		bar := p.next()
		if n >= maxNesting {
			return nil, p.errorf(bar.pos, "more than %d filters in a row", maxNesting)
		}
		name, err := p.ident("a filter name after '|'")
		if err != nil {
			return nil, err
		}
		if !p.filters(name.val) {
			return nil, p.errorf(name.pos, "unknown filter '%s'", name.val)
		}
		f := &filterExpr{pos: name.pos, name: name.val, in: x}
		if p.isOp("(") {
			if f.args, err = p.args(); err != nil {
				return nil, err
			}
		}
		x = f
	}
	return x, nil
}

// args parses "(a, b, ...)"; keyword arguments are not supported.
func (p *parser) args() ([]expr, error) {
	open := p.next()
	var args []expr
	for !p.isOp(")") {
		if len(args) > 0 {
			if err := p.expectOp(",", "an argument"); err != nil {
				return nil, err
			}
			if p.isOp(")") {
				break
			}
		}
		if t := p.peek(); t.kind == tName && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].val == "=" {
			return nil, p.errorf(t.pos, "keyword arguments are not supported")
		}
		if p.peek().kind == tEOF || p.peek().kind == tVarEnd || p.peek().kind == tBlockEnd {
			break
		}
		a, err := p.expression()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	if !p.skipOp(")") {
		t := p.peek()
		l, c := position(p.src, open.pos)
		return nil, p.errorf(t.pos, "expected ')' to close '(' at line %d, column %d, found %s", l, c, t.describe())
	}
	return args, nil
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	var x expr
	switch t.kind {
	case tString:
		x = &literal{v: t.val}
	case tNumber:
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, p.errorf(t.pos, "invalid number %q", t.val)
		}
		x = &literal{v: f}
	case tName:
		switch t.val {
		case "true", "True":
			x = &literal{v: true}
		case "false", "False":
			x = &literal{v: false}
		case "none", "None", "null":
			x = &literal{v: nil}
		default:
			if p.isOp("(") {
				if globals[t.val] == nil {
					return nil, p.errorf(t.pos, "unknown function '%s'", t.val)
				}
				args, err := p.args()
				if err != nil {
					return nil, err
				}
				x = &callExpr{pos: t.pos, name: t.val, args: args}
			} else {
				x = &nameExpr{pos: t.pos, name: t.val}
			}
		}
	case tOp:
		var err error
		switch t.val {
		case "(":
			x, err = p.group(t)
		case "[":
			x, err = p.list(t)
		case "{":
			x, err = p.dict(t)
		default:
			return nil, p.errorf(t.pos, "unexpected '%s', expected an expression", t.val)
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, p.errorf(t.pos, "expected an expression, found %s", t.describe())
	}
	return p.postfix(x)
}

func (p *parser) postfix(x expr) (expr, error) {
	for n := 0; ; n++ {
		t := p.peek()
		if t.kind != tOp || (t.val != "." && t.val != "[") {
			return x, nil
		}
		if n >= maxNesting {
			return nil, p.errorf(t.pos, "more than %d member lookups in a row", maxNesting)
		}
		p.i++
		if t.val == "." {
			name := p.peek()
			if name.kind != tName && name.kind != tNumber {
				return nil, p.errorf(name.pos, "expected a name after '.', found %s", name.describe())
			}
			p.i++
			x = &memberExpr{pos: t.pos, obj: x, key: &literal{v: name.val}}
			continue
		}
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		key, err := p.expression()
		p.leave()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("]", "the index"); err != nil {
			return nil, err
		}
		x = &memberExpr{pos: t.pos, obj: x, key: key}
	}
}

func (p *parser) group(open token) (expr, error) {
	if err := p.enter(open.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.expression()
	if err != nil {
		return nil, err
	}
	if !p.skipOp(")") {
		t := p.peek()
		l, c := position(p.src, open.pos)
		return nil, p.errorf(t.pos, "expected ')' to close '(' at line %d, column %d, found %s", l, c, t.describe())
	}
	return x, nil
}

func (p *parser) list(open token) (expr, error) {
	if err := p.enter(open.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	l := &listExpr{}
	for !p.skipOp("]") {
		if len(l.items) > 0 {
			if err := p.expectOp(",", "a list item"); err != nil {
				return nil, err
			}
			if p.skipOp("]") {
				break
			}
		}
		x, err := p.expression()
		if err != nil {
			return nil, err
		}
		l.items = append(l.items, x)
	}
	return l, nil
}

func (p *parser) dict(open token) (expr, error) {
	if err := p.enter(open.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	d := &dictExpr{}
	for !p.skipOp("}") {
		if len(d.keys) > 0 {
			if err := p.expectOp(",", "a dict entry"); err != nil {
				return nil, err
			}
			if p.skipOp("}") {
				break
			}
		}
		k := p.next()
		if k.kind != tString && k.kind != tName {
			return nil, p.errorf(k.pos, "dict keys must be strings or names, found %s", k.describe())
		}
		if err := p.expectOp(":", "a dict key"); err != nil {
			return nil, err
		}
		v, err := p.expression()
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k.val)
		d.vals = append(d.vals, v)
	}
	return d, nil
}
