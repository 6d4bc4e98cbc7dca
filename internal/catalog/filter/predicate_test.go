package filter

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePredicate(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Expr
	}{
		{name: "empty", raw: "", want: nil},
		{name: "whitespace", raw: " \n", want: nil},
		{name: "null", raw: "null", want: nil},
		{name: "empty object matches all", raw: "{}", want: nil},
		{name: "empty $all matches all", raw: `{"$all":[]}`, want: nil},
		{name: "empty $any matches none", raw: `{"$any":[]}`, want: Any{}},
		{name: "primitive string", raw: `{"kind":"Component"}`, want: match("kind", "component")},
		{name: "key lowercased", raw: `{"Spec.Type":"service"}`, want: match("spec.type", "service")},
		{name: "number as JavaScript string", raw: `{"spec.replicas":7.50}`, want: match("spec.replicas", "7.5")},
		{name: "boolean", raw: `{"spec.flag":true}`, want: match("spec.flag", "true")},
		{
			name: "several keys are ANDed in order",
			raw:  `{"kind":"component","spec.type":"service","spec.lifecycle":"production"}`,
			want: All{Exprs: []Expr{match("kind", "component"), match("spec.type", "service"), match("spec.lifecycle", "production")}},
		},
		{
			name: "repeated key: last value in first place, as JSON.parse",
			raw:  `{"kind":"a","spec.type":"b","kind":"c"}`,
			want: All{Exprs: []Expr{match("kind", "c"), match("spec.type", "b")}},
		},
		{
			name: "keys differing in case are separate conditions",
			raw:  `{"kind":"a","Kind":"b"}`,
			want: All{Exprs: []Expr{match("kind", "a"), match("kind", "b")}},
		},
		{name: "$exists true", raw: `{"spec.type":{"$exists":true}}`, want: Exists{Key: "spec.type"}},
		{name: "$exists false", raw: `{"spec.type":{"$exists":false}}`, want: Not{Expr: Exists{Key: "spec.type"}}},
		{
			name: "$in mixed primitives, deduplicated",
			raw:  `{"spec.type":{"$in":["Service","website",7,false,"service"]}}`,
			want: match("spec.type", "service", "website", "7", "false"),
		},
		{name: "empty $in matches none", raw: `{"spec.type":{"$in":[]}}`, want: Any{}},
		{name: "$hasPrefix", raw: `{"metadata.name":{"$hasPrefix":"Pay_"}}`, want: HasPrefix{Key: "metadata.name", Prefix: "pay_"}},
		{name: "$contains primitive", raw: `{"metadata.tags":{"$contains":"Java"}}`, want: match("metadata.tags", "java")},
		{
			name: "relation with targetRef",
			raw:  `{"relations":{"$contains":{"type":"ownedBy","targetRef":"group:default/Team-A"}}}`,
			want: match("relations.ownedby", "group:default/team-a"),
		},
		{
			name: "relation keys are case-insensitive",
			raw:  `{"Relations":{"$contains":{"Type":"memberOf","TARGETREF":"group:default/ops"}}}`,
			want: match("relations.memberof", "group:default/ops"),
		},
		{
			name: "relation with $in targetRef",
			raw:  `{"relations":{"$contains":{"targetRef":{"$in":["group:default/a","group:default/B"]},"type":"ownedBy"}}}`,
			want: match("relations.ownedby", "group:default/a", "group:default/b"),
		},
		{
			name: "relation without targetRef is exists",
			raw:  `{"relations":{"$contains":{"type":"dependsOn"}}}`,
			want: Exists{Key: "relations.dependson"},
		},
		{
			name: "logic",
			raw: `{"$all":[{"kind":"component"},{"$any":[{"spec.type":"service"},{"spec.type":"website"}]},
				{"$not":{"spec.lifecycle":"experimental"}}]}`,
			want: All{Exprs: []Expr{
				match("kind", "component"),
				Any{Exprs: []Expr{match("spec.type", "service"), match("spec.type", "website")}},
				Not{Expr: match("spec.lifecycle", "experimental")},
			}},
		},
		{name: "single-child $all collapses", raw: `{"$all":[{"kind":"api"}]}`, want: match("kind", "api")},
		{name: "single-child $any collapses", raw: `{"$any":[{"kind":"api"}]}`, want: match("kind", "api")},
		{name: "nested empty object is true", raw: `{"$not":{}}`, want: Not{Expr: All{}}},
		{name: "$not of $any of nothing", raw: `{"$not":{"$any":[]}}`, want: Not{Expr: Any{}}},
		{name: "32 levels allowed", raw: nestNot(31, `{"kind":"api"}`), want: nestNotExpr(31, match("kind", "api"))},
		{name: "escapes decoded", raw: `{"metadata.annotations.a\/b":"\u0041"}`, want: match("metadata.annotations.a/b", "a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePredicate(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatalf("ParsePredicate(%s): %v", tt.raw, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePredicate(%s) mismatch (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

func nestNot(n int, inner string) string {
	return strings.Repeat(`{"$not":`, n) + inner + strings.Repeat("}", n)
}

func nestNotExpr(n int, inner Expr) Expr {
	for range n {
		inner = Not{Expr: inner}
	}
	return inner
}

func TestParsePredicateErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{name: "top-level string", raw: `"component"`, want: `top-level primitive values are not supported. Wrap the value in a field expression, e.g. { "kind": "component" }`},
		{name: "top-level number", raw: `7`, want: "top-level primitive"},
		{name: "top-level array", raw: `[{"kind":"api"}]`, want: "expected an object, got an array"},
		{name: "primitive in $all", raw: `{"$all":["api"]}`, want: "top-level primitive"},
		{name: "null in $any", raw: `{"$any":[null]}`, want: "got null"},
		{name: "$all not an array", raw: `{"$all":{"kind":"api"}}`, want: "$all expects an array"},
		{name: "$not of array", raw: `{"$not":[]}`, want: "got an array"},
		{name: "operator then field", raw: `{"$all":[],"kind":"api"}`, want: `operator "$all" cannot be combined with other keys (found "kind")`},
		{name: "field then operator", raw: `{"kind":"api","$not":{}}`, want: `operator "$not" cannot be combined`},
		{name: "unknown top operator", raw: `{"$or":[]}`, want: `unknown operator "$or"`},
		{name: "unknown value operator", raw: `{"kind":{"$eq":"api"}}`, want: `unknown operator "$eq"`},
		{name: "$startsWith is not the catalog's", raw: `{"kind":{"$startsWith":"a"}}`, want: `unknown operator "$startsWith"`},
		{name: "value operator mixed", raw: `{"kind":{"$in":["a"],"$exists":true}}`, want: `operator "$in" cannot be combined with other keys`},
		{name: "nested object value", raw: `{"spec":{"type":"service"}}`, want: `for field "spec": expected a primitive value`},
		{name: "empty object value", raw: `{"kind":{}}`, want: "but got {}"},
		{name: "null value", raw: `{"kind":null}`, want: "but got null"},
		{name: "array value", raw: `{"kind":["a","b"]}`, want: "but got an array"},
		{name: "empty field", raw: `{"":"x"}`, want: "empty field name"},
		{name: "$exists not bool", raw: `{"kind":{"$exists":"yes"}}`, want: "$exists expects true or false"},
		{name: "$in not array", raw: `{"kind":{"$in":"api"}}`, want: "$in expects an array"},
		{name: "$in with object", raw: `{"kind":{"$in":[{"a":1}]}}`, want: "$in values must be strings, numbers or booleans"},
		{name: "$in with null", raw: `{"kind":{"$in":[null]}}`, want: "$in values must be"},
		{name: "$hasPrefix number", raw: `{"kind":{"$hasPrefix":1}}`, want: "$hasPrefix expects a string"},
		{name: "$contains object on other field", raw: `{"metadata.tags":{"$contains":{"a":"b"}}}`, want: `Object form of $contains is not supported for field "metadata.tags"`},
		{name: "$contains array", raw: `{"metadata.tags":{"$contains":["a"]}}`, want: "Unsupported $contains target"},
		{name: "relation without type", raw: `{"relations":{"$contains":{"targetRef":"x"}}}`, want: `requires a "type" string property`},
		{name: "relation empty type", raw: `{"relations":{"$contains":{"type":""}}}`, want: `requires a "type" string property`},
		{name: "relation type not string", raw: `{"relations":{"$contains":{"type":1}}}`, want: `requires a "type" string property`},
		{name: "relation extra key", raw: `{"relations":{"$contains":{"type":"ownedBy","source":"x"}}}`, want: `Unsupported key "source"`},
		{name: "relation duplicate key", raw: `{"relations":{"$contains":{"type":"a","Type":"b"}}}`, want: `Duplicate key "Type"`},
		{name: "relation targetRef number", raw: `{"relations":{"$contains":{"type":"a","targetRef":1}}}`, want: `expected a string or { "$in": [strings] }`},
		{name: "relation targetRef $in numbers", raw: `{"relations":{"$contains":{"type":"a","targetRef":{"$in":[1]}}}}`, want: "values must be strings"},
		{name: "relation targetRef empty $in", raw: `{"relations":{"$contains":{"type":"a","targetRef":{"$in":[]}}}}`, want: `Empty "$in" array`},
		{name: "relation targetRef other op", raw: `{"relations":{"$contains":{"type":"a","targetRef":{"$hasPrefix":"x"}}}}`, want: `expected a string or { "$in": [strings] }`},
		{name: "malformed", raw: `{"kind":}`, want: "malformed JSON"},
		{name: "truncated", raw: `{"kind":"api"`, want: "unexpected end of JSON input"},
		{name: "trailing data", raw: `{"kind":"api"} {}`, want: "unexpected data after the predicate"},
		{name: "invalid UTF-8", raw: "{\"kind\":\"\xff\"}", want: "not valid UTF-8"},
		{name: "NUL in value", raw: `{"kind":"a\u0000"}`, want: "contains a NUL character"},
		{name: "NUL in key", raw: `{"ki\u0000nd":"a"}`, want: "contains a NUL character"},
		{name: "33 levels", raw: nestNot(32, `{"kind":"api"}`), want: "nested more than 32 levels deep"},
		{name: "10k levels", raw: nestNot(10000, `{}`), want: "nested more than 32 levels deep"},
		{name: "10k arrays", raw: `{"$all":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, want: "expected an object, got an array"},
		{name: "deep value", raw: `{"kind":{"$in":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`, want: "$in values must be"},
		{name: "too many nodes", raw: `{"$any":[` + strings.Repeat(`{},`, maxNodes) + `{}]}`, want: "more than 1000 expressions"},
		{name: "too many values", raw: `{"kind":{"$in":[` + strings.Repeat(`"a",`, maxValues) + `"a"]}}`, want: "more than 10000 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePredicate(json.RawMessage(tt.raw))
			checkInvalid(t, err, tt.want)
			if got != nil {
				t.Errorf("got %#v with the error, want nil", got)
			}
		})
	}
}

func TestJSNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"7", "7"}, {"7.0", "7"}, {"7.50", "7.5"}, {"-3.25", "-3.25"},
		{"100", "100"}, {"1e2", "100"}, {"123456789012345678901", "123456789012345680000"},
		{"1e21", "1e+21"}, {"1.5e21", "1.5e+21"}, {"0.000001", "0.000001"}, {"1e-7", "1e-7"},
		{"1.25e-7", "1.25e-7"}, {"0.1", "0.1"}, {"1e400", "infinity"}, {"-1e400", "-infinity"},
		{"9007199254740993", "9007199254740992"},
	}
	for _, tt := range tests {
		if got := jsNumber(json.Number(tt.in)); got != tt.want {
			t.Errorf("jsNumber(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
