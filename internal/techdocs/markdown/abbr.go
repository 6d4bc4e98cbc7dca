package markdown

import (
	"regexp"
	"sort"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// abbrDefRe matches an abbreviation definition, "*[HTML]: Hyper Text Markup Language".
var abbrDefRe = regexp.MustCompile(`^\*\[([^\]]+)\]:[ \t]*(.*?)[ \t\r]*\n?$`)

// abbrDefParser takes abbreviation definitions out of the page and records
// them for abbrTransformer. Like Python-Markdown's abbr extension, a
// definition applies to the whole page, before and after it.
type abbrDefParser struct{}

// abbrDefNode marks where a definition was; it renders as nothing.
type abbrDefNode struct {
	ast.BaseBlock
}

var kindAbbrDef = ast.NewNodeKind("AbbreviationDefinition")

func (n *abbrDefNode) Kind() ast.NodeKind { return kindAbbrDef }

func (n *abbrDefNode) Dump(source []byte, level int) { ast.DumpHelper(n, source, level, nil, nil) }

func (abbrDefParser) Trigger() []byte { return []byte{'*'} }

func (abbrDefParser) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	line, _ := reader.PeekLine()
	_, pos := util.IndentWidth(line, reader.LineOffset())
	m := abbrDefRe.FindSubmatch(line[pos:])
	if m == nil {
		return nil, parser.NoChildren
	}
	abbr := strings.TrimSpace(string(m[1]))
	if abbr == "" {
		return nil, parser.NoChildren
	}
	st := stateOf(pc)
	if st.abbrs == nil {
		st.abbrs = map[string]string{}
	}
	st.abbrs[abbr] = string(m[2])
	reader.AdvanceToEOL()
	return &abbrDefNode{}, parser.NoChildren
}

func (abbrDefParser) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	return parser.Close
}

func (abbrDefParser) Close(node ast.Node, reader text.Reader, pc parser.Context) {}

func (abbrDefParser) CanInterruptParagraph() bool { return true }

func (abbrDefParser) CanAcceptIndentedLine() bool { return false }

// abbrNode is an abbreviation in the text; its child is the abbreviation.
type abbrNode struct {
	ast.BaseInline
	title string
}

var kindAbbr = ast.NewNodeKind("Abbreviation")

func (n *abbrNode) Kind() ast.NodeKind { return kindAbbr }

func (n *abbrNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"title": n.title}, nil)
}

// abbrTransformer wraps every whole-word occurrence of a defined
// abbreviation in text, outside code and links' destinations, in an abbrNode.
type abbrTransformer struct{}

func (abbrTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	st := stateOf(pc)
	if len(st.abbrs) == 0 {
		return
	}
	words := make([]string, 0, len(st.abbrs))
	for w := range st.abbrs {
		words = append(words, w)
	}
	// Longest first, so "HTML5" wins over "HTML".
	sort.Slice(words, func(i, j int) bool {
		if len(words[i]) != len(words[j]) {
			return len(words[i]) > len(words[j])
		}
		return words[i] < words[j]
	})
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	re, err := regexp.Compile(`\b(?:` + strings.Join(words, "|") + `)\b`)
	if err != nil {
		return // cannot happen: the words are quoted
	}

	var texts []*ast.Text
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.CodeSpan, *ast.FencedCodeBlock, *ast.CodeBlock, *ast.HTMLBlock, *ast.RawHTML, *abbrNode:
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			texts = append(texts, n)
		}
		return ast.WalkContinue, nil
	})
	src := reader.Source()
	for _, t := range texts {
		splitAbbrs(t, src, re, st.abbrs)
	}
}

// splitAbbrs replaces t by text and abbreviation nodes.
func splitAbbrs(t *ast.Text, src []byte, re *regexp.Regexp, abbrs map[string]string) {
	seg := t.Segment
	matches := re.FindAllIndex(seg.Value(src), -1)
	if matches == nil {
		return
	}
	parent := t.Parent()
	at := seg.Start
	insert := func(n ast.Node) { parent.InsertBefore(parent, t, n) }
	for _, m := range matches {
		if seg.Start+m[0] > at {
			insert(ast.NewTextSegment(text.NewSegment(at, seg.Start+m[0])))
		}
		word := text.NewSegment(seg.Start+m[0], seg.Start+m[1])
		a := &abbrNode{title: abbrs[string(word.Value(src))]}
		a.AppendChild(a, ast.NewTextSegment(word))
		insert(a)
		at = word.Stop
	}
	// The rest keeps t's line break flags, so t itself stays as the last piece.
	t.Segment = text.NewSegment(at, seg.Stop)
	if at == seg.Stop && !t.SoftLineBreak() && !t.HardLineBreak() {
		parent.RemoveChild(parent, t)
	}
}
