package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxDepth is the deepest nesting of mappings and sequences Parse accepts;
// the document's top-level mapping is depth 1. Entities are shallow, and
// the limit keeps recursion (and alias cycles) bounded.
const MaxDepth = 64

// minAliasBudget is how many values alias expansion may add to a document
// on top of the document's own size, so that small files can use anchors
// freely while an alias bomb fails fast.
const minAliasBudget = 10_000

// Document is one YAML document of a catalog file.
type Document struct {
	// Data is the document decoded with string keys and JSON-compatible
	// values: map[string]any, []any, string, float64 or int64, bool, nil.
	// Timestamps and binary values are kept as the strings written.
	Data map[string]any
	// File is the location target the document came from (path or URL).
	File string
	// Line and Column are where the document's top-level mapping starts
	// (1-based).
	Line, Column int

	node *yaml.Node // the top-level mapping
}

// Pos returns the 1-based line and column of the value at a dotted path
// such as "spec.owner", "metadata.tags.2" or
// "metadata.annotations.backstage.io/techdocs-ref".
//
// Keys may themselves contain dots, so at each mapping the longest run of
// path segments that names an existing key wins. Sequence elements are
// addressed by their index. A scalar is reported where its value starts; a
// mapping or sequence where its key is written (the value of "spec:" in
// block style starts on the next line, which is not where a reader looks).
// When the path does not exist, Pos returns the position of the nearest
// existing ancestor, the same way: for a missing required field, the key of
// the mapping that should contain it. The empty path is the start of the
// document.
func (d *Document) Pos(path string) (line, col int) {
	if d == nil {
		return 0, 0
	}
	if d.node == nil || path == "" {
		return d.Line, d.Column
	}
	segs := strings.Split(path, ".")
	cur := d.node
	var curKey *yaml.Node // the key cur is the value of, if any
	for i := 0; i < len(segs); {
		n := deref(cur)
		var next, nextKey *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for k := len(segs); k > i; k-- {
				if key, v := lookup(n, strings.Join(segs[i:k], "."), 0); v != nil {
					next, nextKey, i = v, key, k
					break
				}
			}
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(segs[i])
			if err == nil && idx >= 0 && idx < len(n.Content) {
				next = n.Content[idx]
				i++
			}
		}
		if next == nil {
			break
		}
		cur, curKey = next, nextKey
	}
	if curKey != nil && deref(cur).Kind != yaml.ScalarNode {
		return curKey.Line, curKey.Column
	}
	return cur.Line, cur.Column
}

// deref follows an alias to the node it names. Anchored nodes are never
// aliases themselves, so one step is enough.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// lookup finds key in mapping m: explicit keys first, then keys brought in
// by merge keys ("<<"), in the order YAML gives them precedence.
func lookup(m *yaml.Node, key string, depth int) (keyNode, value *yaml.Node) {
	if depth > MaxDepth {
		return nil, nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := deref(m.Content[i])
		if isMergeKey(k) {
			merges = append(merges, deref(m.Content[i+1]))
			continue
		}
		if k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	for _, src := range merges {
		switch src.Kind {
		case yaml.MappingNode:
			if k, v := lookup(src, key, depth+1); v != nil {
				return k, v
			}
		case yaml.SequenceNode:
			for _, item := range src.Content {
				if item = deref(item); item.Kind == yaml.MappingNode {
					if k, v := lookup(item, key, depth+1); v != nil {
						return k, v
					}
				}
			}
		}
	}
	return nil, nil
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// ParseError is a YAML syntax or structure problem at a place in a file.
type ParseError struct {
	// File is the location target that failed to parse.
	File string
	// Line and Column locate the problem (1-based). The YAML library
	// reports only lines for syntax errors; Column is then 1.
	Line, Column int
	// Message says what is wrong, without the position.
	Message string
}

// Error returns "file:line:col: message".
func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// Parse splits data into YAML documents, each of which must be a mapping
// (an entity). Empty documents and documents that are null are skipped.
//
// Parse rejects, with a *ParseError that says where: invalid UTF-8 and
// characters YAML does not allow, syntax errors, documents that are not
// mappings, duplicate mapping keys, keys that are not strings, nesting
// deeper than MaxDepth, alias expansion that would grow the document far
// beyond its written size, and numbers JSON cannot hold (.nan, .inf).
// Merge keys ("<<: *base") are applied as in YAML 1.1. Parse never panics.
func Parse(file string, data []byte) (docs []*Document, err error) {
	defer func() {
		if p := recover(); p != nil {
			docs = nil
			err = &ParseError{File: file, Line: 1, Column: 1, Message: fmt.Sprintf("cannot parse YAML: %v", p)}
		}
	}()
	if perr := checkText(file, data); perr != nil {
		return nil, perr
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, yamlError(file, data, err)
		}
		root := &doc
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		root = deref(root)
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue
		}
		if root.Kind != yaml.MappingNode {
			return nil, &ParseError{File: file, Line: root.Line, Column: root.Column,
				Message: "expected a mapping (an entity), found " + describe(root)}
		}
		c := &converter{file: file, budget: countNodes(root, 0) + minAliasBudget}
		v, err := c.value(root, 1)
		if err != nil {
			return nil, err
		}
		docs = append(docs, &Document{
			Data:   v.(map[string]any),
			File:   file,
			Line:   root.Line,
			Column: root.Column,
			node:   root,
		})
	}
}

// checkText rejects bytes YAML cannot contain, with an exact position; the
// YAML library would report them too, but without a usable location.
func checkText(file string, data []byte) *ParseError {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &ParseError{File: file, Line: line, Column: col,
				Message: fmt.Sprintf("invalid UTF-8 byte 0x%02x", data[i])}
		case !yamlPrintable(r) && !(r == 0xFEFF && i == 0):
			return &ParseError{File: file, Line: line, Column: col,
				Message: fmt.Sprintf("character U+%04X is not allowed in YAML", r)}
		}
		if isLineBreak(r, data[i+size:]) {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return nil
}

// isLineBreak reports whether r, followed by rest, ends a line as the YAML
// library counts lines: LF, CR not followed by LF, NEL, LS and PS.
func isLineBreak(r rune, rest []byte) bool {
	switch r {
	case '\n', 0x85, 0x2028, 0x2029:
		return true
	case '\r':
		return len(rest) == 0 || rest[0] != '\n'
	}
	return false
}

// yamlPrintable is the YAML 1.2 c-printable set.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return r != 0xFEFF
	}
	return false
}

var (
	yamlLineRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// parserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). yaml.v3 reports their lines 0-based, and omits line 0.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlError turns a yaml.v3 error ("yaml: line 3: did not find expected
// key") into a ParseError with the line split out. yaml.v3 gives no
// column. A message without a line is about the first line.
func yamlError(file string, data []byte, err error) *ParseError {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			line++
		}
		return &ParseError{File: file, Line: max(line, 1), Column: 1, Message: m[2]}
	}
	if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		line, col := findAlias(data, m[1])
		return &ParseError{File: file, Line: line, Column: col, Message: fmt.Sprintf("unknown anchor %q referenced", m[1])}
	}
	return &ParseError{File: file, Line: 1, Column: 1, Message: strings.TrimPrefix(msg, "yaml: ")}
}

// findAlias locates the first "*name" in data, for the one yaml.v3 error
// that carries no line. It is a best effort: line 1 if not found.
func findAlias(data []byte, name string) (line, col int) {
	needle := []byte("*" + name)
	for off := 0; ; {
		i := bytes.Index(data[off:], needle)
		if i < 0 {
			return 1, 1
		}
		i += off
		end := i + len(needle)
		if end == len(data) || strings.ContainsRune(" \t\r\n,]}", rune(data[end])) {
			before := data[:i]
			line = bytes.Count(before, []byte("\n")) + 1
			col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
			return line, col
		}
		off = end
	}
}

// describe names a node's kind for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	}
	return "a string"
}

// countNodes counts the nodes written in the document, not following
// aliases; it sizes the alias expansion budget.
func countNodes(n *yaml.Node, depth int) int {
	if depth > MaxDepth+1 {
		return 1
	}
	total := 1
	for _, c := range n.Content {
		total += countNodes(c, depth+1)
	}
	return total
}

// converter turns a yaml.Node tree into JSON-compatible Go values.
type converter struct {
	file string
	// budget is how many more values may be produced; aliases re-produce
	// the values they name, so this is what stops an alias bomb.
	budget int
	// aliasDepth counts the aliases being expanded.
	aliasDepth int
}

const aliasBudgetMessage = "document expands to too many values through aliases (possible alias bomb)"

func (c *converter) errorf(n *yaml.Node, format string, args ...any) *ParseError {
	return &ParseError{File: c.file, Line: n.Line, Column: n.Column, Message: fmt.Sprintf(format, args...)}
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	c.budget--
	if c.budget < 0 {
		return nil, &ParseError{File: c.file, Line: n.Line, Column: n.Column, Message: aliasBudgetMessage}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, c.errorf(n, "unknown anchor %q referenced", n.Value)
		}
		c.aliasDepth++
		v, err := c.value(n.Alias, depth)
		c.aliasDepth--
		if pe, ok := err.(*ParseError); ok && pe.Message == aliasBudgetMessage && c.aliasDepth == 0 {
			// Point at the alias written in the document, not at whatever
			// node deep inside its expansion ran out of budget.
			return nil, c.errorf(n, "%s", pe.Message)
		}
		return v, err
	case yaml.ScalarNode:
		return c.scalar(n)
	case yaml.SequenceNode:
		if depth > MaxDepth {
			return nil, c.errorf(n, "nesting is deeper than %d levels", MaxDepth)
		}
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		if depth > MaxDepth {
			return nil, c.errorf(n, "nesting is deeper than %d levels", MaxDepth)
		}
		return c.mapping(n, depth)
	}
	return nil, c.errorf(n, "unexpected YAML node")
}

func (c *converter) mapping(n *yaml.Node, depth int) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, valNode := n.Content[i], n.Content[i+1]
		k := deref(keyNode)
		if isMergeKey(k) {
			merges = append(merges, valNode)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, c.errorf(keyNode, "mapping keys must be strings, found %s", describe(k))
		}
		if prev, ok := seen[k.Value]; ok {
			return nil, c.errorf(keyNode, "mapping key %q already defined at line %d", k.Value, prev.Line)
		}
		seen[k.Value] = keyNode
		v, err := c.value(valNode, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = v
	}
	// Explicit keys win over merged ones, and earlier merge sources over
	// later ones (YAML 1.1 merge key semantics).
	for _, m := range merges {
		src := deref(m)
		var sources []*yaml.Node
		switch src.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{m}
		case yaml.SequenceNode:
			for _, item := range src.Content {
				if deref(item).Kind != yaml.MappingNode {
					return nil, c.errorf(item, "merge key (<<) sequence items must be mappings, found %s", describe(deref(item)))
				}
			}
			sources = src.Content
		default:
			return nil, c.errorf(m, "merge key (<<) needs a mapping or a sequence of mappings, found %s", describe(src))
		}
		for _, s := range sources {
			v, err := c.value(s, depth)
			if err != nil {
				return nil, err
			}
			for k, val := range v.(map[string]any) {
				if _, ok := out[k]; !ok {
					out[k] = val
				}
			}
		}
	}
	return out, nil
}

func (c *converter) scalar(n *yaml.Node) (any, error) {
	switch tag := n.ShortTag(); tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, c.errorf(n, "invalid boolean %q", n.Value)
		}
		return b, nil
	case "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, c.errorf(n, "invalid number %q", n.Value)
		}
		var f float64
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int64:
			return x, nil
		case uint64:
			f = float64(x)
		case float64:
			f = x
		default:
			return nil, c.errorf(n, "invalid number %q", n.Value)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, c.errorf(n, "number %q cannot be represented in JSON", n.Value)
		}
		return f, nil
	default:
		// !!str, !!timestamp, !!binary and application tags ("!foo") keep
		// the text as written.
		return n.Value, nil
	}
}
