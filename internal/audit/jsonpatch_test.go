package audit

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // "" stands for nil: no document
		want     string
	}{
		{
			name: "created",
			new:  `{"kind":"Component","metadata":{"name":"a"}}`,
			want: `[{"op":"add","path":"","value":{"kind":"Component","metadata":{"name":"a"}}}]`,
		},
		{
			name: "removed",
			old:  `{"kind":"Component","metadata":{"name":"a"}}`,
			want: `[{"op":"remove","path":""}]`,
		},
		{
			name: "neither document",
			want: `[]`,
		},
		{
			name: "equal documents written differently",
			old:  `{"b":[1,2,{"c":null}],"a":{"x":"y"}}`,
			new:  ` { "a" : { "x" : "y" } , "b" : [ 1 , 2 , { "c" : null } ] } `,
			want: `[]`,
		},
		{
			name: "equal scalar documents",
			old:  `"x"`,
			new:  `"x"`,
			want: `[]`,
		},
		{
			name: "nested object changes in key order",
			old:  `{"metadata":{"name":"a","old":true,"tags":["x"]},"spec":{"owner":"team-a","type":"service"}}`,
			new:  `{"spec":{"type":"service","owner":"team-b"},"metadata":{"tags":["x"],"name":"a","new":{"n":1}}}`,
			want: `[{"op":"add","path":"/metadata/new","value":{"n":1}},` +
				`{"op":"remove","path":"/metadata/old"},` +
				`{"op":"replace","path":"/spec/owner","value":"team-b"}]`,
		},
		{
			name: "keys with slash and tilde",
			old:  `{"a/b":1,"c~d":2,"~1":3,"x":{"/":4}}`,
			new:  `{"a/b":2,"c~d":2,"~1":4,"":5,"x":{}}`,
			want: `[{"op":"add","path":"/","value":5},` +
				`{"op":"replace","path":"/a~1b","value":2},` +
				`{"op":"remove","path":"/x/~1"},` +
				`{"op":"replace","path":"/~01","value":4}]`,
		},
		{
			name: "array append",
			old:  `{"tags":["a","b"]}`,
			new:  `{"tags":["a","b","c","d"]}`,
			want: `[{"op":"add","path":"/tags/2","value":"c"},{"op":"add","path":"/tags/3","value":"d"}]`,
		},
		{
			name: "array shrink removes the highest index first",
			old:  `{"tags":["a","b","c","d"]}`,
			new:  `{"tags":["a","b"]}`,
			want: `[{"op":"remove","path":"/tags/3"},{"op":"remove","path":"/tags/2"}]`,
		},
		{
			name: "array middle change",
			old:  `[1,2,3,4,5]`,
			new:  `[1,9,3,4,5]`,
			want: `[{"op":"replace","path":"/1","value":9}]`,
		},
		{
			name: "array insert in the middle",
			old:  `["a","b","c"]`,
			new:  `["a","b","x","c"]`,
			want: `[{"op":"add","path":"/2","value":"x"}]`,
		},
		{
			name: "array insert at the front",
			old:  `["a","b"]`,
			new:  `["x","a","b"]`,
			want: `[{"op":"add","path":"/0","value":"x"}]`,
		},
		{
			name: "array delete in the middle",
			old:  `[1,2,3,4]`,
			new:  `[1,4]`,
			want: `[{"op":"remove","path":"/2"},{"op":"remove","path":"/1"}]`,
		},
		{
			name: "array middle changed and grown",
			old:  `["a","b","c"]`,
			new:  `["a","x","y","z","c"]`,
			want: `[{"op":"replace","path":"/1","value":"x"},` +
				`{"op":"add","path":"/2","value":"y"},{"op":"add","path":"/3","value":"z"}]`,
		},
		{
			name: "array middle changed and shrunk, equal elements left alone",
			old:  `[0,1,"same",2,3,9]`,
			new:  `[0,5,"same",9]`,
			want: `[{"op":"replace","path":"/1","value":5},` +
				`{"op":"remove","path":"/4"},{"op":"remove","path":"/3"}]`,
		},
		{
			name: "array element that is an object is replaced whole",
			old:  `{"links":[{"url":"a","title":"A"},{"url":"b"}]}`,
			new:  `{"links":[{"url":"a","title":"B"},{"url":"b"}]}`,
			want: `[{"op":"replace","path":"/links/0","value":{"title":"B","url":"a"}}]`,
		},
		{
			name: "array emptied",
			old:  `[1,2]`,
			new:  `[]`,
			want: `[{"op":"remove","path":"/1"},{"op":"remove","path":"/0"}]`,
		},
		{
			name: "type change object to string",
			old:  `{"spec":{"owner":"a"}}`,
			new:  `{"spec":"none"}`,
			want: `[{"op":"replace","path":"/spec","value":"none"}]`,
		},
		{
			name: "type change at the root",
			old:  `{"a":1}`,
			new:  `[1]`,
			want: `[{"op":"replace","path":"","value":[1]}]`,
		},
		{
			name: "array to object",
			old:  `{"a":[]}`,
			new:  `{"a":{}}`,
			want: `[{"op":"replace","path":"/a","value":{}}]`,
		},
		{
			name: "null values are written",
			old:  `{"a":1}`,
			new:  `{"a":null,"b":null}`,
			want: `[{"op":"replace","path":"/a","value":null},{"op":"add","path":"/b","value":null}]`,
		},
		{
			name: "large integer kept exactly",
			old:  `{"n":1}`,
			new:  `{"n":12345678901234567890}`,
			want: `[{"op":"replace","path":"/n","value":12345678901234567890}]`,
		},
		{
			name: "large integers differing in the last digit",
			old:  `[12345678901234567890]`,
			new:  `[12345678901234567891]`,
			want: `[{"op":"replace","path":"/0","value":12345678901234567891}]`,
		},
		{
			name: "1.0 kept as written",
			old:  `{"n":1}`,
			new:  `{"n":1.0,"e":1E+2}`,
			want: `[{"op":"add","path":"/e","value":1E+2},{"op":"replace","path":"/n","value":1.0}]`,
		},
		{
			name: "HTML characters are not escaped",
			old:  `{}`,
			new:  `{"a":"<b>&"}`,
			want: `[{"op":"add","path":"/a","value":"<b>&"}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Diff(doc(tt.old), doc(tt.new))
			if err != nil {
				t.Fatalf("Diff: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			checkRoundTrip(t, doc(tt.old), doc(tt.new)) // every expected patch must also do its job
		})
	}
}

func TestDiffErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		wantErr  string
	}{
		{name: "invalid old", old: `{"a":`, new: `{}`, wantErr: "old document: unexpected EOF"},
		{name: "invalid new", old: `{}`, new: `{a:1}`, wantErr: "new document: invalid character"},
		{name: "two values", old: `{} {}`, new: `{}`, wantErr: "old document: more data after the JSON value"},
		{name: "trailing bracket", old: `{}`, new: `[1]]`, wantErr: "new document: invalid character ']'"},
		{name: "too deep", old: `{}`, new: nested(maxPatchDepth + 1), wantErr: "new document: arrays and objects nest deeper than 512 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Diff(doc(tt.old), doc(tt.new))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Diff error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDiffMaxDepth(t *testing.T) {
	deep := nested(maxPatchDepth)
	patch, err := Diff(nil, []byte(deep))
	if err != nil {
		t.Fatalf("Diff of a document %d deep: %v", maxPatchDepth, err)
	}
	got, err := Apply(nil, patch)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if string(got) != deep {
		t.Errorf("Apply(nil, Diff(nil, deep)) = %.40s..., want the deep document", got)
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		doc   string // "" stands for nil: no document
		patch string
		want  string // "" stands for nil
	}{
		// RFC 6902, appendix A.
		{
			name:  "A.1 adding an object member",
			doc:   `{"foo":"bar"}`,
			patch: `[{"op":"add","path":"/baz","value":"qux"}]`,
			want:  `{"baz":"qux","foo":"bar"}`,
		},
		{
			name:  "A.2 adding an array element",
			doc:   `{"foo":["bar","baz"]}`,
			patch: `[{"op":"add","path":"/foo/1","value":"qux"}]`,
			want:  `{"foo":["bar","qux","baz"]}`,
		},
		{
			name:  "A.3 removing an object member",
			doc:   `{"baz":"qux","foo":"bar"}`,
			patch: `[{"op":"remove","path":"/baz"}]`,
			want:  `{"foo":"bar"}`,
		},
		{
			name:  "A.4 removing an array element",
			doc:   `{"foo":["bar","qux","baz"]}`,
			patch: `[{"op":"remove","path":"/foo/1"}]`,
			want:  `{"foo":["bar","baz"]}`,
		},
		{
			name:  "A.5 replacing a value",
			doc:   `{"baz":"qux","foo":"bar"}`,
			patch: `[{"op":"replace","path":"/baz","value":"boo"}]`,
			want:  `{"baz":"boo","foo":"bar"}`,
		},
		{
			name:  "A.6 moving a value",
			doc:   `{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}`,
			patch: `[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]`,
			want:  `{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}`,
		},
		{
			name:  "A.7 moving an array element",
			doc:   `{"foo":["all","grass","cows","eat"]}`,
			patch: `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`,
			want:  `{"foo":["all","cows","eat","grass"]}`,
		},
		{
			name:  "A.8 testing a value: success",
			doc:   `{"baz":"qux","foo":["a",2,"c"]}`,
			patch: `[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]`,
			want:  `{"baz":"qux","foo":["a",2,"c"]}`,
		},
		{
			name:  "A.10 adding a nested member object",
			doc:   `{"foo":"bar"}`,
			patch: `[{"op":"add","path":"/child","value":{"grandchild":{}}}]`,
			want:  `{"child":{"grandchild":{}},"foo":"bar"}`,
		},
		{
			name:  "A.11 ignoring unrecognized elements",
			doc:   `{"foo":"bar"}`,
			patch: `[{"op":"add","path":"/baz","value":"qux","xyz":123}]`,
			want:  `{"baz":"qux","foo":"bar"}`,
		},
		{
			name:  "A.14 ~ escape ordering",
			doc:   `{"/":9,"~1":10}`,
			patch: `[{"op":"test","path":"/~01","value":10}]`,
			want:  `{"/":9,"~1":10}`,
		},
		{
			name:  "A.16 adding an array value",
			doc:   `{"foo":["bar"]}`,
			patch: `[{"op":"add","path":"/foo/-","value":["abc","def"]}]`,
			want:  `{"foo":["bar",["abc","def"]]}`,
		},
		// Beyond the appendix.
		{
			name:  "empty patch compacts and sorts",
			doc:   ` { "b" : 1 , "a" : [ true , null ] } `,
			patch: `[]`,
			want:  `{"a":[true,null],"b":1}`,
		},
		{
			name:  "empty patch without a document",
			patch: `[]`,
		},
		{
			name:  "root add starts a document",
			patch: `[{"op":"add","path":"","value":{"a":1}}]`,
			want:  `{"a":1}`,
		},
		{
			name:  "root replace starts a document",
			patch: `[{"op":"replace","path":"","value":[1]}]`,
			want:  `[1]`,
		},
		{
			name:  "root remove leaves no document",
			doc:   `{"a":1}`,
			patch: `[{"op":"remove","path":""}]`,
		},
		{
			name:  "root remove then add",
			doc:   `{"a":1}`,
			patch: `[{"op":"remove","path":""},{"op":"add","path":"","value":"b"}]`,
			want:  `"b"`,
		},
		{
			name:  "add replaces an existing member",
			doc:   `{"a":1}`,
			patch: `[{"op":"add","path":"/a","value":2}]`,
			want:  `{"a":2}`,
		},
		{
			name:  "add at the array's end by index and by -",
			doc:   `[1]`,
			patch: `[{"op":"add","path":"/1","value":2},{"op":"add","path":"/-","value":3}]`,
			want:  `[1,2,3]`,
		},
		{
			name:  "empty key",
			doc:   `{"":{"":1}}`,
			patch: `[{"op":"replace","path":"//","value":2}]`,
			want:  `{"":{"":2}}`,
		},
		{
			name:  "copy is deep",
			doc:   `{"a":{"b":[1]}}`,
			patch: `[{"op":"copy","from":"/a","path":"/c"},{"op":"add","path":"/c/b/-","value":2},{"op":"replace","path":"/a/b/0","value":0}]`,
			want:  `{"a":{"b":[0]},"c":{"b":[1,2]}}`,
		},
		{
			name:  "copy the root into a member",
			doc:   `{"a":1}`,
			patch: `[{"op":"copy","from":"","path":"/b"}]`,
			want:  `{"a":1,"b":{"a":1}}`,
		},
		{
			name:  "move to the same place",
			doc:   `{"a":[1,2]}`,
			patch: `[{"op":"move","from":"/a/1","path":"/a/1"},{"op":"move","from":"/a","path":"/a"}]`,
			want:  `{"a":[1,2]}`,
		},
		{
			name:  "move to the root",
			doc:   `{"a":{"b":1}}`,
			patch: `[{"op":"move","from":"/a","path":""}]`,
			want:  `{"b":1}`,
		},
		{
			name:  "numbers kept as written",
			doc:   `{"n":12345678901234567890,"f":1.0}`,
			patch: `[{"op":"add","path":"/m","value":1.50},{"op":"add","path":"/e","value":-0}]`,
			want:  `{"e":-0,"f":1.0,"m":1.50,"n":12345678901234567890}`,
		},
		{
			name: "test compares numbers by value",
			doc:  `{"a":1,"b":100,"c":0,"d":12345678901234567890,"e":0.0015}`,
			patch: `[{"op":"test","path":"/a","value":1.0},{"op":"test","path":"/b","value":1e2},` +
				`{"op":"test","path":"/c","value":-0.0e7},{"op":"test","path":"/d","value":1.234567890123456789e19},` +
				`{"op":"test","path":"/e","value":15E-4}]`,
			want: `{"a":1,"b":100,"c":0,"d":12345678901234567890,"e":0.0015}`,
		},
		{
			name:  "test compares objects in any order",
			doc:   `{"a":{"x":1,"y":[null,true]}}`,
			patch: `[{"op":"test","path":"/a","value":{"y":[null,true],"x":1}},{"op":"test","path":"","value":{"a":{"x":1,"y":[null,true]}}}]`,
			want:  `{"a":{"x":1,"y":[null,true]}}`,
		},
		{
			name:  "test null",
			doc:   `{"a":null}`,
			patch: `[{"op":"test","path":"/a","value":null}]`,
			want:  `{"a":null}`,
		},
		{
			name:  "a document exactly 512 deep",
			doc:   nested(maxPatchDepth - 1),
			patch: `[{"op":"add","path":"` + strings.Repeat("/0", maxPatchDepth-2) + `/-","value":[]}]`,
			want:  nested(maxPatchDepth),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(doc(tt.doc), []byte(tt.patch))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if tt.want == "" && got != nil {
				t.Fatalf("Apply = %s, want nil", got)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		patch   string
		wantErr string
	}{
		// RFC 6902, appendix A.
		{
			name:    "A.9 testing a value: error",
			doc:     `{"baz":"qux"}`,
			patch:   `[{"op":"test","path":"/baz","value":"bar"}]`,
			wantErr: `patch op 0 (test "/baz"): test failed`,
		},
		{
			name:    "A.12 adding to a nonexistent target",
			doc:     `{"foo":"bar"}`,
			patch:   `[{"op":"add","path":"/baz/bat","value":"qux"}]`,
			wantErr: `patch op 0 (add "/baz/bat"): member "baz" not found`,
		},
		{
			name:    "A.13 invalid JSON patch document",
			doc:     `{"foo":"bar"}`,
			patch:   `[{"op":"add","path":"/baz","value":"qux","op":"remove"}]`,
			wantErr: `patch op 0: member "op" appears twice`,
		},
		{
			name:    "A.15 comparing strings and numbers",
			doc:     `{"/":9,"~1":10}`,
			patch:   `[{"op":"test","path":"/~01","value":"10"}]`,
			wantErr: `patch op 0 (test "/~01"): test failed`,
		},
		// Pointers.
		{
			name:    "pointer without a leading slash",
			doc:     `{"a":{"b":1}}`,
			patch:   `[{"op":"test","path":"/a/b","value":1},{"op":"remove","path":"a/b"}]`,
			wantErr: `patch op 1: path: JSON pointer "a/b" is neither empty nor starts with "/"`,
		},
		{
			name:    "pointer with ~2",
			doc:     `{"a~2":1}`,
			patch:   `[{"op":"remove","path":"/a~2"}]`,
			wantErr: `patch op 0: path: JSON pointer "/a~2": "~" must be followed by "0" or "1"`,
		},
		{
			name:    "pointer ending in ~",
			doc:     `{"a~":1}`,
			patch:   `[{"op":"remove","path":"/a~"}]`,
			wantErr: `"~" must be followed by "0" or "1"`,
		},
		{
			name:    "bad from pointer",
			doc:     `{"a":1}`,
			patch:   `[{"op":"copy","from":"a","path":"/b"}]`,
			wantErr: `patch op 0: from: JSON pointer "a" is neither empty`,
		},
		{
			name:    "array index with a leading zero",
			doc:     `{"foo":["a","b"]}`,
			patch:   `[{"op":"replace","path":"/foo/01","value":"x"}]`,
			wantErr: `patch op 0 (replace "/foo/01"): array index "01" has a leading zero`,
		},
		{
			name:    "array index out of range",
			doc:     `{"foo":["a","b"]}`,
			patch:   `[{"op":"add","path":"/foo/3","value":"x"}]`,
			wantErr: `patch op 0 (add "/foo/3"): array index 3 is out of range for length 2`,
		},
		{
			name:    "array index equal to the length is only for add",
			doc:     `["a"]`,
			patch:   `[{"op":"remove","path":"/1"}]`,
			wantErr: `array index 1 is out of range for length 1`,
		},
		{
			name:    "array index beyond int",
			doc:     `["a"]`,
			patch:   `[{"op":"remove","path":"/99999999999999999999999"}]`,
			wantErr: `array index 99999999999999999999999 is out of range`,
		},
		{
			name:    "negative array index",
			doc:     `["a"]`,
			patch:   `[{"op":"add","path":"/-1","value":1}]`,
			wantErr: `array index "-1" is not a number`,
		},
		{
			name:    "- is only for add",
			doc:     `["a"]`,
			patch:   `[{"op":"replace","path":"/-","value":1}]`,
			wantErr: `array index "-" is not a number`,
		},
		{
			name:    "- inside a path",
			doc:     `[["a"]]`,
			patch:   `[{"op":"add","path":"/-/0","value":1}]`,
			wantErr: `array index "-" is not a number`,
		},
		{
			name:    "lookup in a scalar",
			doc:     `{"a":"s"}`,
			patch:   `[{"op":"add","path":"/a/b","value":1}]`,
			wantErr: `patch op 0 (add "/a/b"): cannot look up "b" in a string`,
		},
		// Operations.
		{
			name:    "test fails on a large number's last digit",
			doc:     `{"n":12345678901234567890}`,
			patch:   `[{"op":"test","path":"/n","value":12345678901234567891}]`,
			wantErr: `patch op 0 (test "/n"): test failed`,
		},
		{
			name:    "test of a missing member",
			doc:     `{}`,
			patch:   `[{"op":"test","path":"/a","value":null}]`,
			wantErr: `patch op 0 (test "/a"): member "a" not found`,
		},
		{
			name:    "test fails on a longer array",
			doc:     `[1,2]`,
			patch:   `[{"op":"test","path":"","value":[1,2,3]}]`,
			wantErr: `test failed`,
		},
		{
			name:    "remove a missing member",
			doc:     `{"a":1}`,
			patch:   `[{"op":"remove","path":"/b"}]`,
			wantErr: `patch op 0 (remove "/b"): member "b" not found`,
		},
		{
			name:    "replace a missing member",
			doc:     `{"a":1}`,
			patch:   `[{"op":"replace","path":"/b","value":1}]`,
			wantErr: `patch op 0 (replace "/b"): member "b" not found`,
		},
		{
			name:    "move into a child",
			doc:     `{"a":{"b":{}}}`,
			patch:   `[{"op":"move","from":"/a","path":"/a/b/c"}]`,
			wantErr: `patch op 0 (move "/a/b/c"): cannot move "/a" into itself`,
		},
		{
			name:    "move from a missing member",
			doc:     `{"a":1}`,
			patch:   `[{"op":"move","from":"/b","path":"/c"}]`,
			wantErr: `patch op 0 (move "/c"): from "/b": member "b" not found`,
		},
		{
			name:    "below the root without a document",
			patch:   `[{"op":"add","path":"/a","value":1}]`,
			wantErr: `patch op 0 (add "/a"): there is no document`,
		},
		{
			name:    "root remove without a document",
			patch:   `[{"op":"remove","path":""}]`,
			wantErr: `patch op 0 (remove ""): there is no document`,
		},
		{
			name:    "test without a document",
			doc:     `{"a":1}`,
			patch:   `[{"op":"remove","path":""},{"op":"test","path":"","value":null}]`,
			wantErr: `patch op 1 (test ""): there is no document`,
		},
		// Malformed patches.
		{name: "not an array", doc: `{}`, patch: `{"op":"remove","path":""}`, wantErr: "patch: not a JSON array"},
		{name: "empty patch", doc: `{}`, patch: ``, wantErr: "patch: unexpected EOF"},
		{name: "unterminated", doc: `{}`, patch: `[{"op":"remove","path":""}`, wantErr: "patch: unexpected EOF"},
		{name: "trailing data", doc: `{}`, patch: `[] []`, wantErr: "patch: more data after the JSON value"},
		{name: "operation not an object", doc: `{}`, patch: `[1]`, wantErr: "patch op 0: not a JSON object"},
		{name: "missing op", doc: `{}`, patch: `[{"path":""}]`, wantErr: `patch op 0: missing "op"`},
		{name: "unknown op", doc: `{}`, patch: `[{"op":"merge","path":""}]`, wantErr: `patch op 0: unknown op "merge"`},
		{name: "missing path", doc: `{}`, patch: `[{"op":"remove"}]`, wantErr: `patch op 0: missing "path"`},
		{name: "null path", doc: `{}`, patch: `[{"op":"remove","path":null}]`, wantErr: `patch op 0: member "path": null, not a string`},
		{name: "numeric op", doc: `{}`, patch: `[{"op":1,"path":""}]`, wantErr: `patch op 0: member "op": a number, not a string`},
		{name: "missing value", doc: `{}`, patch: `[{"op":"add","path":"/a"}]`, wantErr: `patch op 0: "add" needs a "value"`},
		{name: "missing from", doc: `{}`, patch: `[{"op":"copy","path":"/a"}]`, wantErr: `patch op 0: "copy" needs a "from"`},
		{
			name:    "malformed later op stops the patch before it runs",
			doc:     `{}`,
			patch:   `[{"op":"add","path":"/a","value":1},{"op":"add","path":"/b"}]`,
			wantErr: `patch op 1: "add" needs a "value"`,
		},
		// Limits.
		{
			name:    "document too deep",
			doc:     nested(maxPatchDepth + 1),
			patch:   `[]`,
			wantErr: "document: arrays and objects nest deeper than 512 levels",
		},
		{
			name:    "value too deep",
			doc:     `[]`,
			patch:   `[{"op":"add","path":"/-","value":` + nested(maxPatchDepth+1) + `}]`,
			wantErr: "patch: arrays and objects nest deeper than 514 levels",
		},
		{
			name:    "result too deep",
			doc:     nested(maxPatchDepth),
			patch:   `[{"op":"add","path":"` + strings.Repeat("/0", maxPatchDepth-1) + `/-","value":[]}]`,
			wantErr: `the result would nest deeper than 512 levels`,
		},
		{
			name:    "move makes the result too deep",
			doc:     `{"a":` + nested(maxPatchDepth-1) + `,"b":[]}`,
			patch:   `[{"op":"move","from":"/a","path":"/b/0"}]`,
			wantErr: `the result would nest deeper than 512 levels`,
		},
		{
			name:    "copies that double the document",
			doc:     `[1]`,
			patch:   `[{"op":"copy","from":"","path":"/-"}` + strings.Repeat(`,{"op":"copy","from":"","path":"/-"}`, 39) + `]`,
			wantErr: "the patch copies too many values",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(doc(tt.doc), []byte(tt.patch))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Apply = %s, %v; want an error containing %q", got, err, tt.wantErr)
			}
		})
	}
}

func TestSameNumber(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1", "1", true},
		{"1", "1.0", true},
		{"1", "10e-1", true},
		{"100", "1e2", true},
		{"100", "1E+2", true},
		{"0", "-0", true},
		{"0", "0.000e99", true},
		{"0.0015", "15e-4", true},
		{"-2.5", "-25E-1", true},
		{"12345678901234567890", "1.234567890123456789e19", true},
		{"1e99999999999999999999", "10e99999999999999999998", true},
		{"1", "2", false},
		{"1", "-1", false},
		{"0.1", "0.01", false},
		{"12345678901234567890", "12345678901234567891", false},
		{"1e99999999999999999999", "1e99999999999999999998", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" "+tt.b, func(t *testing.T) {
			if got := sameNumber(json.Number(tt.a), json.Number(tt.b)); got != tt.want {
				t.Errorf("sameNumber(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := sameNumber(json.Number(tt.b), json.Number(tt.a)); got != tt.want {
				t.Errorf("sameNumber(%s, %s) = %v, want %v", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

// TestDiffApplyRoundTrip checks, over many random pairs of documents, that
// Apply(old, Diff(old, new)) rebuilds new, numbers as written.
func TestDiffApplyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(6902, 6901))
	for i := range 3000 {
		old := randomJSON(r, 4)
		var new any
		if i%5 == 0 {
			new = randomJSON(r, 4) // unrelated documents
		} else {
			new = mutateJSON(r, old, 4) // the usual case: a few edits
		}
		oldJSON, newJSON := marshalRandom(t, old), marshalRandom(t, new)
		checkRoundTrip(t, oldJSON, newJSON)
		if i%100 == 0 {
			checkRoundTrip(t, nil, newJSON)
			checkRoundTrip(t, oldJSON, nil)
		}
	}
}

// checkRoundTrip checks that Diff(old, new) is a patch of add, remove and
// replace operations that Apply turns old into new with.
func checkRoundTrip(t *testing.T, old, new []byte) {
	t.Helper()
	patch, err := Diff(old, new)
	if err != nil {
		t.Fatalf("Diff(%s, %s): %v", old, new, err)
	}
	if bytes.Equal(old, new) && string(patch) != "[]" {
		t.Fatalf("Diff of equal documents %s = %s, want []", old, patch)
	}
	var ops []struct{ Op string }
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatalf("Diff(%s, %s) = %s, which is no patch: %v", old, new, patch, err)
	}
	for _, op := range ops {
		if op.Op != "add" && op.Op != "remove" && op.Op != "replace" {
			t.Fatalf("Diff(%s, %s) = %s, which uses %q", old, new, patch, op.Op)
		}
	}
	got, err := Apply(old, patch)
	if err != nil {
		t.Fatalf("Apply(%s, Diff = %s): %v", old, patch, err)
	}
	if new == nil {
		if got != nil {
			t.Fatalf("Apply(%s, Diff = %s) = %s, want nil", old, patch, got)
		}
		return
	}
	if diff := cmp.Diff(decodeExact(t, new), decodeExact(t, got)); diff != "" {
		t.Fatalf("Apply(%s, Diff = %s) (-want +got):\n%s", old, patch, diff)
	}
}

// randomJSON returns a random value from a small vocabulary, so that
// random documents share keys and values and their diffs are interesting.
// The top two of depth levels are arrays and objects, like the documents
// Diff is for; below them, containers and scalars are equally likely.
func randomJSON(r *rand.Rand, depth int) any {
	if depth >= 3 || (depth > 0 && r.IntN(2) == 0) {
		if r.IntN(2) == 0 {
			a := make([]any, r.IntN(6))
			for i := range a {
				a[i] = randomJSON(r, depth-1)
			}
			return a
		}
		o := make(map[string]any)
		for range r.IntN(5) {
			o[randomKeys[r.IntN(len(randomKeys))]] = randomJSON(r, depth-1)
		}
		return o
	}
	switch r.IntN(6) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2, 3:
		return json.Number(randomNumbers[r.IntN(len(randomNumbers))])
	default:
		return randomKeys[r.IntN(len(randomKeys))]
	}
}

var (
	randomNumbers = []string{"0", "-0", "1", "1.0", "-7", "2.5e3", "1E+2", "12345678901234567890", "12345678901234567891", "0.1"}
	randomKeys    = []string{"", "a", "b", "c", "name", "a/b", "~", "~1", "/", "<&>", "é"}
)

// mutateJSON returns a copy of v with a few random edits.
func mutateJSON(r *rand.Rand, v any, depth int) any {
	switch v := v.(type) {
	case map[string]any:
		o := make(map[string]any, len(v))
		for k, e := range v {
			switch r.IntN(6) {
			case 0: // drop
			case 1:
				o[k] = randomJSON(r, depth-1)
			default:
				o[k] = mutateJSON(r, e, depth-1)
			}
		}
		if r.IntN(3) == 0 {
			o[randomKeys[r.IntN(len(randomKeys))]] = randomJSON(r, depth-1)
		}
		return o
	case []any:
		var a []any
		for _, e := range v {
			switch r.IntN(8) {
			case 0: // drop
			case 1:
				a = append(a, randomJSON(r, depth-1), e)
			case 2:
				a = append(a, mutateJSON(r, e, depth-1))
			default:
				a = append(a, e)
			}
		}
		for r.IntN(3) == 0 {
			a = append(a, randomJSON(r, depth-1))
		}
		if a == nil {
			a = []any{}
		}
		return a
	}
	if r.IntN(3) == 0 {
		return randomJSON(r, depth)
	}
	return v
}

func marshalRandom(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeExact decodes data keeping numbers as written, so that comparing
// two decoded documents also compares how their numbers were written.
func decodeExact(t testing.TB, data []byte) any {
	t.Helper()
	if data == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// doc turns a table's "" into nil, Diff's and Apply's "no document".
func doc(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// nested returns depth arrays nested in each other.
func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}
