package markdown

import (
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// nodeRenderer renders this package's nodes, and headings and fenced code
// blocks in place of goldmark's renderer.
type nodeRenderer struct{}

func (r nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, r.heading)
	reg.Register(ast.KindFencedCodeBlock, r.fencedCode)
	reg.Register(kindContainer, r.container)
	reg.Register(kindContainerTitle, r.containerTitle)
	reg.Register(kindTabSet, r.tabSet)
	reg.Register(kindAbbr, r.abbr)
	reg.Register(kindAbbrDef, func(util.BufWriter, []byte, ast.Node, bool) (ast.WalkStatus, error) {
		return ast.WalkSkipChildren, nil
	})
}

// heading renders a heading with a permalink to its id, as mkdocs-material does.
func (nodeRenderer) heading(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	level := strconv.Itoa(n.Level)
	if entering {
		w.WriteString("<h" + level)
		if n.Attributes() != nil {
			html.RenderAttributes(w, node, html.HeadingAttributeFilter)
		}
		w.WriteByte('>')
		return ast.WalkContinue, nil
	}
	if id, ok := n.AttributeString("id"); ok {
		if b, ok := id.([]byte); ok {
			w.WriteString(`<a class="headerlink" href="#`)
			w.Write(util.EscapeHTML(b))
			w.WriteString(`" title="Permanent link">¶</a>`)
		}
	}
	w.WriteString("</h" + level + ">\n")
	return ast.WalkContinue, nil
}

func (nodeRenderer) container(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*containerNode)
	switch n.kind {
	case admonitionBlock:
		if entering {
			w.WriteString(`<div class="admonition ` + strings.Join(n.classes, " ") + "\">\n")
		} else {
			w.WriteString("</div>\n")
		}
	case detailsBlock:
		if entering {
			w.WriteString("<details")
			if len(n.classes) > 0 {
				w.WriteString(` class="` + strings.Join(n.classes, " ") + `"`)
			}
			if n.open {
				w.WriteString(" open")
			}
			w.WriteString(">\n")
		} else {
			w.WriteString("</details>\n")
		}
	case tabBlock:
		if entering {
			id := tabID(n)
			w.WriteString(`<input type="radio" name="__tabbed_` + strconv.Itoa(n.set) + `" id="` + id + `"`)
			if n.checked {
				w.WriteString(" checked")
			}
			w.WriteString(`><label for="` + id + `">`)
			if _, ok := n.FirstChild().(*containerTitle); !ok {
				w.WriteString("</label>\n<div class=\"tabbed-content\">\n")
			}
		} else {
			w.WriteString("</div>\n")
		}
	}
	return ast.WalkContinue, nil
}

// tabID is the id of a tab's radio input, unique within the page.
func tabID(n *containerNode) string {
	return "__tabbed_" + strconv.Itoa(n.set) + "_" + strconv.Itoa(n.index)
}

func (nodeRenderer) containerTitle(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*containerTitle)
	switch n.Parent().(*containerNode).kind {
	case admonitionBlock:
		if entering {
			w.WriteString(`<p class="admonition-title">`)
		} else {
			w.WriteString("</p>\n")
		}
	case detailsBlock:
		if entering {
			w.WriteString("<summary>")
		} else {
			w.WriteString("</summary>\n")
		}
	case tabBlock:
		// The container wrote the opening <label>.
		if !entering {
			w.WriteString("</label>\n<div class=\"tabbed-content\">\n")
		}
	}
	if entering {
		w.Write(util.EscapeHTML([]byte(n.text)))
	}
	return ast.WalkContinue, nil
}

// tabSet renders a set of content tabs that switch without JavaScript: each
// tab is a radio input, its label and its content, and CSS shows the content
// after the checked input (pymdownx.tabbed's classic layout).
func (nodeRenderer) tabSet(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		w.WriteString("<div class=\"tabbed-set\">\n")
	} else {
		w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}

func (nodeRenderer) abbr(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		w.WriteString(`<abbr title="`)
		w.Write(util.EscapeHTML([]byte(node.(*abbrNode).title)))
		w.WriteString(`">`)
	} else {
		w.WriteString("</abbr>")
	}
	return ast.WalkContinue, nil
}
