package source

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []map[string]any
	}{
		{
			name: "multi-document with empty and null documents",
			in: `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: a
---
---
null
---
# only a comment
---
kind: API
metadata: {name: b, tags: [x, y]}
`,
			want: []map[string]any{
				{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": map[string]any{"name": "a"}},
				{"kind": "API", "metadata": map[string]any{"name": "b", "tags": []any{"x", "y"}}},
			},
		},
		{
			name: "scalar types",
			in: `s: hello
q: "123"
i: 42
neg: -7
hex: 0x1F
f: 1.5
big: 18446744073709551615
b: true
n: null
tilde: ~
empty:
ts: 2001-12-14
bin: !!binary aGVsbG8=
custom: !foo bar
yes11: yes
emoji: "🙂"
`,
			want: []map[string]any{{
				"s": "hello", "q": "123", "i": int64(42), "neg": int64(-7), "hex": int64(31), "f": 1.5,
				"big": float64(18446744073709551615), "b": true, "n": nil, "tilde": nil, "empty": nil,
				"ts": "2001-12-14", "bin": "aGVsbG8=", "custom": "bar", "yes11": "yes", "emoji": "🙂",
			}},
		},
		{
			name: "anchors, aliases and merge keys",
			in: `base: &base {owner: team-a, lifecycle: production}
spec:
  <<: *base
  lifecycle: experimental
tags: &t [a, b]
more: *t
`,
			want: []map[string]any{{
				"base": map[string]any{"owner": "team-a", "lifecycle": "production"},
				"spec": map[string]any{"owner": "team-a", "lifecycle": "experimental"},
				"tags": []any{"a", "b"},
				"more": []any{"a", "b"},
			}},
		},
		{
			name: "quoted merge key is a plain key",
			in:   `"<<": x`,
			want: []map[string]any{{"<<": "x"}},
		},
		{
			name: "byte order mark and CRLF",
			in:   "\uFEFFkind: Component\r\nmetadata:\r\n  name: a\r\n",
			want: []map[string]any{{"kind": "Component", "metadata": map[string]any{"name": "a"}}},
		},
		{name: "empty input", in: ""},
		{name: "only comments", in: "# nothing\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Parse("catalog-info.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []map[string]any
			for _, d := range docs {
				if d.File != "catalog-info.yaml" {
					t.Errorf("File = %q", d.File)
				}
				got = append(got, d.Data)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDocumentPositions(t *testing.T) {
	in := "# header\nkind: A\n---\n\n  kind: B\n--- {kind: C}\n"
	docs, err := Parse("f.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]int
	for _, d := range docs {
		got = append(got, [2]int{d.Line, d.Column})
	}
	want := [][2]int{{2, 1}, {5, 3}, {6, 5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("document positions (-want +got):\n%s", diff)
	}
}

func TestPos(t *testing.T) {
	in := `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: petstore
  annotations:
    backstage.io/techdocs-ref: dir:.
    backstage.io: short
  tags:
    - java
    - web
    - data
spec:
  type: service
  owner:   team-a
  nested:
    - name: x
      deps: [a, b]
defaults: &d
  lifecycle: production
merged:
  <<: *d
  system: s
aliased: *d
`
	docs, err := Parse("f.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	tests := []struct {
		path      string
		line, col int
	}{
		{"", 1, 1},
		{"kind", 2, 7},
		{"spec.owner", 14, 12},
		{"metadata.tags.2", 11, 7},
		{"metadata.annotations.backstage.io/techdocs-ref", 6, 32},
		{"metadata.annotations.backstage.io", 7, 19},
		{"spec.nested.0.deps.1", 17, 17},
		{"spec.lifecycle", 12, 1},       // missing: the key of the spec mapping
		{"spec.owner.deeper", 14, 12},   // below a scalar: the scalar
		{"metadata.tags.7", 8, 3},       // index out of range: the sequence
		{"metadata.tags.x", 8, 3},       // not an index
		{"nope", 1, 1},                  // missing at top level: the document
		{"merged.lifecycle", 19, 14},    // from a merge key: where it was written
		{"merged.system", 22, 11},       // explicit key next to a merge
		{"aliased", 23, 1},              // the key of the aliased mapping
		{"aliased.lifecycle", 19, 14},   // through the alias
		{"aliased.missing", 23, 1},      // missing below an alias: the alias
		{"metadata.annotations.", 5, 3}, // empty last segment: the annotations
		{"..", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			line, col := d.Pos(tt.path)
			if line != tt.line || col != tt.col {
				t.Errorf("Pos(%q) = %d:%d, want %d:%d", tt.path, line, col, tt.line, tt.col)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("[", 70) + strings.Repeat("]", 70)
	deepBlock := ""
	for i := range 70 {
		deepBlock += strings.Repeat(" ", i) + fmt.Sprintf("k%d:\n", i)
	}
	tests := []struct {
		name      string
		in        string
		line, col int
		msg       string
	}{
		{"sequence document", "kind: A\n---\n- a\n- b\n", 3, 1, "expected a mapping (an entity), found a sequence"},
		{"scalar document", "just text\n", 1, 1, "expected a mapping (an entity), found a string"},
		{"number document", "42\n", 1, 1, "expected a mapping (an entity), found a number"},
		{"duplicate key", "kind: A\nmetadata:\n  name: a\n  name: b\n", 4, 3, `mapping key "name" already defined at line 3`},
		{"tab indentation", "kind: A\nmetadata:\n\tname: a\n", 3, 1, "found character that cannot start any token"},
		{"unclosed flow sequence", "kind: A\nspec: [a, b\nfoo: bar\n", 2, 1, "did not find expected ',' or ']'"},
		{"sequence in mapping", "a: 1\n- b\n", 2, 1, "did not find expected key"},
		{"mapping value in context", "a: 1\nb: 2\nc: d: e\n", 3, 1, "mapping values are not allowed in this context"},
		{"unclosed flow mapping", "a: {b: 1\n", 2, 1, "did not find expected ',' or '}'"},
		{"syntax error in second document", "a: 1\n---\nc: 1\n e: 3\n", 4, 1, "mapping values are not allowed in this context"},
		{"integer key", "kind: A\n1: x\n", 2, 1, "mapping keys must be strings, found a number"},
		{"mapping key", "? {a: 1}\n: x\n", 1, 3, "mapping keys must be strings, found a mapping"},
		{"null key", "~: x\n", 1, 1, "mapping keys must be strings, found null"},
		{"invalid UTF-8", "kind: A\nname: \xff\xfe\n", 2, 7, "invalid UTF-8 byte 0xff"},
		{"control character", "kind: A\nname: a\x07b\n", 2, 8, "character U+0007 is not allowed in YAML"},
		{"NUL", "kind: \x00", 1, 7, "character U+0000 is not allowed in YAML"},
		{"deep flow nesting", "a: " + deep, 1, 67, "nesting is deeper than 64 levels"},
		{"deep block nesting", deepBlock, 65, 65, "nesting is deeper than 64 levels"},
		{"unknown anchor", "a: 1\nb: [x, *nope]\n", 2, 8, `unknown anchor "nope" referenced`},
		{"NaN", "a: .nan\n", 1, 4, `number ".nan" cannot be represented in JSON`},
		{"infinity", "a: -.inf\n", 1, 4, `number "-.inf" cannot be represented in JSON`},
		{"bad explicit int", "a: !!int nope\n", 1, 4, `invalid number "nope"`},
		{"merge of scalar", "a: &a x\nb:\n  <<: *a\n", 3, 7, "merge key (<<) needs a mapping or a sequence of mappings, found a string"},
		{"self-referential merge", "a: &a {<<: *a}\n", 1, 12, "possible alias bomb"},
		{"self-referential sequence", "a: &a [*a]\n", 1, 4, "nesting is deeper than 64 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Parse("bad.yaml", []byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v docs, err %v; want *ParseError", len(docs), err)
			}
			if docs != nil {
				t.Errorf("Parse returned %d documents with an error", len(docs))
			}
			if pe.File != "bad.yaml" || pe.Line != tt.line || pe.Column != tt.col || !strings.Contains(pe.Message, tt.msg) {
				t.Errorf("error = %q (line %d, col %d), want bad.yaml:%d:%d containing %q", pe.Error(), pe.Line, pe.Column, tt.line, tt.col, tt.msg)
			}
			if want := fmt.Sprintf("bad.yaml:%d:%d: ", pe.Line, pe.Column); !strings.HasPrefix(pe.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", pe.Error(), want)
			}
		})
	}
}

func TestParseAliasBomb(t *testing.T) {
	// Ten levels of ten aliases each: 10^10 values if expanded.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 10; i++ {
		p := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.Repeat(p+", ", 9)+p)
	}
	start := time.Now()
	_, err := Parse("bomb.yaml", []byte(b.String()))
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "alias bomb") {
		t.Fatalf("Parse(alias bomb) = %v, want an alias bomb ParseError", err)
	}
	// Not a timing assertion on normal speed: an unbounded expansion takes
	// hours, so a minute means the guard did not work.
	if d := time.Since(start); d > time.Minute {
		t.Errorf("Parse(alias bomb) took %s", d)
	}

	// Modest alias use stays fine.
	small := "base: &b {owner: a, type: service}\n" + strings.Repeat("x", 0)
	for i := range 100 {
		small += fmt.Sprintf("c%d: *b\n", i)
	}
	if _, err := Parse("ok.yaml", []byte(small)); err != nil {
		t.Errorf("Parse(100 aliases) = %v", err)
	}
}

func TestParseDepthBoundary(t *testing.T) {
	// The top-level mapping is depth 1, so 63 nested sequences reach 64.
	ok := "a: " + strings.Repeat("[", 63) + strings.Repeat("]", 63)
	if _, err := Parse("f", []byte(ok)); err != nil {
		t.Errorf("Parse(depth 64) = %v", err)
	}
	bad := "a: " + strings.Repeat("[", 64) + strings.Repeat("]", 64)
	if _, err := Parse("f", []byte(bad)); err == nil {
		t.Error("Parse(depth 65) succeeded")
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"kind: A\nmetadata:\n  name: a\n",
		"a: &a [x, *a]\n",
		"a: &a {<<: *a}\n",
		"--- {a: 1}\n--- [1]\n",
		"a: !!binary aGk=\nb: 2001-12-14\nc: .inf\n",
		"? [a]\n: b\n",
		"a:\n\t- b\n",
		"\uFEFFa: 1\r\nb: \"\\u00e9\"\r",
		"a: |\n  text\n  more\nb: >-\n  folded\n",
		"x: &x {a: 1}\ny: {<<: [*x, {b: 2}]}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Parse("fuzz.yaml", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		lines := yamlLines(data)
		for _, d := range docs {
			line, col := d.Pos("")
			if line < 1 || line > len(lines) {
				t.Fatalf("Pos(\"\") line %d outside 1..%d", line, len(lines))
			}
			if col < 1 || col > utf8.RuneCountInString(lines[line-1])+1 {
				t.Fatalf("Pos(\"\") col %d outside line %d %q", col, line, lines[line-1])
			}
			if d.Data == nil {
				t.Fatal("document without data")
			}
			d.Pos("a.b.0.c")
		}
	})
}

// yamlLines splits data into lines the way YAML counts them.
func yamlLines(data []byte) []string {
	var lines []string
	start := 0
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if isLineBreak(r, data[i+size:]) {
			lines = append(lines, string(data[start:i]))
			start = i + size
		}
		i += size
	}
	return append(lines, string(data[start:]))
}
