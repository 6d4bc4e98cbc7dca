package audit

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzDiffApply(f *testing.F) {
	for _, seed := range [][2]string{
		{`{}`, `{}`},
		{`{"a":1}`, `{"a":1.0}`},
		{`{"kind":"Component","metadata":{"name":"a","tags":["x","y"]}}`, `{"kind":"Component","metadata":{"name":"a","tags":["y"],"title":"A"}}`},
		{`{"a/b":1,"~1":[1,2,3]}`, `{"a/b":2,"~1":[1,3],"":null}`},
		{`[1,2,3,4,5]`, `[1,9,9,9,4,5]`},
		{`[12345678901234567890]`, `[12345678901234567891,-0,1e400]`},
		{`{"spec":{"owner":"a"}}`, `{"spec":"none"}`},
		{`"x"`, `["x"]`},
		{`null`, `false`},
		{`{"a":"\u00e9\ud83d\ude00<>&"}`, `{"a":"\"\\\/"}`},
		{`{"a":1,"a":2}`, `{"a":3}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, old, new []byte) {
		if !json.Valid(old) || !json.Valid(new) ||
			checkNesting(old, maxPatchDepth) != nil || checkNesting(new, maxPatchDepth) != nil {
			return
		}
		checkRoundTrip(t, old, new)
	})
}

func FuzzApply(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux"}]`},
		{`{"foo":["all","grass","cows","eat"]}`, `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`},
		{`{"/":9,"~1":10}`, `[{"op":"test","path":"/~01","value":10}]`},
		{`{"foo":["bar"]}`, `[{"op":"add","path":"/foo/-","value":["abc","def"]}]`},
		{`{"a":{"b":[1]}}`, `[{"op":"copy","from":"/a","path":"/a/b/0"},{"op":"remove","path":"/a/b/1"}]`},
		{`[1]`, `[{"op":"copy","from":"","path":"/-"},{"op":"copy","from":"","path":"/-"}]`},
		{``, `[{"op":"replace","path":"","value":1},{"op":"test","path":"","value":1.0}]`},
		{`{"a":1}`, `[{"op":"remove","path":""},{"op":"add","path":"/a","value":1}]`},
		{`[0,1]`, `[{"op":"replace","path":"/01","value":1},{"op":"add","path":"a~2","value":1,"op":"add"}]`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, doc, patch []byte) {
		got, err := Apply(doc, patch)
		if err != nil || got == nil {
			return
		}
		if !json.Valid(got) {
			t.Fatalf("Apply(%q, %q) = %q, which is not JSON", doc, patch, got)
		}
		// The output is in canonical form: applying nothing keeps it as it is.
		again, err := Apply(got, []byte("[]"))
		if err != nil {
			t.Fatalf("Apply(%q, []): %v", got, err)
		}
		if !bytes.Equal(again, got) {
			t.Fatalf("Apply(%q, []) = %q, want it unchanged", got, again)
		}
	})
}
