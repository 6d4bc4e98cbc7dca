package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds a configuration file, and any file read with $file.
const maxFileSize = 4 << 20

// Load reads the files in order and returns the decoded configuration.
//
// Each file is parsed as YAML and every string value goes through ${VAR}
// substitution from env (os.LookupEnv in production; a func so tests can
// inject). "$${" is an escape for a literal "${", as in Backstage.
// ${VAR:-default} uses default when VAR is unset or empty (an Atrium
// extension: Backstage has only ${VAR}). A value that is a map {$env: VAR}
// is replaced by the variable, and {$file: path} by the contents of the
// file, relative to the config file, as in Backstage.
//
// The files are then deep-merged: later files win, maps merge key by key,
// lists and scalars replace. The result is decoded over the defaults (see
// Default, without its example locations and rules).
//
// Keys Atrium does not know are kept in Config.Raw and are not errors.
// A value of the wrong type is an error naming the file, the line and the
// key path:
//
//	app-config.yaml:12: backend.listen.port: expected a number, found "abc"
//
// A ${VAR} that is not set is an error naming the variable and the file
// when Atrium decodes that key. In keys Atrium does not decode it only
// drops the value, as Backstage does, so plugin settings for plugins Atrium
// lacks do not stop it from starting. Every problem found is reported, one
// per line (errors.Join).
//
// Load does not check meaning (port ranges, enumerations); call Validate.
func Load(files []string, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	var (
		merged *node
		errs   []error
	)
	for _, f := range files {
		n, err := parseFile(f, env)
		if err != nil {
			errs = append(errs, err...)
			continue
		}
		merged = merge(merged, n)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := base()
	c.Files = append([]string(nil), files...)
	if merged == nil {
		return c, nil
	}
	d := &decoder{}
	d.decode(merged, "", reflectValue(c))
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	if c.App.BaseURL == "" {
		c.App.BaseURL = c.Backend.BaseURL
	}
	if raw, ok := merged.raw().(map[string]any); ok {
		c.Raw = raw
	}
	return c, nil
}

// kind is the shape of a node.
type kind int

const (
	scalarNode kind = iota
	mapNode
	listNode
)

// node is one value of the merged configuration tree, with the file and
// line it came from so errors can point at it.
type node struct {
	kind kind
	file string
	line int

	// tag is the YAML type of a scalar: "!!str", "!!int", "!!float",
	// "!!bool" or "!!null".
	tag   string
	value string
	// missing names the unset environment variable of a string that
	// referenced one; such a node has no value.
	missing string

	keys   []string // map keys in file order
	fields map[string]*node
	items  []*node
}

func (n *node) pos() string { return fmt.Sprintf("%s:%d", n.file, n.line) }

// posError is an error at a place in a config file.
type posError struct {
	pos, path, msg string
}

func (e *posError) Error() string {
	if e.path == "" {
		return e.pos + ": " + e.msg
	}
	return e.pos + ": " + e.path + ": " + e.msg
}

func parseFile(file string, env func(string) (string, bool)) (*node, []error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, []error{fmt.Errorf("reading config: %w", err)}
	}
	if len(data) > maxFileSize {
		return nil, []error{fmt.Errorf("%s: config file larger than %d bytes", file, maxFileSize)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 messages read "yaml: line 3: ..."; put the file first.
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if i := strings.Index(rest, ":"); i > 0 {
				return nil, []error{fmt.Errorf("%s:%s:%s", file, rest[:i], rest[i+1:])}
			}
		}
		return nil, []error{fmt.Errorf("%s: %s", file, msg)}
	}
	p := &parser{file: file, dir: filepath.Dir(file), env: env}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return &node{kind: mapNode, file: file, line: 1, fields: map[string]*node{}}, nil
	}
	root := doc.Content[0]
	n := p.convert(root, "", 0)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	if n.kind == scalarNode && n.tag == "!!null" {
		return &node{kind: mapNode, file: file, line: 1, fields: map[string]*node{}}, nil
	}
	if n.kind != mapNode {
		return nil, []error{&posError{pos: n.pos(), msg: "expected a map at the top level, found " + describe(n)}}
	}
	return n, nil
}

// parser turns one file's yaml.Node tree into nodes, substituting as it
// goes.
type parser struct {
	file string
	dir  string
	env  func(string) (string, bool)
	errs []error
}

func (p *parser) fail(y *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, &posError{pos: fmt.Sprintf("%s:%d", p.file, y.Line), path: path, msg: fmt.Sprintf(format, args...)})
}

// maxDepth bounds alias expansion and nesting.
const maxDepth = 100

func (p *parser) convert(y *yaml.Node, path string, depth int) *node {
	if depth > maxDepth {
		p.fail(y, path, "nested too deeply")
		return &node{kind: scalarNode, tag: "!!null", file: p.file, line: y.Line}
	}
	switch y.Kind {
	case yaml.AliasNode:
		return p.convert(y.Alias, path, depth+1)
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{kind: scalarNode, tag: "!!null", file: p.file, line: y.Line}
		}
		return p.convert(y.Content[0], path, depth+1)
	case yaml.SequenceNode:
		n := &node{kind: listNode, file: p.file, line: y.Line, items: make([]*node, 0, len(y.Content))}
		for i, c := range y.Content {
			n.items = append(n.items, p.convert(c, fmt.Sprintf("%s[%d]", path, i), depth+1))
		}
		return n
	case yaml.MappingNode:
		return p.convertMap(y, path, depth)
	default:
		n := &node{kind: scalarNode, file: p.file, line: y.Line, tag: y.ShortTag(), value: y.Value}
		if n.tag == "!!str" {
			v, missing, err := substitute(y.Value, p.env)
			if err != nil {
				p.fail(y, path, "%v", err)
			}
			n.value, n.missing = v, missing
		}
		return n
	}
}

func (p *parser) convertMap(y *yaml.Node, path string, depth int) *node {
	n := &node{kind: mapNode, file: p.file, line: y.Line, fields: map[string]*node{}}
	var merges []*node
	for i := 0; i+1 < len(y.Content); i += 2 {
		k, v := y.Content[i], y.Content[i+1]
		key := k.Value
		if k.ShortTag() == "!!merge" {
			m := p.convert(v, path, depth+1)
			switch m.kind {
			case mapNode:
				merges = append(merges, m)
			case listNode:
				merges = append(merges, m.items...)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.fail(k, path, "map keys must be strings")
			continue
		}
		if _, dup := n.fields[key]; dup {
			p.fail(k, joinPath(path, key), "duplicate key")
			continue
		}
		n.keys = append(n.keys, key)
		n.fields[key] = p.convert(v, joinPath(path, key), depth+1)
	}
	// Keys written in the map win over keys merged in with "<<".
	for _, m := range merges {
		if m.kind != mapNode {
			continue
		}
		for _, k := range m.keys {
			if _, ok := n.fields[k]; !ok {
				n.keys = append(n.keys, k)
				n.fields[k] = m.fields[k]
			}
		}
	}
	// Backstage's $env and $file transforms: a map with that single key.
	if len(n.keys) == 1 && (n.keys[0] == "$env" || n.keys[0] == "$file") {
		return p.transform(n, path)
	}
	return n
}

func (p *parser) transform(n *node, path string) *node {
	key := n.keys[0]
	arg := n.fields[key]
	out := &node{kind: scalarNode, tag: "!!str", file: n.file, line: n.line}
	if arg.kind != scalarNode || arg.missing != "" {
		if arg.missing != "" {
			out.missing = arg.missing
			return out
		}
		p.errs = append(p.errs, &posError{pos: arg.pos(), path: path, msg: key + " expects a string, found " + describe(arg)})
		return out
	}
	switch key {
	case "$env":
		v, ok := p.env(arg.value)
		if !ok {
			out.missing = arg.value
			return out
		}
		out.value = strings.TrimSpace(v)
	case "$file":
		f := arg.value
		if !filepath.IsAbs(f) {
			f = filepath.Join(p.dir, f)
		}
		st, err := os.Stat(f)
		if err == nil && st.Size() > maxFileSize {
			err = fmt.Errorf("larger than %d bytes", maxFileSize)
		}
		var data []byte
		if err == nil {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			p.errs = append(p.errs, &posError{pos: arg.pos(), path: path, msg: fmt.Sprintf("$file: %v", err)})
			return out
		}
		out.value = string(data)
	}
	return out
}

// substitute replaces ${VAR} in s. It returns the name of the first unset
// variable, if any, instead of failing: whether that is an error depends on
// whether the key is one Atrium reads.
func substitute(s string, env func(string) (string, bool)) (value, missing string, err error) {
	if !strings.Contains(s, "${") {
		return s, "", nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			// No closing brace: not a substitution, keep the text.
			b.WriteString(s)
			break
		}
		inner := s[i+2 : i+2+end]
		if i > 0 && s[i-1] == '$' {
			// "$${X}" is the escape for a literal "${X}".
			b.WriteString(s[:i-1])
			b.WriteString(s[i : i+3+end])
			s = s[i+3+end:]
			continue
		}
		b.WriteString(s[:i])
		s = s[i+3+end:]
		if strings.Contains(inner, "{") {
			return "", "", fmt.Errorf("invalid substitution ${%s}", inner)
		}
		name, def, hasDef := strings.Cut(inner, ":-")
		name = strings.TrimSpace(name)
		if name == "" {
			return "", "", fmt.Errorf("empty variable name in ${%s}", inner)
		}
		v, ok := env(name)
		v = strings.TrimSpace(v)
		switch {
		case hasDef && (!ok || v == ""):
			v = def
		case !ok:
			if missing == "" {
				missing = name
			}
		}
		b.WriteString(v)
	}
	if missing != "" {
		return "", missing, nil
	}
	return b.String(), "", nil
}

// merge deep-merges src over dst: maps key by key, anything else replaced.
func merge(dst, src *node) *node {
	if dst == nil || dst.kind != mapNode || src.kind != mapNode {
		return src
	}
	out := &node{kind: mapNode, file: src.file, line: src.line, keys: append([]string(nil), dst.keys...), fields: make(map[string]*node, len(dst.fields))}
	for k, v := range dst.fields {
		out.fields[k] = v
	}
	for _, k := range src.keys {
		if old, ok := out.fields[k]; ok {
			out.fields[k] = merge(old, src.fields[k])
			continue
		}
		out.keys = append(out.keys, k)
		out.fields[k] = src.fields[k]
	}
	return out
}

// raw converts the tree to plain Go values; nodes with an unset variable
// are left out.
func (n *node) raw() any {
	switch n.kind {
	case mapNode:
		m := make(map[string]any, len(n.keys))
		for _, k := range n.keys {
			v := n.fields[k]
			if v.missing != "" {
				continue
			}
			m[k] = v.raw()
		}
		return m
	case listNode:
		l := make([]any, 0, len(n.items))
		for _, v := range n.items {
			if v.missing != "" {
				continue
			}
			l = append(l, v.raw())
		}
		return l
	}
	switch n.tag {
	case "!!null":
		return nil
	case "!!bool":
		b, _ := strconv.ParseBool(n.value)
		return b
	case "!!int":
		if i, err := parseInt(n.value); err == nil {
			return int(i)
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.value, 64); err == nil {
			return f
		}
	}
	return n.value
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// absDir is the absolute directory of a config file, or its relative
// directory if the working directory is unknown.
func absDir(file string) string {
	dir := filepath.Dir(file)
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}
