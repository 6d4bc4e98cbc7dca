package markdown

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// extracted is what a page's final HTML says about its structure. Reading
// it from the sanitized HTML, not the Markdown tree, keeps the TOC and search
// text true to what the reader sees, raw HTML included.
type extracted struct {
	firstH1 string
	toc     []Heading
	text    string
	parts   []Section // parts[0] is the text before the first h2/h3
}

// sections returns the parts for Page.Sections, the first one titled title.
func (e extracted) sections(title string) []Section {
	parts := e.parts
	parts[0].Title = title
	if parts[0].Text == "" {
		parts = parts[1:]
	}
	if len(parts) == 0 {
		return nil
	}
	return parts
}

// inlineElements do not separate words; every other tag does.
var inlineElements = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Cite: true, atom.Code: true,
	atom.Del: true, atom.Dfn: true, atom.Em: true, atom.I: true, atom.Ins: true,
	atom.Kbd: true, atom.Mark: true, atom.Q: true, atom.S: true, atom.Samp: true,
	atom.Small: true, atom.Span: true, atom.Strong: true, atom.Sub: true,
	atom.Sup: true, atom.Time: true, atom.U: true, atom.Var: true, atom.Wbr: true,
}

// skippedClasses mark generated elements whose text is not content:
// permalinks, footnote back links, code line numbers and diagram sources.
var skippedClasses = []string{"headerlink", "footnote-backref", "ln", "lnt", "mermaid"}

func extract(b []byte) extracted {
	var (
		z        = html.NewTokenizer(bytes.NewReader(b))
		ex       = extracted{parts: []Section{{}}}
		page     strings.Builder
		part     strings.Builder
		heading  *Heading // the heading being read
		hText    strings.Builder
		skipTag  atom.Atom // inside an element whose text is skipped
		skipOpen int
		seenH1   bool
	)
	endPart := func() {
		ex.parts[len(ex.parts)-1].Text = collapse(part.String())
		part.Reset()
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			endPart()
			ex.text = collapse(page.String())
			return ex
		case html.TextToken:
			if skipOpen > 0 {
				continue
			}
			t := z.Text()
			page.Write(t)
			if heading != nil {
				hText.Write(t)
			} else {
				part.Write(t)
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if !inlineElements[a] {
				page.WriteByte(' ')
				if heading != nil {
					hText.WriteByte(' ')
				} else {
					part.WriteByte(' ')
				}
			}
			if skipOpen > 0 {
				if a == skipTag && tt == html.StartTagToken {
					skipOpen++
				} else if a == skipTag && tt == html.EndTagToken {
					skipOpen--
				}
				continue
			}
			if tt == html.EndTagToken {
				if heading != nil && headingLevel(a) == heading.Level {
					h := *heading
					h.Text = collapse(hText.String())
					heading = nil
					switch {
					case h.Level == 1 && !seenH1:
						seenH1, ex.firstH1 = true, h.Text
					case h.ID == "":
						part.WriteString(" " + h.Text + " ")
					default:
						ex.toc = append(ex.toc, h)
						if h.Level <= 3 && h.Level >= 2 {
							endPart()
							ex.parts = append(ex.parts, Section{ID: h.ID, Title: h.Text})
						} else {
							part.WriteString(" " + h.Text + " ")
						}
					}
				}
				continue
			}
			var id, class string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "id":
					id = string(v)
				case "class":
					class = string(v)
				}
			}
			if tt == html.StartTagToken && (a == atom.A || a == atom.Span || a == atom.Pre) && hasClass(class, skippedClasses) {
				skipTag, skipOpen = a, 1
				continue
			}
			if level := headingLevel(a); level > 0 && heading == nil && tt == html.StartTagToken {
				heading = &Heading{Level: level, ID: id}
				hText.Reset()
			}
		}
	}
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

func hasClass(class string, any []string) bool {
	for _, c := range strings.Fields(class) {
		for _, want := range any {
			if c == want {
				return true
			}
		}
	}
	return false
}

// collapse trims s and turns every run of white space into one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
