package action

import (
	"fmt"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// inputString returns the string field key, def if it is absent.
func inputString(in map[string]any, key, def string) (string, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", derrors.Invalid("%s: must be string, not %s", key, typeName(v))
	}
	return s, nil
}

// requireString returns the string field key, which must be present and
// non-empty.
func requireString(in map[string]any, key string) (string, error) {
	s, err := inputString(in, key, "")
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(s) == "" {
		return "", derrors.Invalid("%s: required", key)
	}
	return s, nil
}

// inputBool returns the boolean field key, def if it is absent.
func inputBool(in map[string]any, key string, def bool) (bool, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, derrors.Invalid("%s: must be boolean, not %s", key, typeName(v))
	}
	return b, nil
}

// inputStrings returns the list-of-strings field key, nil if absent.
func inputStrings(in map[string]any, key string) ([]string, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		if ss, ok := v.([]string); ok {
			return ss, nil
		}
		return nil, derrors.Invalid("%s: must be array, not %s", key, typeName(v))
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, derrors.Invalid("%s[%d]: must be string, not %s", key, i, typeName(e))
		}
		out[i] = s
	}
	return out, nil
}

// inputObject returns the object field key, an empty map if absent.
func inputObject(in map[string]any, key string) (map[string]any, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, derrors.Invalid("%s: must be object, not %s", key, typeName(v))
	}
	return m, nil
}

// inputNumber returns the numeric field key, 0 if absent.
func inputNumber(in map[string]any, key string) (float64, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return 0, nil
	}
	f, ok := toFloat(v)
	if !ok {
		return 0, derrors.Invalid("%s: must be number, not %s", key, typeName(v))
	}
	return f, nil
}

// errorf prefixes an action's errors with its id.
func errorf(id, format string, args ...any) error {
	return fmt.Errorf(id+": "+format, args...)
}
