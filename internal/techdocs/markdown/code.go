package markdown

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// maxHighlight is the largest code block that gets highlighted; larger ones
// are shown plain, because lexing cost is hard to bound.
const maxHighlight = 256 << 10

// codeInfo is a fenced code block's info string: the language and the
// pymdownx.superfences / highlight options Atrium understands.
type codeInfo struct {
	lang     string
	title    string
	linenums int // first line number; 0 for no line numbers
	hlLines  [][2]int
}

var (
	infoOption = regexp.MustCompile(`([\w-]+)=("[^"]*"|'[^']*'|\S+)`)
	langName   = regexp.MustCompile(`^[\w#+.-]+$`)
)

// parseInfo reads "python title="a.py" linenums="1" hl_lines="2 3-4"" and
// the attribute-list form "{.python title="a.py"}".
func parseInfo(info string) codeInfo {
	info = strings.TrimSpace(info)
	if strings.HasPrefix(info, "{") {
		info = strings.TrimSuffix(strings.TrimPrefix(info, "{"), "}")
	}
	var ci codeInfo
	for _, m := range infoOption.FindAllStringSubmatch(info, -1) {
		v := strings.Trim(m[2], `"'`)
		switch m[1] {
		case "title":
			ci.title = v
		case "linenums":
			if n, err := strconv.Atoi(strings.Fields(v + " 0")[0]); err == nil && n > 0 {
				ci.linenums = n
			}
		case "hl_lines":
			ci.hlLines = parseLineRanges(v)
		}
	}
	for _, w := range strings.Fields(infoOption.ReplaceAllString(info, "")) {
		w = strings.TrimPrefix(w, ".")
		if langName.MatchString(w) && !strings.HasPrefix(w, "#") {
			ci.lang = strings.ToLower(w)
			break
		}
	}
	return ci
}

// parseLineRanges reads "2 3-4" into [[2 2] [3 4]].
func parseLineRanges(v string) [][2]int {
	var out [][2]int
	for _, f := range strings.Fields(v) {
		lo, hi, _ := strings.Cut(f, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if hi == "" {
			b, err2 = a, nil
		}
		if err1 == nil && err2 == nil && a > 0 && b >= a {
			out = append(out, [2]int{a, b})
		}
	}
	return out
}

func (nodeRenderer) fencedCode(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.FencedCodeBlock)
	var ci codeInfo
	if n.Info != nil {
		ci = parseInfo(string(n.Info.Segment.Value(src)))
	}
	var code bytes.Buffer
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		code.Write(seg.Value(src))
	}

	if ci.lang == "mermaid" {
		// Left for a client-side renderer, which reads the text content.
		w.WriteString(`<pre class="mermaid">`)
		w.Write(util.EscapeHTML(code.Bytes()))
		w.WriteString("</pre>\n")
		return ast.WalkSkipChildren, nil
	}

	w.WriteString(`<div class="highlight">`)
	if ci.title != "" {
		w.WriteString(`<span class="filename">`)
		w.Write(util.EscapeHTML([]byte(ci.title)))
		w.WriteString("</span>")
	}
	if !highlight(w, code.String(), ci) {
		w.WriteString("<pre><code")
		if ci.lang != "" {
			w.WriteString(` class="language-`)
			w.Write(util.EscapeHTML([]byte(ci.lang)))
			w.WriteString(`"`)
		}
		w.WriteString(">")
		w.Write(util.EscapeHTML(code.Bytes()))
		w.WriteString("</code></pre>")
	}
	w.WriteString("</div>\n")
	return ast.WalkSkipChildren, nil
}

// highlight writes code highlighted for ci.lang, and reports whether it
// could: the language must be known to chroma and the code not too large.
// Tokens become spans with chroma's CSS classes (styled by CSS()), never
// inline styles, one span.line per line as chroma's HTML formatter writes
// them; writing them here avoids that formatter's per-call style setup.
func highlight(w util.BufWriter, code string, ci codeInfo) bool {
	if ci.lang == "" || len(code) > maxHighlight {
		return false
	}
	lexer := lexers.Get(ci.lang)
	if lexer == nil {
		return false
	}
	it, err := chroma.Coalesce(lexer).Tokenise(nil, code)
	if err != nil {
		return false
	}
	base := max(ci.linenums, 1)
	w.WriteString(`<pre class="chroma"><code>`)
	for i, line := range chroma.SplitTokensIntoLines(it.Tokens()) {
		w.WriteString(`<span class="line`)
		if inRanges(i+1, ci.hlLines) {
			w.WriteString(" hl")
		}
		w.WriteString(`">`)
		if ci.linenums > 0 {
			w.WriteString(`<span class="ln">` + strconv.Itoa(base+i) + "</span>")
		}
		w.WriteString(`<span class="cl">`)
		for _, t := range line {
			class := tokenClass(t.Type)
			if class != "" {
				w.WriteString(`<span class="` + class + `">`)
			}
			w.Write(util.EscapeHTML([]byte(t.Value)))
			if class != "" {
				w.WriteString("</span>")
			}
		}
		w.WriteString("</span></span>")
	}
	w.WriteString("</code></pre>")
	return true
}

// tokenClass is the CSS class chroma uses for t: its own, or its nearest
// ancestor's.
func tokenClass(t chroma.TokenType) string {
	for ; t != 0; t = t.Parent() {
		if class, ok := chroma.StandardTypes[t]; ok {
			return class
		}
	}
	return ""
}

func inRanges(n int, ranges [][2]int) bool {
	for _, r := range ranges {
		if n >= r[0] && n <= r[1] {
			return true
		}
	}
	return false
}
