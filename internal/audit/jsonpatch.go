package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// maxPatchDepth bounds how deeply arrays and objects may nest in the
// documents Diff and Apply read and in the documents Apply builds. Every
// walk over a document recurses, so without a bound a hostile document
// could exhaust the stack.
const maxPatchDepth = 512

// copyAllowance is how many values the "copy" operations of one patch may
// create on top of one per byte of the document and patch. Without a bound,
// a few dozen copies of the root into one of its members would double the
// document each time.
const copyAllowance = 1 << 16

// errNoDocument is what operations below the root meet when there is no
// document: Apply was given none, or an earlier operation removed the root.
var errNoDocument = errors.New("there is no document")

// Diff returns the RFC 6902 JSON Patch that turns the JSON document old into new,
// compact, with ops "add", "remove" and "replace" only. old == nil (or empty) means
// there was no document: the patch is [{"op":"add","path":"","value":<new>}].
// new == nil means the document was removed: [{"op":"remove","path":""}].
// Equal documents give "[]". Object keys are visited in sorted order so the
// output is deterministic. Arrays: elements compared by index; a common prefix and
// a common suffix are kept, and what differs in the middle becomes replace ops
// for overlapping indexes plus remove ops (highest index first) or add ops
// (ascending index) for the length difference — never an op per element of an
// equal array. Paths are JSON Pointers (RFC 6901: "~" -> "~0", "/" -> "~1").
//
// Numbers are compared as written, so 1 becoming 1.0 is a replace: applying
// the patch to old rebuilds new number for number, not just value for value.
func Diff(old, new []byte) (json.RawMessage, error) {
	var from, to any
	var err error
	if len(old) > 0 {
		if from, err = readJSON(old); err != nil {
			return nil, fmt.Errorf("old document: %w", err)
		}
	}
	if len(new) > 0 {
		if to, err = readJSON(new); err != nil {
			return nil, fmt.Errorf("new document: %w", err)
		}
	}
	ops := []diffOp{} // encodes as [], not null
	switch {
	case len(old) == 0 && len(new) == 0:
		// No document before or after: nothing changed.
	case len(old) == 0:
		ops = append(ops, valueOp("add", "", to))
	case len(new) == 0:
		ops = append(ops, diffOp{Op: "remove", Path: ""})
	default:
		ops = diffValues(ops, "", from, to)
	}
	return writeJSON(ops)
}

// diffOp is one operation of a patch Diff writes.
type diffOp struct {
	Op   string `json:"op"`
	Path string `json:"path"`
	// Value is a pointer so that a null value is written and a missing one
	// (for "remove") is not.
	Value *any `json:"value,omitempty"`
}

func valueOp(op, path string, v any) diffOp {
	return diffOp{Op: op, Path: path, Value: &v}
}

// diffValues appends to ops the operations that turn a, found at path, into b.
func diffValues(ops []diffOp, path string, a, b any) []diffOp {
	switch a := a.(type) {
	case map[string]any:
		if b, ok := b.(map[string]any); ok {
			return diffObjects(ops, path, a, b)
		}
	case []any:
		if b, ok := b.([]any); ok {
			return diffArrays(ops, path, a, b)
		}
	}
	if sameJSON(a, b, sameLiteral) {
		return ops
	}
	return append(ops, valueOp("replace", path, b))
}

func diffObjects(ops []diffOp, path string, a, b map[string]any) []diffOp {
	keys := make([]string, 0, max(len(a), len(b)))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := path + "/" + escapeToken(k)
		av, inA := a[k]
		bv, inB := b[k]
		switch {
		case !inB:
			ops = append(ops, diffOp{Op: "remove", Path: p})
		case !inA:
			ops = append(ops, valueOp("add", p, bv))
		default:
			ops = diffValues(ops, p, av, bv)
		}
	}
	return ops
}

// diffArrays compares elements by index. Finding moved elements would
// take a longest-common-subsequence search; keeping the common prefix and
// suffix already turns the usual edits (append, insert, delete, change
// one element) into one operation each.
func diffArrays(ops []diffOp, path string, a, b []any) []diffOp {
	n := min(len(a), len(b))
	prefix := 0
	for prefix < n && sameJSON(a[prefix], b[prefix], sameLiteral) {
		prefix++
	}
	suffix := 0
	for suffix < n-prefix && sameJSON(a[len(a)-1-suffix], b[len(b)-1-suffix], sameLiteral) {
		suffix++
	}
	oldMid, newMid := a[prefix:len(a)-suffix], b[prefix:len(b)-suffix]
	at := func(i int) string { return path + "/" + strconv.Itoa(prefix+i) }
	common := min(len(oldMid), len(newMid))
	for i := range common {
		if !sameJSON(oldMid[i], newMid[i], sameLiteral) {
			ops = append(ops, valueOp("replace", at(i), newMid[i]))
		}
	}
	// Highest index first, so each index still names the element it
	// named in old.
	for i := len(oldMid) - 1; i >= common; i-- {
		ops = append(ops, diffOp{Op: "remove", Path: at(i)})
	}
	for i := common; i < len(newMid); i++ {
		ops = append(ops, valueOp("add", at(i), newMid[i]))
	}
	return ops
}

// Apply applies patch to doc and returns the new document. doc == nil means no
// document (only a root "add"/"replace" can start one). A root "remove" returns nil.
// Supports add, remove, replace, move, copy, test as RFC 6902 defines them,
// including "-" for appending to arrays. Errors name the op index and path.
//
// The patch is checked as a whole before any operation runs. Besides the
// nesting limit, the "copy" operations of one patch may together create no
// more values than doc and patch have bytes, plus 65536.
func Apply(doc []byte, patch []byte) ([]byte, error) {
	ops, err := readPatch(patch)
	if err != nil {
		return nil, err
	}
	t := patchTarget{copyBudget: len(doc) + len(patch) + copyAllowance}
	if len(doc) > 0 {
		if t.root, err = readJSON(doc); err != nil {
			return nil, fmt.Errorf("document: %w", err)
		}
		t.present = true
	}
	for i, op := range ops {
		if err := t.apply(op); err != nil {
			return nil, fmt.Errorf("patch op %d (%s %q): %w", i, op.op, op.path.raw, err)
		}
	}
	if !t.present {
		return nil, nil
	}
	return writeJSON(t.root)
}

// patchOp is one operation of a patch Apply reads.
type patchOp struct {
	op       string
	path     jsonPointer
	from     jsonPointer // for move and copy
	value    any         // for add, replace and test
	hasValue bool        // a null value is still a value
}

// readPatch parses and checks a whole patch, so that a malformed
// operation late in the patch is reported before any operation runs.
func readPatch(patch []byte) ([]patchOp, error) {
	// A value may nest maxPatchDepth levels inside the patch's array and
	// its operation's object.
	if err := checkNesting(patch, maxPatchDepth+2); err != nil {
		return nil, fmt.Errorf("patch: %w", err)
	}
	dec := newJSONDecoder(patch)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("patch: %w", noEOF(err))
	}
	if tok != json.Delim('[') {
		return nil, errors.New("patch: not a JSON array")
	}
	var ops []patchOp
	for dec.More() {
		op, err := readPatchOp(dec)
		if err != nil {
			return nil, fmt.Errorf("patch op %d: %w", len(ops), err)
		}
		ops = append(ops, op)
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return nil, fmt.Errorf("patch: %w", noEOF(err))
	}
	if err := expectEOF(dec); err != nil {
		return nil, fmt.Errorf("patch: %w", err)
	}
	return ops, nil
}

func readPatchOp(dec *json.Decoder) (patchOp, error) {
	var op patchOp
	tok, err := dec.Token()
	if err != nil {
		return op, noEOF(err)
	}
	if tok != json.Delim('{') {
		return op, errors.New("not a JSON object")
	}
	// RFC 6902 section 4: "there MUST NOT be duplicate members", which
	// encoding/json would otherwise resolve silently in favour of the last.
	seen := make(map[string]bool)
	var path, from string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return op, noEOF(err)
		}
		key, ok := tok.(string)
		if !ok {
			return op, fmt.Errorf("unexpected %v where a member name belongs", tok)
		}
		if seen[key] {
			return op, fmt.Errorf("member %q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "op":
			op.op, err = readString(dec)
		case "path":
			path, err = readString(dec)
		case "from":
			from, err = readString(dec)
		case "value":
			err = dec.Decode(&op.value)
			op.hasValue = true
		default:
			// Section 4: members an operation does not define are ignored.
			err = dec.Decode(new(json.RawMessage))
		}
		if err != nil {
			return op, fmt.Errorf("member %q: %w", key, noEOF(err))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return op, noEOF(err)
	}

	switch op.op {
	case "add", "replace", "test":
		if !op.hasValue {
			return op, fmt.Errorf("%q needs a \"value\"", op.op)
		}
	case "move", "copy":
		if !seen["from"] {
			return op, fmt.Errorf("%q needs a \"from\"", op.op)
		}
		if op.from, err = parsePointer(from); err != nil {
			return op, fmt.Errorf("from: %w", err)
		}
	case "remove":
	case "":
		return op, errors.New(`missing "op"`)
	default:
		return op, fmt.Errorf("unknown op %q", op.op)
	}
	if !seen["path"] {
		return op, errors.New(`missing "path"`)
	}
	if op.path, err = parsePointer(path); err != nil {
		return op, fmt.Errorf("path: %w", err)
	}
	return op, nil
}

// readString decodes the next value, which must be a string: decoding
// null into a string would silently leave it empty, and an empty path
// is the whole document.
func readString(dec *json.Decoder) (string, error) {
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s, not a string", jsonKind(v))
	}
	return s, nil
}

// patchTarget is the document Apply edits in place: objects change in
// place, arrays are replaced in their parent when they grow or shrink.
type patchTarget struct {
	root any
	// present is false when there is no document: Apply was given none,
	// or an operation removed the root.
	present bool
	// copyBudget is how many more values copy operations may create.
	copyBudget int
}

func (t *patchTarget) apply(op patchOp) error {
	switch op.op {
	case "add":
		return t.add(op.path, op.value)
	case "remove":
		_, err := t.remove(op.path)
		return err
	case "replace":
		return t.replace(op.path, op.value)
	case "move":
		if op.from.properPrefixOf(op.path) {
			return fmt.Errorf("cannot move %q into itself", op.from.raw)
		}
		v, err := t.remove(op.from)
		if err != nil {
			return fmt.Errorf("from %q: %w", op.from.raw, err)
		}
		return t.add(op.path, v)
	case "copy":
		v, err := t.get(op.from)
		if err != nil {
			return fmt.Errorf("from %q: %w", op.from.raw, err)
		}
		c, ok := cloneJSON(v, &t.copyBudget)
		if !ok {
			return errors.New("the patch copies too many values")
		}
		return t.add(op.path, c)
	case "test":
		v, err := t.get(op.path)
		if err != nil {
			return err
		}
		if !sameJSON(v, op.value, sameNumber) {
			return fmt.Errorf("test failed: the value there (%s) differs from the one given", jsonKind(v))
		}
		return nil
	}
	return fmt.Errorf("unknown op %q", op.op) // readPatchOp rejects these
}

func (t *patchTarget) get(p jsonPointer) (any, error) {
	if !t.present {
		return nil, errNoDocument
	}
	v := t.root
	for _, tok := range p.tokens {
		var err error
		if v, err = member(v, tok); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (t *patchTarget) add(p jsonPointer, v any) error {
	if err := checkFits(p, v); err != nil {
		return err
	}
	if len(p.tokens) == 0 {
		t.root, t.present = v, true
		return nil
	}
	return t.edit(p, func(parent any, tok string) (any, error) {
		switch parent := parent.(type) {
		case map[string]any:
			parent[tok] = v
			return parent, nil
		case []any:
			i, err := arrayIndex(tok, len(parent), true)
			if err != nil {
				return nil, err
			}
			return slices.Insert(parent, i, v), nil
		}
		return nil, notContainer(parent, tok)
	})
}

// remove removes the value p refers to and returns it.
func (t *patchTarget) remove(p jsonPointer) (any, error) {
	if len(p.tokens) == 0 {
		if !t.present {
			return nil, errNoDocument
		}
		v := t.root
		t.root, t.present = nil, false
		return v, nil
	}
	var removed any
	err := t.edit(p, func(parent any, tok string) (any, error) {
		switch parent := parent.(type) {
		case map[string]any:
			v, ok := parent[tok]
			if !ok {
				return nil, fmt.Errorf("member %q not found", tok)
			}
			delete(parent, tok)
			removed = v
			return parent, nil
		case []any:
			i, err := arrayIndex(tok, len(parent), false)
			if err != nil {
				return nil, err
			}
			removed = parent[i]
			return slices.Delete(parent, i, i+1), nil
		}
		return nil, notContainer(parent, tok)
	})
	return removed, err
}

func (t *patchTarget) replace(p jsonPointer, v any) error {
	if err := checkFits(p, v); err != nil {
		return err
	}
	if len(p.tokens) == 0 {
		t.root, t.present = v, true
		return nil
	}
	return t.edit(p, func(parent any, tok string) (any, error) {
		switch parent := parent.(type) {
		case map[string]any:
			if _, ok := parent[tok]; !ok {
				return nil, fmt.Errorf("member %q not found", tok)
			}
			parent[tok] = v
			return parent, nil
		case []any:
			i, err := arrayIndex(tok, len(parent), false)
			if err != nil {
				return nil, err
			}
			parent[i] = v
			return parent, nil
		}
		return nil, notContainer(parent, tok)
	})
}

// edit finds the object or array holding the value p refers to (p is not
// the root), passes it and p's last token to change, and stores the
// container change returns where the old one was.
func (t *patchTarget) edit(p jsonPointer, change func(parent any, tok string) (any, error)) error {
	if !t.present {
		return errNoDocument
	}
	root, err := editAt(t.root, p.tokens, change)
	if err != nil {
		return err
	}
	t.root = root
	return nil
}

func editAt(node any, tokens []string, change func(parent any, tok string) (any, error)) (any, error) {
	if len(tokens) == 1 {
		return change(node, tokens[0])
	}
	tok := tokens[0]
	c, err := member(node, tok)
	if err != nil {
		return nil, err
	}
	if c, err = editAt(c, tokens[1:], change); err != nil {
		return nil, err
	}
	switch node := node.(type) {
	case map[string]any:
		node[tok] = c
	case []any:
		i, _ := arrayIndex(tok, len(node), false) // member checked it
		node[i] = c
	}
	return node, nil
}

// member returns the member or element of node that tok names.
func member(node any, tok string) (any, error) {
	switch node := node.(type) {
	case map[string]any:
		v, ok := node[tok]
		if !ok {
			return nil, fmt.Errorf("member %q not found", tok)
		}
		return v, nil
	case []any:
		i, err := arrayIndex(tok, len(node), false)
		if err != nil {
			return nil, err
		}
		return node[i], nil
	}
	return nil, notContainer(node, tok)
}

func notContainer(node any, tok string) error {
	return fmt.Errorf("cannot look up %q in %s", tok, jsonKind(node))
}

// checkFits reports whether v placed at p would nest deeper than the limit.
func checkFits(p jsonPointer, v any) error {
	if len(p.tokens)+nestingDepth(v) > maxPatchDepth {
		return fmt.Errorf("the result would nest deeper than %d levels", maxPatchDepth)
	}
	return nil
}

// jsonPointer is a parsed RFC 6901 JSON Pointer.
type jsonPointer struct {
	raw    string   // as written, for messages
	tokens []string // unescaped; none for the whole document
}

func parsePointer(s string) (jsonPointer, error) {
	if s == "" {
		return jsonPointer{}, nil
	}
	if s[0] != '/' {
		return jsonPointer{}, fmt.Errorf("JSON pointer %q is neither empty nor starts with \"/\"", s)
	}
	tokens := strings.Split(s[1:], "/")
	for i, tok := range tokens {
		if !strings.Contains(tok, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(tok); j++ {
			if tok[j] != '~' {
				b.WriteByte(tok[j])
				continue
			}
			j++
			switch {
			case j < len(tok) && tok[j] == '0':
				b.WriteByte('~')
			case j < len(tok) && tok[j] == '1':
				b.WriteByte('/')
			default:
				return jsonPointer{}, fmt.Errorf("JSON pointer %q: \"~\" must be followed by \"0\" or \"1\"", s)
			}
		}
		tokens[i] = b.String()
	}
	return jsonPointer{raw: s, tokens: tokens}, nil
}

func (p jsonPointer) properPrefixOf(q jsonPointer) bool {
	return len(p.tokens) < len(q.tokens) && slices.Equal(p.tokens, q.tokens[:len(p.tokens)])
}

func escapeToken(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// arrayIndex parses tok as an index into an array of length n. end allows
// the position after the last element, as n or "-", where "add" appends.
func arrayIndex(tok string, n int, end bool) (int, error) {
	if tok == "-" && end {
		return n, nil
	}
	if tok == "" || strings.Trim(tok, "0123456789") != "" {
		return 0, fmt.Errorf("array index %q is not a number", tok)
	}
	if len(tok) > 1 && tok[0] == '0' {
		return 0, fmt.Errorf("array index %q has a leading zero", tok)
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i > n || (i == n && !end) {
		return 0, fmt.Errorf("array index %s is out of range for length %d", tok, n)
	}
	return i, nil
}

// sameJSON reports whether a and b are equal JSON values, with numbers
// compared by sameNum: objects have the same members, in any order, and
// arrays the same elements in the same order.
func sameJSON(a, b any, sameNum func(a, b json.Number) bool) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !sameJSON(av, bv, sameNum) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i], sameNum) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		return ok && sameNum(a, b)
	}
	return a == b // string, bool or nil, all comparable
}

// sameLiteral is how Diff compares numbers: as written.
func sameLiteral(a, b json.Number) bool { return a == b }

// sameNumber is how "test" compares numbers: by value, as RFC 6902 asks,
// so 1, 1.0 and 10e-1 are equal. It compares decimal digits rather than
// float64s, which would make 12345678901234567890 equal to
// 12345678901234567891.
func sameNumber(a, b json.Number) bool {
	x, okX := parseDecimal(string(a))
	y, okY := parseDecimal(string(b))
	if !okX || !okY {
		return a == b
	}
	return x.neg == y.neg && x.digits == y.digits && x.exp.Cmp(y.exp) == 0
}

// decimal is a number as ±0.digits × 10^exp, digits without leading or
// trailing zeros, so each value has one form. Zero has no digits and no sign.
type decimal struct {
	neg    bool
	digits string
	exp    *big.Int // a JSON exponent may have any number of digits
}

// parseDecimal reads a number as JSON writes it; ok is false for anything
// else.
func parseDecimal(s string) (d decimal, ok bool) {
	s, d.neg = strings.CutPrefix(s, "-")
	mantissa, exponent := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa, exponent = s[:i], s[i+1:]
	}
	whole, frac, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	point := len(digits) - len(frac) // where the point is once leading zeros are gone
	d.digits = strings.TrimRight(digits, "0")
	d.exp = new(big.Int)
	if d.digits == "" {
		return decimal{exp: d.exp}, true
	}
	if exponent != "" {
		if _, ok := d.exp.SetString(exponent, 10); !ok {
			return d, false
		}
	}
	d.exp.Add(d.exp, big.NewInt(int64(point)))
	return d, true
}

// cloneJSON deep-copies v, spending one unit of budget per value; it
// fails once the budget runs out.
func cloneJSON(v any, budget *int) (any, bool) {
	if *budget--; *budget < 0 {
		return nil, false
	}
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			ce, ok := cloneJSON(e, budget)
			if !ok {
				return nil, false
			}
			c[k] = ce
		}
		return c, true
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			ce, ok := cloneJSON(e, budget)
			if !ok {
				return nil, false
			}
			c[i] = ce
		}
		return c, true
	}
	return v, true // scalars are immutable
}

// nestingDepth returns how many arrays and objects nest in v: 0 for a
// scalar, 1 for [1], 2 for {"a":[1]}.
func nestingDepth(v any) int {
	d := 0
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			d = max(d, nestingDepth(e))
		}
	case []any:
		for _, e := range v {
			d = max(d, nestingDepth(e))
		}
	default:
		return 0
	}
	return d + 1
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}

// checkNesting reports an error if arrays and objects in data nest deeper
// than limit. It runs before decoding, whose own limit is far higher, and
// does not validate: the decoder does that next.
func checkNesting(data []byte, limit int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > limit {
				return fmt.Errorf("arrays and objects nest deeper than %d levels", limit)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

func newJSONDecoder(data []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keeps 12345678901234567890 and 1.0 as written
	return dec
}

// readJSON decodes one JSON document, nested at most maxPatchDepth deep.
func readJSON(data []byte) (any, error) {
	if err := checkNesting(data, maxPatchDepth); err != nil {
		return nil, err
	}
	dec := newJSONDecoder(data)
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, noEOF(err)
	}
	if err := expectEOF(dec); err != nil {
		return nil, err
	}
	return v, nil
}

// expectEOF reports an error if anything but white space follows the
// value dec has read.
func expectEOF(dec *json.Decoder) error {
	_, err := dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err == nil:
		return errors.New("more data after the JSON value")
	}
	return err
}

// noEOF turns the io.EOF of input that stops early into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeJSON encodes v compactly. HTML characters stay as they are: the
// output is data, escaped where it is rendered.
func writeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
