package build

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// navNode is one entry of the resolved nav: a page, an external link or a
// section.
type navNode struct {
	title    string
	page     *page  // for pages
	url      string // for external links
	children []*navNode
}

// resolveNav turns the configured nav into nodes, dropping entries whose
// page does not exist (with a warning). Titles of pages listed without
// one are filled in later, from the rendered pages.
func resolveNav(items []NavItem, pages map[string]*page, warn func(string)) []*navNode {
	var out []*navNode
	for _, it := range items {
		switch {
		case it.URL != "":
			out = append(out, &navNode{title: it.Title, url: it.URL})
		case it.Path != "":
			p, ok := pages[it.Path]
			if !ok {
				warn(fmt.Sprintf("nav: page %q not found in docs_dir; entry dropped", it.Path))
				continue
			}
			out = append(out, &navNode{title: it.Title, page: p})
		default:
			children := resolveNav(it.Children, pages, warn)
			if len(children) == 0 {
				warn(fmt.Sprintf("nav: section %q has no entries; dropped", it.Title))
				continue
			}
			out = append(out, &navNode{title: it.Title, children: children})
		}
	}
	return out
}

// defaultNav is MkDocs' nav when mkdocs.yml has none: in each directory
// its index page, the other pages by name, then each subdirectory as a
// section, by name. pages must be sorted by Rel.
func defaultNav(pages []*page) []*navNode {
	type dir struct {
		node *navNode
		subs map[string]*dir
	}
	top := &dir{node: &navNode{}, subs: map[string]*dir{}}
	var order []*dir // directories in creation order, to sort their entries
	order = append(order, top)
	for _, p := range pages {
		d := top
		parts := strings.Split(p.Rel, "/")
		for _, name := range parts[:len(parts)-1] {
			sub, ok := d.subs[name]
			if !ok {
				sub = &dir{node: &navNode{title: dirTitle(name)}, subs: map[string]*dir{}}
				d.subs[name] = sub
				order = append(order, sub)
			}
			d = sub
		}
		d.node.children = append(d.node.children, &navNode{page: p})
	}
	for _, d := range order {
		// Pages came sorted; put the index first, then the sections.
		kids := d.node.children
		var index, rest []*navNode
		for _, k := range kids {
			if isIndexName(k.page.Rel) && len(index) == 0 {
				index = append(index, k)
			} else {
				rest = append(rest, k)
			}
		}
		kids = append(index, rest...)
		for _, name := range slices.Sorted(maps.Keys(d.subs)) {
			kids = append(kids, d.subs[name].node)
		}
		d.node.children = kids
	}
	return top.node.children
}

// fillTitles gives every page node without a nav title its page's title.
func fillTitles(nodes []*navNode) {
	for _, n := range nodes {
		if n.page != nil && n.title == "" {
			n.title = n.page.title
		}
		fillTitles(n.children)
	}
}

// navPages lists the pages of the nav in order, each once, with the nav
// sections that hold it (outermost first) and its title in the nav, both
// where it first appears.
func navPages(nodes []*navNode) ([]*page, map[*page][]*navNode, map[*page]string) {
	var order []*page
	parents := make(map[*page][]*navNode)
	titles := make(map[*page]string)
	var walk func([]*navNode, []*navNode)
	walk = func(nodes, stack []*navNode) {
		for _, n := range nodes {
			if n.page != nil {
				if _, seen := parents[n.page]; !seen {
					parents[n.page] = slices.Clone(stack)
					titles[n.page] = n.title
					order = append(order, n.page)
				}
			}
			if len(n.children) > 0 {
				walk(n.children, append(stack, n))
			}
		}
	}
	walk(nodes, nil)
	return order, parents, titles
}

// firstPage is the first page under a section, or nil.
func firstPage(n *navNode) *page {
	if n.page != nil {
		return n.page
	}
	for _, c := range n.children {
		if p := firstPage(c); p != nil {
			return p
		}
	}
	return nil
}

// pageTitleFromName is MkDocs' title for a page that has none of its own:
// the file name made readable, "Home" for the home page, and the
// directory's name for an index page.
func pageTitleFromName(rel string) string {
	dir, file := path.Split(rel)
	stem := strings.TrimSuffix(file, path.Ext(file))
	if stem == "index" || stem == "README" {
		if dir == "" {
			return "Home"
		}
		stem = path.Base(dir)
	}
	return dirTitle(stem)
}

// dirTitle is MkDocs' title for a name: dashes and underscores become
// spaces, and an all-lowercase name gets a capital first letter.
func dirTitle(name string) string {
	t := strings.NewReplacer("-", " ", "_", " ").Replace(name)
	if strings.ToLower(t) != t {
		return t
	}
	r, size := utf8.DecodeRuneInString(t)
	return string(unicode.ToUpper(r)) + t[size:]
}
