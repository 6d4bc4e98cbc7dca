package markdown

import (
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// policy is the allow-list every page's final HTML passes through. It keeps
// what Markdown, the extensions and careful authors produce, and nothing
// that runs code or changes the page around it: no script, style, iframe,
// object, form, base or meta elements, no event handler or style
// attributes, and only http, https, mailto and relative URLs. data: URLs are
// refused everywhere, images included: the policy cannot allow them for
// img src alone, and docs can ship image files instead.
var policy = newPolicy()

var (
	safeID    = regexp.MustCompile(`^[\p{L}\p{N}_:.-]+$`)
	safeClass = regexp.MustCompile(`^[\w -]+$`)
	safeWord  = regexp.MustCompile(`^[a-z-]+$`)
	number    = regexp.MustCompile(`^[0-9]{1,5}$`)
)

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowStandardURLs() // http, https, mailto, relative; must parse
	p.RequireNoFollowOnLinks(false)
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	p.AllowElements(
		"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
		"kbd", "samp", "var", "em", "strong", "b", "i", "u", "s", "del", "ins", "mark",
		"small", "sub", "sup", "abbr", "dfn", "cite", "q", "time", "wbr", "span", "div",
		"ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "th",
		"td", "caption", "colgroup", "col", "details", "summary", "figure", "figcaption",
		"label", "input", "a", "img", "section", "article", "aside", "center",
	)
	p.AllowAttrs("id").Matching(safeID).Globally()
	p.AllowAttrs("class").Matching(safeClass).Globally()
	p.AllowAttrs("title").Globally()
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[A-Za-z0-9-]{1,35}$`)).Globally()
	p.AllowAttrs("dir").Matching(regexp.MustCompile(`^(?i)(ltr|rtl|auto)$`)).Globally()
	p.AllowAttrs("role").Matching(safeWord).Globally()

	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src", "alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(number).OnElements("img")
	p.AllowAttrs("loading").Matching(regexp.MustCompile(`^(lazy|eager)$`)).OnElements("img")
	p.AllowAttrs("cite").OnElements("blockquote", "q", "del", "ins")
	p.AllowAttrs("datetime").Matching(regexp.MustCompile(`^[\w:.+ -]+$`)).OnElements("time", "del", "ins")

	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|center|right)$`)).OnElements("th", "td")
	p.AllowAttrs("colspan", "rowspan").Matching(number).OnElements("th", "td")
	p.AllowAttrs("span").Matching(number).OnElements("col", "colgroup")
	p.AllowAttrs("start").Matching(number).OnElements("ol")
	p.AllowAttrs("reversed").OnElements("ol")
	p.AllowAttrs("value").Matching(number).OnElements("li")

	p.AllowAttrs("open").OnElements("details")
	// Task list checkboxes and content tabs' radio buttons. Without a form
	// an input submits nothing.
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^(checkbox|radio)$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").OnElements("input")
	p.AllowAttrs("name").Matching(safeID).OnElements("input")
	p.AllowAttrs("for").Matching(safeID).OnElements("label")
	return p
}
