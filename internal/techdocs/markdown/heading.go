package markdown

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/text/unicode/norm"
)

// headingIDTransformer gives every heading an id the way Python-Markdown's
// toc extension does, so links written for an MkDocs site keep working: ids
// set with an attribute list ({#id}) are taken as written and reserved
// first; the others are slugs of the heading text, made unique with "_1",
// "_2", ... suffixes.
type headingIDTransformer struct{}

func (headingIDTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var headings []*ast.Heading
	used := map[string]bool{}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			headings = append(headings, h)
			if id, ok := h.AttributeString("id"); ok {
				if b, ok := id.([]byte); ok {
					used[string(b)] = true
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	src := reader.Source()
	for _, h := range headings {
		if _, ok := h.AttributeString("id"); ok {
			continue
		}
		id := uniqueID(slugify(plainText(h, src)), used)
		h.SetAttributeString("id", []byte(id))
	}
}

var (
	slugDrop     = regexp.MustCompile(`[^\w\s-]`)
	slugSeparate = regexp.MustCompile(`[-\s]+`)
	idCount      = regexp.MustCompile(`^(.*)_([0-9]+)$`)
)

// slugify is Python-Markdown's toc.slugify: decompose to ASCII, drop
// punctuation, lowercase, and join words with "-".
func slugify(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if r < unicode.MaxASCII {
			b.WriteRune(r)
		}
	}
	s = strings.ToLower(strings.TrimSpace(slugDrop.ReplaceAllString(b.String(), "")))
	return slugSeparate.ReplaceAllString(s, "-")
}

// uniqueID is Python-Markdown's toc.unique: it appends or increments a "_N"
// suffix until id is new and not empty, and records it in used.
func uniqueID(id string, used map[string]bool) string {
	for used[id] || id == "" {
		if m := idCount.FindStringSubmatch(id); m != nil {
			n, _ := strconv.Atoi(m[2])
			id = m[1] + "_" + strconv.Itoa(n+1)
		} else {
			id += "_1"
		}
	}
	used[id] = true
	return id
}

// plainText returns the text a reader sees in n's inline content, with
// escapes and character references decoded and markup left out.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Text:
			v := n.Segment.Value(src)
			if !n.IsRaw() {
				v = util.UnescapePunctuations(v)
			}
			b.WriteString(html.UnescapeString(string(v)))
			if n.SoftLineBreak() || n.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(n.Value)
		case *ast.AutoLink:
			b.Write(n.Label(src))
		case *ast.RawHTML, *east.FootnoteLink:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}
