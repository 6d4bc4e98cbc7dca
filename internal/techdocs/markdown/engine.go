package markdown

import (
	"bytes"
	"fmt"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// md is built once: goldmark parsers and renderers are stateless, and all
// per-page state travels in the parser context (see state).
// mdNoHTML leaves raw HTML out (Options.NoRawHTML).
var md, mdNoHTML = newMarkdown(true), newMarkdown(false)

func newMarkdown(rawHTML bool) goldmark.Markdown {
	var blocks []util.PrioritizedValue
	for _, v := range parser.DefaultBlockParsers() {
		if bp, ok := v.Value.(parser.BlockParser); ok && isContainerParser(bp) {
			v.Value = depthLimited{bp}
		}
		blocks = append(blocks, v)
	}
	blocks = append(blocks,
		// Before the thematic break and list parsers, which share triggers.
		util.Prioritized(abbrDefParser{}, 90),
		util.Prioritized(containerParser{}, 90),
	)
	p := parser.NewParser(
		parser.WithBlockParsers(blocks...),
		parser.WithInlineParsers(parser.DefaultInlineParsers()...),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
		parser.WithAttribute(),
		parser.WithASTTransformers(
			util.Prioritized(tabSetTransformer{}, 100),
			util.Prioritized(headingIDTransformer{}, 200),
			util.Prioritized(linkTransformer{}, 300),
			util.Prioritized(taskListTransformer{}, 400),
			util.Prioritized(abbrTransformer{}, 500),
		),
	)
	return goldmark.New(
		goldmark.WithParser(p),
		goldmark.WithExtensions(
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough,
			extension.Linkify,
			extension.TaskList,
			extension.Footnote,
			extension.DefinitionList,
		),
		goldmark.WithRendererOptions(rendererOptions(rawHTML)...),
	)
}

func rendererOptions(rawHTML bool) []renderer.Option {
	opts := []renderer.Option{renderer.WithNodeRenderers(util.Prioritized(nodeRenderer{}, 100))}
	if rawHTML {
		// Raw HTML is kept here and sanitized with everything else.
		opts = append(opts, html.WithUnsafe())
	}
	return opts
}

// isContainerParser reports whether p opens blocks that hold other blocks.
func isContainerParser(p parser.BlockParser) bool {
	switch p {
	case parser.NewBlockquoteParser(), parser.NewListParser(), parser.NewListItemParser():
		return true
	}
	return false
}

// depthLimited wraps a container block parser so that it refuses to open a
// block nested deeper than maxDepth; the markers then become paragraph text.
type depthLimited struct {
	parser.BlockParser
}

func (d depthLimited) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	if depth(parent) >= maxDepth {
		return nil, parser.NoChildren
	}
	return d.BlockParser.Open(parent, reader, pc)
}

// depth counts n's ancestors.
func depth(n ast.Node) int {
	d := 0
	for p := n.Parent(); p != nil; p = p.Parent() {
		d++
	}
	return d
}

// stateKey holds the *state of the page being rendered in the parser context.
var stateKey = parser.NewContextKey()

// state is what one Render call shares between its parser extensions.
type state struct {
	opts       Options
	source     []byte // the Markdown body, front matter removed
	lineOffset int    // lines of front matter before source
	warnings   []string
	abbrs      map[string]string // abbreviation -> expansion
}

func stateOf(pc parser.Context) *state {
	return pc.Get(stateKey).(*state)
}

// warn records a warning about the Markdown at byte offset pos of the body.
func (s *state) warn(pos int, format string, args ...any) {
	line := s.lineOffset + bytes.Count(s.source[:min(pos, len(s.source))], []byte{'\n'}) + 1
	s.warnings = append(s.warnings, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
}
