package entity

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// Limits on the generic JSON values kept in spec and in extra metadata keys.
// YAML and JSON decoders already cap nesting, but a document built in code
// may be arbitrarily deep or even cyclic; these caps keep every walker in
// this package bounded in stack and time.
const (
	// MaxValueDepth is the deepest nesting of objects and arrays accepted.
	MaxValueDepth = 512
	// MaxValueNodes is the largest number of values (scalars, objects and
	// arrays together) accepted in one document.
	MaxValueNodes = 1 << 20
)

// joinPath appends one segment to a dotted problem path.
func joinPath(path, seg string) string {
	if path == "" {
		return seg
	}
	return path + "." + seg
}

func indexPath(path string, i int) string { return joinPath(path, strconv.Itoa(i)) }

// typeName names v's type in JSON Schema terms, for messages such as
// "must be string, found number".
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Pointer:
		if rv.IsNil() {
			return "null"
		}
		return typeName(rv.Elem().Interface())
	}
	return fmt.Sprintf("unsupported value of Go type %T", v)
}

// normalizer turns a decoded document value (from yaml.v3, encoding/json or
// built in code) into the plain JSON data model: map[string]any, []any,
// string, float64, bool and nil. Numbers become float64 exactly as
// encoding/json (and Backstage's JavaScript) would read them, so an entity
// read from YAML equals the same entity read from JSON.
type normalizer struct {
	nodes int
	probs Problems
	// open holds the maps and slices being walked, to stop at cycles (which
	// only a document built in code can have).
	open map[container]bool
}

// container identifies a map or slice by its memory, with the length to
// tell a slice from its own prefix.
type container struct {
	p uintptr
	n int
}

// enter marks rv as being walked; false means it already is: a cycle.
func (n *normalizer) enter(rv reflect.Value, path string) (container, bool) {
	c := container{rv.Pointer(), rv.Len()}
	if c.p == 0 {
		return c, true
	}
	if n.open == nil {
		n.open = map[container]bool{}
	}
	if n.open[c] {
		n.add(path, "value contains itself (a cycle)")
		return c, false
	}
	n.open[c] = true
	return c, true
}

func (n *normalizer) leave(c container) { delete(n.open, c) }

func (n *normalizer) add(path, format string, args ...any) {
	n.probs = append(n.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// value returns v normalised; ok is false when v (or something inside it)
// is not representable in JSON, in which case a Problem has been recorded.
func (n *normalizer) value(v any, path string, depth int) (any, bool) {
	n.nodes++
	if n.nodes > MaxValueNodes {
		if n.nodes == MaxValueNodes+1 {
			n.add(path, "document too large: more than %d values", MaxValueNodes)
		}
		return badValue{}, false
	}
	switch x := v.(type) {
	case nil, string, bool:
		return x, true
	case float64:
		return n.float(x, path)
	case float32:
		return n.float(float64(x), path)
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			n.add(path, "must be a number, found %q", string(x))
			return badValue{}, false
		}
		return n.float(f, path)
	case time.Time:
		return x.Format(time.RFC3339Nano), true
	case map[string]any:
		if depth >= MaxValueDepth {
			n.add(path, "nested deeper than %d levels", MaxValueDepth)
			return badValue{}, false
		}
		c, fresh := n.enter(reflect.ValueOf(x), path)
		if !fresh {
			return badValue{}, false
		}
		defer n.leave(c)
		out := make(map[string]any, len(x))
		ok := true
		// Sorted, so that problems come out in a stable order.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			nv, eok := n.value(x[k], joinPath(path, k), depth+1)
			ok = ok && eok
			out[k] = nv
		}
		return out, ok
	case []any:
		if depth >= MaxValueDepth {
			n.add(path, "nested deeper than %d levels", MaxValueDepth)
			return badValue{}, false
		}
		c, fresh := n.enter(reflect.ValueOf(x), path)
		if !fresh {
			return badValue{}, false
		}
		defer n.leave(c)
		out := make([]any, len(x))
		ok := true
		for i, e := range x {
			nv, eok := n.value(e, indexPath(path, i), depth+1)
			ok = ok && eok
			out[i] = nv
		}
		return out, ok
	}
	return n.reflectValue(v, path, depth)
}

// reflectValue handles the rarer shapes: typed slices and maps built in
// code ([]string, map[string]string), yaml.v3's map[any]any for mappings
// with non-string keys, and pointers.
func (n *normalizer) reflectValue(v any, path string, depth int) (any, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, true
		}
		return n.value(rv.Elem().Interface(), path, depth)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, true
		}
		if depth >= MaxValueDepth {
			n.add(path, "nested deeper than %d levels", MaxValueDepth)
			return badValue{}, false
		}
		if rv.Kind() == reflect.Slice {
			c, fresh := n.enter(rv, path)
			if !fresh {
				return badValue{}, false
			}
			defer n.leave(c)
		}
		out := make([]any, rv.Len())
		ok := true
		for i := range out {
			nv, eok := n.value(rv.Index(i).Interface(), indexPath(path, i), depth+1)
			ok = ok && eok
			out[i] = nv
		}
		return out, ok
	case reflect.Map:
		if rv.IsNil() {
			return nil, true
		}
		if depth >= MaxValueDepth {
			n.add(path, "nested deeper than %d levels", MaxValueDepth)
			return badValue{}, false
		}
		c, fresh := n.enter(rv, path)
		if !fresh {
			return badValue{}, false
		}
		defer n.leave(c)
		out := make(map[string]any, rv.Len())
		ok := true
		iter := rv.MapRange()
		for iter.Next() {
			k, kok := mapKey(iter.Key())
			if !kok {
				n.add(path, "object keys must be strings, found %s", typeName(iter.Key().Interface()))
				ok = false
				continue
			}
			nv, eok := n.value(iter.Value().Interface(), joinPath(path, k), depth+1)
			ok = ok && eok
			out[k] = nv
		}
		return out, ok
	}
	n.add(path, "must be a JSON value, found %s", typeName(v))
	return badValue{}, false
}

// mapKey stringifies a scalar map key the way JavaScript's YAML loader does
// when it builds an object (1 -> "1", true -> "true").
func mapKey(k reflect.Value) (string, bool) {
	if k.Kind() == reflect.Interface {
		if k.IsNil() {
			return "null", true
		}
		k = k.Elem()
	}
	switch k.Kind() {
	case reflect.String:
		return k.String(), true
	case reflect.Bool:
		return strconv.FormatBool(k.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(k.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(k.Float(), 'g', -1, 64), true
	}
	return "", false
}

func (n *normalizer) float(f float64, path string) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		n.add(path, "must be a finite number, found %v", f)
		return badValue{}, false
	}
	return f, true
}

// asObject returns v as a JSON object, accepting the map shapes a caller
// may have built in code.
func asObject(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return m, true
	}
	return nil, false
}

// asList returns v as a JSON array, accepting []string as well.
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return l, true
	}
	return nil, false
}
