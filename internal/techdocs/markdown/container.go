package markdown

import (
	"regexp"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// containerKind tells the three indented block syntaxes apart.
type containerKind int

const (
	admonitionBlock containerKind = iota // !!! type "Title"  (Python-Markdown admonition)
	detailsBlock                         // ??? type "Title"  (pymdownx.details)
	tabBlock                             // === "Title"       (pymdownx.tabbed)
)

// containerNode is an admonition, a collapsible details block or one content
// tab. Its first child is a containerTitle when it has a title; the rest is
// the content, indented by four spaces in the source.
type containerNode struct {
	ast.BaseBlock
	kind    containerKind
	classes []string // admonition and details: style first, then extra classes
	open    bool     // details: "???+"; tab: "===+" (selected)
	newSet  bool     // tab: "===!" starts a new tab set

	// Set by tabSetTransformer for tabs.
	set, index int
	checked    bool
}

var kindContainer = ast.NewNodeKind("Container")

func (n *containerNode) Kind() ast.NodeKind { return kindContainer }

func (n *containerNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"classes": strings.Join(n.classes, " ")}, nil)
}

// containerTitle holds a container's title; its line is parsed as inline
// Markdown, as Python-Markdown does for admonition titles.
type containerTitle struct {
	ast.BaseBlock
	// text is the title when none was written: the type, capitalized.
	text string
}

var kindContainerTitle = ast.NewNodeKind("ContainerTitle")

func (n *containerTitle) Kind() ast.NodeKind { return kindContainerTitle }

func (n *containerTitle) Dump(source []byte, level int) { ast.DumpHelper(n, source, level, nil, nil) }

var (
	// The patterns follow the Python extensions: one or more [\w-] words,
	// then an optional title in double quotes.
	admonitionRe = regexp.MustCompile(`^!!! ?([\w-]+(?: +[\w-]+)*)(?: +"(.*?)")? *\r?\n?$`)
	detailsRe    = regexp.MustCompile(`^(\?\?\?\+?) ?(?:([\w-]+(?: +[\w-]+)*?)?(?: +"(.*?)")|([\w-]+(?: +[\w-]+)*?)) *\r?\n?$`)
	tabRe        = regexp.MustCompile(`^===(\+!|!\+|!|\+)? +"(.*?)" *\r?\n?$`)
)

// admonitionStyles maps every admonition type mkdocs-material styles,
// aliases included, to the style it uses.
var admonitionStyles = map[string]string{
	"note": "note", "seealso": "note",
	"abstract": "abstract", "summary": "abstract", "tldr": "abstract",
	"info": "info", "todo": "info",
	"tip": "tip", "hint": "tip", "important": "tip",
	"success": "success", "check": "success", "done": "success",
	"question": "question", "help": "question", "faq": "question",
	"warning": "warning", "caution": "warning", "attention": "warning",
	"failure": "failure", "fail": "failure", "missing": "failure",
	"danger": "danger", "error": "danger",
	"bug":     "bug",
	"example": "example",
	"quote":   "quote", "cite": "quote",
}

// containerParser parses admonitions, details and content tabs.
type containerParser struct{}

func (containerParser) Trigger() []byte { return []byte{'!', '?', '='} }

func (containerParser) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	if depth(parent) >= maxDepth {
		return nil, parser.NoChildren
	}
	line, seg := reader.PeekLine()
	// line may start with padding spaces that are not in the source, then
	// up to three columns of indentation.
	_, pos := util.IndentWidth(line, reader.LineOffset())
	line = line[pos:]
	base := seg.Start - seg.Padding + pos
	if len(line) == 0 {
		return nil, parser.NoChildren
	}
	var (
		node       = &containerNode{}
		words      string
		title      []int // start, end of the title in line; nil for none
		hasTitle   bool  // a quoted title was written, perhaps empty
		defaultTtl string
	)
	switch line[0] {
	case '!':
		m := admonitionRe.FindSubmatchIndex(line)
		if m == nil {
			return nil, parser.NoChildren
		}
		node.kind = admonitionBlock
		words = string(line[m[2]:m[3]])
		if m[4] >= 0 {
			hasTitle, title = true, m[4:6]
		}
	case '?':
		m := detailsRe.FindSubmatchIndex(line)
		if m == nil {
			return nil, parser.NoChildren
		}
		node.kind = detailsBlock
		node.open = m[3]-m[2] == 4
		switch {
		case m[8] >= 0:
			words = string(line[m[8]:m[9]])
		case m[4] >= 0:
			words = string(line[m[4]:m[5]])
		}
		if m[6] >= 0 {
			hasTitle, title = true, m[6:8]
		}
	case '=':
		m := tabRe.FindSubmatchIndex(line)
		if m == nil {
			return nil, parser.NoChildren
		}
		node.kind = tabBlock
		if m[2] >= 0 {
			flags := string(line[m[2]:m[3]])
			node.open = strings.Contains(flags, "+")
			node.newSet = strings.Contains(flags, "!")
		}
		hasTitle, title = true, m[4:6]
	default:
		return nil, parser.NoChildren
	}

	if node.kind != tabBlock {
		fields := strings.Fields(words)
		typ := "note"
		if len(fields) > 0 {
			typ = strings.ToLower(fields[0])
			defaultTtl = strings.ToUpper(typ[:1]) + typ[1:]
		} else {
			// "??? "Title"" has no type; pymdownx styles it as a plain details.
			fields = nil
		}
		style, ok := admonitionStyles[typ]
		if !ok {
			style = "note"
			stateOf(pc).warn(seg.Start, "unknown admonition type %q, styled as note", typ)
		}
		if len(fields) > 0 || node.kind == admonitionBlock {
			node.classes = append(node.classes, style)
			for _, f := range fields {
				if f != style {
					node.classes = append(node.classes, f)
				}
			}
		}
	}

	t := &containerTitle{}
	switch {
	case hasTitle && title[1] > title[0]:
		t.Lines().Append(text.NewSegment(base+title[0], base+title[1]))
		node.AppendChild(node, t)
	case node.kind == tabBlock:
		node.AppendChild(node, t) // an empty label still selects the tab
	case !hasTitle && defaultTtl != "":
		t.text = defaultTtl
		node.AppendChild(node, t)
	}
	reader.AdvanceToEOL()
	return node, parser.HasChildren
}

// Continue keeps lines indented by four or more columns, and blank lines, in
// the container; the first other line closes it.
func (containerParser) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	line, _ := reader.PeekLine()
	if util.IsBlank(line) {
		reader.AdvanceToEOL()
		return parser.Continue | parser.HasChildren
	}
	indent, _ := util.IndentWidth(line, reader.LineOffset())
	if indent < 4 {
		return parser.Close
	}
	pos, padding := util.IndentPosition(line, reader.LineOffset(), 4)
	reader.AdvanceAndSetPadding(pos, padding)
	return parser.Continue | parser.HasChildren
}

func (containerParser) Close(node ast.Node, reader text.Reader, pc parser.Context) {}

func (containerParser) CanInterruptParagraph() bool { return true }

func (containerParser) CanAcceptIndentedLine() bool { return false }

// tabSetNode groups consecutive content tabs into one set.
type tabSetNode struct {
	ast.BaseBlock
	set int // 1-based, in document order; makes input ids unique in the page
}

var kindTabSet = ast.NewNodeKind("TabSet")

func (n *tabSetNode) Kind() ast.NodeKind { return kindTabSet }

func (n *tabSetNode) Dump(source []byte, level int) { ast.DumpHelper(n, source, level, nil, nil) }

// tabSetTransformer wraps each run of sibling tabs in a tabSetNode. A tab
// written "===!" starts a new set even right after another tab.
type tabSetTransformer struct{}

func (tabSetTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var parents []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && n.Type() != ast.TypeInline {
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if isTab(c) {
					parents = append(parents, n)
					break
				}
			}
		}
		return ast.WalkContinue, nil
	})
	for _, p := range parents {
		var set *tabSetNode
		for c := p.FirstChild(); c != nil; {
			next := c.NextSibling()
			if !isTab(c) {
				set = nil
				c = next
				continue
			}
			tab := c.(*containerNode)
			if set == nil || tab.newSet {
				set = &tabSetNode{}
				p.InsertBefore(p, c, set)
			}
			p.RemoveChild(p, c)
			set.AppendChild(set, c)
			c = next
		}
	}
	// Number sets and tabs in document order, and check one tab per set:
	// the first "===+" one, else the first.
	sets := 0
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		set, ok := n.(*tabSetNode)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		sets++
		set.set = sets
		var checked *containerNode
		i := 0
		for c := set.FirstChild(); c != nil; c = c.NextSibling() {
			tab := c.(*containerNode)
			i++
			tab.set, tab.index = set.set, i
			if checked == nil || (tab.open && !checked.open) {
				checked = tab
			}
		}
		checked.checked = true
		return ast.WalkContinue, nil
	})
}

func isTab(n ast.Node) bool {
	c, ok := n.(*containerNode)
	return ok && c.kind == tabBlock
}
