package markdown

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func render(t *testing.T, src string) *Page {
	t.Helper()
	p, err := Render([]byte(src), Options{})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return p
}

func TestTitle(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"front matter wins", "---\ntitle: From Meta\n---\n# From H1\n", "From Meta"},
		{"first h1", "Intro.\n\n## Sub\n\n# First *One*\n\n# Second\n", "First One"},
		{"setext h1", "Setext Title\n============\n", "Setext Title"},
		{"no h1", "## Only h2\n", ""},
		{"empty", "", ""},
		{"h1 with code and entity", "# The `foo` &amp; bar\n", "The foo & bar"},
		{"numeric front matter title", "---\ntitle: 42\n---\n", "42"},
		{"bad front matter falls back", "---\ntitle: [x\n---\n# H1\n", "H1"},
		{"no closing front matter", "---\ntitle: x\n\n# H1\n", "H1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(t, tt.src).Title; got != tt.want {
				t.Errorf("Title = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTOC(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Heading
	}{
		{"levels and first h1 left out", "# Page\n\n## A\n\n### B *em*\n\n#### C\n\n# Second H1\n", []Heading{
			{2, "a", "A"}, {3, "b-em", "B em"}, {4, "c", "C"}, {1, "second-h1", "Second H1"},
		}},
		{"duplicates", "## Same\n\n## Same\n\n## Same\n", []Heading{
			{2, "same", "Same"}, {2, "same_1", "Same"}, {2, "same_2", "Same"},
		}},
		{"custom ids reserved first", "## Intro\n\n## Other {#intro}\n", []Heading{
			{2, "intro_1", "Intro"}, {2, "intro", "Other"},
		}},
		{"headings inside admonitions and tabs", "!!! note\n    ## In Note\n\n=== \"T\"\n    ### In Tab\n", []Heading{
			{2, "in-note", "In Note"}, {3, "in-tab", "In Tab"},
		}},
		{"raw html heading without id is left out", "<h2>Raw</h2>\n\n## Md\n", []Heading{{2, "md", "Md"}}},
		{"none", "Just text.\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, render(t, tt.src).TOC); diff != "" {
				t.Errorf("TOC mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSections(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Section
	}{
		{"split at h2 and h3", "# Title\n\nIntro   text.\n\n## A\n\nText a.\n\n#### Deep\n\nMore a.\n\n### B\n\nText b.\n", []Section{
			{"", "Title", "Intro text."},
			{"a", "A", "Text a. Deep More a."},
			{"b", "B", "Text b."},
		}},
		{"no intro text", "# Title\n\n## A\n\nx\n", []Section{{"a", "A", "x"}}},
		{"front matter title on intro", "---\ntitle: T\n---\nHello.\n", []Section{{"", "T", "Hello."}}},
		{"empty page", "", nil},
		{"code and admonitions are text, permalinks are not", "## Run\n\n!!! tip \"Hint\"\n    Use `go test`.\n\n```go\nx := 1\n```\n", []Section{
			{"run", "Run", "Hint Use go test. x := 1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, render(t, tt.src).Sections); diff != "" {
				t.Errorf("Sections mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"collapses whitespace", "# T\n\nA   b\nc.\n\n- x\n- y\n", "T A b c. x y"},
		{"words in separate blocks stay apart", "| a | b |\n|---|---|\n| 1 | 2 |\n", "a b 1 2"},
		{"inline markup joins", "**bo**ld and `co`de\n", "bold and code"},
		{"entities decoded", "Fish &amp; chips &lt;3\n", "Fish & chips <3"},
		{"no permalinks, backrefs or line numbers", "## H\n\nSee[^1].\n\n```py linenums=\"1\"\nx = 1\n```\n\n[^1]: Note.\n", "H See1. x = 1 Note."},
		{"mermaid source left out", "```mermaid\ngraph TD\n```\n\nafter\n", "after"},
		{"sanitized content left out", "a <script>secret()</script> b\n", "a b"},
		{"tabs and details", "=== \"One\"\n    1\n=== \"Two\"\n    2\n\n??? note \"More\"\n    m\n", "One 1 Two 2 More m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(t, tt.src).Text; got != tt.want {
				t.Errorf("Text = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFrontMatter(t *testing.T) {
	tests := []struct {
		name         string
		src          string
		wantMeta     map[string]any
		wantDesc     string
		wantWarnings []string
		wantHTML     string
	}{
		{
			name:     "fields",
			src:      "---\ntitle: T\ndescription: D\ntags: [a, b]\nowner: x\n---\nBody\n",
			wantMeta: map[string]any{"title": "T", "description": "D", "tags": []any{"a", "b"}, "owner": "x"},
			wantDesc: "D",
			wantHTML: "<p>Body</p>\n",
		},
		{
			name:         "bad yaml is dropped with a line number",
			src:          "---\ntitle: ok\n  bad: [\n---\nBody\n",
			wantWarnings: []string{"front matter ignored: yaml: line 3: mapping values are not allowed in this context"},
			wantHTML:     "<p>Body</p>\n",
		},
		{
			name:         "not a mapping",
			src:          "---\n- a\n- b\n---\nBody\n",
			wantWarnings: []string{"front matter ignored: yaml: unmarshal errors:\n  line 2: cannot unmarshal !!seq into map[string]interface {}"},
			wantHTML:     "<p>Body</p>\n",
		},
		{
			name:     "empty block",
			src:      "---\n---\nBody\n",
			wantHTML: "<p>Body</p>\n",
		},
		{
			name:     "dots close it, BOM and CRLF are fine",
			src:      "\uFEFF---\r\ndescription: D\r\n...\r\nBody\r\n",
			wantMeta: map[string]any{"description": "D"},
			wantDesc: "D",
			wantHTML: "<p>Body</p>\n",
		},
		{
			name:         "list title is reported",
			src:          "---\ntitle: [a]\n---\n",
			wantMeta:     map[string]any{"title": []any{"a"}},
			wantWarnings: []string{`front matter: "title" is a []interface {}, not a string; ignored`},
		},
		{
			name:     "not at the start is a thematic break",
			src:      "Text\n\n---\ntitle: x\n---\n",
			wantHTML: "<p>Text</p>\n<hr>\n<h2 id=\"title-x\">title: x<a class=\"headerlink\" href=\"#title-x\" title=\"Permanent link\">¶</a></h2>\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := render(t, tt.src)
			if diff := cmp.Diff(tt.wantMeta, p.Meta); diff != "" {
				t.Errorf("Meta mismatch (-want +got):\n%s", diff)
			}
			if p.Description != tt.wantDesc {
				t.Errorf("Description = %q, want %q", p.Description, tt.wantDesc)
			}
			if diff := cmp.Diff(tt.wantWarnings, p.Warnings); diff != "" {
				t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
			}
			if string(p.HTML) != tt.wantHTML {
				t.Errorf("HTML = %q, want %q", p.HTML, tt.wantHTML)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	src := "---\ntitle: x\n---\n# T\n\n!!! bogus\n    x\n\n- item\n\n    !!! alsobad \"t\"\n        y\n"
	want := []string{
		`line 6: unknown admonition type "bogus", styled as note`,
		`line 11: unknown admonition type "alsobad", styled as note`,
	}
	if diff := cmp.Diff(want, render(t, src).Warnings); diff != "" {
		t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
	}
}

func TestResolveLink(t *testing.T) {
	type call struct {
		Target string
		Image  bool
	}
	var calls []call
	opts := Options{ResolveLink: func(target string, image bool) string {
		calls = append(calls, call{target, image})
		return "resolved/" + target
	}}
	src := "[a](a.md) [b](b.md#x \"t\") [c](https://c.example) [d](#frag) [e](mailto:e@x) " +
		"[f](//cdn.example/f) [g](/abs.md) [h](h&amp;i.md) [j](JaVaScRiPt:alert(1)) ![i](i.png) <https://auto.example> www.linkify.example\n"
	p, err := Render([]byte(src), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []call{{"a.md", false}, {"b.md#x", false}, {"/abs.md", false}, {"h&i.md", false}, {"i.png", true}}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("ResolveLink calls mismatch (-want +got):\n%s", diff)
	}
	for _, s := range []string{`href="resolved/a.md"`, `href="resolved/h&amp;i.md"`, `src="resolved/i.png"`, `href="https://c.example"`, `href="#frag"`} {
		if !strings.Contains(string(p.HTML), s) {
			t.Errorf("HTML lacks %s:\n%s", s, p.HTML)
		}
	}
}

func TestCSS(t *testing.T) {
	css := CSS()
	for _, s := range []string{
		".admonition", ".admonition-title", "details", ".tabbed-set", ".tabbed-content", ".task-list-item",
		".footnotes", "dl > dd", ".chroma .k", "--td-code-bg", "prefers-color-scheme: dark",
		"[data-theme=dark]", ".headerlink",
	} {
		if !strings.Contains(css, s) {
			t.Errorf("CSS lacks %q", s)
		}
	}
	if strings.Count(css, "{") != strings.Count(css, "}") {
		t.Error("CSS braces do not balance")
	}
}

// TestConcurrent renders from many goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	src := []byte("# T\n\n*[T]: Tee\n\n=== \"a\"\n    ```go\n    x := 1\n    ```\n\n!!! note\n    T [x](x.md)\n")
	want := render(t, string(src))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				p, err := Render(src, Options{ResolveLink: func(s string, _ bool) string { return s }})
				if err != nil {
					t.Error(err)
					return
				}
				if string(p.HTML) != string(want.HTML) {
					t.Errorf("concurrent render differs:\n%s\nwant:\n%s", p.HTML, want.HTML)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestNoRawHTML(t *testing.T) {
	src := "Push <b>parcel-api</b> **now**: `<i>code</i>` <https://example.com>\n\n<div onclick=x>block</div>\n"
	p, err := Render([]byte(src), Options{NoRawHTML: true})
	if err != nil {
		t.Fatal(err)
	}
	got := string(p.HTML)
	for _, bad := range []string{"<b>", "<div", "onclick"} {
		if strings.Contains(got, bad) {
			t.Errorf("raw HTML %q kept: %s", bad, got)
		}
	}
	for _, want := range []string{"<strong>now</strong>", "<code>&lt;i&gt;code&lt;/i&gt;</code>", `href="https://example.com"`} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q: %s", want, got)
		}
	}
	if withHTML, _ := Render([]byte(src), Options{}); !strings.Contains(string(withHTML.HTML), "<b>parcel-api</b>") {
		t.Errorf("without NoRawHTML the allowed raw HTML is dropped: %s", withHTML.HTML)
	}
}
