// Package markdown renders one TechDocs Markdown page to sanitized HTML plus
// the metadata a docs site needs: title, table of contents, front matter and
// plain text for search.
//
// It understands the dialect MkDocs users write for Backstage's techdocs-core
// (Python-Markdown with mkdocs-material and pymdownx extensions): GitHub
// flavoured Markdown, heading anchors and attribute lists, fenced code with
// highlighting, admonitions, collapsible details, content tabs, footnotes,
// definition lists, abbreviations, YAML front matter and Mermaid blocks.
//
// Everything Render emits, generated or written by the author, passes through
// one allow-list sanitizer at the end, so the HTML is safe to embed in the
// portal without further escaping. The classes it emits are styled by CSS.
package markdown

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/parser"
)

// MaxSize is the largest page Render accepts, in bytes.
const MaxSize = 8 << 20

// maxDepth bounds how deeply block containers (block quotes, lists,
// admonitions, tabs) nest. Deeper markers are rendered as text. Goldmark
// revisits every open container on every line, so without a bound a page of
// nested "> > > ..." costs quadratic time.
const maxDepth = 48

// Options configure Render.
type Options struct {
	// ResolveLink rewrites a link or image target written in the page. Only
	// relative targets are passed: not absolute URLs (anything with a scheme,
	// or starting with "//"), not "#fragment" alone, not mailto:. Path-absolute
	// targets such as "/other/page.md" are passed, so the resolver can decide
	// how they map onto the site. The target arrives with Markdown escapes and
	// character references decoded, query and fragment still attached; image
	// is true for images. It returns the URL to put in the HTML. A nil
	// ResolveLink keeps targets as written. Links in raw HTML are not passed.
	ResolveLink func(target string, image bool) string
	// NoRawHTML leaves raw HTML out of the page (goldmark writes a
	// comment in its place), as Backstage's MarkdownContent does for
	// template output texts.
	NoRawHTML bool
}

// Heading is one entry of a page's table of contents.
type Heading struct {
	Level int    // 1..6
	ID    string // the anchor, unique within the page
	Text  string // plain text
}

// Section is one part of a page for a search index: the text between a
// level 2 or 3 heading and the next one.
type Section struct {
	// ID is the heading's anchor; "" for the part before the first heading.
	ID string
	// Title is the heading's plain text; the page title for the part before
	// the first heading.
	Title string
	// Text is the section's plain text, whitespace-collapsed.
	Text string
}

// Page is a rendered Markdown page.
type Page struct {
	// Title is the front matter "title", else the first h1's text, else "".
	Title string
	// Description is the front matter "description".
	Description string
	// Meta is the whole front matter; nil if there is none or it is empty.
	Meta map[string]any
	// HTML is the sanitized HTML of the body.
	HTML []byte
	// TOC lists the headings that have an anchor: h2..h6, and h1s after the
	// first, in document order.
	TOC []Heading
	// Text is the page's plain text, whitespace-collapsed, for search indexes.
	Text string
	// Sections is the page split at h2 and h3 headings, for a search index.
	// The part before the first such heading comes first, with ID "" and the
	// page title; it is left out when it has no text.
	Sections []Section
	// Warnings lists non-fatal problems (bad front matter, unknown admonition
	// type, ...), with line numbers where known.
	Warnings []string
}

// Render renders src. It fails only for input it refuses: more than MaxSize
// bytes. Invalid UTF-8 is replaced with U+FFFD, not refused. Render is safe
// for concurrent use.
func Render(src []byte, opts Options) (*Page, error) {
	if len(src) > MaxSize {
		return nil, fmt.Errorf("markdown: page is %d bytes, larger than the %d byte limit", len(src), MaxSize)
	}
	src = clean(src)

	page := &Page{}
	fm := splitFrontMatter(src)
	page.Warnings = append(page.Warnings, fm.warnings...)
	if len(fm.meta) > 0 {
		page.Meta = fm.meta
		page.Title = metaString(fm.meta, "title", &page.Warnings)
		page.Description = metaString(fm.meta, "description", &page.Warnings)
	}

	st := &state{opts: opts, source: fm.body, lineOffset: fm.bodyLine - 1}
	pc := parser.NewContext()
	pc.Set(stateKey, st)
	var buf bytes.Buffer
	buf.Grow(len(fm.body) * 2)
	engine := md
	if opts.NoRawHTML {
		engine = mdNoHTML
	}
	if err := engine.Convert(fm.body, &buf, parser.WithContext(pc)); err != nil {
		// Goldmark only fails when writing fails, and a bytes.Buffer does not.
		return nil, fmt.Errorf("markdown: render: %w", err)
	}
	page.Warnings = append(page.Warnings, st.warnings...)
	page.HTML = policy.SanitizeBytes(buf.Bytes())

	ex := extract(page.HTML)
	if page.Title == "" {
		page.Title = ex.firstH1
	}
	page.TOC = ex.toc
	page.Text = ex.text
	page.Sections = ex.sections(page.Title)
	return page, nil
}

// maxIndent is the most leading white space, in bytes, a line keeps. Goldmark
// measures a line's indentation once for every open container, so long runs
// of it cost time without changing the structure (nesting stops at maxDepth
// anyway); only code indented further than this loses spaces.
const maxIndent = 256

// clean replaces invalid UTF-8 and NUL bytes with U+FFFD, as CommonMark
// asks for NUL, so that every later stage sees valid text, and shortens
// leading white space to maxIndent.
func clean(src []byte) []byte {
	if !utf8.Valid(src) || bytes.IndexByte(src, 0) >= 0 {
		src = bytes.ToValidUTF8(src, []byte("\uFFFD"))
		src = bytes.ReplaceAll(src, []byte{0}, []byte("\uFFFD"))
	}
	if !hasLongIndent(src) {
		return src
	}
	out := make([]byte, 0, len(src))
	for len(src) > 0 {
		line, rest, newline := bytes.Cut(src, []byte{'\n'})
		if n := len(line) - len(bytes.TrimLeft(line, " \t")); n > maxIndent {
			line = line[n-maxIndent:]
		}
		out = append(out, line...)
		if newline {
			out = append(out, '\n')
		}
		src = rest
	}
	return out
}

// hasLongIndent reports whether a line of src starts with more than
// maxIndent bytes of white space.
func hasLongIndent(src []byte) bool {
	run, start := 0, true
	for _, c := range src {
		switch {
		case c == '\n':
			run, start = 0, true
		case start && (c == ' ' || c == '\t'):
			if run++; run > maxIndent {
				return true
			}
		default:
			start = false
		}
	}
	return false
}

// metaString returns front matter key as a string. Scalars other than
// strings are formatted; lists and maps are reported and ignored.
func metaString(meta map[string]any, key string, warnings *[]string) string {
	v, ok := meta[key]
	if !ok || v == nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v)
	default:
		*warnings = append(*warnings, fmt.Sprintf("front matter: %q is a %T, not a string; ignored", key, v))
		return ""
	}
}
