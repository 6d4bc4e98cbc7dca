package build

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
	"sync"
)

// fakeRenderer stands in for the Markdown renderer: "# T" gives the
// title, "## H" a heading and a section, [text](target) and
// ![alt](target) links and images, each resolved through the builder and
// recorded. Every other line becomes an escaped <p>.
type fakeRenderer struct {
	mu       sync.Mutex
	resolved map[string]string // "title|target" -> resolved URL
	calls    int
	// onRender, if set, runs at the start of each call.
	onRender func(call int)
}

var linkRE = regexp.MustCompile(`(!?)\[([^\]]*)\]\(([^)\s]*)\)`)

func newFakeRenderer() *fakeRenderer { return &fakeRenderer{resolved: map[string]string{}} }

func (f *fakeRenderer) Render(src []byte, resolve func(string, bool) string) (*RenderedPage, error) {
	f.mu.Lock()
	f.calls++
	call := f.calls
	hook := f.onRender
	f.mu.Unlock()
	if hook != nil {
		hook(call)
	}
	r := &RenderedPage{}
	var body, text bytes.Buffer
	var sec *Section
	for line := range strings.Lines(string(src)) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "# ") && r.Title == "":
			r.Title = strings.TrimPrefix(line, "# ")
			fmt.Fprintf(&body, "<h1>%s</h1>\n", html.EscapeString(r.Title))
		case strings.HasPrefix(line, "## "):
			h := strings.TrimPrefix(line, "## ")
			id := slug(h)
			r.TOC = append(r.TOC, Heading{Level: 2, ID: id, Text: h})
			r.Sections = append(r.Sections, Section{ID: id, Title: h})
			sec = &r.Sections[len(r.Sections)-1]
			fmt.Fprintf(&body, "<h2 id=\"%s\">%s</h2>\n", html.EscapeString(id), html.EscapeString(h))
		case strings.TrimSpace(line) == "":
		case !strings.Contains(line, "]("):
			fmt.Fprintf(&body, "<p>%s</p>\n", html.EscapeString(line))
			text.WriteString(line + "\n")
			if sec != nil {
				sec.Text += line + "\n"
			}
		default:
			out := linkRE.ReplaceAllStringFunc(line, func(m string) string {
				g := linkRE.FindStringSubmatch(m)
				image := g[1] == "!"
				u := resolve(g[3], image)
				f.mu.Lock()
				f.resolved[r.Title+"|"+g[3]] = u
				f.mu.Unlock()
				if image {
					return fmt.Sprintf(`<img src="%s" alt="%s">`, html.EscapeString(u), html.EscapeString(g[2]))
				}
				return fmt.Sprintf(`<a href="%s">%s</a>`, html.EscapeString(u), html.EscapeString(g[2]))
			})
			// Escape what is not a link we made: good enough for tests.
			fmt.Fprintf(&body, "<p>%s</p>\n", escapeOutside(out))
			plain := linkRE.ReplaceAllString(line, "$2")
			text.WriteString(plain + "\n")
			if sec != nil {
				sec.Text += plain + "\n"
			}
		}
	}
	r.HTML = body.Bytes()
	r.Text = strings.TrimSpace(text.String())
	for i := range r.Sections {
		r.Sections[i].Text = strings.TrimSpace(r.Sections[i].Text)
	}
	return r, nil
}

// escapeOutside escapes s except for the <a> and <img> tags the fake
// renderer made.
var tagRE = regexp.MustCompile(`<a href="[^"]*">[^<]*</a>|<img src="[^"]*" alt="[^"]*">`)

func escapeOutside(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range tagRE.FindAllStringIndex(s, -1) {
		b.WriteString(html.EscapeString(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(html.EscapeString(s[last:]))
	return b.String()
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('-')
		}
	}
	return b.String()
}
