package templating

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// undefinedType is the value of a missing variable or member: it renders as
// "" and is falsy, as JavaScript's undefined is in Nunjucks.
type undefinedType struct{}

// undefined is the single undefined value.
var undefined = undefinedType{}

// normalize turns numeric Go types that JSON-like decoders produce into
// float64, so the evaluator deals with one number type.
func normalize(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int8:
		return float64(n)
	case int16:
		return float64(n)
	case int32:
		return float64(n)
	case int64:
		return float64(n)
	case uint:
		return float64(n)
	case uint8:
		return float64(n)
	case uint16:
		return float64(n)
	case uint32:
		return float64(n)
	case uint64:
		return float64(n)
	case float32:
		return float64(n)
	}
	return v
}

// truthy follows JavaScript: empty lists and objects are true.
func truthy(v any) bool {
	switch x := normalize(v).(type) {
	case nil, undefinedType:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

// formatNumber formats like JavaScript's Number.prototype.toString.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

// jsString is JavaScript's String(v): what `+` and `~` concatenate.
func jsString(v any) string {
	switch x := normalize(v).(type) {
	case undefinedType:
		return "undefined"
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		return formatNumber(x)
	case string:
		return x
	case []any:
		return joinList(x, ",")
	case map[string]any:
		return "[object Object]"
	}
	return ""
}

// outputString is how Nunjucks prints a value: null and undefined print as
// nothing, everything else as String(v).
func outputString(v any) string {
	switch v.(type) {
	case nil, undefinedType:
		return ""
	}
	return jsString(v)
}

// joinList is Array.prototype.join: null and undefined elements are empty.
func joinList(l []any, sep string) string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(outputString(e))
	}
	return b.String()
}

// toNumber is JavaScript's Number(v).
func toNumber(v any) float64 {
	switch x := normalize(v).(type) {
	case undefinedType:
		return math.NaN()
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0
		}
		switch s {
		case "Infinity", "+Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		}
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			n, err := strconv.ParseUint(s[2:], 16, 64)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}
		if strings.ContainsAny(s, "_xXpPnNiI") { // reject Go-only syntax (and "nan", "inf")
			return math.NaN()
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return math.NaN()
		}
		return f
	case []any:
		return toNumber(jsString(x))
	}
	return math.NaN()
}

// looseEqual is JavaScript's == restricted to JSON-like values.
func looseEqual(a, b any) bool {
	a, b = normalize(a), normalize(b)
	aNull := a == nil || a == undefined
	bNull := b == nil || b == undefined
	if aNull || bNull {
		return aNull && bNull
	}
	switch x := a.(type) {
	case bool:
		return looseEqual(toNumber(x), b)
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case string, bool:
			return x == toNumber(y)
		case []any:
			return looseEqual(x, jsString(y))
		}
		return false
	case string:
		switch y := b.(type) {
		case string:
			return x == y
		case float64, bool:
			return toNumber(x) == toNumber(y)
		case []any, map[string]any:
			return x == jsString(y)
		}
		return false
	case []any, map[string]any:
		switch b.(type) {
		case []any, map[string]any:
			return false // distinct objects are never equal; identity is not observable here
		}
		return looseEqual(b, a)
	}
	return false
}

// strictEqual is JavaScript's ===.
func strictEqual(a, b any) bool {
	a, b = normalize(a), normalize(b)
	switch x := a.(type) {
	case nil:
		return b == nil
	case undefinedType:
		return b == undefined
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	return false
}

// compareLess implements <, following JavaScript: two strings compare as
// strings, anything else as numbers (NaN compares false).
func compare(op string, a, b any) bool {
	a, b = normalize(a), normalize(b)
	if _, ok := a.([]any); ok {
		a = jsString(a)
	}
	if _, ok := b.([]any); ok {
		b = jsString(b)
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			switch op {
			case "<":
				return x < y
			case ">":
				return x > y
			case "<=":
				return x <= y
			default:
				return x >= y
			}
		}
	}
	x, y := toNumber(a), toNumber(b)
	switch op {
	case "<":
		return x < y
	case ">":
		return x > y
	case "<=":
		return x <= y
	default:
		return x >= y
	}
}

// sortedKeys returns the keys of m in byte order. Go maps have no insertion
// order, so iteration and JSON output use this stable order instead of
// JavaScript's insertion order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
