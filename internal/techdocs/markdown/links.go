package markdown

import (
	"html"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// linkTransformer passes relative link and image targets through
// Options.ResolveLink.
type linkTransformer struct{}

func (linkTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	resolve := stateOf(pc).opts.ResolveLink
	if resolve == nil {
		return
	}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			n.Destination = resolveTarget(n.Destination, false, resolve)
		case *ast.Image:
			n.Destination = resolveTarget(n.Destination, true, resolve)
		}
		return ast.WalkContinue, nil
	})
}

// resolveTarget decodes a destination as the HTML renderer would, passes it
// to resolve if it is relative, and encodes the result so that the renderer's
// decoding gives it back unchanged.
func resolveTarget(dest []byte, image bool, resolve func(string, bool) string) []byte {
	target := decodeDestination(dest)
	if !isRelative(target) {
		return dest
	}
	out := resolve(target, image)
	var b strings.Builder
	for _, c := range []byte(out) {
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteByte(c)
		}
	}
	return []byte(b.String())
}

// decodeDestination resolves backslash escapes and character references in
// a link destination.
func decodeDestination(dest []byte) string {
	return html.UnescapeString(string(util.UnescapePunctuations(dest)))
}

// isRelative reports whether target is a relative URL reference other than
// a bare fragment: no scheme, not "//host". Control characters and spaces,
// which browsers strip, do not hide a scheme.
func isRelative(target string) bool {
	t := strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, target)
	if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") || strings.HasPrefix(t, `\\`) || strings.HasPrefix(t, `/\`) {
		return false
	}
	// A scheme is letters, digits, "+", "-", "." before the first ":", and
	// the ":" comes before any "/", "?" or "#".
	if i := strings.IndexAny(t, ":/?#"); i > 0 && t[i] == ':' {
		return false
	}
	return true
}

// taskListTransformer marks task list items and their lists with the classes
// pymdownx.tasklist uses, so CSS can drop their bullets.
type taskListTransformer struct{}

func (taskListTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if _, ok := n.(*east.TaskCheckBox); !ok || !entering {
			return ast.WalkContinue, nil
		}
		// TaskCheckBox -> TextBlock or Paragraph -> ListItem -> List
		item := n.Parent().Parent()
		if _, ok := item.(*ast.ListItem); ok {
			item.SetAttributeString("class", []byte("task-list-item"))
			item.Parent().SetAttributeString("class", []byte("task-list"))
		}
		return ast.WalkContinue, nil
	})
}
