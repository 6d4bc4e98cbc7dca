package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// checkErrKind fails unless err is nil or a *derrors.Error of kind ErrInvalid.
func checkErrKind(t *testing.T, err error) {
	t.Helper()
	var de *derrors.Error
	if err != nil && (!errors.As(err, &de) || de.Kind != derrors.ErrInvalid) {
		t.Fatalf("error %#v is not a *derrors.Error of kind ErrInvalid", err)
	}
}

// checkTree checks what the store relies on: known node types, lowercased
// valid UTF-8 text without NUL, non-empty Match values, bounded depth.
func checkTree(t *testing.T, e Expr, depth int) {
	t.Helper()
	if depth > 2*maxDepth+2 {
		t.Fatalf("tree deeper than %d", depth)
	}
	text := func(s string) {
		t.Helper()
		if !utf8.ValidString(s) || strings.ToLower(s) != s || strings.IndexByte(s, 0) >= 0 {
			t.Fatalf("bad text %q in tree", s)
		}
	}
	switch e := e.(type) {
	case nil:
	case All:
		for _, c := range e.Exprs {
			checkTree(t, c, depth+1)
		}
	case Any:
		for _, c := range e.Exprs {
			checkTree(t, c, depth+1)
		}
	case Not:
		if e.Expr == nil {
			t.Fatal("Not of nil")
		}
		checkTree(t, e.Expr, depth+1)
	case Match:
		text(e.Key)
		if len(e.Values) == 0 {
			t.Fatalf("Match %q without values", e.Key)
		}
		for _, v := range e.Values {
			text(v)
		}
	case Exists:
		text(e.Key)
	case HasPrefix:
		text(e.Key)
		text(e.Prefix)
	default:
		t.Fatalf("unknown node %T", e)
	}
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"kind=component,kind=api",
		"relations.memberof=group:default/ops",
		"metadata.annotations.backstage.io/orphan=true&kind",
		" a = 1 , b = 2 , a = 3 &b=2",
		"=x",
		"kind=\xff",
		"a=b=c,,d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseParams(strings.Split(s, "&"))
		checkErrKind(t, err)
		if err != nil {
			if got != nil {
				t.Fatalf("got %#v with error %v", got, err)
			}
			return
		}
		checkTree(t, got, 0)
	})
}

func FuzzParsePredicate(f *testing.F) {
	for _, s := range []string{
		`{"kind":"component"}`,
		`{"$all":[{"kind":"component"},{"$any":[{"spec.type":"service"}]},{"$not":{"spec.lifecycle":"experimental"}}]}`,
		`{"spec.type":{"$exists":false},"x":{"$in":[1,true,"A"]},"n":{"$hasPrefix":"p"}}`,
		`{"metadata.tags":{"$contains":"java"}}`,
		`{"relations":{"$contains":{"type":"ownedBy","targetRef":{"$in":["group:default/x"]}}}}`,
		`{"$any":[]}`, `null`, `7`, `[]`, `{"$all":[],"k":1}`,
		nestNot(40, "{}"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := ParsePredicate(raw)
		checkErrKind(t, err)
		if err != nil {
			if got != nil {
				t.Fatalf("got %#v with error %v", got, err)
			}
			return
		}
		if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && !json.Valid(trimmed) {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
		checkTree(t, got, 0)
	})
}

func FuzzProject(f *testing.F) {
	f.Add([]byte(testEntity), "kind,metadata.annotations.backstage.io/orphan,spec.system.a.b.d")
	f.Add([]byte(`{"a":{"b.c":{"d":1}},"a.b":{"c":2}}`), "a.b.c,a.b.c.d")
	f.Add([]byte(`{"a":1,"a":{"b":2}}`), "a.b")
	f.Add([]byte(`{"":{"":null}}`), ".,..")
	f.Add([]byte(`[{"a":1}]`), "a")
	f.Add([]byte(`{"a":"\u00e9\ud800","b":-0.5e+3}`), "a,b")
	f.Fuzz(func(t *testing.T, in []byte, fieldList string) {
		fields := strings.Split(fieldList, ",")
		got, err := Project(in, fields)
		checkErrKind(t, err)
		valid := json.Valid(in)
		if err != nil {
			if valid {
				t.Fatalf("Project(%q, %q) rejected valid JSON: %v", in, fields, err)
			}
			return
		}
		if !valid && !tooDeepForEncodingJSON(in) {
			t.Fatalf("Project(%q, %q) accepted invalid JSON", in, fields)
		}
		if !valid {
			return
		}
		if !json.Valid(got) {
			t.Fatalf("Project(%q, %q) = %q, not valid JSON", in, fields, got)
		}
		if !utf8.Valid(in) {
			return // encoding/json rewrites invalid UTF-8, so the oracle would differ
		}
		want, ok := projectOracle(t, in, fields)
		if !ok {
			return
		}
		var gotV any
		if err := json.Unmarshal(got, &gotV); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, gotV); diff != "" {
			t.Fatalf("Project(%q, %q) = %s, mismatch with the decoded oracle (-want +got):\n%s", in, fields, got, diff)
		}
	})
}

// tooDeepForEncodingJSON reports whether in nests deeper than
// encoding/json accepts (10000), so that json.Valid rejects it though
// Project need not.
func tooDeepForEncodingJSON(in []byte) bool {
	return bytes.Count(in, []byte("["))+bytes.Count(in, []byte("{")) > 10000
}

// projectOracle is Project's contract written over decoded values: at each
// level try keys that are the path or a dot-ended prefix of it, longest
// first, descending only into objects. ok is false when the input is not
// an object that encoding/json decodes.
func projectOracle(t *testing.T, in []byte, fields []string) (any, bool) {
	var v any
	if err := json.Unmarshal(in, &v); err != nil {
		return nil, false
	}
	obj, isObj := v.(map[string]any)
	out := map[string]any{}
	if !isObj {
		return out, true
	}
	var resolve func(m map[string]any, path string) ([]string, any, bool)
	resolve = func(m map[string]any, path string) ([]string, any, bool) {
		for n := len(path); n >= 0; n-- {
			if n < len(path) && path[n] != '.' {
				continue
			}
			val, ok := m[path[:n]]
			if !ok {
				continue
			}
			if n == len(path) {
				return []string{path}, val, true
			}
			sub, isMap := val.(map[string]any)
			if !isMap {
				continue
			}
			if keys, found, ok := resolve(sub, path[n+1:]); ok {
				return append([]string{path[:n]}, keys...), found, true
			}
		}
		return nil, nil, false
	}
	type set struct {
		keys []string
		val  any
	}
	var sets []set
	for _, f := range fields {
		if keys, val, ok := resolve(obj, f); ok {
			sets = append(sets, set{keys, val})
		}
	}
	// A path inside a subtree that another path keeps whole adds nothing.
	covered := func(keys []string) bool {
		for _, o := range sets {
			if len(o.keys) < len(keys) && slices.Equal(o.keys, keys[:len(o.keys)]) {
				return true
			}
		}
		return false
	}
	for _, s := range sets {
		if covered(s.keys) {
			continue
		}
		m := out
		for _, k := range s.keys[:len(s.keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[s.keys[len(s.keys)-1]] = s.val
	}
	return out, true
}
