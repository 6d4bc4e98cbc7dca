package markdown

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// hostileInputs are pages written to get markup past Render. They seed the
// fuzz target too.
var hostileInputs = []struct{ name, src string }{
	{"script tag", "<script>alert(1)</script>"},
	{"script inline", "a <script>alert(1)</script> b"},
	{"img onerror", `<img src=x onerror=alert(1)>`},
	{"img onerror quoted", `<img src="x" onerror="alert(1)">`},
	{"a javascript", `<a href="javascript:alert(1)">x</a>`},
	{"md link javascript", "[x](javascript:alert(1))"},
	{"md image javascript", "![x](javascript:alert(1))"},
	{"md link vbscript", "[x](vbscript:msgbox(1))"},
	{"md link data", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"},
	{"img data", `<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">`},
	{"entity encoded scheme md", "[x](jav&#x61;script:alert(1))"},
	{"entity encoded scheme html", `<a href="jav&#x61;script:alert(1)">x</a>`},
	{"entity tab in scheme", "[x](java&#9;script:alert(1))"},
	{"mixed case", "[x](JaVaScRiPt:alert(1))"},
	{"mixed case html", `<a href="JaVaScRiPt:alert(1)">x</a>`},
	{"reference link javascript", "[x][r]\n\n[r]: javascript:alert(1)"},
	{"autolink javascript", "<javascript:alert(1)>"},
	{"svg script", "<svg><script>alert(1)</script></svg>"},
	{"svg onload", `<svg onload=alert(1)>`},
	{"iframe", `<iframe src="https://evil.example"></iframe>`},
	{"style", "<style>body{display:none}</style>"},
	{"style attribute", `<p style="background:url(javascript:alert(1))">x</p>`},
	{"base", `<base href="https://evil.example/">`},
	{"meta refresh", `<meta http-equiv="refresh" content="0;url=https://evil.example">`},
	{"form", `<form action="https://evil.example"><input name=q><button>go</button></form>`},
	{"object embed", `<object data="x.swf"></object><embed src="x.swf">`},
	{"link stylesheet", `<link rel="stylesheet" href="https://evil.example/x.css">`},
	{"admonition title img", `!!! note "<img src=x onerror=alert(1)>"` + "\n    body"},
	{"admonition title script", `!!! note "<script>alert(1)</script>"` + "\n    body"},
	{"details title", `??? note "<a href=javascript:alert(1)>t</a>"` + "\n    body"},
	{"tab title", `=== "<img src=x onerror=alert(1)>"` + "\n    body"},
	{"tab title quote break", `=== "\"><script>alert(1)</script>"` + "\n    body"},
	{"heading script", `## "><script>alert(1)</script>`},
	{"heading attr list onmouseover", `## Title {#"onmouseover=alert(1)}`},
	{"heading attr list onclick", `## Title {onclick="alert(1)"}`},
	{"heading attr list class break", `## Title {.x" onmouseover="alert(1)}`},
	{"code info injection", "```go\" onmouseover=\"alert(1)\n x\n```"},
	{"code title injection", "```go title='\"><script>alert(1)</script>'\nx\n```"},
	{"mermaid breakout", "```mermaid\n</pre><script>alert(1)</script>\n```"},
	{"abbr title injection", "*[X]: \"><script>alert(1)</script>\n\nX marks"},
	{"footnote injection", "a[^1]\n\n[^1]: <img src=x onerror=alert(1)>"},
	{"html comment trick", "<!-- --><script>alert(1)</script><!-- -->"},
	{"cdata", "<![CDATA[<script>alert(1)</script>]]>"},
	{"unclosed attr", `<img src="x" alt="`},
	{"noscript", "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>"},
	{"math mglyph", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"},
	{"label for input", `<label for="x" onclick="alert(1)">x</label><input type="text" onfocus="alert(1)" autofocus>`},
}

// dangerous reports why the HTML could run script, or "" if it cannot. It
// parses the HTML as a browser would, so encoded forms are caught too.
func dangerous(b []byte) string {
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "script", "style", "iframe", "object", "embed", "base", "meta", "link", "form", "svg", "math", "frame", "frameset", "noscript", "template":
				return "element <" + string(name) + ">"
			case "input":
				// only checkbox and radio inputs are generated
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key := string(k)
				if strings.HasPrefix(key, "on") || key == "style" || key == "formaction" || key == "srcdoc" {
					return "attribute " + key
				}
				if key == "href" || key == "src" || key == "cite" || key == "action" || key == "poster" || key == "srcset" {
					u := strings.ToLower(strings.Map(func(r rune) rune {
						if r <= ' ' {
							return -1
						}
						return r
					}, string(v)))
					for _, s := range []string{"javascript:", "vbscript:", "data:"} {
						if strings.HasPrefix(u, s) {
							return "URL " + string(v)
						}
					}
				}
			}
		}
	}
}

// rawDanger is a textual check independent of the HTML parser: a script
// element, an on* attribute, or a javascript: href or src. It relies on the
// sanitizer's serialization: text holds no raw "<" and attribute values are
// double-quoted, so "on0=" inside a value is not an attribute.
var rawDanger = regexp.MustCompile(`(?i)<script|<[a-z][a-z0-9]*(?:\s+[^\s="'>/]+(?:="[^"]*")?)*\s+(?:on\w+\s*=|(?:href|src)="\s*javascript:)`)

func TestHostile(t *testing.T) {
	for _, tt := range hostileInputs {
		t.Run(tt.name, func(t *testing.T) {
			for _, opts := range []Options{{}, {ResolveLink: func(s string, _ bool) string { return s }}} {
				p, err := Render([]byte(tt.src), opts)
				if err != nil {
					t.Fatal(err)
				}
				if why := dangerous(p.HTML); why != "" {
					t.Errorf("output has %s:\n%s", why, p.HTML)
				}
				if m := rawDanger.Find(p.HTML); m != nil {
					t.Errorf("output contains %q:\n%s", m, p.HTML)
				}
				for _, h := range p.TOC {
					if strings.ContainsAny(h.ID, `"<> `) {
						t.Errorf("TOC id %q can break out of an attribute", h.ID)
					}
				}
			}
		})
	}
}

func TestHostileKeepsText(t *testing.T) {
	// The sanitizer removes markup, not the author's words.
	p := render(t, `!!! note "<img src=x onerror=alert(1)> Careful"`+"\n    body\n")
	if !strings.Contains(string(p.HTML), `<p class="admonition-title"><img src="x"> Careful</p>`) {
		t.Errorf("title lost:\n%s", p.HTML)
	}
}

func TestTooLarge(t *testing.T) {
	_, err := Render(make([]byte, MaxSize+1), Options{})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Render(MaxSize+1) error = %v, want a size error", err)
	}
	if _, err := Render(bytes.Repeat([]byte("a "), MaxSize/2), Options{}); err != nil {
		t.Fatalf("Render(MaxSize) error = %v", err)
	}
}

func TestInvalidUTF8(t *testing.T) {
	src := []byte("# Ti\xfftle\n\nbad \xc3\x28 bytes and a NUL \x00 here [l\xffnk](a\xff.md)\n")
	p, err := Render(src, Options{ResolveLink: func(s string, _ bool) string {
		if !utf8.ValidString(s) {
			t.Errorf("resolver got invalid UTF-8 %q", s)
		}
		return s
	}})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"HTML": string(p.HTML), "Text": p.Text, "Title": p.Title} {
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8: %q", name, s)
		}
	}
	if p.Title != "Ti\uFFFDtle" {
		t.Errorf("Title = %q", p.Title)
	}
	if strings.Contains(string(p.HTML), "\x00") {
		t.Error("HTML contains NUL")
	}
}

// TestDeepNesting feeds pages that make a naive Markdown parser take
// quadratic time or deep recursion. Each must render within a few seconds.
func TestDeepNesting(t *testing.T) {
	indented := func(n int, item string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(strings.Repeat(" ", 2*i) + item + "\n")
		}
		return b.String()
	}
	tests := []struct{ name, src string }{
		{"100k quotes on one line", strings.Repeat(">", 100000) + " x\n"},
		{"100k spaced quotes on one line", strings.Repeat("> ", 100000) + "x\n"},
		{"deep quotes on many lines", strings.Repeat(strings.Repeat("> ", 5000)+"y\n", 200)},
		{"100k list items on one line", strings.Repeat("- ", 100000) + "x\n"},
		{"100k ordered items on one line", strings.Repeat("1. ", 100000) + "x\n"},
		{"2500 indented list levels", indented(2500, "- x")},
		{"1000 nested admonitions", func() string {
			var b strings.Builder
			for i := range 1000 {
				b.WriteString(strings.Repeat("    ", i) + "!!! note\n")
			}
			return b.String() + strings.Repeat("    ", 1000) + "deep\n"
		}()},
		{"1000 nested tabs", func() string {
			var b strings.Builder
			for i := range 1000 {
				b.WriteString(strings.Repeat("    ", i) + "=== \"t\"\n")
			}
			return b.String()
		}()},
		{"100k emphasis", strings.Repeat("*a ", 100000) + strings.Repeat("b* ", 100000)},
		{"100k brackets", strings.Repeat("[", 100000) + strings.Repeat("](x)", 100000)},
		{"nested html", strings.Repeat("<div>", 100000) + strings.Repeat("</div>", 100000)},
		{"huge table", "|" + strings.Repeat("a|", 1000) + "\n|" + strings.Repeat("-|", 1000) + "\n" +
			strings.Repeat("|"+strings.Repeat("b|", 1000)+"\n", 100)},
		{"many abbreviations", func() string {
			var b strings.Builder
			for i := range 2000 {
				b.WriteString("*[A" + strings.Repeat("b", i%50) + string(rune('a'+i%26)) + "]: x\n")
			}
			return b.String() + strings.Repeat("Aa Abz word ", 20000)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			p, err := Render([]byte(tt.src), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			if len(p.HTML) == 0 {
				t.Error("no output")
			}
		})
	}
}

func TestNestingLimitKeepsText(t *testing.T) {
	p := render(t, strings.Repeat("> ", 200)+"deep words\n")
	if got := strings.Count(string(p.HTML), "<blockquote>"); got != maxDepth {
		t.Errorf("%d blockquotes, want %d", got, maxDepth)
	}
	if !strings.Contains(p.Text, "deep words") {
		t.Errorf("text lost: %q", p.Text)
	}
}

func TestErrorsAreNotSwallowed(t *testing.T) {
	// Render's only error is the size limit; everything else is a warning.
	for _, src := range []string{"---\n: : :\n---\n", "!!! \n", "=== \"\n", "\xff\xfe"} {
		if _, err := Render([]byte(src), Options{}); err != nil && !errors.Is(err, err) {
			t.Errorf("Render(%q) = %v", src, err)
		}
	}
}

func TestLongIndentKeepsStructure(t *testing.T) {
	src := "- a\n" + strings.Repeat(" ", 1000) + "code\n\n```\n" + strings.Repeat(" ", 300) + "x\n```\n"
	p := render(t, src)
	if !strings.Contains(string(p.HTML), "<li>a\ncode</li>") && !strings.Contains(string(p.HTML), "<li>a code</li>") {
		t.Errorf("lazy continuation lost:\n%s", p.HTML)
	}
	if !strings.Contains(string(p.HTML), "<code>"+strings.Repeat(" ", maxIndent)+"x\n</code>") {
		t.Errorf("fenced code indentation not kept to maxIndent:\n%s", p.HTML)
	}
}

func TestRawDanger(t *testing.T) {
	// The textual check must catch real attributes and not values.
	for src, want := range map[string]bool{
		`<a title=" on0=">`:                  false,
		`<a title="x" onclick="y">`:          true,
		`<img src="x" onerror=y>`:            true,
		`<a href="javascript:x">`:            true,
		`<a title="href=&quot;javascript:">`: false,
		`<SCRIPT>`:                           true,
		`<p>on0= text</p>`:                   false,
	} {
		if got := rawDanger.MatchString(src); got != want {
			t.Errorf("rawDanger(%s) = %v, want %v", src, got, want)
		}
	}
}
