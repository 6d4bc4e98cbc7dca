package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// decoder fills typed structs from a node tree, collecting every error with
// its file, line and key path. Structs are decoded by their `yaml` tags;
// types with a decodeNode method decode themselves.
type decoder struct {
	errs []error
}

// nodeDecoder is implemented by config types that accept more than one
// shape (a string or a map, a bool or a map, ...).
type nodeDecoder interface {
	decodeNode(d *decoder, n *node, path string)
}

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }

func (d *decoder) fail(n *node, path, format string, args ...any) {
	d.errs = append(d.errs, &posError{pos: n.pos(), path: path, msg: fmt.Sprintf(format, args...)})
}

// typeError reports a value of the wrong shape.
func (d *decoder) typeError(n *node, path, want string) {
	d.fail(n, path, "expected %s, found %s", want, describe(n))
}

// describe names a node's value for an error message, truncated so a long
// value (or a secret) does not fill the screen.
func describe(n *node) string {
	switch n.kind {
	case mapNode:
		return "a map"
	case listNode:
		return "a list"
	}
	if n.tag == "!!null" {
		return "nothing (null)"
	}
	v := n.value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	if n.tag == "!!str" {
		return strconv.Quote(v)
	}
	return v
}

// decode stores n into v. A null value leaves v as it was (its default).
func (d *decoder) decode(n *node, path string, v reflect.Value) {
	if n.missing != "" {
		d.fail(n, path, "environment variable %s is not set", n.missing)
		return
	}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			if n.kind == scalarNode && n.tag == "!!null" {
				return
			}
			nd.decodeNode(d, n, path)
			return
		}
	}
	if n.kind == scalarNode && n.tag == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, path, v.Elem())
	case reflect.Struct:
		d.decodeStruct(n, path, v)
	case reflect.Slice:
		if n.kind != listNode {
			d.typeError(n, path, "a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.items), len(n.items))
		for i, item := range n.items {
			d.decode(item, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		if n.kind != mapNode {
			d.typeError(n, path, "a map")
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for _, k := range n.keys {
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(n.fields[k], joinPath(path, k), e)
			v.SetMapIndex(reflect.ValueOf(k), e)
		}
	case reflect.String:
		if s, ok := d.str(n, path); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if b, ok := d.boolean(n, path); ok {
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if i, ok := d.integer(n, path); ok {
			if v.OverflowInt(i) {
				d.fail(n, path, "number %d is out of range", i)
				return
			}
			v.SetInt(i)
		}
	case reflect.Float64:
		if f, ok := d.float(n, path); ok {
			v.SetFloat(f)
		}
	case reflect.Interface:
		v.Set(reflect.ValueOf(n.raw()))
	default:
		panic(fmt.Sprintf("config: cannot decode into %s", v.Type()))
	}
}

func (d *decoder) decodeStruct(n *node, path string, v reflect.Value) {
	if n.kind != mapNode {
		d.typeError(n, path, "a map")
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		if c, ok := n.fields[name]; ok {
			d.decode(c, joinPath(path, name), v.Field(i))
		}
	}
}

// str accepts any scalar as a string: "port: 5432" in a password field is
// the text "5432".
func (d *decoder) str(n *node, path string) (string, bool) {
	if n.kind != scalarNode {
		d.typeError(n, path, "a string")
		return "", false
	}
	return n.value, true
}

// boolean accepts true/false, and the strings "true"/"false" that ${VAR}
// substitution produces.
func (d *decoder) boolean(n *node, path string) (bool, bool) {
	if n.kind == scalarNode && (n.tag == "!!bool" || n.tag == "!!str") {
		if b, err := strconv.ParseBool(strings.TrimSpace(n.value)); err == nil {
			return b, true
		}
	}
	d.typeError(n, path, "true or false")
	return false, false
}

// integer accepts YAML integers, integral floats, and strings holding
// them, since "${PORT}" is a string.
func (d *decoder) integer(n *node, path string) (int64, bool) {
	if n.kind == scalarNode {
		s := strings.TrimSpace(n.value)
		switch n.tag {
		case "!!int", "!!str":
			if i, err := parseInt(s); err == nil {
				return i, true
			}
			if n.tag == "!!int" {
				d.fail(n, path, "number %s is out of range", s)
				return 0, false
			}
		}
		if n.tag == "!!float" || n.tag == "!!str" {
			if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f), true
			}
		}
	}
	d.typeError(n, path, "a whole number")
	return 0, false
}

func (d *decoder) float(n *node, path string) (float64, bool) {
	if n.kind == scalarNode && (n.tag == "!!int" || n.tag == "!!float" || n.tag == "!!str") {
		if f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(n.value), "_", ""), 64); err == nil {
			return f, true
		}
	}
	d.typeError(n, path, "a number")
	return 0, false
}

// parseInt parses an integer in any base YAML allows (0x, 0o, 0b, _).
func parseInt(s string) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	if rest, ok := strings.CutPrefix(s, "0o"); ok {
		return strconv.ParseInt(rest, 8, 64)
	}
	return strconv.ParseInt(s, 0, 64)
}

// decodeNode accepts "host:port" or ":port" as well as the map form.
func (l *Listen) decodeNode(d *decoder, n *node, path string) {
	if n.kind != scalarNode || n.tag != "!!str" {
		d.decodeStruct(n, path, reflectValue(l))
		return
	}
	s := strings.TrimSpace(n.value)
	i := strings.LastIndex(s, ":")
	if i < 0 {
		d.fail(n, path, "expected \"host:port\" or a map {host, port}, found %s", describe(n))
		return
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil {
		d.fail(n, path, "expected \"host:port\" with a numeric port, found %s", describe(n))
		return
	}
	l.Host, l.Port = strings.Trim(s[:i], "[]"), port
}

// decodeNode accepts a string (path, ":memory:" or URL) or a map.
func (c *DatabaseConnection) decodeNode(d *decoder, n *node, path string) {
	if n.kind == scalarNode {
		*c = DatabaseConnection{}
		c.String, _ = d.str(n, path)
		return
	}
	*c = DatabaseConnection{}
	d.decodeStruct(n, path, reflectValue(c))
}

// decodeNode accepts true/false or a map of TLS options.
func (s *DatabaseSSL) decodeNode(d *decoder, n *node, path string) {
	if n.kind == scalarNode {
		if b, ok := d.boolean(n, path); ok {
			*s = DatabaseSSL{Enabled: b}
		}
		return
	}
	*s = DatabaseSSL{Enabled: true}
	d.decodeStruct(n, path, reflectValue(s))
}

// decodeNode accepts a kind name or a map {kind, spec.type}.
func (a *RuleAllow) decodeNode(d *decoder, n *node, path string) {
	if n.kind == scalarNode {
		a.Kind, _ = d.str(n, path)
		return
	}
	d.decodeStruct(n, path, reflectValue(a))
}

// decodeNode records where the location was declared.
func (l *Location) decodeNode(d *decoder, n *node, path string) {
	d.decodeStruct(n, path, reflectValue(l))
	l.Source = n.pos()
	l.BaseDir = absDir(n.file)
}
