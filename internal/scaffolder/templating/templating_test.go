package templating

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testContext() map[string]any {
	return map[string]any{
		"parameters": map[string]any{
			"name":      "my-service",
			"count":     3.0,
			"intCount":  7,
			"tags":      []any{"go", "api", "Backend"},
			"enabled":   true,
			"disabled":  false,
			"nothing":   nil,
			"empty":     "",
			"emptyList": []any{},
			"repoUrl":   "github.com?owner=acme&repo=widgets",
			"owner":     "group:default/platform",
			"desc":      "The quick brown fox jumps over the lazy dog",
			"nested":    map[string]any{"a": map[string]any{"b": []any{map[string]any{"c": "deep"}}}},
			"labels":    map[string]any{"team": "core", "tier": "1"},
			"pairs":     []any{[]any{"a", 1.0}, []any{"b", 2.0}},
			"people":    []any{map[string]any{"name": "bo"}, map[string]any{"name": "Al"}, map[string]any{"name": "cy"}},
			"multiline": "line1\nline2",
		},
		"user": map[string]any{"entity": map[string]any{"metadata": map[string]any{"name": "jdoe"}}},
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want any
	}{
		// type preservation
		{"number preserved", "${{ parameters.count }}", 3.0},
		{"int context value becomes float64", "${{ parameters.intCount }}", 7.0},
		{"list preserved", "${{ parameters.tags }}", []any{"go", "api", "Backend"}},
		{"bool preserved", "${{ parameters.enabled }}", true},
		{"object preserved", "${{ parameters.labels }}", map[string]any{"team": "core", "tier": "1"}},
		{"null preserved", "${{ parameters.nothing }}", nil},
		{"undefined gives nil", "${{ parameters.missing }}", nil},
		{"surrounding whitespace allowed", "  ${{ parameters.count }}\n", 3.0},
		{"text around makes a string", "x-${{ parameters.count }}", "x-3"},
		{"two outputs make a string", "${{ parameters.count }}${{ parameters.count }}", "33"},
		{"tag makes a string", "{% if true %}${{ parameters.count }}{% endif %}", "3"},
		{"parsed repo preserved", "${{ parameters.repoUrl | parseRepoUrl }}", map[string]any{"host": "github.com", "owner": "acme", "repo": "widgets"}},
		{"literal list preserved", "${{ [1, 'a', none] }}", []any{1.0, "a", nil}},
		{"undefined dropped from object", "${{ {a: 1, b: nope} }}", map[string]any{"a": 1.0}},
		{"NaN becomes nil", "${{ 'x' * 2 }}", nil},
		// output and text
		{"plain text", "hello", "hello"},
		{"empty template", "", ""},
		{"plain {{ }} is text", "{{ github.ref }}", "{{ github.ref }}"},
		{"output in text", "name: ${{ parameters.name }}!", "name: my-service!"},
		{"undefined renders empty", "[${{ parameters.missing }}]", "[]"},
		{"null renders empty", "[${{ parameters.nothing }}]", "[]"},
		{"member of undefined is undefined", "[${{ nope.a.b.c }}]", "[]"},
		{"bool renders", "[${{ parameters.enabled }}]", "[true]"},
		{"list renders comma joined", "[${{ parameters.tags }}]", "[go,api,Backend]"},
		{"object renders like JS", "[${{ parameters.labels }}]", "[[object Object]]"},
		{"float renders like JS", "[${{ 0.1 + 0.2 }}]", "[0.30000000000000004]"},
		{"big number renders like JS", "[${{ 10 ** 21 }}]", "[1e+21]"},
		{"comment dropped", "a{# hidden ${{ x }} #}b", "ab"},
		{"whitespace control", "a  {%- if true -%}  b  {%- endif -%}  c", "abc"},
		{"whitespace control on output", "a ${{- 'b' -}} c", "abc"},
		{"raw keeps delimiters", "{% raw %}${{ parameters.name }} {% if %}{% endraw %}", "${{ parameters.name }} {% if %}"},
		{"raw whitespace control", "x {%- raw -%} ${{ y }} {%- endraw -%} z", "x${{ y }}z"},
		{"multiline position text", "a\n${{ parameters.name }}\n", "a\nmy-service\n"},
		// literals and expressions
		{"double quoted string", `${{ "a'b" }}`, "a'b"},
		{"single quoted string", `${{ 'a"b' }}`, `a"b`},
		{"string escapes", `[${{ 'a\nb\'c' }}]`, "[a\nb'c]"},
		{"true false", "${{ [true, false, True, False] }}", []any{true, false, true, false}},
		{"none and null", "${{ [none, null, None] }}", []any{nil, nil, nil}},
		{"dict literal", `${{ {"a": 1, b: [2]} }}`, map[string]any{"a": 1.0, "b": []any{2.0}}},
		{"member dot", "${{ user.entity.metadata.name }}", "jdoe"},
		{"member brackets", `${{ user["entity"]["metadata"].name }}`, "jdoe"},
		{"list index", "${{ parameters.tags[1] }}", "api"},
		{"list index out of range", "[${{ parameters.tags[9] }}]", "[]"},
		{"nested path", "${{ parameters.nested.a.b[0].c }}", "deep"},
		{"list length", "${{ parameters.tags.length }}", 3.0},
		{"string length and index", "${{ [parameters.name.length, parameters.name[0]] }}", []any{10.0, "m"}},
		{"arithmetic", "${{ [1 + 2 * 3, (1 + 2) * 3, 7 / 2, 7 // 2, 7 % 3, 2 ** 10, -3 + +1] }}", []any{7.0, 9.0, 3.5, 3.0, 1.0, 1024.0, -2.0}},
		{"plus concatenates strings", "${{ 'a' + 1 }}", "a1"},
		{"tilde concatenates", "${{ parameters.name ~ '-' ~ parameters.count }}", "my-service-3"},
		{"tilde with undefined is JS-like", "${{ 'a' ~ nope }}", "aundefined"},
		{"comparisons", "${{ [1 < 2, 2 <= 2, 3 > 4, 'b' >= 'a', 1 == '1', 1 === '1', 1 != 2, 1 !== 1] }}", []any{true, true, false, true, true, false, true, false}},
		{"null equals undefined", "${{ parameters.nothing == nope }}", true},
		{"and or return operands", "${{ [0 or 'x', 'a' and 'b', '' and 1, nope or parameters.count] }}", []any{"x", "b", "", 3.0}},
		{"not", "${{ [not true, not parameters.empty, not not 1] }}", []any{false, true, true}},
		{"in list", "${{ ['go' in parameters.tags, 'rust' in parameters.tags, 'rust' not in parameters.tags] }}", []any{true, false, true}},
		{"in string and object", "${{ ['serv' in parameters.name, 'team' in parameters.labels] }}", []any{true, true}},
		{"ternary", "${{ 'yes' if parameters.enabled else 'no' }}", "yes"},
		{"ternary else", "${{ 'yes' if parameters.disabled else 'no' }}", "no"},
		{"ternary without else", "[${{ 'yes' if parameters.disabled }}]", "[]"},
		{"empty list is truthy", "{% if parameters.emptyList %}t{% else %}f{% endif %}", "t"},
		{"is tests", "${{ [nope is defined, nope is undefined, parameters.nothing is none, 4 is even, 3 is odd, 9 is divisibleby(3), parameters.name is string, 1 is not string] }}", []any{false, true, true, true, true, true, true, true}},
		// statements
		{"if elif else", "{% if parameters.count > 5 %}big{% elif parameters.count > 2 %}mid{% else %}small{% endif %}", "mid"},
		{"elseif alias", "{% if false %}a{% elseif true %}b{% endif %}", "b"},
		{"if undefined", "{% if nope %}a{% else %}b{% endif %}", "b"},
		{"for with loop vars", "{% for t in parameters.tags %}${{ loop.index }}:${{ t }}{% if not loop.last %},{% endif %}{% endfor %}", "1:go,2:api,3:Backend"},
		{"loop first index0 revindex length", "{% for t in [1,2] %}${{ loop.first }}${{ loop.index0 }}${{ loop.revindex }}${{ loop.length }};{% endfor %}", "true022;false112;"},
		{"for else on empty", "{% for t in parameters.emptyList %}x{% else %}empty{% endfor %}", "empty"},
		{"for else on undefined", "{% for t in nope %}x{% else %}none{% endfor %}", "none"},
		{"for over object", "{% for k, v in parameters.labels %}${{ k }}=${{ v }};{% endfor %}", "team=core;tier=1;"},
		{"for single var over object does not run", "{% for k in parameters.labels %}x{% else %}no{% endfor %}", "no"},
		{"for over string", "{% for c in 'abc' %}${{ c }}.{% endfor %}", "a.b.c."},
		{"for destructures pairs", "{% for k, v in parameters.pairs %}${{ k }}${{ v }}{% endfor %}", "a1b2"},
		{"nested for", "{% for a in [1,2] %}{% for b in ['x','y'] %}${{ a }}${{ b }} {% endfor %}{% endfor %}", "1x 1y 2x 2y "},
		{"range", "{% for i in range(3) %}${{ i }}{% endfor %}|{% for i in range(1, 10, 3) %}${{ i }}{% endfor %}", "012|147"},
		{"set", "{% set greeting = 'hi ' ~ parameters.name %}${{ greeting }}", "hi my-service"},
		{"set shadows context", "{% set parameters = 1 %}${{ parameters }}", "1"},
		{"set in loop updates outer variable", "{% set n = 0 %}{% for t in parameters.tags %}{% set n = n + 1 %}{% endfor %}${{ n }}", "3"},
		{"set in loop stays in loop", "{% for t in [1] %}{% set inner = 'x' %}{% endfor %}[${{ inner }}]", "[]"},
		{"block set", "{% set s %}a${{ 1 + 1 }}{% endset %}${{ s | upper }}", "A2"},
		{"set multiple names", "{% set a, b = 5 %}${{ a + b }}", "10"},
		// Backstage filters
		{"parseRepoUrl pick owner", "${{ parameters.repoUrl | parseRepoUrl | pick('owner') }}", "acme"},
		{"parseRepoUrl member", "${{ (parameters.repoUrl | parseRepoUrl).repo }}", "widgets"},
		{"parseRepoUrl bitbucket", "${{ 'bitbucket.org?workspace=w&project=p&repo=r' | parseRepoUrl }}", map[string]any{"host": "bitbucket.org", "workspace": "w", "project": "p", "repo": "r"}},
		{"parseRepoUrl organization", "${{ 'dev.azure.com?organization=o&owner=x&project=p&repo=r' | parseRepoUrl | pick('organization') }}", "o"},
		{"projectSlug", "${{ parameters.repoUrl | projectSlug }}", "acme/widgets"},
		{"parseEntityRef full", "${{ parameters.owner | parseEntityRef }}", map[string]any{"kind": "group", "namespace": "default", "name": "platform"}},
		{"parseEntityRef with context", `${{ 'techdocs' | parseEntityRef({ defaultKind:"group", defaultNamespace:"another-namespace" }) }}`, map[string]any{"kind": "group", "namespace": "another-namespace", "name": "techdocs"}},
		{"parseEntityRef default namespace", "${{ 'user:jdoe' | parseEntityRef | pick('namespace') }}", "default"},
		{"parseEntityRef string defaults", "${{ 'x' | parseEntityRef('group', 'ns') | pick('namespace') }}", "ns"},
		{"pick deep path", "${{ parameters | pick('nested.a.b[0].c') }}", "deep"},
		{"pick missing", "[${{ parameters | pick('no.such') }}]", "[]"},
		// Nunjucks filters
		{"dump", "${{ parameters.labels | dump }}", `{"team":"core","tier":"1"}`},
		{"dump indent", "${{ [1, {a: 'x'}] | dump(2) }}", "[\n  1,\n  {\n    \"a\": \"x\"\n  }\n]"},
		{"dump string no html escape", `${{ "<a&b>" | dump }}`, `"<a&b>"`},
		{"dump undefined", "[${{ nope | dump }}]", "[]"},
		{"lower upper", "${{ [parameters.tags[2] | lower, parameters.name | upper] }}", []any{"backend", "MY-SERVICE"}},
		{"capitalize", "${{ 'hELLO world' | capitalize }}", "Hello world"},
		{"title", "${{ 'hello big world' | title }}", "Hello Big World"},
		{"replace all", "${{ parameters.name | replace('-', '_') }}", "my_service"},
		{"replace count", "${{ 'aaa' | replace('a', 'b', 2) }}", "bba"},
		{"replace empty old", "${{ 'ab' | replace('', '-') }}", "-a-b-"},
		{"default on undefined", "${{ nope | default('x') }}", "x"},
		{"default keeps null", "${{ parameters.nothing | default('x') }}", nil},
		{"default keeps empty string", "[${{ parameters.empty | d('x') }}]", "[]"},
		{"default boolean replaces falsy", "${{ parameters.empty | default('x', true) }}", "x"},
		{"join", "${{ parameters.tags | join(', ') }}", "go, api, Backend"},
		{"join default separator", "${{ [1, 2] | join }}", "12"},
		{"join attribute", "${{ parameters.people | join(',', 'name') }}", "bo,Al,cy"},
		{"trim", "[${{ '  x y \n' | trim }}]", "[x y]"},
		{"first last", "${{ [parameters.tags | first, parameters.tags | last, 'abc' | first] }}", []any{"go", "Backend", "a"}},
		{"length", "${{ [parameters.tags | length, parameters.name | length, parameters.labels | length, nope | length] }}", []any{3.0, 10.0, 2.0, 0.0}},
		{"reverse", "${{ [parameters.tags | reverse, 'abc' | reverse] }}", []any{[]any{"Backend", "api", "go"}, "cba"}},
		{"sort case insensitive", "${{ parameters.tags | sort }}", []any{"api", "Backend", "go"}},
		{"sort reverse case sensitive", "${{ parameters.tags | sort(true, true) }}", []any{"go", "api", "Backend"}},
		{"sort by attribute", "${{ parameters.people | sort(false, false, 'name') | join(',', 'name') }}", "Al,bo,cy"},
		{"int", "${{ ['42abc' | int, 3.9 | int, 'x' | int, 'x' | int(7), '-5' | int] }}", []any{42.0, 3.0, 0.0, 7.0, -5.0}},
		{"float", "${{ ['3.5kg' | float, 'x' | float, '1e3' | float] }}", []any{3.5, 0.0, 1000.0}},
		{"string", "${{ [parameters.count | string, parameters.tags | string, true | string] }}", []any{"3", "go,api,Backend", "true"}},
		{"list", "${{ ['ab' | list, parameters.labels | list] }}", []any{[]any{"a", "b"}, []any{map[string]any{"key": "team", "value": "core"}, map[string]any{"key": "tier", "value": "1"}}}},
		{"safe", "${{ '<b>' | safe }}", "<b>"},
		{"no autoescape", "x${{ '<b>&' }}", "x<b>&"},
		{"urlencode", "${{ 'a b&c/d' | urlencode }}", "a%20b%26c%2Fd"},
		{"urlencode object", "${{ {b: 'x y', a: 1} | urlencode }}", "a=1&b=x%20y"},
		{"truncate words", "${{ parameters.desc | truncate(12) }}", "The quick..."},
		{"truncate killwords", "${{ parameters.desc | truncate(12, true, '!') }}", "The quick br!"},
		{"truncate short", "${{ 'short' | truncate(12) }}", "short"},
		{"indent", "${{ parameters.multiline | indent(2) }}", "line1\n  line2"},
		{"indent first", "${{ parameters.multiline | indent(2, true) }}", "  line1\n  line2"},
		{"abs round", "${{ [-3 | abs, 2.567 | round(2), 2.5 | round, 2.7 | round(0, 'floor')] }}", []any{3.0, 2.57, 3.0, 2.0}},
		{"unary minus binds before filter", "${{ -5 | abs }}", 5.0},
		{"filter binds tighter than plus", "${{ 'a' ~ 'b' | upper }}", "aB"},
		{"filter on group", "${{ ('a' ~ 'b') | upper }}", "AB"},
		{"chained filters", "${{ parameters.tags | sort | first | upper }}", "API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.src, testContext(), Options{})
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.src, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Render(%q) mismatch (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestRenderStringNeverPreservesType(t *testing.T) {
	got, err := RenderString("${{ parameters.count }}", testContext(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got != "3" {
		t.Errorf("got %q, want %q", got, "3")
	}
}

func TestRenderValue(t *testing.T) {
	in := map[string]any{
		"name":   "${{ parameters.name }}",
		"count":  "${{ parameters.count }}",
		"label":  "svc-${{ parameters.count }}",
		"list":   []any{"${{ parameters.tags }}", 5.0, true, nil},
		"nested": map[string]any{"owner": "${{ parameters.repoUrl | parseRepoUrl | pick('owner') }}"},
	}
	want := map[string]any{
		"name":   "my-service",
		"count":  3.0,
		"label":  "svc-3",
		"list":   []any{[]any{"go", "api", "Backend"}, 5.0, true, nil},
		"nested": map[string]any{"owner": "acme"},
	}
	got, err := RenderValue(in, testContext(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RenderValue mismatch (-want +got):\n%s", diff)
	}
}

func TestRenderDoesNotAliasContext(t *testing.T) {
	ctx := testContext()
	got, err := Render("${{ parameters.tags }}", ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got.([]any)[0] = "changed"
	if ctx["parameters"].(map[string]any)["tags"].([]any)[0] != "go" {
		t.Error("the rendered value aliases the context")
	}
}

func TestCustomFilters(t *testing.T) {
	opts := Options{Filters: map[string]Filter{
		"base64len": func(in any, args ...any) (any, error) {
			s, _ := in.(string)
			return float64(len(s) * 4 / 3), nil
		},
		"fail": func(any, ...any) (any, error) { return nil, errors.New("boom") },
		"upper": func(in any, _ ...any) (any, error) {
			return "overridden", nil
		},
		"echoArgs": func(in any, args ...any) (any, error) { return append([]any{in}, args...), nil },
	}}
	got, err := Render("${{ ['abc' | base64len, 'x' | upper, nope | echoArgs(1, nope)] }}", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{4.0, "overridden", []any{nil, 1.0, nil}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	_, err = Render("\n  ${{ 1 | fail }}", nil, opts)
	if err == nil || err.Error() != "line 2, column 11: filter 'fail': boom" {
		t.Errorf("got error %v", err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"unclosed output", "a ${{ x", "line 1, column 3: unterminated tag, expected '}}'"},
		{"unclosed tag", "{% if x", "line 1, column 1: unterminated tag, expected '%}'"},
		{"garbage after endif", "{% if x %}\n{% endif\n  foo %}", "line 3, column 3: expected '%}' after 'endif', found 'foo'"},
		{"missing endif", "{% if x %}\nabc", "line 2, column 4: unexpected end of template, expected 'endif' to close 'if' at line 1, column 4"},
		{"missing endfor", "{% for x in y %}", "line 1, column 17: unexpected end of template, expected 'endfor' to close 'for' at line 1, column 4"},
		{"stray endif", "a{% endif %}", "line 1, column 5: unexpected 'endif'"},
		{"wrong end tag", "{% if x %}{% endfor %}", "line 1, column 14: unexpected 'endfor', expected 'endif'"},
		{"unknown tag", "{% macro m() %}", "line 1, column 4: unknown tag 'macro'"},
		{"unknown filter", "${{ x | nope }}", "line 1, column 9: unknown filter 'nope'"},
		{"unknown function", "${{ cycler(1) }}", "line 1, column 5: unknown function 'cycler'"},
		{"unknown test", "${{ x is blue }}", "line 1, column 10: unknown test 'blue'"},
		{"for without in", "{% for x of y %}", "line 1, column 10: expected 'in' after loop variables, found 'of'"},
		{"unterminated string", "${{ 'abc }}", "line 1, column 5: unterminated string"},
		{"unterminated comment", "{# abc", "line 1, column 1: unterminated comment, expected '#}'"},
		{"unclosed raw", "{% raw %}abc", "line 1, column 1: unclosed 'raw' (expected '{% endraw %}')"},
		{"bad character", "${{ a ^ b }}", "line 1, column 7: unexpected character '^'"},
		{"unclosed paren", "${{ (a }}", "line 1, column 8: expected ')' to close '(' at line 1, column 5, found '}}'"},
		{"missing expression", "${{ }}", "line 1, column 5: expected an expression, found '}}'"},
		{"extra tokens", "${{ a b }}", "line 1, column 7: expected '}}', found 'b'"},
		{"dict key", "${{ {1: 2} }}", "line 1, column 6: dict keys must be strings or names, found '1'"},
		{"keyword args", "${{ x | truncate(length=3) }}", "line 1, column 18: keyword arguments are not supported"},
		{"in on number", "${{ 1 in 2 }}", "line 1, column 7: cannot use 'in' to search for \"1\" in a number"},
		{"parseRepoUrl missing repo", "${{ 'github.com?owner=o' | parseRepoUrl }}", `line 1, column 28: filter 'parseRepoUrl': invalid repo URL "github.com?owner=o": missing repo`},
		{"parseEntityRef missing kind", "${{ 'x' | parseEntityRef }}", `line 1, column 11: filter 'parseEntityRef': entity reference "x" had missing or empty kind (e.g. did not start with "component:" or similar)`},
		{"column counts runes", "é ${{ x | nope }}", "line 1, column 11: unknown filter 'nope'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.src, map[string]any{}, Options{})
			if err == nil {
				t.Fatalf("Render(%q) succeeded, want error %q", tt.src, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Render(%q) error\n got: %s\nwant: %s", tt.src, err, tt.want)
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Errorf("error %v is not a *Error", err)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200)
	tests := []struct {
		name    string
		src     string
		opts    Options
		isLimit bool   // the error wraps ErrLimit
		want    string // substring of the error
	}{
		{"huge range", "{% for i in range(1000000000) %}x{% endfor %}", Options{}, true, "range of 1000000000 elements exceeds"},
		{"nested loops exceed steps", "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}", Options{}, true, "evaluation steps"},
		{"small step limit", "{% for i in range(10) %}${{ i }}{% endfor %}", Options{MaxSteps: 20}, true, "limit of 20 evaluation steps"},
		{"output limit", "{% for i in range(100) %}xxxxxxxxxx{% endfor %}", Options{MaxOutputBytes: 500}, true, "output exceeds the limit of 500 bytes"},
		{"doubling string via set", "{% set s = 'xx' %}{% for i in range(64) %}{% set s = s ~ s %}{% endfor %}", Options{}, true, "exceeds the limit of 10485760 bytes"},
		{"replace blowup", "{% set s = 'aaaaaaaaaa' %}{% for i in range(10) %}{% set s = s | replace('a', 'aaaaaaaaaa') %}{% endfor %}", Options{}, true, "exceeds the limit"},
		{"indent blowup", "${{ 'a\nb' | indent(100000000) }}", Options{}, true, "exceeds the limit"},
		{"deep list nesting via set", "{% set l = [] %}{% for i in range(5000) %}{% set l = [l] %}{% endfor %}${{ l | dump }}", Options{}, true, "nested more than 1000 levels"},
		{"deep parens", "${{ " + deep + " }}", Options{}, false, "nested more than 100 levels deep"},
		{"deep lists", "${{ " + strings.Repeat("[", 200) + " }}", Options{}, false, "nested more than 100 levels deep"},
		{"deep ifs", strings.Repeat("{% if true %}", 200), Options{}, false, "nested more than 100 levels deep"},
		{"long member chain", "${{ a" + strings.Repeat(".b", 500) + " }}", Options{}, false, "more than 100 member lookups"},
		{"long operator chain", "${{ 1" + strings.Repeat(" + 1", 500) + " }}", Options{}, false, "longer than 100 operators"},
		{"long not chain", "${{ " + strings.Repeat("not ", 500) + "1 }}", Options{}, false, "nested more than 100 levels deep"},
		{"template too big", strings.Repeat("x", MaxTemplateBytes+1), Options{}, true, "more than the 10485760 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Render(tt.src, nil, tt.opts)
			if err == nil {
				t.Fatalf("Render succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if got := errors.Is(err, ErrLimit); got != tt.isLimit {
				t.Errorf("errors.Is(err, ErrLimit) = %v, want %v (%v)", got, tt.isLimit, err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestLargeTemplate(t *testing.T) {
	src := strings.Repeat("line ${{ parameters.name }}\n", 300_000) // about 8.4 MB
	got, err := RenderString(src, testContext(), Options{MaxSteps: 10_000_000, MaxOutputBytes: 20 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("line my-service\n", 300_000); got != want {
		t.Errorf("got %d bytes, want %d", len(got), len(want))
	}
	if _, err := RenderString(src, testContext(), Options{}); !errors.Is(err, ErrLimit) {
		t.Errorf("with default limits: got %v, want ErrLimit", err)
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {3, "3"}, {-2.5, "-2.5"}, {1e21, "1e+21"}, {1.5e-7, "1.5e-7"}, {123456789012, "123456789012"}, {0.000001, "0.000001"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.in); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWorkOnLargeValuesIsCharged(t *testing.T) {
	ctx := map[string]any{"big": strings.Repeat("x", 1<<20), "list": make([]any, 100_000)}
	for _, src := range []string{
		"{% for i in range(100000) %}${{ big | upper | length }}{% endfor %}",
		"{% for i in range(100000) %}${{ big[900000] }}{% endfor %}",
		"{% for i in range(100000) %}${{ 'y' in big }}{% endfor %}",
		"{% for i in range(100000) %}${{ list | join }}{% endfor %}",
		"{% for i in range(100000) %}{% set s = big ~ '' %}{% endfor %}",
	} {
		start := time.Now()
		_, err := RenderString(src, ctx, Options{})
		if !errors.Is(err, ErrLimit) {
			t.Errorf("RenderString(%q): got %v, want ErrLimit", src, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("RenderString(%q) took %v", src, d)
		}
	}
}

func TestOutputLimitErrorNamesPosition(t *testing.T) {
	_, err := RenderString("ab\ncdefgh", nil, Options{MaxOutputBytes: 9, MaxSteps: 10})
	if err != nil {
		t.Fatal(err)
	}
	_, err = RenderString("${{ 'abcdef' }}\nxyzxyz", nil, Options{MaxOutputBytes: 10})
	if want := "line 1, column 16: output exceeds the limit of 10 bytes"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestCookiecutterCompat(t *testing.T) {
	ctx := map[string]any{"cookiecutter": map[string]any{"name": "app", "tags": []any{"a", "b"}}}
	tests := []struct{ src, want string }{
		{"{{ cookiecutter.name }}", "app"},
		{"{{ cookiecutter.name | upper }}-svc", "APP-svc"},
		{"{{ cookiecutter.tags | jsonify }}", `["a","b"]`},
		{"{% if cookiecutter.name %}yes{% endif %}", "yes"},
		{"keep ${{ x }}", "keep $"},
	}
	for _, tt := range tests {
		got, err := RenderString(tt.src, ctx, Options{CookiecutterCompat: true})
		if err != nil || got != tt.want {
			t.Errorf("%q = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
	// Without it, "{{ }}" is text and jsonify is unknown.
	if got, err := RenderString("{{ cookiecutter.name }}", ctx, Options{}); err != nil || got != "{{ cookiecutter.name }}" {
		t.Errorf("without compat: %q, %v", got, err)
	}
	if _, err := RenderString("${{ cookiecutter.tags | jsonify }}", ctx, Options{}); err == nil {
		t.Error("jsonify exists without compat")
	}
}
