package build

import (
	"bytes"
	"html/template"
)

// Markers around a page's article body in its HTML, so that Atrium's
// reader can cut the body out without parsing the document.
const (
	ArticleStart = "<!--atrium:article-->"
	ArticleEnd   = "<!--/atrium:article-->"
)

// pageView is the data of one page's HTML document.
type pageView struct {
	SiteName    string
	Title       string
	Description string
	Home        string // URL of the home page, relative to this page
	Nav         []navView
	TOC         []tocView
	EditURL     string
	Prev, Next  *linkView
	// Body is the Renderer's sanitized HTML between the article markers.
	Body template.HTML
}

type navView struct {
	Title    string
	Href     string // "" for a section with no page
	Active   bool   // this page
	Section  bool
	External bool
	// Children are shown only for the sections that hold this page, so
	// that a page's size does not grow with the whole site; the full tree
	// is in site.json.
	Children []navView
}

type tocView struct {
	Level int
	Href  string
	Text  string
}

type linkView struct {
	Href  string
	Title string
}

// The document follows mkdocs-material's structure, which Backstage's
// reader and its addons expect. html/template drops comments written in
// a template, so the article markers travel inside Body.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="atrium">
{{- with .Description}}
<meta name="description" content="{{.}}">
{{- end}}
<title>{{if .Title}}{{.Title}} - {{end}}{{.SiteName}}</title>
</head>
<body>
<div class="md-container">
<main class="md-main">
<div class="md-main__inner md-grid">
<div class="md-sidebar md-sidebar--primary">
<nav class="md-nav md-nav--primary" aria-label="Navigation">
<a class="md-nav__title" href="{{.Home}}">{{.SiteName}}</a>
{{template "nav" .Nav}}
</nav>
</div>
{{- if .TOC}}
<div class="md-sidebar md-sidebar--secondary">
<nav class="md-nav md-nav--secondary" aria-label="Table of contents">
<ul class="md-nav__list">
{{- range .TOC}}
<li class="md-nav__item md-nav__item--level{{.Level}}"><a class="md-nav__link" href="{{.Href}}">{{.Text}}</a></li>
{{- end}}
</ul>
</nav>
</div>
{{- end}}
<div class="md-content">
{{- with .EditURL}}
<a class="md-content__button md-icon" href="{{.}}" title="Edit this page" rel="edit">Edit this page</a>
{{- end}}
<article class="md-content__inner md-typeset">{{.Body}}</article>
</div>
</div>
</main>
{{- if or .Prev .Next}}
<footer class="md-footer">
<nav class="md-footer__inner md-grid" aria-label="Footer">
{{- with .Prev}}
<a class="md-footer__link md-footer__link--prev" href="{{.Href}}" rel="prev">{{.Title}}</a>
{{- end}}
{{- with .Next}}
<a class="md-footer__link md-footer__link--next" href="{{.Href}}" rel="next">{{.Title}}</a>
{{- end}}
</nav>
</footer>
{{- end}}
</div>
</body>
</html>
{{define "nav"}}<ul class="md-nav__list">
{{- range .}}
<li class="md-nav__item{{if .Section}} md-nav__item--nested{{end}}{{if .Active}} md-nav__item--active{{end}}">
{{- if .Href}}<a class="md-nav__link{{if .Active}} md-nav__link--active{{end}}" href="{{.Href}}"{{if .External}} rel="noopener"{{end}}>{{.Title}}</a>
{{- else}}<span class="md-nav__link">{{.Title}}</span>
{{- end}}
{{- if .Children}}
<nav class="md-nav">{{template "nav" .Children}}</nav>
{{- end}}</li>
{{- end}}
</ul>{{end}}`))

// renderPage writes one page's HTML document.
func renderPage(v *pageView) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(v.Body) + 4096)
	if err := pageTemplate.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// articleBody wraps the Renderer's HTML in the article markers.
func articleBody(html []byte) template.HTML {
	return template.HTML(ArticleStart + string(html) + ArticleEnd)
}

// pageNav builds the nav as seen from page p: links relative to p, p
// marked active, and the sections on the way to p open. open holds those
// sections.
func pageNav(nodes []*navNode, p *page, open map[*navNode]bool) []navView {
	out := make([]navView, 0, len(nodes))
	for _, n := range nodes {
		v := navView{Title: n.title}
		switch {
		case n.page != nil:
			v.Href = relativeURL(p.URL, n.page.URL)
			v.Active = n.page == p
		case n.url != "":
			v.Href, v.External = n.url, true
		default:
			v.Section = true
			if first := firstPage(n); first != nil {
				v.Href = relativeURL(p.URL, first.URL)
			}
			if open[n] {
				v.Children = pageNav(n.children, p, open)
			}
		}
		out = append(out, v)
	}
	return out
}
